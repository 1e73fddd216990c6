-- Email confirmation: an account exists only once its owner has opened a link mailed to its
-- address and chosen a password there. Until then a sign-up is just a pending link; nobody can
-- sign in with it, and nobody who lacks the inbox can put a password on the address.

-- Pending sign-up links, single use. Only the SHA-256 of the token is kept: a database read
-- does not let anyone create an account. `email` is normalised like `users.email`.
create table sign_up_links (
    token_hash bytea primary key check (length(token_hash) = 32),
    email text not null check (email = lower(email) and length(email) between 3 and 254),
    created_at timestamptz not null default now(),
    expires_at timestamptz not null
);
create index sign_up_links_email on sign_up_links (email, created_at);

-- When a "you already have an account" notice was last mailed (at most one per 10 minutes, so
-- sign-up cannot be used to flood a learner's inbox).
alter table users add column account_notice_sent_at timestamptz;
