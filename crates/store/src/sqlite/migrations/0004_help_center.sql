-- Tandem on SQLite, schema version 3: the help center (articles, comments, helpfulness votes),
-- used CAPTCHAs (single use) and store-wide settings (the CAPTCHA secret).
CREATE TABLE articles (
    id          TEXT PRIMARY KEY,
    locale      TEXT,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    category    TEXT,
    published   INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE comments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id  TEXT NOT NULL REFERENCES articles(id),
    author      TEXT NOT NULL,
    text        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX comments_by_article ON comments (article_id, status, id);
CREATE INDEX comments_by_status ON comments (status, id);

-- One row per "Was this helpful?" answer, so analytics can count them over time.
CREATE TABLE article_votes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id  TEXT NOT NULL REFERENCES articles(id),
    helpful     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX article_votes_by_article ON article_votes (article_id);

-- Each CAPTCHA is accepted once: inserting its key is the atomic check.
CREATE TABLE used_captchas (
    key         TEXT PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX used_captchas_by_expiry ON used_captchas (expires_at);

CREATE TABLE settings (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL
);
