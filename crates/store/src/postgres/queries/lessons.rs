//! Lessons from the people's work on PostgreSQL.

use super::*;
use crate::postgres::PgStore;
use crate::{Lesson, LessonStatus, Lessons, NewLesson};

const COLUMNS: &str =
    "id, conversation_id, question, answer, locale, guesses, by_agent, status, created_at";

fn row(r: &Row) -> Result<Lesson> {
    let id: String = r.try_get(1)?;
    let guesses: String = r.try_get(5)?;
    let status: String = r.try_get(7)?;
    Ok(Lesson {
        id: r.try_get(0)?,
        new: NewLesson {
            conversation: ConversationId::parse(&id)
                .ok_or_else(|| StoreError::Backend(format!("bad conversation id {id:?}")))?,
            question: r.try_get(2)?,
            answer: r.try_get(3)?,
            locale: Locale::trusted(r.try_get(4)?),
            guesses: serde_json::from_str(&guesses).unwrap_or_default(),
            by_agent: r.try_get(6)?,
        },
        status: crate::lessons::status_of(&status),
        created_at_ms: r.try_get(8)?,
    })
}

#[async_trait::async_trait]
impl Lessons for PgStore {
    async fn add_lesson(&self, lesson: NewLesson) -> Result<bool> {
        let guesses = serde_json::to_string(&lesson.guesses).unwrap_or_else(|_| "[]".into());
        let n = exec(
            &self.client().await?,
            "INSERT INTO lessons (conversation_id, question, answer, locale, guesses, by_agent, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (conversation_id, question) DO NOTHING",
            &[
                &lesson.conversation.as_str(),
                &lesson.question,
                &lesson.answer,
                &lesson.locale.as_str(),
                &guesses,
                &lesson.by_agent,
                &self.clock.now_ms(),
            ],
        )
        .await?;
        Ok(n > 0)
    }

    async fn open_lessons(&self, limit: u32) -> Result<Vec<Lesson>> {
        query(
            &self.client().await?,
            &format!("SELECT {COLUMNS} FROM lessons WHERE status = 'open' ORDER BY id LIMIT $1"),
            &[&i64::from(limit)],
        )
        .await?
        .iter()
        .map(row)
        .collect()
    }

    async fn settle_lessons(&self, ids: &[i64], status: LessonStatus) -> Result<u64> {
        exec(
            &self.client().await?,
            "UPDATE lessons SET status = $2 WHERE id = ANY($1) AND status = 'open'",
            &[&ids, &status.as_str()],
        )
        .await
    }
}
