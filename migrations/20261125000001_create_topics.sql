-- Practice topics: what a learner picks before talking with the coach.
create table topics (
    id uuid primary key default gen_random_uuid(),
    slug text not null unique
        check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 64),
    title text not null check (length(title) between 1 and 120),
    summary text not null check (length(summary) between 1 and 240),
    level text not null check (level in ('A2', 'B1', 'B2', 'C1')),
    goal text not null check (length(goal) between 1 and 1000),
    vocabulary text[] not null check (cardinality(vocabulary) between 6 and 10),
    suggested_minutes smallint not null check (suggested_minutes between 2 and 5),
    -- Curated order within a level.
    position smallint not null,
    created_at timestamptz not null default now(),
    unique (level, position)
);
