-- Signed-in sessions, stored server-side by tower-sessions' Postgres store (its own layout), so
-- they survive a restart and sign-out can invalidate them.
create schema if not exists tower_sessions;

create table tower_sessions.session (
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);

create index session_expiry_date_idx on tower_sessions.session (expiry_date);
