//! The help center's SQL on SQLite: articles, comments, votes, used CAPTCHAs, settings.

use desk::{ArticleId, Locale};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::{Article, Comment, CommentStatus, Helpfulness, NewArticle, Result, StoreError};

const ARTICLE_COLUMNS: &str = "id, locale, title, body, category, published, updated_at";
const COMMENT_COLUMNS: &str = "id, article_id, author, text, status, created_at";

fn article_row(r: &Row) -> rusqlite::Result<Article> {
    Ok(Article {
        id: ArticleId::trusted(r.get(0)?),
        locale: r.get::<_, Option<String>>(1)?.map(Locale::trusted),
        title: r.get(2)?,
        body: r.get(3)?,
        category: r.get(4)?,
        published: r.get(5)?,
        updated_at_ms: r.get(6)?,
    })
}

fn comment_row(r: &Row) -> rusqlite::Result<Comment> {
    let status: String = r.get(4)?;
    Ok(Comment {
        id: r.get(0)?,
        article_id: r.get(1)?,
        author: r.get(2)?,
        text: r.get(3)?,
        status: CommentStatus::parse(&status).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                4,
                rusqlite::types::Type::Text,
                format!("unknown comment status {status}").into(),
            )
        })?,
        created_at_ms: r.get(5)?,
    })
}

pub(super) fn import_articles(c: &Connection, now: i64, articles: &[NewArticle]) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO articles (id, locale, title, body, category, published, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, title = excluded.title,
             body = excluded.body, category = excluded.category, updated_at = excluded.updated_at
         WHERE articles.title <> excluded.title OR articles.body <> excluded.body
             OR articles.locale IS NOT excluded.locale OR articles.category IS NOT excluded.category",
    )?;
    for a in articles {
        stmt.execute(params![
            a.id.as_str(),
            a.locale.as_deref(),
            a.title,
            a.body,
            a.category,
            a.published,
            now
        ])?;
    }
    Ok(())
}

pub(super) fn save_article(c: &Connection, now: i64, a: &NewArticle) -> Result<Article> {
    let sql = format!(
        "INSERT INTO articles (id, locale, title, body, category, published, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, title = excluded.title,
             body = excluded.body, category = excluded.category, published = excluded.published,
             updated_at = excluded.updated_at
         RETURNING {ARTICLE_COLUMNS}"
    );
    Ok(c.prepare_cached(&sql)?.query_row(
        params![
            a.id.as_str(),
            a.locale.as_deref(),
            a.title,
            a.body,
            a.category,
            a.published,
            now
        ],
        article_row,
    )?)
}

pub(super) fn article(c: &Connection, id: &str) -> Result<Option<Article>> {
    let sql = format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row([id], article_row)
        .optional()?)
}

pub(super) fn articles(c: &Connection, published_only: bool) -> Result<Vec<Article>> {
    let sql = format!(
        "SELECT {ARTICLE_COLUMNS} FROM articles WHERE published = 1 OR ?1 = 0
         ORDER BY COALESCE(category, ''), title, id"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([published_only], article_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn add_comment(
    c: &Connection,
    now: i64,
    article_id: &str,
    author: &str,
    text: &str,
) -> Result<Comment> {
    let sql = format!(
        "INSERT INTO comments (article_id, author, text, status, created_at)
         VALUES (?1, ?2, ?3, 'pending', ?4) RETURNING {COMMENT_COLUMNS}"
    );
    c.prepare_cached(&sql)?
        .query_row(params![article_id, author, text, now], comment_row)
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(code, _)
                if code.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::NotFound
            }
            other => other.into(),
        })
}

pub(super) fn comments(
    c: &Connection,
    article_id: Option<&str>,
    status: Option<CommentStatus>,
) -> Result<Vec<Comment>> {
    let sql = format!(
        "SELECT {COMMENT_COLUMNS} FROM comments
         WHERE (?1 IS NULL OR article_id = ?1) AND (?2 IS NULL OR status = ?2) ORDER BY id"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![article_id, status.map(|s| s.as_str())], comment_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(super) fn set_comment_status(
    c: &Connection,
    id: i64,
    status: CommentStatus,
) -> Result<Comment> {
    let sql = format!("UPDATE comments SET status = ?1 WHERE id = ?2 RETURNING {COMMENT_COLUMNS}");
    Ok(c.prepare_cached(&sql)?
        .query_row(params![status.as_str(), id], comment_row)?)
}

pub(super) fn vote(c: &Connection, now: i64, article_id: &str, helpful: bool) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO article_votes (article_id, helpful, created_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![article_id, helpful, now])
    .map_err(|e| match e {
        rusqlite::Error::SqliteFailure(code, _)
            if code.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            StoreError::NotFound
        }
        other => other.into(),
    })?;
    Ok(())
}

pub(super) fn helpfulness(c: &Connection, article_id: &str) -> Result<Helpfulness> {
    let (yes, no): (i64, i64) = c
        .prepare_cached(
            "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)
             FROM article_votes WHERE article_id = ?1",
        )?
        .query_row([article_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Helpfulness {
        yes: yes.max(0) as u64,
        no: no.max(0) as u64,
    })
}

pub(super) fn use_captcha(c: &Connection, now: i64, key: &str, expires_at_ms: i64) -> Result<bool> {
    c.prepare_cached("DELETE FROM used_captchas WHERE expires_at < ?1")?
        .execute([now])?;
    let inserted = c
        .prepare_cached(
            "INSERT INTO used_captchas (key, expires_at) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![key, expires_at_ms])?;
    Ok(inserted == 1)
}

pub(super) fn setting_or_init(c: &Connection, name: &str, candidate: &str) -> Result<String> {
    c.prepare_cached(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
    )?
    .execute([name, candidate])?;
    Ok(
        c.prepare_cached("SELECT value FROM settings WHERE name = ?1")?
            .query_row([name], |r| r.get(0))?,
    )
}

pub(super) fn export(c: &Connection) -> Result<crate::HelpExport> {
    let articles = articles(c, false)?;
    let comments = comments(c, None, None)?;
    let mut stmt =
        c.prepare("SELECT article_id, helpful, created_at FROM article_votes ORDER BY id")?;
    let votes = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut stmt = c.prepare("SELECT name, value FROM settings ORDER BY name")?;
    let settings = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(crate::HelpExport {
        articles,
        comments,
        votes,
        settings,
    })
}
