//! Limits on sign-in and sign-up attempts, per client IP and per account, so passwords cannot be
//! guessed at speed. In memory: one process serves the app (several would each keep their own).

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::error::AppError;

#[derive(Clone)]
pub struct AuthLimits {
    per_ip: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
}

impl AuthLimits {
    /// `per_ip_per_minute` attempts a minute from one address (a burst of as many);
    /// 5 attempts for one account, then one more every 2 minutes.
    pub fn new(per_ip_per_minute: NonZeroU32) -> Self {
        let five = NonZeroU32::new(5).expect("5 is not zero");
        let per_account = Quota::with_period(Duration::from_secs(120))
            .expect("a non-zero period")
            .allow_burst(five);
        AuthLimits {
            per_ip: Arc::new(RateLimiter::keyed(Quota::per_minute(per_ip_per_minute))),
            per_account: Arc::new(RateLimiter::keyed(per_account)),
        }
    }

    /// Counts one attempt from `ip`, and for `account` when there is one (the normalised email,
    /// whether or not an account has it, so the limit itself reveals nothing).
    pub fn check(&self, ip: IpAddr, account: Option<&str>) -> Result<(), AppError> {
        let clock = DefaultClock::default();
        let too_many = |wait: Duration| {
            tracing::warn!(
                retry_after_secs = wait.as_secs(),
                "auth attempt rate limited"
            );
            AppError::too_many(wait)
        };
        self.per_ip
            .check_key(&ip)
            .map_err(|not_until| too_many(not_until.wait_time_from(clock.now())))?;
        if let Some(account) = account {
            self.per_account
                .check_key(&account.to_owned())
                .map_err(|not_until| too_many(not_until.wait_time_from(clock.now())))?;
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully recovered; called periodically so memory stays flat.
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_account.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[test]
    fn an_account_gets_five_attempts_then_must_wait() {
        let limits = AuthLimits::new(NonZeroU32::new(100).unwrap());
        for _ in 0..5 {
            limits.check(IP, Some("ana@example.org")).unwrap();
        }
        let error = limits.check(IP, Some("ana@example.org")).unwrap_err();
        assert!(
            matches!(error, AppError::TooManyRequests { retry_after_secs } if retry_after_secs > 60)
        );
        // Another account from the same address is not affected.
        limits.check(IP, Some("ben@example.org")).unwrap();
    }

    #[test]
    fn an_address_is_limited_across_accounts() {
        let limits = AuthLimits::new(NonZeroU32::new(3).unwrap());
        for n in 0..3 {
            limits
                .check(IP, Some(&format!("user{n}@example.org")))
                .unwrap();
        }
        assert!(limits.check(IP, Some("user9@example.org")).is_err());
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        limits.check(other, None).unwrap();
    }
}
