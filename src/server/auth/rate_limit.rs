//! Limits on sign-in and sign-up attempts, so passwords cannot be guessed at speed, without
//! letting anyone lock a learner out: per client address (an IPv6 one by its /64), per account
//! *from one address* (5, then one every 2 minutes), and a looser ceiling per account from
//! everywhere (100, then one every 10 s) that no single address can use up. In memory: each app
//! process keeps its own.

use std::{net::IpAddr, num::NonZeroU32, sync::Arc, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::error::AppError;

#[derive(Clone)]
pub struct AuthLimits {
    per_ip: Arc<DefaultKeyedRateLimiter<String>>,
    per_account_and_ip: Arc<DefaultKeyedRateLimiter<(String, String)>>,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
}

impl AuthLimits {
    /// `per_ip_per_minute` attempts a minute from one address (a burst of as many);
    /// 5 attempts for one account, then one more every 2 minutes.
    pub fn new(per_ip_per_minute: NonZeroU32) -> Self {
        let five = NonZeroU32::new(5).expect("5 is not zero");
        let per_account_and_ip = Quota::with_period(Duration::from_secs(120))
            .expect("a non-zero period")
            .allow_burst(five);
        let per_account = Quota::with_period(Duration::from_secs(10))
            .expect("a non-zero period")
            .allow_burst(NonZeroU32::new(100).expect("100 is not zero"));
        AuthLimits {
            per_ip: Arc::new(RateLimiter::keyed(Quota::per_minute(per_ip_per_minute))),
            per_account_and_ip: Arc::new(RateLimiter::keyed(per_account_and_ip)),
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
        let address = crate::server::limits::address_key(ip);
        self.per_ip
            .check_key(&address)
            .map_err(|not_until| too_many(not_until.wait_time_from(clock.now())))?;
        if let Some(account) = account {
            self.per_account_and_ip
                .check_key(&(account.to_owned(), address))
                .map_err(|not_until| too_many(not_until.wait_time_from(clock.now())))?;
            self.per_account
                .check_key(&account.to_owned())
                .map_err(|not_until| too_many(not_until.wait_time_from(clock.now())))?;
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully recovered; called periodically so memory stays flat.
    pub fn forget_idle(&self) {
        self.per_ip.retain_recent();
        self.per_account_and_ip.retain_recent();
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
    fn someone_elses_wrong_passwords_do_not_lock_a_learner_out() {
        let limits = AuthLimits::new(NonZeroU32::new(10_000).unwrap());
        let attacker: IpAddr = "198.51.100.9".parse().unwrap();
        for _ in 0..5 {
            limits.check(attacker, Some("ana@example.org")).unwrap();
        }
        assert!(limits.check(attacker, Some("ana@example.org")).is_err());
        // Ana, from her own address, signs in as usual.
        let home: IpAddr = "203.0.113.4".parse().unwrap();
        limits.check(home, Some("ana@example.org")).unwrap();
    }

    #[test]
    fn an_account_has_a_ceiling_across_addresses() {
        let limits = AuthLimits::new(NonZeroU32::new(10_000).unwrap());
        for n in 0..100u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0xC000_0200 + n));
            limits.check(ip, Some("ana@example.org")).unwrap();
        }
        let next: IpAddr = "192.0.2.250".parse().unwrap();
        assert!(limits.check(next, Some("ana@example.org")).is_err());
    }

    #[test]
    fn an_ipv6_host_is_limited_by_its_64() {
        let limits = AuthLimits::new(NonZeroU32::new(2).unwrap());
        for n in 1..=2 {
            let ip: IpAddr = format!("2001:db8:0:1::{n}").parse().unwrap();
            limits.check(ip, None).unwrap();
        }
        let same_64: IpAddr = "2001:db8:0:1:ffff::1".parse().unwrap();
        assert!(limits.check(same_64, None).is_err());
        let other_64: IpAddr = "2001:db8:0:2::1".parse().unwrap();
        limits.check(other_64, None).unwrap();
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
