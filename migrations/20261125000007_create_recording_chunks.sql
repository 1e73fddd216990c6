-- The pieces of a session's recording as the browser uploads them during the call. The bytes
-- are in object storage under a key made from the session id, the sequence number and the
-- content's hash; this row is the receipt that makes uploads idempotent.
create table recording_chunks (
    session_id uuid not null references practice_sessions (id) on delete cascade,
    sequence integer not null check (sequence between 0 and 100000),
    size integer not null check (size > 0),
    sha256 bytea not null check (length(sha256) = 32),
    received_at timestamptz not null default now(),
    primary key (session_id, sequence)
);
