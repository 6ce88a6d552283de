//! Records of the help center: articles, reader comments and their moderation, helpfulness votes.

use desk::{ArticleId, Locale};
use serde::{Deserialize, Serialize};

/// A help-center article: imported from the playbook or written in the admin editor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    /// Unique.
    pub id: ArticleId,
    pub locale: Option<Locale>,
    pub title: String,
    /// Markdown; rendered without raw HTML.
    pub body: String,
    pub category: Option<String>,
    /// Only published articles are ever shown in public.
    pub published: bool,
    pub updated_at_ms: i64,
}

/// An article to import or save; `updated_at_ms` is set by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArticle {
    pub id: ArticleId,
    pub locale: Option<Locale>,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    pub published: bool,
}

/// Where a comment stands in moderation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Approved,
    Rejected,
}

impl CommentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(CommentStatus::Pending),
            "approved" => Some(CommentStatus::Approved),
            "rejected" => Some(CommentStatus::Rejected),
            _ => None,
        }
    }
}

/// A reader's comment on an article. Shown in public only once approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub article_id: String,
    pub author: String,
    pub text: String,
    pub status: CommentStatus,
    pub created_at_ms: i64,
}

/// How many readers found an article helpful, and how many did not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Helpfulness {
    pub yes: u64,
    pub no: u64,
}

/// The help center's rows, for `tandem migrate-store` (ids and times kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HelpExport {
    pub articles: Vec<Article>,
    pub comments: Vec<Comment>,
    /// (article id, helpful, created at ms)
    pub votes: Vec<(String, bool, i64)>,
    /// (name, value), e.g. the generated CAPTCHA secret.
    pub settings: Vec<(String, String)>,
}
