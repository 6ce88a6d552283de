-- Canned responses (issue 19): shared (owner_id NULL) or one agent's own.
CREATE TABLE canned_responses (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER REFERENCES agents(id),
    title      TEXT NOT NULL,
    text       TEXT NOT NULL,
    locale     TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX canned_by_owner ON canned_responses (owner_id, title);
