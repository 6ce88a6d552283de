-- Admins disable agents (issue 16): a disabled agent cannot sign in, is offline and has no sessions.
ALTER TABLE agents ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
