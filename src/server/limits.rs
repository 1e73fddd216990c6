//! Budgets on what learners consume, kept in Postgres so every app process sees the same counts:
//! call secrets per learner, per client address and overall in 24 hours, a session's call time,
//! live sessions per learner, audio per session, storage per learner, turns per session. Each
//! refusal says, in plain words, which limit was reached and when it frees up.

use std::net::IpAddr;

use sqlx::PgPool;
use uuid::Uuid;

use super::config::Limits;
use crate::{
    domain::{
        account::{Usage, megabytes},
        transcript::SavedTurn,
    },
    error::AppError,
};

/// The budget key of a client address: an IPv4 address as it is, an IPv6 one by its /64 (one
/// household or host gets a whole /64).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// "in 3 hours", "in 12 minutes": when a 24-hour budget frees its next place.
fn in_words(secs: i64) -> String {
    match secs {
        ..=90 => "in a minute or two".to_owned(),
        91..=5_400 => format!("in about {} minutes", (secs + 59) / 60),
        _ => format!("in about {} hours", (secs + 1_800) / 3_600),
    }
}

fn limit(message: String, retry_after_secs: Option<i64>) -> AppError {
    AppError::LimitReached {
        message,
        retry_after_secs: retry_after_secs.and_then(|secs| u64::try_from(secs.max(1)).ok()),
    }
}

/// Takes one call secret from the budgets of `user`, their address and everyone, for `session`
/// when the call belongs to one already saved. Returns the reservation's id (given back with
/// [`give_back_mint`] when the secret could not be minted after all).
pub async fn reserve_mint(
    pool: &PgPool,
    limits: &Limits,
    user: Uuid,
    address: &str,
    session: Option<Uuid>,
) -> Result<i64, AppError> {
    let reserved: Option<i64> = sqlx::query_scalar(
        r#"insert into voice_mints (user_id, session_id, address)
           select $1, $2, $3
           where (select count(*) from voice_mints
                  where user_id = $1 and minted_at > now() - interval '1 day') < $4
             and (select count(*) from voice_mints
                  where address = $3 and minted_at > now() - interval '1 day') < $5
             and (select count(*) from voice_mints
                  where minted_at > now() - interval '1 day') < $6
           returning id"#,
    )
    .bind(user)
    .bind(session)
    .bind(address)
    .bind(i64::from(limits.mints_per_learner_per_day))
    .bind(i64::from(limits.mints_per_address_per_day))
    .bind(i64::from(limits.mints_per_day))
    .fetch_optional(pool)
    .await?;
    if let Some(id) = reserved {
        return Ok(id);
    }
    // Which budget is spent, and when its oldest use leaves the 24 hours.
    let (learner, learner_frees, from_address, address_frees): (
        i64,
        Option<i64>,
        i64,
        Option<i64>,
    ) = sqlx::query_as(
        r#"select count(*) filter (where user_id = $1),
                  extract(epoch from min(minted_at) filter (where user_id = $1)
                                     + interval '1 day' - now())::bigint,
                  count(*) filter (where address = $2),
                  extract(epoch from min(minted_at) filter (where address = $2)
                                     + interval '1 day' - now())::bigint
           from voice_mints
           where minted_at > now() - interval '1 day' and (user_id = $1 or address = $2)"#,
    )
    .bind(user)
    .bind(address)
    .fetch_one(pool)
    .await?;
    if learner >= i64::from(limits.mints_per_learner_per_day) {
        tracing::warn!(%user, "call budget of a learner spent");
        return Err(limit(
            format!(
                "You've used today's {} calls with the coach. You can start another {}.",
                limits.mints_per_learner_per_day,
                in_words(learner_frees.unwrap_or(0))
            ),
            learner_frees,
        ));
    }
    if from_address >= i64::from(limits.mints_per_address_per_day) {
        tracing::warn!(%user, "call budget of a client address spent");
        return Err(limit(
            format!(
                "Too many calls with the coach have come from your network today. You can start \
                 another {}.",
                in_words(address_frees.unwrap_or(0))
            ),
            address_frees,
        ));
    }
    tracing::error!("the overall daily call budget is spent (MINTS_PER_DAY)");
    Err(limit(
        "The coach is fully booked for today. Please try again later.".to_owned(),
        Some(3_600),
    ))
}

/// Gives a reserved call secret back: it was never minted.
pub async fn give_back_mint(pool: &PgPool, reservation: i64) {
    let removed = sqlx::query("delete from voice_mints where id = $1")
        .bind(reservation)
        .execute(pool)
        .await;
    if let Err(error) = removed {
        tracing::warn!(%error, "an unused call secret was not given back to the budget");
    }
}

/// Checks that a call of `session` (the learner's, live) may go on: its call time is not used
/// up, and no other session of the learner has a call going on (a sign of life within
/// `quiet_secs`). Marks when its calls started, as the session's start: its first call used the
/// pre-call check's secret (no session yet), and its row was made once that call was up.
pub async fn admit_call(
    pool: &PgPool,
    limits: &Limits,
    user: Uuid,
    session: Uuid,
    quiet_secs: i64,
) -> Result<(), AppError> {
    let elsewhere: bool = sqlx::query_scalar(
        r#"select exists (
               select 1 from practice_sessions p
               where p.user_id = $1 and p.id <> $2 and p.status = 'live'
                 and p.call_started_at is not null
                 and greatest(p.call_started_at, practice_last_seen(p.id))
                     > now() - make_interval(secs => $3)
           )"#,
    )
    .bind(user)
    .bind(session)
    .bind(quiet_secs as f64)
    .fetch_one(pool)
    .await?;
    if elsewhere {
        return Err(AppError::Conflict {
            message: "You're already in a call with the coach in another tab or device. End \
                      that one first."
                .into(),
        });
    }
    let started_secs_ago: Option<i64> = sqlx::query_scalar(
        r#"update practice_sessions
           set call_started_at = coalesce(call_started_at, least(started_at, now()))
           where id = $1 and user_id = $2
           returning extract(epoch from now() - call_started_at)::bigint"#,
    )
    .bind(session)
    .bind(user)
    .fetch_optional(pool)
    .await?;
    let cap_secs = i64::from(limits.call_minutes_per_session) * 60;
    if started_secs_ago.is_some_and(|ago| ago >= cap_secs) {
        return Err(limit(
            format!(
                "This session has reached its {}-minute limit. End it and start a new one to \
                 keep practising.",
                limits.call_minutes_per_session
            ),
            None,
        ));
    }
    Ok(())
}

