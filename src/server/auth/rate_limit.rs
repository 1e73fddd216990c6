//! Limits on sign-in and sign-up attempts, so passwords cannot be guessed at speed, without
//! letting anyone lock a learner out: per client address (an IPv6 one by its /64), per account
//! *from one address* (5, then one every 2 minutes), and a looser ceiling per account from
//! everywhere (100, then one every 10 s) that no single address can use up. Kept in Postgres, so
//! they hold across every app process.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use sqlx::PgPool;

use crate::{
    error::AppError,
    server::db::rate_limits::{self, Rate},
};

const PER_ACCOUNT_AND_IP: Rate = Rate {
    period: Duration::from_secs(120),
    burst: 5,
};
const PER_ACCOUNT: Rate = Rate {
    period: Duration::from_secs(10),
    burst: 100,
};

#[derive(Clone)]
pub struct AuthLimits {
    db: PgPool,
    per_ip: Rate,
}

impl AuthLimits {
    /// `per_ip_per_minute` attempts a minute from one address (a burst of as many);
    /// 5 attempts for one account, then one more every 2 minutes.
    pub fn new(db: PgPool, per_ip_per_minute: NonZeroU32) -> Self {
        AuthLimits {
            db,
            per_ip: Rate::per_minute(per_ip_per_minute.get()),
        }
    }

    /// Counts one attempt from `ip`, and for `account` when there is one (the normalised email,
    /// whether or not an account has it, so the limit itself reveals nothing).
    pub async fn check(&self, ip: IpAddr, account: Option<&str>) -> Result<(), AppError> {
        let address = crate::server::limits::address_key(ip);
        self.take("auth-ip", &address, self.per_ip).await?;
        if let Some(account) = account {
            let pair = format!("{account}\n{address}");
            self.take("auth-account-ip", &pair, PER_ACCOUNT_AND_IP)
                .await?;
            self.take("auth-account", account, PER_ACCOUNT).await?;
        }
        Ok(())
    }

    async fn take(&self, limit: &str, subject: &str, rate: Rate) -> Result<(), AppError> {
        rate_limits::take(&self.db, limit, subject, rate)
            .await?
            .map_err(|wait| {
                tracing::warn!(
                    limit,
                    retry_after_secs = wait.as_secs(),
                    "auth attempt rate limited"
                );
                AppError::too_many(wait)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[sqlx::test]
    async fn an_account_gets_five_attempts_then_must_wait(db: PgPool) {
        let limits = AuthLimits::new(db, NonZeroU32::new(100).unwrap());
        for _ in 0..5 {
            limits.check(IP, Some("ana@example.org")).await.unwrap();
        }
        let error = limits.check(IP, Some("ana@example.org")).await.unwrap_err();
        assert!(
            matches!(error, AppError::TooManyRequests { retry_after_secs } if retry_after_secs > 60)
        );
        // Another account from the same address is not affected.
        limits.check(IP, Some("ben@example.org")).await.unwrap();
    }

    #[sqlx::test]
    async fn someone_elses_wrong_passwords_do_not_lock_a_learner_out(db: PgPool) {
        let limits = AuthLimits::new(db, NonZeroU32::new(10_000).unwrap());
        let attacker: IpAddr = "198.51.100.9".parse().unwrap();
        for _ in 0..5 {
            limits
                .check(attacker, Some("ana@example.org"))
                .await
                .unwrap();
        }
        assert!(
            limits
                .check(attacker, Some("ana@example.org"))
                .await
                .is_err()
        );
        // Ana, from her own address, signs in as usual.
        let home: IpAddr = "203.0.113.4".parse().unwrap();
        limits.check(home, Some("ana@example.org")).await.unwrap();
    }

    #[sqlx::test]
    async fn an_account_has_a_ceiling_across_addresses(db: PgPool) {
        let limits = AuthLimits::new(db, NonZeroU32::new(10_000).unwrap());
        for n in 0..100u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0xC000_0200 + n));
            limits.check(ip, Some("ana@example.org")).await.unwrap();
        }
        let next: IpAddr = "192.0.2.250".parse().unwrap();
        assert!(limits.check(next, Some("ana@example.org")).await.is_err());
    }

    #[sqlx::test]
    async fn an_ipv6_host_is_limited_by_its_64(db: PgPool) {
        let limits = AuthLimits::new(db, NonZeroU32::new(2).unwrap());
        for n in 1..=2 {
            let ip: IpAddr = format!("2001:db8:0:1::{n}").parse().unwrap();
            limits.check(ip, None).await.unwrap();
        }
        let same_64: IpAddr = "2001:db8:0:1:ffff::1".parse().unwrap();
        assert!(limits.check(same_64, None).await.is_err());
        let other_64: IpAddr = "2001:db8:0:2::1".parse().unwrap();
        limits.check(other_64, None).await.unwrap();
    }

    #[sqlx::test]
    async fn an_address_is_limited_across_accounts(db: PgPool) {
        let limits = AuthLimits::new(db, NonZeroU32::new(3).unwrap());
        for n in 0..3 {
            limits
                .check(IP, Some(&format!("user{n}@example.org")))
                .await
                .unwrap();
        }
        assert!(limits.check(IP, Some("user9@example.org")).await.is_err());
        let other: IpAddr = "192.0.2.7".parse().unwrap();
        limits.check(other, None).await.unwrap();
    }

    #[sqlx::test]
    async fn app_processes_share_one_limit(db: PgPool) {
        let limit = NonZeroU32::new(100).unwrap();
        let processes = [
            AuthLimits::new(db.clone(), limit),
            AuthLimits::new(db, limit),
        ];
        for n in 0..5 {
            processes[n % 2]
                .check(IP, Some("ana@example.org"))
                .await
                .unwrap();
        }
        for process in &processes {
            assert!(process.check(IP, Some("ana@example.org")).await.is_err());
        }
    }
}
