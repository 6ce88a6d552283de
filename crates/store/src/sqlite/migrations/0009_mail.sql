-- The e-mail channel (issue 17).
ALTER TABLE conversations ADD COLUMN channel TEXT NOT NULL DEFAULT 'chat';
ALTER TABLE conversations ADD COLUMN subject TEXT;

-- One row per bot or agent message of an e-mail conversation, inserted in the message's own
-- transaction. The mail's content is read from the message when it is sent.
CREATE TABLE outbox (
    message_id      INTEGER PRIMARY KEY REFERENCES messages(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    state           TEXT NOT NULL,          -- desk::MailState
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         INTEGER NOT NULL,       -- when it is due (queued) or its lease ends (sending)
    last_error      TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_at) WHERE state IN ('queued', 'sending');
CREATE INDEX outbox_by_conversation ON outbox (conversation_id, message_id);

-- The customers' mails: each Message-ID once (a mail delivered twice is stored once).
CREATE TABLE mail_in (
    mail_id         TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id      INTEGER NOT NULL REFERENCES messages(id),
    received_at     INTEGER NOT NULL
);
CREATE INDEX mail_in_by_conversation ON mail_in (conversation_id, message_id);

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id      INTEGER REFERENCES messages(id),
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            INTEGER NOT NULL,
    data            BLOB,                   -- NULL: over the size cap, not kept
    created_at      INTEGER NOT NULL
);
CREATE INDEX attachments_by_conversation ON attachments (conversation_id, id);
