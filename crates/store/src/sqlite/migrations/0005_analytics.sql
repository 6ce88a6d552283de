-- Tandem on SQLite: indexes for the analytics summary (customer messages by time; events by kind).
CREATE INDEX messages_by_author_time ON messages(author, created_at, conversation_id);
CREATE INDEX events_by_kind ON events(kind, conversation_id, id);
CREATE INDEX conversations_by_created ON conversations (created_at);
