-- A session's finished recording: the uploaded chunks assembled into one seekable file (or the
-- reason that failed, with the chunks and the transcript kept).
create table recordings (
    session_id uuid primary key references practice_sessions (id) on delete cascade,
    status text not null check (status in ('ready', 'failed')),
    -- For a ready recording: the stored file.
    mime_type text,
    size_bytes bigint check (size_bytes > 0),
    duration_ms integer check (duration_ms >= 0),
    -- Chunk numbers that never arrived: the recording stops at the first one.
    missing_chunks integer[] not null default '{}',
    -- For a failed one: why, in words a learner can read.
    failure text,
    finalized_at timestamptz not null default now(),
    check ((status = 'ready') = (mime_type is not null and size_bytes is not null and duration_ms is not null)),
    check ((status = 'failed') = (failure is not null))
);
