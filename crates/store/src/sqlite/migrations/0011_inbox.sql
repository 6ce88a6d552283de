-- Read markers (issue 19): the last message each agent saw of a conversation.
CREATE TABLE reads (
    agent_id        INTEGER NOT NULL REFERENCES agents(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    message_id      INTEGER NOT NULL,
    PRIMARY KEY (agent_id, conversation_id)
) WITHOUT ROWID;
