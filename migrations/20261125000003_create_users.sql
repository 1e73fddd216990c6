-- Learner accounts. Emails are stored normalised (trimmed, lowercase) by the application.
create table users (
    id uuid primary key default gen_random_uuid(),
    email text not null unique
        check (email = lower(email) and length(email) between 3 and 254),
    -- Argon2id in PHC string format; never leaves the server.
    password_hash text not null,
    created_at timestamptz not null default now()
);
