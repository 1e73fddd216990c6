//! Accounts and the privacy boundary, through the real router and a real database.
#![cfg(feature = "ssr")]

mod support;

use axum::http::StatusCode;
use sqlx::PgPool;
use support::{
    Call, PASSWORD, app, app_with, finish_sign_up, get, mailbox_uri, newest_token, sign_up, tokens,
    two_users,
};

fn sign_in(email: &str, password: &str) -> Call {
    Call::post("/api/auth/sign-in")
        .field("email", email)
        .field("password", password)
}

fn ask_to_sign_up(email: &str) -> Call {
    Call::post("/api/auth/sign-up").field("email", email)
}

/// The development mailbox page for `email`.
async fn mailbox(app: &axum::Router, email: &str) -> String {
    let page = get(app, &mailbox_uri(email)).await;
    assert_eq!(page.status, StatusCode::OK);
    page.body
}

async fn users(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn account_status(app: &axum::Router, cookie: &str) -> StatusCode {
    Call::get("/api/account")
        .cookie(cookie)
        .send(app)
        .await
        .status
}

#[sqlx::test]
async fn signing_up_stores_the_normalised_email_and_an_argon2_hash(pool: PgPool) {
    let app = app(pool.clone());
    let cookie = sign_up(&app, "  Ana.Lopez@Example.org ").await;

    let response = Call::get("/api/account").cookie(&cookie).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(
        response.body.contains(r#""email":"ana.lopez@example.org""#),
        "{}",
        response.body
    );

    let stored: String = sqlx::query_scalar("select password_hash from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        stored.starts_with("$argon2id$"),
        "passwords are stored as Argon2id hashes"
    );
    assert!(!stored.contains(PASSWORD));
}

#[sqlx::test]
async fn the_session_cookie_is_httponly_and_samesite_lax(pool: PgPool) {
    let app = app(pool);
    ask_to_sign_up("ana@example.org").send(&app).await;
    let token = newest_token(&mailbox(&app, "ana@example.org").await).unwrap();
    let response = finish_sign_up(&token, PASSWORD).send(&app).await;
    let cookie = response.set_cookie_header().expect("a cookie is set");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in tests: {cookie}");
}

#[sqlx::test]
async fn sign_up_mails_a_link_and_makes_the_account_only_when_it_is_followed(pool: PgPool) {
    let app = app(pool.clone());
    let response = ask_to_sign_up(" Ana@Example.org").send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert_eq!(response.session_cookie(), None, "nobody is signed in yet");
    assert_eq!(
        users(&pool).await,
        0,
        "no account before the link is followed"
    );
    let mail = mailbox(&app, "ana@example.org").await;
    assert!(
        mail.contains("Confirm your email for Speaking Coach"),
        "{mail}"
    );
    let token = newest_token(&mail).expect("a link");
    // Only the token's hash is stored.
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from sign_up_links")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&stored).contains(&token));

    // The link's page shows the address; opening it creates nothing.
    let page = get(&app, &format!("/confirm-email?token={token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ana@example.org"), "{}", page.body);
    assert_eq!(users(&pool).await, 0);

    // A weak password is explained and the link still works.
    let weak = finish_sign_up(&token, "passwordpassword1").send(&app).await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert!(weak.body.contains("easy to guess"), "{}", weak.body);
    let response = finish_sign_up(&token, PASSWORD).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let cookie = response.session_cookie().expect("signed in");
    let account = Call::get("/api/account").cookie(&cookie).send(&app).await;
    assert!(
        account.body.contains(r#""email":"ana@example.org""#),
        "{}",
        account.body
    );

    // Single use.
    let again = finish_sign_up(&token, PASSWORD).send(&app).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(
        again.body.contains("expired or was already used"),
        "{}",
        again.body
    );
    let page = get(&app, &format!("/confirm-email?token={token}")).await;
    assert!(page.body.contains("expired or was already used"));
}

#[sqlx::test]
async fn sign_up_answers_the_same_whether_or_not_the_address_has_an_account(pool: PgPool) {
    let app = app(pool.clone());
    sign_up(&app, "ana@example.org").await;
    let known = ask_to_sign_up("ANA@example.org").send(&app).await;
    let unknown = ask_to_sign_up("ben@example.org").send(&app).await;
    assert_eq!(known.status, StatusCode::OK);
    assert_eq!(
        (known.status, &known.body, known.header("location")),
        (unknown.status, &unknown.body, unknown.header("location"))
    );
    let plain = ask_to_sign_up("ana@example.org")
        .plain_form()
        .send(&app)
        .await;
    assert_eq!(plain.status, StatusCode::FOUND);
    assert_eq!(plain.header("location"), Some("/check-email"));

    // The owner learns it by mail, once per 10 minutes however often it is tried.
    let mail = mailbox(&app, "ana@example.org").await;
    assert_eq!(
        mail.matches("You already have a Speaking Coach account")
            .count(),
        1,
        "{mail}"
    );
    assert!(mail.contains("/sign-in"));
    assert_eq!(users(&pool).await, 1, "nothing was created or changed");
    let signed_in = Call::post("/api/auth/sign-in")
        .field("email", "ana@example.org")
        .field("password", PASSWORD)
        .send(&app)
        .await;
    assert_eq!(signed_in.status, StatusCode::OK);
}

#[sqlx::test]
async fn a_stranger_cannot_put_a_password_on_someone_elses_address(pool: PgPool) {
    let app = app(pool.clone());
    // A stranger asks first: the link goes to the inbox's owner, not to them.
    ask_to_sign_up("ana@example.org").send(&app).await;
    // They cannot make up a link.
    let guessed = finish_sign_up(&"0".repeat(64), "a stranger's passphrase here")
        .send(&app)
        .await;
    assert_eq!(guessed.status, StatusCode::BAD_REQUEST);
    for bad in ["", "not a token", "\u{0}"] {
        let response = finish_sign_up(bad, PASSWORD).send(&app).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{bad:?}");
    }
    assert_eq!(users(&pool).await, 0);

    // Ana asks too; either link works for her, the password is the one she chooses, and the
    // other link dies with the first use.
    ask_to_sign_up("ana@example.org").send(&app).await;
    let links = tokens(&mailbox(&app, "ana@example.org").await);
    assert_eq!(links.len(), 2);
    let response = finish_sign_up(&links[1], PASSWORD).send(&app).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let other = finish_sign_up(&links[0], "a stranger's passphrase here")
        .send(&app)
        .await;
    assert_eq!(other.status, StatusCode::BAD_REQUEST);
    assert_eq!(users(&pool).await, 1);
}

#[sqlx::test]
async fn an_address_gets_at_most_five_links_an_hour(pool: PgPool) {
    let app = app(pool);
    for _ in 0..7 {
        let response = ask_to_sign_up("ana@example.org").send(&app).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "the same answer throughout"
        );
    }
    let mail = mailbox(&app, "ana@example.org").await;
    assert_eq!(tokens(&mail).len(), 5);
}

#[sqlx::test]
async fn weak_passwords_and_bad_emails_are_explained(pool: PgPool) {
    let app = app(pool);
    let bad_email = ask_to_sign_up("not-an-email").send(&app).await;
    assert_eq!(bad_email.status, StatusCode::BAD_REQUEST);
    assert!(
        bad_email.body.contains("doesn't look like an email"),
        "{}",
        bad_email.body
    );
    // Invisible and right-to-left characters are refused in emails.
    let hidden = ask_to_sign_up("ana\u{200b}@example.org").send(&app).await;
    assert_eq!(hidden.status, StatusCode::BAD_REQUEST);

    let cases = [
        ("ana@example.org", "short", "at least 10 characters"),
        ("ana@example.org", "1234567890", "most common"),
        // Long enough, and yet guessed at once (a repeat, a doubled dictionary word, the email).
        ("ana@example.org", "aaaaaaaaab", "easy to guess"),
        ("ana@example.org", "passwordpassword1", "easy to guess"),
        ("ana.lopez@example.org", "ana.lopez1990", "easy to guess"),
    ];
    for (email, password, message) in cases {
        ask_to_sign_up(email).send(&app).await;
        let token = newest_token(&mailbox(&app, email).await).unwrap();
        let response = finish_sign_up(&token, password).send(&app).await;
        assert_eq!(
            response.status,
            StatusCode::BAD_REQUEST,
            "{email} {password}"
        );
        assert!(response.body.contains(message), "{}", response.body);
    }
}

#[sqlx::test]
async fn wrong_password_and_unknown_email_look_the_same(pool: PgPool) {
    let app = app(pool);
    sign_up(&app, "ana@example.org").await;
    let wrong = sign_in("ana@example.org", "not the right password")
        .send(&app)
        .await;
    let unknown = sign_in("nobody@example.org", PASSWORD).send(&app).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    assert!(
        wrong.body.contains("don't match an account"),
        "{}",
        wrong.body
    );
    assert!(wrong.session_cookie().is_none());
}

#[sqlx::test]
async fn signing_in_works_and_gives_a_new_session_id(pool: PgPool) {
    let app = app(pool);
    let first = sign_up(&app, "ana@example.org").await;
    let response = sign_in("ana@example.org", PASSWORD)
        .cookie(&first)
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let second = response.session_cookie().expect("a new cookie");
    assert_ne!(first, second, "sign-in rotates the session id");
    assert_eq!(account_status(&app, &second).await, StatusCode::OK);
    assert_eq!(account_status(&app, &first).await, StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn a_session_survives_a_server_restart(pool: PgPool) {
    let cookie = sign_up(&app(pool.clone()), "ana@example.org").await;
    // A new router and state over the same database: what a restarted process has.
    let restarted = app(pool);
    assert_eq!(account_status(&restarted, &cookie).await, StatusCode::OK);
}

#[sqlx::test]
async fn signing_out_invalidates_the_old_cookie(pool: PgPool) {
    let app = app(pool);
    let cookie = sign_up(&app, "ana@example.org").await;
    let response = Call::post("/api/auth/sign-out")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    // Replaying the cookie after sign-out gets nothing.
    assert_eq!(
        account_status(&app, &cookie).await,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test]
async fn a_visitor_gets_401_from_protected_functions(pool: PgPool) {
    let app = app(pool);
    let response = Call::get("/api/account").send(&app).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.body, r#""Unauthorized""#);
    let response = Call::get("/api/auth/me").send(&app).await;
    assert_eq!(
        (response.status, response.body.as_str()),
        (StatusCode::OK, "null")
    );
}

#[sqlx::test]
async fn the_account_page_sends_visitors_to_sign_in_and_back(pool: PgPool) {
    let app = app(pool);
    let response = get(&app, "/account").await;
    assert_eq!(response.status, StatusCode::FOUND);
    assert_eq!(response.header("location"), Some("/sign-in?next=/account"));
}

#[sqlx::test]
async fn a_plain_form_sign_in_redirects_to_next(pool: PgPool) {
    let app = app(pool);
    sign_up(&app, "ana@example.org").await;
    let response = sign_in("ana@example.org", PASSWORD)
        .field("next", "/account")
        .plain_form()
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::FOUND, "{}", response.body);
    assert_eq!(response.header("location"), Some("/account"));
    // An off-site `next` is ignored.
    let response = sign_in("ana@example.org", PASSWORD)
        .field("next", "//evil.example/")
        .plain_form()
        .send(&app)
        .await;
    assert_eq!(response.header("location"), Some("/topics"));
}

#[sqlx::test]
async fn sign_in_is_rate_limited_per_account(pool: PgPool) {
    let app = app(pool);
    sign_up(&app, "ana@example.org").await;
    for _ in 0..5 {
        let response = sign_in("ana@example.org", "a wrong password!")
            .send(&app)
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST);
    }
    // Even the right password waits now: the limit is on attempts, not failures.
    let response = sign_in("ana@example.org", PASSWORD).send(&app).await;
    assert_eq!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        response.body
    );
    assert!(
        response.body.contains("TooManyRequests"),
        "{}",
        response.body
    );
}

#[sqlx::test]
async fn sign_up_is_rate_limited_per_address(pool: PgPool) {
    // Asking for a link and following it both count (each may cost a mail or a hash).
    let app = app_with(pool, &[("AUTH_ATTEMPTS_PER_MINUTE", "4")]);
    for n in 0..2 {
        sign_up(&app, &format!("learner{n}@example.org")).await;
    }
    let response = ask_to_sign_up("one-too-many@example.org").send(&app).await;
    assert_eq!(
        response.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        response.body
    );
}

#[sqlx::test]
async fn cross_site_writes_are_refused(pool: PgPool) {
    let app = app(pool.clone());
    let cookie = sign_up(&app, "ana@example.org").await;
    for origin in [Some("https://evil.example"), None] {
        let response = Call::post("/api/account/delete")
            .field("confirm", "delete")
            .cookie(&cookie)
            .origin(origin)
            .send(&app)
            .await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "origin {origin:?}");
    }
    assert_eq!(
        account_status(&app, &cookie).await,
        StatusCode::OK,
        "nothing was deleted"
    );
}

#[sqlx::test]
async fn deleting_the_account_removes_it_and_its_session(pool: PgPool) {
    let app = app(pool.clone());
    let cookie = sign_up(&app, "ana@example.org").await;

    let unconfirmed = Call::post("/api/account/delete")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);
    assert!(
        unconfirmed.body.contains("Tick the box"),
        "{}",
        unconfirmed.body
    );

    let response = Call::post("/api/account/delete")
        .field("confirm", "delete")
        .cookie(&cookie)
        .send(&app)
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let users: i64 = sqlx::query_scalar("select count(*) from users")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    let sessions: i64 = sqlx::query_scalar("select count(*) from tower_sessions.session")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    assert_eq!(
        account_status(&app, &cookie).await,
        StatusCode::UNAUTHORIZED
    );
    let again = sign_in("ana@example.org", PASSWORD).send(&app).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "the account is gone");
}

