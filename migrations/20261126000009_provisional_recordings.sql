-- A recording the server made on its own, from what had arrived when the learner's tab went
-- quiet: the chunks it was made from are kept, and it is made again (and becomes final) when the
-- browser comes back with the rest, or when the learner asks to recover the session as it is.
alter table recordings add column provisional boolean not null default false;


-- History pages through a learner's sessions newest first, by (started_at, id).
drop index practice_sessions_user_started;
create index practice_sessions_user_started on practice_sessions (user_id, started_at desc, id desc);

-- A session's last sign of life: its start, its latest uploaded chunk, its latest saved turn.
create function practice_last_seen(session uuid) returns timestamptz
language sql stable as $$
    select greatest(
        (select started_at from practice_sessions where id = session),
        (select max(received_at) from recording_chunks where session_id = session),
        (select max(saved_at) from transcript_turns where session_id = session)
    )
$$;
