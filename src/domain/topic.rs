//! Practice topics: what a learner picks before talking with the coach.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A CEFR level from A2 (elementary) to C1 (advanced): the range the coach is tuned for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CefrLevel {
    A2,
    B1,
    B2,
    C1,
}

impl CefrLevel {
    /// Every level the product offers, easiest first.
    pub const ALL: [CefrLevel; 4] = [CefrLevel::A2, CefrLevel::B1, CefrLevel::B2, CefrLevel::C1];

    /// The code as stored and as shown on badges: `"A2"`, `"B1"`, ...
    pub fn code(self) -> &'static str {
        match self {
            CefrLevel::A2 => "A2",
            CefrLevel::B1 => "B1",
            CefrLevel::B2 => "B2",
            CefrLevel::C1 => "C1",
        }
    }

    /// A plain-words name for learners who do not know the CEFR codes.
    pub fn name(self) -> &'static str {
        match self {
            CefrLevel::A2 => "Elementary",
            CefrLevel::B1 => "Intermediate",
            CefrLevel::B2 => "Upper intermediate",
            CefrLevel::C1 => "Advanced",
        }
    }

    /// Parses a level code, accepting any letter case (`"b1"` is B1).
    pub fn parse(input: &str) -> Result<Self, InvalidLevel> {
        match input.trim().to_ascii_uppercase().as_str() {
            "A2" => Ok(CefrLevel::A2),
            "B1" => Ok(CefrLevel::B1),
            "B2" => Ok(CefrLevel::B2),
            "C1" => Ok(CefrLevel::C1),
            _ => Err(InvalidLevel(input.to_owned())),
        }
    }
}

impl fmt::Display for CefrLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a level; expected one of A2, B1, B2, C1")]
pub struct InvalidLevel(String);

/// The URL name of a topic: 1 to 64 characters of lowercase ASCII letters and digits in
/// hyphen-separated words (`ordering-at-a-cafe`). Anything else can never name a topic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TopicSlug(String);

impl TopicSlug {
    pub const MAX_LEN: usize = 64;

    pub fn parse(input: &str) -> Result<Self, InvalidSlug> {
        let well_formed = !input.is_empty()
            && input.len() <= Self::MAX_LEN
            && input.split('-').all(|word| {
                !word.is_empty()
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if well_formed {
            Ok(TopicSlug(input.to_owned()))
        } else {
            Err(InvalidSlug)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for TopicSlug {
    type Error = InvalidSlug;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        TopicSlug::parse(&value)
    }
}

impl From<TopicSlug> for String {
    fn from(slug: TopicSlug) -> Self {
        slug.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a topic name is lowercase letters and digits in words joined by single hyphens")]
pub struct InvalidSlug;

/// A practice topic as the learner sees it, and as the coach's instructions are built from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Topic {
    pub slug: TopicSlug,
    pub title: String,
    /// One line that tells the learner what the conversation is about.
    pub summary: String,
    pub level: CefrLevel,
    /// What the coach steers the conversation towards.
    pub goal: String,
    /// The words and phrases the learner is invited to use (6 to 10).
    pub vocabulary: Vec<String>,
    /// How long a session on this topic is meant to last, in minutes (2 to 5).
    pub suggested_minutes: u8,
}

impl Topic {
    pub fn href(&self) -> String {
        format!("/topics/{}", self.slug)
    }
}

// Native only: proptest and serde_json are host dev-dependencies.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn levels_parse_in_any_case_and_round_trip() {
        for level in CefrLevel::ALL {
            assert_eq!(CefrLevel::parse(level.code()), Ok(level));
            assert_eq!(CefrLevel::parse(&level.code().to_lowercase()), Ok(level));
        }
        assert!(CefrLevel::parse("A1").is_err());
        assert!(CefrLevel::parse("").is_err());
        assert!(CefrLevel::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn slugs_accept_hyphenated_lowercase_words() {
        for ok in ["cafe", "ordering-at-a-cafe", "b2-debate", "a"] {
            assert_eq!(TopicSlug::parse(ok).map(|s| s.to_string()), Ok(ok.into()));
        }
    }

    #[test]
    fn slugs_reject_everything_else() {
        let too_long = "a".repeat(TopicSlug::MAX_LEN + 1);
        for bad in [
            "",
            "-cafe",
            "cafe-",
            "two--hyphens",
            "Cafe",
            "café",
            "a b",
            "../etc",
            too_long.as_str(),
        ] {
            assert_eq!(TopicSlug::parse(bad), Err(InvalidSlug), "{bad:?}");
        }
    }

    #[test]
    fn slugs_deserialize_only_when_valid() {
        assert!(serde_json::from_str::<TopicSlug>("\"job-interview\"").is_ok());
        assert!(serde_json::from_str::<TopicSlug>("\"Job Interview\"").is_err());
    }

    proptest! {
        #[test]
        fn a_parsed_slug_is_always_url_safe(input in "\\PC{0,80}") {
            if let Ok(slug) = TopicSlug::parse(&input) {
                prop_assert!(slug.as_str().bytes().all(|b| b == b'-' || b.is_ascii_alphanumeric()));
                prop_assert!(slug.as_str().len() <= TopicSlug::MAX_LEN);
            }
        }

        #[test]
        fn built_slugs_always_parse(words in prop::collection::vec("[a-z0-9]{1,8}", 1..6)) {
            let input = words.join("-");
            prop_assume!(input.len() <= TopicSlug::MAX_LEN);
            prop_assert_eq!(TopicSlug::parse(&input).map(String::from), Ok(input));
        }
    }
}
