-- Admins disable agents (issue 16): a disabled agent cannot sign in, is offline and has no sessions.
ALTER TABLE agents ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE;
