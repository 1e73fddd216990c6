//! Account credentials as domain types: an `Email` is parsed and normalised once, a `Password`
//! is checked against the rules once; code past the boundary never sees a raw string.

use std::fmt;

use serde::{Deserialize, Serialize};

mod usage;
pub use self::usage::{Usage, megabytes};

/// Where to send a learner after signing in: `next` when it is a path on this site, otherwise the
/// topics page. Never another origin (`//evil.example`, `https://…`), so the sign-in page cannot be
/// used to bounce learners elsewhere.
pub fn safe_return_path(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_owned()
        }
        _ => "/topics".to_owned(),
    }
}

/// The sign-in page, sending the learner on to `next` afterwards. `next` is percent-encoded (a
/// path from the address bar may hold anything, and a header cannot).
pub fn sign_in_then(next: &str) -> String {
    format!("/sign-in?next={}", encode_query_value(next))
}

/// Percent-encodes `text` for a query value (a path keeps its slashes).
pub fn encode_query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// What the learner sees of their own account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub email: String,
    #[serde(with = "crate::domain::time::utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// What the learner has used of their limits (on the account page; not in the header's).
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// An email address, trimmed and lowercased so that `Ana@Example.org ` and `ana@example.org`
/// are the same account. The check is deliberately simple (one `@`, a dotted domain, no spaces):
/// the real proof of an address is mail reaching it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(InvalidEmail::Empty);
        }
        if email.len() > Self::MAX_LEN {
            return Err(InvalidEmail::TooLong);
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(InvalidEmail::Malformed);
        };
        let domain_ok = domain.len() >= 3
            && domain.contains('.')
            && !domain.starts_with(['.', '-'])
            && !domain.ends_with(['.', '-'])
            && !domain.contains("..")
            && !domain.contains('@');
        let chars_ok = !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || is_invisible(c));
        if local.is_empty() || local.len() > 64 || !domain_ok || !chars_ok {
            return Err(InvalidEmail::Malformed);
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = InvalidEmail;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEmail {
    #[error("Please enter your email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    #[error("That doesn't look like an email address. Check it and try again.")]
    Malformed,
}

/// A new password that meets the rules: at least 10 characters, at most 1024 bytes, and not one
/// of the most common passwords. Never serialised, never logged.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_BYTES: usize = 1024;

    pub fn parse(input: String) -> Result<Self, WeakPassword> {
        if input.chars().count() < Self::MIN_CHARS {
            return Err(WeakPassword::TooShort);
        }
        if input.len() > Self::MAX_BYTES {
            return Err(WeakPassword::TooLong);
        }
        let lowered = input.to_lowercase();
        if COMMON_PASSWORDS.contains(&lowered.as_str()) || is_one_repeated_char(&lowered) {
            return Err(WeakPassword::TooCommon);
        }
        Ok(Password(input))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// Unicode format characters (category Cf: zero-width joiners and spaces, direction marks and
/// overrides, the byte-order mark, invisible operators, tags) and other invisible ones: an email
/// holding them looks like another address.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{0600}'..='\u{0605}' | '\u{06DD}' | '\u{070F}' | '\u{08E2}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}'
    )
}

fn is_one_repeated_char(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|first| chars.all(|c| c == first))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeakPassword {
    #[error("Use at least 10 characters for your password.")]
    TooShort,
    #[error("That password is too long (at most 1024 bytes).")]
    TooLong,
    #[error("That password is one of the most common ones. Please choose another.")]
    TooCommon,
}

