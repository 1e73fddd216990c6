-- The settled turns of a practice session, saved during the call as each one settles. Keyed by
-- the Realtime item id, so saving a turn again is a no-op and a final text is never replaced by
-- anything else.
create table transcript_turns (
    session_id uuid not null references practice_sessions (id) on delete cascade,
    item_id text not null check (item_id ~ '^[A-Za-z0-9_-]{1,128}$'),
    speaker text not null check (speaker in ('learner', 'coach')),
    text text not null check (length(text) <= 20000),
    state text not null check (state in ('final', 'interrupted', 'transcription_failed')),
    -- Where the turn starts and ends in the session's recording, in milliseconds.
    start_ms integer check (start_ms >= 0),
    end_ms integer check (end_ms >= start_ms),
    -- The turn's place in the conversation as the page knew it: breaks ties in spoken order.
    position integer not null check (position >= 0),
    saved_at timestamptz not null default now(),
    primary key (session_id, item_id)
);
