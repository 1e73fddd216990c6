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
