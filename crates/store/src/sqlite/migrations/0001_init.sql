-- Tandem on SQLite, schema version 1.
CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    locales       TEXT NOT NULL,  -- JSON array
    skills        TEXT NOT NULL,  -- JSON array
    competences   TEXT NOT NULL,  -- JSON object
    limits        TEXT NOT NULL,  -- JSON array
    capacity      INTEGER NOT NULL,
    presence      TEXT NOT NULL DEFAULT 'offline',
    created_at    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents(id),
    kind       TEXT NOT NULL,
    csrf       TEXT,
    expires_at INTEGER NOT NULL
);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    token_hash     TEXT NOT NULL,
    state          TEXT NOT NULL,
    locale         TEXT NOT NULL,
    customer_name  TEXT,
    customer_email TEXT,
    assignee_id    INTEGER REFERENCES agents(id),
    needs          TEXT,            -- JSON desk::Needs of the latest handoff
    priority       INTEGER NOT NULL DEFAULT 0,
    queued_at      INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX conversations_by_state ON conversations(state, priority DESC, queued_at);
CREATE INDEX conversations_by_assignee ON conversations(assignee_id, state);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author          TEXT NOT NULL,
    agent_id        INTEGER REFERENCES agents(id),
    action          TEXT,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

-- The event log analytics are computed from: one row per handoff, assignment, state change, rating.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    kind            TEXT NOT NULL,
    data            TEXT NOT NULL,  -- JSON
    created_at      INTEGER NOT NULL
);
CREATE INDEX events_by_conversation ON events(conversation_id, id);
CREATE INDEX events_by_time ON events(created_at);
