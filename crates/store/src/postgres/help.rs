//! The help center's SQL on PostgreSQL: articles, comments, votes, used CAPTCHAs, settings.

use deadpool_postgres::GenericClient;
use desk::{ArticleId, Locale};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::{Article, Comment, CommentStatus, Helpfulness, NewArticle, Result, StoreError};

const ARTICLE_COLUMNS: &str = "id, locale, title, body, category, published, updated_at";
const COMMENT_COLUMNS: &str = "id, article_id, author, text, status, created_at";

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

async fn rows<C: GenericClient>(c: &C, sql: &str, params: Params<'_>) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}

async fn row_opt<C: GenericClient>(c: &C, sql: &str, params: Params<'_>) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&stmt, params).await?)
}

async fn exec<C: GenericClient>(c: &C, sql: &str, params: Params<'_>) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

fn article_row(r: &Row) -> Result<Article> {
    Ok(Article {
        id: ArticleId::trusted(r.try_get(0)?),
        locale: r.try_get::<_, Option<String>>(1)?.map(Locale::trusted),
        title: r.try_get(2)?,
        body: r.try_get(3)?,
        category: r.try_get(4)?,
        published: r.try_get(5)?,
        updated_at_ms: r.try_get(6)?,
    })
}

fn comment_row(r: &Row) -> Result<Comment> {
    let status: String = r.try_get(4)?;
    Ok(Comment {
        id: r.try_get(0)?,
        article_id: r.try_get(1)?,
        author: r.try_get(2)?,
        text: r.try_get(3)?,
        status: CommentStatus::parse(&status)
            .ok_or_else(|| StoreError::Backend(format!("unknown comment status {status}")))?,
        created_at_ms: r.try_get(5)?,
    })
}

pub(super) async fn import_articles<C: GenericClient>(
    c: &C,
    now: i64,
    articles: &[NewArticle],
) -> Result<()> {
    for a in articles {
        exec(
            c,
            "INSERT INTO articles (id, locale, title, body, category, published, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, title = excluded.title,
                 body = excluded.body, category = excluded.category,
                 updated_at = excluded.updated_at
             WHERE articles.title <> excluded.title OR articles.body <> excluded.body
                 OR articles.locale IS DISTINCT FROM excluded.locale
                 OR articles.category IS DISTINCT FROM excluded.category",
            &[
                &a.id.as_str(),
                &a.locale.as_deref(),
                &a.title,
                &a.body,
                &a.category,
                &a.published,
                &now,
            ],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn save_article<C: GenericClient>(
    c: &C,
    now: i64,
    a: &NewArticle,
) -> Result<Article> {
    let sql = format!(
        "INSERT INTO articles (id, locale, title, body, category, published, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET locale = excluded.locale, title = excluded.title,
             body = excluded.body, category = excluded.category, published = excluded.published,
             updated_at = excluded.updated_at
         RETURNING {ARTICLE_COLUMNS}"
    );
    let row = row_opt(
        c,
        &sql,
        &[
            &a.id.as_str(),
            &a.locale.as_deref(),
            &a.title,
            &a.body,
            &a.category,
            &a.published,
            &now,
        ],
    )
    .await?
    .ok_or_else(|| StoreError::Backend("the article upsert returned no row".into()))?;
    article_row(&row)
}

pub(super) async fn article<C: GenericClient>(c: &C, id: &str) -> Result<Option<Article>> {
    let sql = format!("SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = $1");
    row_opt(c, &sql, &[&id])
        .await?
        .as_ref()
        .map(article_row)
        .transpose()
}

pub(super) async fn articles<C: GenericClient>(
    c: &C,
    published_only: bool,
) -> Result<Vec<Article>> {
    let sql = format!(
        "SELECT {ARTICLE_COLUMNS} FROM articles WHERE published OR NOT $1
         ORDER BY COALESCE(category, ''), title, id"
    );
    rows(c, &sql, &[&published_only])
        .await?
        .iter()
        .map(article_row)
        .collect()
}

pub(super) async fn add_comment<C: GenericClient>(
    c: &C,
    now: i64,
    article_id: &str,
    author: &str,
    text: &str,
) -> Result<Comment> {
    let sql = format!(
        "INSERT INTO comments (article_id, author, text, status, created_at)
         SELECT id, $2, $3, 'pending', $4 FROM articles WHERE id = $1
         RETURNING {COMMENT_COLUMNS}"
    );
    let row = row_opt(c, &sql, &[&article_id, &author, &text, &now])
        .await?
        .ok_or(StoreError::NotFound)?;
    comment_row(&row)
}

pub(super) async fn comments<C: GenericClient>(
    c: &C,
    article_id: Option<&str>,
    status: Option<CommentStatus>,
) -> Result<Vec<Comment>> {
    let sql = format!(
        "SELECT {COMMENT_COLUMNS} FROM comments
         WHERE ($1::TEXT IS NULL OR article_id = $1) AND ($2::TEXT IS NULL OR status = $2)
         ORDER BY id"
    );
    let status = status.map(|s| s.as_str());
    rows(c, &sql, &[&article_id, &status])
        .await?
        .iter()
        .map(comment_row)
        .collect()
}

pub(super) async fn set_comment_status<C: GenericClient>(
    c: &C,
    id: i64,
    status: CommentStatus,
) -> Result<Comment> {
    let sql = format!("UPDATE comments SET status = $1 WHERE id = $2 RETURNING {COMMENT_COLUMNS}");
    let row = row_opt(c, &sql, &[&status.as_str(), &id])
        .await?
        .ok_or(StoreError::NotFound)?;
    comment_row(&row)
}

pub(super) async fn vote<C: GenericClient>(
    c: &C,
    now: i64,
    article_id: &str,
    helpful: bool,
) -> Result<()> {
    let n = exec(
        c,
        "INSERT INTO article_votes (article_id, helpful, created_at)
         SELECT id, $2, $3 FROM articles WHERE id = $1",
        &[&article_id, &helpful, &now],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) async fn helpfulness<C: GenericClient>(c: &C, article_id: &str) -> Result<Helpfulness> {
    let row = row_opt(
        c,
        "SELECT COUNT(*) FILTER (WHERE helpful), COUNT(*) FILTER (WHERE NOT helpful)
         FROM article_votes WHERE article_id = $1",
        &[&article_id],
    )
    .await?
    .ok_or_else(|| StoreError::Backend("the vote count returned no row".into()))?;
    let (yes, no): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    Ok(Helpfulness {
        yes: yes.max(0) as u64,
        no: no.max(0) as u64,
    })
}

pub(super) async fn use_captcha<C: GenericClient>(
    c: &C,
    now: i64,
    key: &str,
    expires_at_ms: i64,
) -> Result<bool> {
    exec(
        c,
        "DELETE FROM used_captchas WHERE expires_at < $1",
        &[&now],
    )
    .await?;
    let n = exec(
        c,
        "INSERT INTO used_captchas (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[&key, &expires_at_ms],
    )
    .await?;
    Ok(n == 1)
}

pub(super) async fn setting_or_init<C: GenericClient>(
    c: &C,
    name: &str,
    candidate: &str,
) -> Result<String> {
    exec(
        c,
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&name, &candidate],
    )
    .await?;
    let row = row_opt(c, "SELECT value FROM settings WHERE name = $1", &[&name])
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get(0)?)
}

/// Writes exported help-center rows (ids and times kept) and moves the id sequences past them.
pub(super) async fn import<C: GenericClient>(c: &C, h: &crate::HelpExport) -> Result<()> {
    for a in &h.articles {
        exec(
            c,
            "INSERT INTO articles (id, locale, title, body, category, published, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &a.id.as_str(),
                &a.locale.as_deref(),
                &a.title,
                &a.body,
                &a.category,
                &a.published,
                &a.updated_at_ms,
            ],
        )
        .await?;
    }
    for m in &h.comments {
        exec(
            c,
            "INSERT INTO comments (id, article_id, author, text, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &m.id,
                &m.article_id,
                &m.author,
                &m.text,
                &m.status.as_str(),
                &m.created_at_ms,
            ],
        )
        .await?;
    }
    for (article, helpful, at) in &h.votes {
        exec(
            c,
            "INSERT INTO article_votes (article_id, helpful, created_at) VALUES ($1, $2, $3)",
            &[article, helpful, at],
        )
        .await?;
    }
    for (name, value) in &h.settings {
        exec(
            c,
            "INSERT INTO settings (name, value) VALUES ($1, $2)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[name, value],
        )
        .await?;
    }
    exec(
        c,
        "SELECT setval(pg_get_serial_sequence('comments', 'id'),
                COALESCE((SELECT MAX(id) FROM comments), 0) + 1, false)",
        &[],
    )
    .await?;
    Ok(())
}
