-- The coach's feedback on an ended session, made by the feedback job (see src/server/jobs/).
-- One row per session: making it again (Try again, a new model, a fixed transcript) bumps the
-- generation and replaces the content, never adds a row. Deleting the session deletes it.
create table session_feedback (
    session_id uuid primary key references practice_sessions (id) on delete cascade,
    status text not null default 'preparing' check (status in ('preparing', 'ready', 'failed')),
    -- Which request this content answers: a job for an older generation changes nothing.
    generation integer not null default 1 check (generation >= 1),
    -- Attempts of the current generation's job (it gives up after a bounded number).
    attempts integer not null default 0 check (attempts >= 0),
    -- Why the last attempt failed, in words a learner can read (kept when it gives up).
    failure text check (length(failure) <= 500),
    -- The report (src/domain/feedback.rs FeedbackReport) as JSON: measurements, then the
    -- model's review.
    report jsonb,
    -- Figures read across sessions (history's line, the progress page), copied from the report.
    learner_words integer check (learner_words >= 0),
    pace_wpm real,
    fillers_per_100 real,
    learner_share real check (learner_share between 0 and 1),
    distinct_words integer check (distinct_words >= 0),
    cefr_level text check (cefr_level in ('A1', 'A2', 'B1', 'B2', 'C1', 'C2')),
    -- History's one line about it.
    headline text check (length(headline) <= 200),
    -- Content words the learner used: what "new words" compares later sessions with.
    content_words text[] not null default '{}',
    model text,
    requested_at timestamptz not null default now(),
    made_at timestamptz,
    check (status <> 'ready' or (report is not null and made_at is not null))
);

-- A learner may choose to show their feedback on a session they share.
alter table practice_shares add column include_feedback boolean not null default false;