/// Refuses a new session while the learner has `live_sessions_per_learner` live ones (the
/// session `client_key` starts, when it exists already, is not a new one).
pub async fn admit_session(
    pool: &PgPool,
    limits: &Limits,
    user: Uuid,
    client_key: Option<Uuid>,
) -> Result<(), AppError> {
    let live: i64 = sqlx::query_scalar(
        r#"select count(*) from practice_sessions
           where user_id = $1 and status = 'live' and client_key is distinct from $2"#,
    )
    .bind(user)
    .bind(client_key)
    .fetch_one(pool)
    .await?;
    if live >= i64::from(limits.live_sessions_per_learner) {
        return Err(limit(
            format!(
                "You already have {live} sessions going. End them, or recover them from History, \
                 before you start another."
            ),
            None,
        ));
    }
    Ok(())
}

/// Refuses an upload of `size` bytes past the session's audio limit or the learner's storage.
pub async fn admit_upload(
    pool: &PgPool,
    limits: &Limits,
    user: Uuid,
    session: Uuid,
    size: u64,
) -> Result<(), AppError> {
    let in_session: i64 = sqlx::query_scalar(
        "select coalesce(sum(size), 0)::bigint from recording_chunks where session_id = $1",
    )
    .bind(session)
    .fetch_one(pool)
    .await?;
    if u64::try_from(in_session).unwrap_or(0) + size > limits.session_audio_bytes {
        return Err(AppError::TooLarge {
            limit_bytes: limits.session_audio_bytes,
        });
    }
    let used = storage_used(pool, user).await?;
    if used + size > limits.learner_storage_bytes {
        return Err(limit(
            format!(
                "Your storage is full ({} of {}). Delete some old sessions to record new ones.",
                megabytes(used),
                megabytes(limits.learner_storage_bytes)
            ),
            None,
        ));
    }
    Ok(())
}

/// Bytes the learner keeps in storage: recordings and the pieces not yet made into one.
pub async fn storage_used(pool: &PgPool, user: Uuid) -> Result<u64, AppError> {
    let used: i64 = sqlx::query_scalar(
        r#"select (select coalesce(sum(c.size), 0) from recording_chunks c
                   join practice_sessions p on p.id = c.session_id where p.user_id = $1)::bigint
                + (select coalesce(sum(r.size_bytes), 0) from recordings r
                   join practice_sessions p on p.id = r.session_id where p.user_id = $1)::bigint"#,
    )
    .bind(user)
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(used).unwrap_or(0))
}

/// Refuses a turn past the session's turn limit or its text limit (a turn saved again is not a
/// new one, and its new text replaces its old).
pub async fn admit_turn(
    pool: &PgPool,
    limits: &Limits,
    session: Uuid,
    turn: &SavedTurn,
) -> Result<(), AppError> {
    let (count, known, other_chars): (i64, bool, i64) = sqlx::query_as(
        r#"select count(*), coalesce(bool_or(item_id = $2), false),
                  coalesce(sum(char_length(text)) filter (where item_id <> $2), 0)::bigint
           from transcript_turns where session_id = $1"#,
    )
    .bind(session)
    .bind(&turn.item_id)
    .fetch_one(pool)
    .await?;
    if !known && count >= i64::from(limits.turns_per_session) {
        return Err(AppError::invalid(format!(
            "A session can keep at most {} turns.",
            limits.turns_per_session
        )));
    }
    let chars = i64::try_from(turn.text.chars().count()).unwrap_or(i64::MAX);
    if other_chars.saturating_add(chars) > i64::from(limits.session_text_chars) {
        return Err(AppError::invalid(format!(
            "A session can keep at most {} characters of transcript.",
            limits.session_text_chars
        )));
    }
    Ok(())
}

/// What the learner has used of their limits, for the account page.
pub async fn usage(pool: &PgPool, limits: &Limits, user: Uuid) -> Result<Usage, AppError> {
    let calls_today: i64 = sqlx::query_scalar(
        "select count(*) from voice_mints where user_id = $1 and minted_at > now() - interval '1 day'",
    )
    .bind(user)
    .fetch_one(pool)
    .await?;
    Ok(Usage {
        calls_today: u32::try_from(calls_today).unwrap_or(u32::MAX),
        calls_per_day: limits.mints_per_learner_per_day,
        storage_bytes: storage_used(pool, user).await?,
        storage_limit_bytes: limits.learner_storage_bytes,
    })
}

/// Forgets call secrets older than two days: past every budget's window.
pub async fn forget_old_mints(pool: &PgPool) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from voice_mints where minted_at < now() - interval '2 days'")
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_a_budget_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        assert_eq!(address_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(
            address_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7"
        );
    }

    #[test]
    fn waits_read_as_words() {
        assert_eq!(in_words(30), "in a minute or two");
        assert_eq!(in_words(600), "in about 10 minutes");
        assert_eq!(in_words(5 * 3_600 + 100), "in about 5 hours");
    }
}
