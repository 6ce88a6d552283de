-- The audit log (issue 16): admin and security-relevant actions, never changed or deleted by the desk.
CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   INTEGER,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    address TEXT
);
CREATE INDEX audit_by_time ON audit (at);
