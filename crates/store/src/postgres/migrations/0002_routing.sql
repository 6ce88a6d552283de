-- Tandem on PostgreSQL, schema version 2: routing by competence. When an agent last got or
-- finished a conversation (the router prefers whoever has been idle longest), and when an
-- assigned conversation was assigned and whether its assignee has replied (the first-response
-- timeout).
ALTER TABLE agents ADD COLUMN idle_since BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN assigned_at BIGINT;
ALTER TABLE conversations ADD COLUMN replied BOOLEAN NOT NULL DEFAULT false;
