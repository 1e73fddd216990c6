//! What a learner has used of their limits, as the account page shows it.

use serde::{Deserialize, Serialize};

/// A learner's use of what they may consume, against its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Calls to the coach (each connection, reconnections included) in the last 24 hours.
    pub calls_today: u32,
    pub calls_per_day: u32,
    /// Recordings and pieces of them kept in storage.
    pub storage_bytes: u64,
    pub storage_limit_bytes: u64,
}

impl Usage {
    pub fn calls_left(&self) -> u32 {
        self.calls_per_day.saturating_sub(self.calls_today)
    }

    /// Storage used, in whole percent of the limit (rounded up, at most 100).
    pub fn storage_percent(&self) -> u8 {
        let limit = self.storage_limit_bytes.max(1);
        let percent = self.storage_bytes.saturating_mul(100).div_ceil(limit);
        u8::try_from(percent.min(100)).unwrap_or(100)
    }
}

/// Calls left today at or under which the learner is warned before starting.
pub const FEW_CALLS_LEFT: u32 = 5;
/// Storage used, in percent of the limit, from which the learner is warned before starting.
pub const STORAGE_NEARLY_FULL: u8 = 90;

impl Usage {
    /// What a learner near (or at) a limit should read before starting a session, in plain words;
    /// empty when nothing is close.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        match self.calls_left() {
            0 => warnings.push(format!(
                "You've used today's {} calls with the coach. You can start again once the oldest \
                 is 24 hours old.",
                self.calls_per_day
            )),
            1 => warnings
                .push("You have 1 call with the coach left today (a reconnection counts).".into()),
            n if n <= FEW_CALLS_LEFT => warnings.push(format!(
                "You have {n} calls with the coach left today (reconnections count)."
            )),
            _ => {}
        }
        let percent = self.storage_percent();
        if percent >= 100 {
            warnings.push(format!(
                "Your storage is full ({} of {}): a new session can't be recorded. Delete old \
                 sessions in History to make room.",
                megabytes(self.storage_bytes),
                megabytes(self.storage_limit_bytes)
            ));
        } else if percent >= STORAGE_NEARLY_FULL {
            warnings.push(format!(
                "Your recordings use {percent}% of your {}. Delete old sessions in History to \
                 make room.",
                megabytes(self.storage_limit_bytes)
            ));
        }
        warnings
    }
}

/// A byte count as a learner reads it: "0 MB", "3.4 MB", "1.2 GB".
pub fn megabytes(bytes: u64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let mb = bytes as f64 / MB;
    if mb >= 1024.0 {
        format!("{:.1} GB", mb / 1024.0)
    } else if mb >= 10.0 || bytes == 0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1024 * 1024 * 1024;

    fn usage(calls_today: u32, storage_bytes: u64) -> Usage {
        Usage {
            calls_today,
            calls_per_day: 40,
            storage_bytes,
            storage_limit_bytes: GB,
        }
    }

    #[test]
    fn a_learner_is_warned_only_near_a_limit() {
        assert!(usage(0, 0).warnings().is_empty());
        assert!(usage(34, GB / 2).warnings().is_empty());
        assert_eq!(
            usage(35, 0).warnings(),
            ["You have 5 calls with the coach left today (reconnections count)."]
        );
        assert_eq!(
            usage(39, 0).warnings(),
            ["You have 1 call with the coach left today (a reconnection counts)."]
        );
        assert!(usage(40, 0).warnings()[0].starts_with("You've used today's 40 calls"));
        assert_eq!(
            usage(0, GB * 9 / 10).warnings(),
            [
                "Your recordings use 90% of your 1.0 GB. Delete old sessions in History to make room."
            ]
        );
        let both = usage(45, GB).warnings();
        assert_eq!(both.len(), 2);
        assert!(both[1].starts_with("Your storage is full (1.0 GB of 1.0 GB)"));
    }
}
