//! Queries on `topics`.

use sqlx::PgPool;

use super::{CorruptRow, Error};
use crate::domain::{CefrLevel, Topic, TopicSlug};

pub(super) struct TopicRow {
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub level: String,
    pub goal: String,
    pub vocabulary: Vec<String>,
    pub suggested_minutes: i16,
}

impl TopicRow {
    pub fn into_topic(self) -> Result<Topic, CorruptRow> {
        let corrupt = |reason: String| CorruptRow {
            table: "topics",
            reason,
        };
        Ok(Topic {
            slug: TopicSlug::parse(&self.slug).map_err(|e| corrupt(e.to_string()))?,
            title: self.title,
            summary: self.summary,
            level: CefrLevel::parse(&self.level).map_err(|e| corrupt(e.to_string()))?,
            goal: self.goal,
            vocabulary: self.vocabulary,
            suggested_minutes: u8::try_from(self.suggested_minutes)
                .map_err(|e| corrupt(format!("suggested_minutes: {e}")))?,
        })
    }
}

/// Every topic in the curated order: easiest level first, then by position within a level.
pub async fn list(pool: &PgPool) -> Result<Vec<Topic>, Error> {
    let rows = sqlx::query_as!(
        TopicRow,
        r#"select slug, title, summary, level, goal, vocabulary, suggested_minutes
           from topics
           order by level, position"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(TopicRow::into_topic)
        .collect::<Result<_, _>>()?)
}

/// The topic with this slug, if there is one.
pub async fn find(pool: &PgPool, slug: &TopicSlug) -> Result<Option<Topic>, Error> {
    let row = sqlx::query_as!(
        TopicRow,
        r#"select slug, title, summary, level, goal, vocabulary, suggested_minutes
           from topics
           where slug = $1"#,
        slug.as_str()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(TopicRow::into_topic).transpose()?)
}
