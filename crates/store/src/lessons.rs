//! What the people's work can teach the machine (issue 15): when an agent resolves a conversation
//! the machine handed off because it was unsure, the customer's question and the agent's answer
//! are kept here (masked of personal data first, by the server), until an admin accepts them into
//! the playbook or rejects them. The server groups the open ones into suggestions.

use desk::{ConversationId, Guess, Locale};

/// What kind of lesson: a question the machine could not answer, or a handoff whose agent reply
/// was close to an existing intent's answer (so the question is a candidate example of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonStatus {
    Open,
    Accepted,
    Rejected,
}

impl LessonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LessonStatus::Open => "open",
            LessonStatus::Accepted => "accepted",
            LessonStatus::Rejected => "rejected",
        }
    }
}

/// A lesson to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLesson {
    pub conversation: ConversationId,
    /// The customer's question, masked.
    pub question: String,
    /// The agent's answer, masked.
    pub answer: String,
    pub locale: Locale,
    /// The machine's best guesses at the question when it handed off.
    pub guesses: Vec<Guess>,
    /// An agent asked for it ("suggest as an answer"), rather than the desk on its own.
    pub by_agent: bool,
}

/// A kept lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    pub id: i64,
    pub new: NewLesson,
    pub status: LessonStatus,
    pub created_at_ms: i64,
}

/// The lessons' storage, beside [`crate::Store`] (reached by `Store::lessons`).
#[async_trait::async_trait]
pub trait Lessons: Send + Sync {
    /// Keeps a lesson; `false` (and nothing kept) when the conversation already gave one with
    /// the same question.
    async fn add_lesson(&self, lesson: NewLesson) -> crate::Result<bool>;
    /// The open lessons, oldest first, at most `limit`.
    async fn open_lessons(&self, limit: u32) -> crate::Result<Vec<Lesson>>;
    /// Settles open lessons; returns how many were still open.
    async fn settle_lessons(&self, ids: &[i64], status: LessonStatus) -> crate::Result<u64>;
}

/// A status as stored; anything unknown counts as settled (rejected), never as open.
pub(crate) fn status_of(s: &str) -> LessonStatus {
    match s {
        "open" => LessonStatus::Open,
        "accepted" => LessonStatus::Accepted,
        _ => LessonStatus::Rejected,
    }
}
