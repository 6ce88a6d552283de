-- Tandem on SQLite, schema version 2: fixed-window rate-limit counters (used only when the store
-- is shared; a single SQLite node keeps its counters in memory).
CREATE TABLE rate_counters (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
