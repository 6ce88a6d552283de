-- The playbook in the desk (issue 15): one row per version, never changed; the newest is the
-- desk's playbook.
CREATE TABLE playbook_versions (
    version    INTEGER PRIMARY KEY,
    toml       TEXT NOT NULL,
    author     TEXT NOT NULL,
    summary    TEXT NOT NULL,
    source     TEXT,
    created_at INTEGER NOT NULL
);
