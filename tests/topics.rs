//! The topics queries and use cases against a real, migrated Postgres database.
#![cfg(feature = "ssr")]

use speaking_coach::{
    domain::{CefrLevel, TopicSlug},
    error::AppError,
    server::{
        db::{self, CorruptRow},
        topics,
    },
};
use sqlx::PgPool;

#[sqlx::test]
async fn every_seeded_topic_is_listed_and_valid(pool: PgPool) {
    let all = topics::list(&pool).await.expect("topics load");
    assert!(all.len() >= 12, "only {} topics seeded", all.len());
    for topic in &all {
        assert!((6..=10).contains(&topic.vocabulary.len()), "{}", topic.slug);
        assert!((2..=5).contains(&topic.suggested_minutes), "{}", topic.slug);
        assert!(!topic.title.is_empty() && !topic.summary.is_empty() && !topic.goal.is_empty());
    }
    for level in CefrLevel::ALL {
        assert!(all.iter().any(|t| t.level == level), "no topic at {level}");
    }
    let slugs: std::collections::HashSet<_> = all.iter().map(|t| t.slug.clone()).collect();
    assert_eq!(slugs.len(), all.len(), "slugs are unique");
}

#[sqlx::test]
async fn topics_are_ordered_by_level_then_curated_position(pool: PgPool) {
    let all = topics::list(&pool).await.expect("topics load");
    assert!(all.windows(2).all(|w| w[0].level <= w[1].level));
    // Within a level, the curated position decides: the café comes before the hometown.
    let position = |slug: &str| all.iter().position(|t| t.slug.as_str() == slug).unwrap();
    assert!(position("ordering-at-a-cafe") < position("describing-your-hometown"));
    assert_eq!(all.last().map(|t| t.level), Some(CefrLevel::C1));
}

#[sqlx::test]
async fn a_topic_is_found_by_its_slug(pool: PgPool) {
    let topic = topics::get(&pool, "a-job-interview").await.expect("found");
    assert_eq!(topic.title, "A job interview");
    assert_eq!(topic.level, CefrLevel::B2);
    assert!(topic.vocabulary.iter().any(|w| w == "deadline"));
}

#[sqlx::test]
async fn an_unknown_or_malformed_slug_is_not_found(pool: PgPool) {
    for slug in [
        "no-such-topic",
        "Job Interview",
        "",
        "../../etc/passwd",
        "a--b",
    ] {
        assert_eq!(
            topics::get(&pool, slug).await,
            Err(AppError::not_found("topic")),
            "{slug:?}"
        );
    }
}

#[sqlx::test]
async fn a_corrupt_row_is_an_internal_error_not_a_panic(pool: PgPool) {
    // The schema allows only valid slugs, so break one the way a bad manual edit could.
    sqlx::query("alter table topics drop constraint topics_slug_check")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("update topics set slug = 'Bad Slug' where slug = 'giving-directions'")
        .execute(&pool)
        .await
        .unwrap();
    let error = topics::list(&pool).await.unwrap_err();
    assert!(matches!(error, AppError::Internal { .. }), "{error:?}");
    assert!(!error.to_string().contains("Bad Slug"));
    // The query layer names the broken row for the log; healthy rows still load one by one.
    assert!(matches!(
        db::topics::list(&pool).await,
        Err(db::Error::Corrupt(CorruptRow {
            table: "topics",
            ..
        }))
    ));
    let slug = TopicSlug::parse("a-job-interview").unwrap();
    assert!(db::topics::find(&pool, &slug).await.unwrap().is_some());
}