#[sqlx::test]
async fn each_learner_only_ever_sees_their_own_account(pool: PgPool) {
    let app = app(pool);
    let users = two_users(&app).await;
    let a = Call::get("/api/account").cookie(&users.a).send(&app).await;
    let b = Call::get("/api/account").cookie(&users.b).send(&app).await;
    assert!(a.body.contains("owner@example.org") && !a.body.contains("other@example.org"));
    assert!(b.body.contains("other@example.org") && !b.body.contains("owner@example.org"));
}

#[sqlx::test]
async fn pages_carry_security_headers_and_a_nonce_policy(pool: PgPool) {
    let app = app(pool);
    let page = get(&app, "/topics").await;
    let policy = page
        .header("content-security-policy")
        .expect("pages have a CSP");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in the policy");
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "inline scripts carry the nonce"
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("same-origin"));

    let json = get(&app, "/healthz").await;
    let policy = json.header("content-security-policy").unwrap();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
}

#[sqlx::test]
async fn a_link_for_an_address_that_got_an_account_meanwhile_says_to_sign_in(pool: PgPool) {
    let app = app(pool.clone());
    ask_to_sign_up("ana@example.org").send(&app).await;
    let token = newest_token(&mailbox(&app, "ana@example.org").await).unwrap();
    // The account was made another way meanwhile (a concurrent follow of another link).
    sqlx::query("insert into users (email, password_hash) values ('ana@example.org', 'x')")
        .execute(&pool)
        .await
        .unwrap();
    let response = finish_sign_up(&token, PASSWORD).send(&app).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert!(
        response.body.contains("This email has an account already"),
        "{}",
        response.body
    );
    assert_eq!(response.session_cookie(), None);
    assert_eq!(users(&pool).await, 1);
}

#[sqlx::test]
async fn the_development_mailbox_starts_empty_and_is_gone_with_smtp(pool: PgPool) {
    let page = get(&app(pool.clone()), "/dev/mailbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Nothing yet"), "{}", page.body);

    let with_smtp = app_with(
        pool,
        &[
            ("SMTP_URL", "smtp://mailer:secret@127.0.0.1:2525"),
            ("MAIL_FROM", "Speaking Coach <no-reply@coach.test>"),
        ],
    );
    assert_eq!(
        get(&with_smtp, "/dev/mailbox").await.status,
        StatusCode::NOT_FOUND
    );
    let local = get(&with_smtp, "/api/auth/local-mailbox").await;
    assert_eq!(
        (local.status, local.body.as_str()),
        (StatusCode::OK, "false")
    );
}
