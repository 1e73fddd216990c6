-- A session the learner chose to share: anyone with the link can play it and read its transcript
-- (never the learner's account). One link per session; revoking deletes the row, so the link stops
-- working at once. Nothing is shared unless the learner creates one.
create table practice_shares (
    session_id uuid primary key references practice_sessions (id) on delete cascade,
    -- 64 hex characters from two random UUIDs (244 random bits): the link's only secret.
    token text not null unique check (token ~ '^[0-9a-f]{64}$'),
    created_at timestamptz not null default now()
);
