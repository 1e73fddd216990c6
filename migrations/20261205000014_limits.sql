-- Hardening: what a learner may consume, and who is finalizing a recording.

-- Finalization is claimed with a lease on the session row instead of a lock held on a pooled
-- connection: a second finalize while one runs is told to wait (409) and holds nothing.
alter table practice_sessions add column finalizing_until timestamptz;

-- When the session's first call secret was minted: the server refuses secrets for it once the
-- session's call time (CALL_MINUTES_PER_SESSION) is used up.
alter table practice_sessions add column call_started_at timestamptz;

-- Every call secret minted, for the daily budgets (per learner, per client address, overall).
-- Rows older than two days are removed by the sweep.
create table voice_mints (
    id bigint generated always as identity primary key,
    user_id uuid not null references users (id) on delete cascade,
    session_id uuid references practice_sessions (id) on delete set null,
    -- The client address the budget is kept for (an IPv6 address by its /64).
    address text not null check (length(address) <= 64),
    minted_at timestamptz not null default now()
);
create index voice_mints_user_time on voice_mints (user_id, minted_at);
create index voice_mints_address_time on voice_mints (address, minted_at);
create index voice_mints_time on voice_mints (minted_at);

-- Live sessions of a learner are counted at every start.
create index practice_sessions_user_live on practice_sessions (user_id) where status = 'live';

-- Set first when a session is being deleted: uploads racing the delete are refused (and their
-- stored piece removed) instead of leaving audio behind.
alter table practice_sessions add column deleting boolean not null default false;