/// The most common passwords of 10 or more characters from public breach lists (lowercase).
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "0123456789",
    "0987654321",
    "1234512345",
    "1122334455",
    "1q2w3e4r5t",
    "1qaz2wsx3edc",
    "123456789a",
    "12345678910",
    "123123123123",
    "abcdefghij",
    "abc1234567",
    "qwertyuiop",
    "qwerty1234",
    "qwerty12345",
    "qwerty123456",
    "asdfghjkl;",
    "asdfghjkl1",
    "zxcvbnm123",
    "password12",
    "password123",
    "password1234",
    "password12345",
    "password!1",
    "passw0rd123",
    "p@ssword123",
    "p@ssw0rd123",
    "iloveyou12",
    "iloveyou123",
    "letmein123",
    "welcome123",
    "welcome1234",
    "sunshine123",
    "princess123",
    "football123",
    "baseball123",
    "dragon1234",
    "monkey1234",
    "superman123",
    "starwars123",
    "trustno1234",
    "changeme123",
    "administrator",
    "admin12345",
    "adminadmin",
    "passwordpassword",
    "1234qwerasdf",
    "q1w2e3r4t5",
    "q1w2e3r4t5y6",
    "zaq12wsxcde3",
    "speakingcoach",
    "speakingcoach1",
];

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let email = Email::parse("  Ana.Lopez@Example.ORG ").unwrap();
        assert_eq!(email.as_str(), "ana.lopez@example.org");
        assert_eq!(Email::parse("ana.lopez@example.org").unwrap(), email);
    }

    #[test]
    fn malformed_emails_are_rejected_with_a_reason() {
        assert_eq!(Email::parse("   "), Err(InvalidEmail::Empty));
        for bad in [
            "ana",
            "ana@",
            "@example.org",
            "ana@example",
            "ana@@example.org",
            "ana@exa mple.org",
            "ana@.example.org",
            "ana@example..org",
            "ana@example.org.",
            "a\u{0}b@example.org",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail::Malformed), "{bad:?}");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(InvalidEmail::TooLong));
    }

    #[test]
    fn password_rules() {
        assert!(Password::parse("correct horse".into()).is_ok());
        assert_eq!(
            Password::parse("short1!".into()).err(),
            Some(WeakPassword::TooShort)
        );
        // Ten characters, not bytes: ten accented letters are long enough.
        assert!(Password::parse("éèêëàâäôöü".into()).is_ok());
        assert_eq!(
            Password::parse("a".repeat(1025)).err(),
            Some(WeakPassword::TooLong)
        );
        for common in ["1234567890", "Password123", "QWERTYUIOP", "aaaaaaaaaaaa"] {
            assert_eq!(
                Password::parse(common.into()).err(),
                Some(WeakPassword::TooCommon),
                "{common}"
            );
        }
    }

    #[test]
    fn return_paths_stay_on_this_site() {
        assert_eq!(safe_return_path(Some("/account")), "/account");
        assert_eq!(
            safe_return_path(Some("/topics?level=B1")),
            "/topics?level=B1"
        );
        for bad in [
            None,
            Some(""),
            Some("account"),
            Some("//evil.example"),
            Some("/\\evil.example"),
            Some("https://evil.example/"),
            Some("/\nLocation: x"),
        ] {
            assert_eq!(safe_return_path(bad), "/topics", "{bad:?}");
        }
    }

    #[test]
    fn passwords_never_show_in_debug_output() {
        let password = Password::parse("correct horse battery".into()).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn the_common_list_only_holds_passwords_the_length_rule_lets_through() {
        for common in COMMON_PASSWORDS {
            assert!(common.chars().count() >= Password::MIN_CHARS, "{common}");
            assert_eq!(common.to_lowercase(), *common);
        }
    }

    #[test]
    fn invisible_and_direction_characters_are_not_in_emails() {
        for email in [
            "ana\u{200B}@example.org",
            "ana@exa\u{200D}mple.org",
            "\u{202E}gro.elpmaxe@ana",
            "ana\u{FEFF}@example.org",
            "ana\u{00AD}@example.org",
            "ana\u{E0041}@example.org",
            "ana\u{2066}@example.org",
        ] {
            assert_eq!(
                Email::parse(email),
                Err(InvalidEmail::Malformed),
                "{email:?}"
            );
        }
        assert!(Email::parse("zoë@example.org").is_ok());
    }

    #[test]
    fn the_way_back_after_sign_in_is_encoded() {
        assert_eq!(
            sign_in_then("/topics/a-job-interview/practice"),
            "/sign-in?next=/topics/a-job-interview/practice"
        );
        assert_eq!(
            sign_in_then("/topics/\0\n?x=1&y/practice"),
            "/sign-in?next=/topics/%00%0A%3Fx%3D1%26y/practice"
        );
    }

    proptest! {
        #[test]
        fn a_parsed_email_is_normalised(input in "\\PC{0,80}") {
            if let Ok(email) = Email::parse(&input) {
                prop_assert_eq!(email.as_str(), input.trim().to_lowercase());
                prop_assert_eq!(email.as_str().matches('@').count(), 1);
            }
        }
    }
}
