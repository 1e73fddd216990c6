//! Times in what the server answers, read in the browser without chrono's parser.
//!
//! `DateTime<Utc>`'s own `Deserialize` parses with chrono's general parser (RFC 3339, RFC 2822
//! and format strings), about 20 KB of wasm for a few dates in server functions' answers. In the
//! browser these fields are read with the browser's own `Date.parse` instead (to the
//! millisecond, which is all a page shows); the server reads and writes them as chrono does.
//! Use `#[serde(with = "crate::domain::time::utc")]`, or `time::maybe_utc` (with
//! `#[serde(default)]`) for an `Option`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A `DateTime<Utc>` field.
pub mod utc {
    use super::*;

    pub fn serialize<S: Serializer>(
        time: &DateTime<Utc>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        time.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        read(deserializer)
    }
}

/// An `Option<DateTime<Utc>>` field (`null` is `None`).
pub mod maybe_utc {
    use super::*;

    pub fn serialize<S: Serializer>(
        time: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        time.serialize(serializer)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        #[derive(Deserialize)]
        struct Time(#[serde(with = "utc")] DateTime<Utc>);
        Ok(Option::<Time>::deserialize(deserializer)?.map(|Time(time)| time))
    }
}

#[cfg(not(any(feature = "hydrate", feature = "call")))]
fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    DateTime::<Utc>::deserialize(deserializer)
}

#[cfg(any(feature = "hydrate", feature = "call"))]
fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom("not a date and time"))
}

/// An RFC 3339 time as the browser reads it, to the millisecond.
#[cfg(any(feature = "hydrate", feature = "call"))]
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let millis = js_sys::Date::parse(text);
    if !millis.is_finite() {
        return None;
    }
    DateTime::from_timestamp_millis(millis as i64)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::domain::feedback::{Feedback, FeedbackStatus};

    /// On the server the fields read and write as chrono's own, to the nanosecond, and an
    /// optional one may be `null` or absent.
    #[test]
    fn the_server_reads_and_writes_times_as_chrono_does() {
        let made_at = Utc.with_ymd_and_hms(2026, 12, 7, 19, 18, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789);
        let feedback = Feedback {
            status: FeedbackStatus::Ready,
            report: None,
            failure: None,
            made_at: Some(made_at),
            baseline: None,
        };
        let written = serde_json::to_value(&feedback).unwrap();
        assert_eq!(written["made_at"], json!("2026-12-07T19:18:00.123456789Z"));
        assert_eq!(
            serde_json::from_value::<Feedback>(written.clone()).unwrap(),
            feedback
        );

        let mut without = written.clone();
        without["made_at"] = json!(null);
        assert_eq!(
            serde_json::from_value::<Feedback>(without.clone())
                .unwrap()
                .made_at,
            None
        );
        without.as_object_mut().unwrap().remove("made_at");
        assert_eq!(
            serde_json::from_value::<Feedback>(without).unwrap().made_at,
            None
        );
        let mut wrong = written;
        wrong["made_at"] = json!("yesterday");
        assert!(serde_json::from_value::<Feedback>(wrong).is_err());
    }
}
