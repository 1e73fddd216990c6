-- Issue 19: several app processes share one Postgres, so what must hold across them lives here.
--
-- Rate limits (sign-in attempts, call secrets): one row per limited key holding the generic cell
-- rate algorithm's "theoretical arrival time": the key has used its burst until `not_before`.
-- The key is a SHA-256 of the limit's name and its subject, so no email or address is stored.
-- Unlogged: a crash forgets the limits, which only errs towards letting learners in.
create unlogged table rate_limits (
    key bytea primary key,
    not_before timestamptz not null
);
create index rate_limits_not_before on rate_limits (not_before);

-- The finalization lease names its holder, so only the holder renews or releases it.
alter table practice_sessions add column finalizing_by uuid;
