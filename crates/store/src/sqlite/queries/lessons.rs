//! Lessons from the people's work on SQLite.

use rusqlite::types::Type;

use super::*;
use crate::sqlite::SqliteStore;
use crate::{Lesson, LessonStatus, Lessons, NewLesson};

const COLUMNS: &str =
    "id, conversation_id, question, answer, locale, guesses, by_agent, status, created_at";

fn row(r: &Row<'_>) -> rusqlite::Result<Lesson> {
    let id: String = r.get(1)?;
    let guesses: String = r.get(5)?;
    let status: String = r.get(7)?;
    Ok(Lesson {
        id: r.get(0)?,
        new: NewLesson {
            conversation: ConversationId::parse(&id).ok_or_else(|| {
                rusqlite::Error::InvalidColumnType(1, "conversation_id".into(), Type::Text)
            })?,
            question: r.get(2)?,
            answer: r.get(3)?,
            locale: Locale::trusted(r.get(4)?),
            guesses: serde_json::from_str(&guesses).unwrap_or_default(),
            by_agent: r.get(6)?,
        },
        status: crate::lessons::status_of(&status),
        created_at_ms: r.get(8)?,
    })
}

#[async_trait::async_trait]
impl Lessons for SqliteStore {
    async fn add_lesson(&self, lesson: NewLesson) -> Result<bool> {
        let now = self.clock.now_ms();
        let guesses = serde_json::to_string(&lesson.guesses).unwrap_or_else(|_| "[]".into());
        self.writer
            .write(move |c| {
                let n = exec(
                    c,
                    "INSERT INTO lessons (conversation_id, question, answer, locale, guesses, by_agent, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (conversation_id, question) DO NOTHING",
                    params![
                        lesson.conversation.as_str(),
                        lesson.question,
                        lesson.answer,
                        lesson.locale.as_str(),
                        guesses,
                        lesson.by_agent,
                        now
                    ],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn open_lessons(&self, limit: u32) -> Result<Vec<Lesson>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM lessons WHERE status = 'open' ORDER BY id LIMIT ?1"
            ))?
            .query_map([limit], row)?
            .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn settle_lessons(&self, ids: &[i64], status: LessonStatus) -> Result<u64> {
        let ids = ids.to_vec();
        self.writer
            .write(move |c| {
                let mut n = 0u64;
                let mut stmt = c.prepare_cached(
                    "UPDATE lessons SET status = ?2 WHERE id = ?1 AND status = 'open'",
                )?;
                for id in ids {
                    n += stmt.execute(params![id, status.as_str()])? as u64;
                }
                Ok(n)
            })
            .await
    }
}
