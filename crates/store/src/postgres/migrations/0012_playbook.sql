-- The playbook in the desk (issue 15): one row per version, never changed; the newest is the
-- desk's playbook. Other nodes hear of a new one on the channel tandem_playbook.
CREATE TABLE playbook_versions (
    version    BIGINT PRIMARY KEY,
    toml       TEXT NOT NULL,
    author     TEXT NOT NULL,
    summary    TEXT NOT NULL,
    source     TEXT,
    created_at BIGINT NOT NULL
);
