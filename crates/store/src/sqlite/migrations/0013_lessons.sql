-- What the people's work can teach the machine (issue 15): a question the machine handed off,
-- and the agent's answer, both masked, until an admin accepts or rejects them.
CREATE TABLE lessons (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    question        TEXT NOT NULL,
    answer          TEXT NOT NULL,
    locale          TEXT NOT NULL,
    guesses         TEXT NOT NULL,
    by_agent        INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open',
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, question)
);
CREATE INDEX lessons_open ON lessons (status, id);
