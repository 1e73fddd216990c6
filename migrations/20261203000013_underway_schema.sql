-- The `underway` crate's own schema (the feedback job's queue, see src/server/jobs.rs), applied
-- with the app's migrations so every database (development, tests, production) has it before the
-- app starts. These are underway 0.2.0's migrations (crates.io `underway` 0.2.0, `migrations/`,
-- MIT OR Apache-2.0), in order, unchanged but for two things: its private copy of sqlx's
-- migrations table is left out (the app never calls `underway::run_migrations`), and its
-- `search_path` keeps `public` after `underway`, so sqlx finds our migrations table to record
-- this one. Upgrading underway means adding its new migrations as new ones of ours.

-- underway 20240921151751_0.sql
create schema if not exists underway;

-- Force anything running this migration to use the right search path.
set local search_path to underway, public;


create table underway.task_queue (
    name       text not null,
    dlq_name   text,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    primary key (name),
    foreign key (dlq_name) references underway.task_queue(name)
);

create table underway.task_schedule (
    name       text references underway.task_queue on delete cascade,
    schedule   text not null,
    timezone   text not null,
    input      jsonb not null,
    created_at timestamp with time zone not null default now(),
    updated_at timestamp with time zone not null default now(),
    primary key (name)
);

create type underway.task_state as enum (
    'pending',
    'in_progress',
    'succeeded',
    'cancelled',
    'failed'
);

create table underway.task (
    id                  uuid not null,
    task_queue_name     text not null,
    input               jsonb not null,
    state               underway.task_state not null default 'pending',
    retry_count         integer not null default 0,
    max_attempts        integer not null default 5,
    initial_interval_ms integer not null default 1000,
    max_interval_ms     integer not null default 60000,
    backoff_coefficient real not null default 2.0,
    error_message       text,
    timeout             interval not null default interval '15 minutes',
    ttl                 interval not null default interval '14 days',
    delay               interval not null default interval '0',
    concurrency_key     text,
    priority            integer not null default 0,
    created_at          timestamp with time zone not null default now(),
    updated_at          timestamp with time zone not null default now(),
    started_at          timestamp with time zone,
    succeeded_at        timestamp with time zone,
    last_failed_at      timestamp with time zone,
    primary key (id, task_queue_name),
    foreign key (task_queue_name) references underway.task_queue(name)
);

create unique index idx_task_concurrency_key_unique
on underway.task (task_queue_name, concurrency_key)
where concurrency_key is not null and state in ('pending', 'in_progress');

-- underway 20241024174106_1.sql
-- Force anything running this migration to use the right search path.
set local search_path to underway, public;

-- function to notify about task changes
create or replace function underway.task_change_notify()
returns trigger as $$
begin
  if (new.state = 'pending') then
    perform pg_notify('task_change', json_build_object(
      'task_queue_name', new.task_queue_name
    )::text);
  end if;

  return new;
end;
$$ language plpgsql;

-- trigger that calls the function after task changes
create trigger task_changed
after insert or update on underway.task
for each row
execute procedure underway.task_change_notify();

-- underway 20241105164503_2.sql
-- Force anything running this migration to use the right search path.
set local search_path to underway, public;

-- Remove attempt-specific columns from `task`
alter table underway.task
drop column if exists retry_count,
drop column if exists max_attempts,
drop column if exists initial_interval_ms,
drop column if exists max_interval_ms,
drop column if exists backoff_coefficient,
drop column if exists error_message,
drop column if exists started_at,
drop column if exists succeeded_at,
drop column if exists last_failed_at;

-- Define retry policies as their own type
create type underway.task_retry_policy as (
    max_attempts         int,
    initial_interval_ms  int,
    max_interval_ms      int,
    backoff_coefficient  float
);

alter table underway.task
    add column if not exists retry_policy underway.task_retry_policy not null 
    default row(5, 1000, 60000, 2.0)::underway.task_retry_policy;

alter table underway.task
add column if not exists completed_at timestamp with time zone;

alter table underway.task
add column if not exists last_attempt_at timestamp with time zone;

create table underway.task_attempt (
    task_id         uuid not null,
    task_queue_name text not null,
    attempt_number  integer not null,

    -- Task state.
    state           underway.task_state not null default 'in_progress',

    -- Error metatdata.
    error_message   text,

    started_at      timestamp with time zone not null default now(),
    updated_at      timestamp with time zone not null default now(),
    completed_at    timestamp with time zone,

    primary key (task_id, task_queue_name, attempt_number),
    foreign key (task_id, task_queue_name) references underway.task(id, task_queue_name) on delete cascade
);

-- underway 20241110164319_3.sql
-- Force anything running this migration to use the right search path.
set local search_path to underway, public;

alter table underway.task
add column if not exists heartbeat interval not null default interval '30 seconds';

alter table underway.task
add column if not exists last_heartbeat_at timestamp with time zone;

-- underway 20241111174958_4.sql
-- Force anything running this migration to use the right search path.
set local search_path to underway, public;

-- Rename the 'name' column in 'task_schedule' to 'task_queue_name' for consistency.
alter table underway.task_schedule
    rename column name to task_queue_name;

-- Update the primary key constraint to use the new column name.
alter table underway.task_schedule
    drop constraint task_schedule_pkey,
    add primary key (task_queue_name);

-- underway 20241126224448_5.sql
-- Force anything running this migration to use the right search path.
set local search_path to underway, public;

alter table underway.task_attempt drop constraint task_attempt_task_id_task_queue_name_fkey;

alter table underway.task drop constraint task_pkey;
alter table underway.task add constraint task_pkey
primary key (task_queue_name, id);

alter table underway.task_attempt drop constraint task_attempt_pkey;
alter table underway.task_attempt add constraint task_attempt_pkey
primary key (task_queue_name, task_id, attempt_number);

alter table underway.task_attempt add constraint task_attempt_task_queue_name_task_id_fkey
foreign key (task_queue_name, task_id) references underway.task(task_queue_name, id) on delete cascade;
