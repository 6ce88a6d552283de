-- Tandem on SQLite, schema version 6: analytics rollups. Kept in the same transaction as every
-- write that changes a figure, so a summary reads a few rows per hour or day of its range instead
-- of every conversation in it (see src/rollup.rs and ARCHITECTURE.md, "Analytics").
--
-- A conversation's customer messages fall into UTC hours: each hour it has one in is an hourly
-- segment (grain 0, unit = the hour, prev = the hour of its customer message before, -1: none),
-- each such day a daily segment (grain 1, unit = the day, prev = the hour of its last customer
-- message before that day). A range [a, b) of whole hours and days holds each of its
-- conversations exactly once: the segment inside with prev < a. Every segment row carries what
-- its conversations are now; times are milliseconds since 1970 (UTC).
CREATE TABLE rollup_segments (
    grain         INTEGER NOT NULL,
    unit          INTEGER NOT NULL,
    prev          INTEGER NOT NULL,
    conversations INTEGER NOT NULL DEFAULT 0,
    handed_off    INTEGER NOT NULL DEFAULT 0,
    anonymous     INTEGER NOT NULL DEFAULT 0,  -- without an e-mail: each its own customer
    customers     INTEGER NOT NULL DEFAULT 0,  -- customers by e-mail (their own segments)
    rated         INTEGER NOT NULL DEFAULT 0,  -- with a rating (the latest counts)
    rating_sum    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev)
) WITHOUT ROWID;

-- Conversations handed off for each reason, and their ratings.
CREATE TABLE rollup_reasons (
    grain         INTEGER NOT NULL,
    unit          INTEGER NOT NULL,
    prev          INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    conversations INTEGER NOT NULL DEFAULT 0,
    rated         INTEGER NOT NULL DEFAULT 0,
    rating_sum    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev, reason)
) WITHOUT ROWID;

-- Conversations given to each agent; ratings of those they were the last to be given.
CREATE TABLE rollup_agents (
    grain         INTEGER NOT NULL,
    unit          INTEGER NOT NULL,
    prev          INTEGER NOT NULL,
    agent         INTEGER NOT NULL,
    handled       INTEGER NOT NULL DEFAULT 0,
    rated         INTEGER NOT NULL DEFAULT 0,
    rating_sum    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev, agent)
) WITHOUT ROWID;

-- First responses by bucket (ms, rounded down: to the second below an hour, to the minute below
-- a day, to the hour beyond).
CREATE TABLE rollup_waits (
    grain         INTEGER NOT NULL,
    unit          INTEGER NOT NULL,
    prev          INTEGER NOT NULL,
    bucket        INTEGER NOT NULL,
    n             INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev, bucket)
) WITHOUT ROWID;

-- The hours each customer (lower(trim(e-mail))) wrote in, over all their conversations.
CREATE TABLE rollup_customer_hours (
    key           TEXT NOT NULL,
    hour          INTEGER NOT NULL,
    PRIMARY KEY (key, hour)
) WITHOUT ROWID;

-- Conversations that joined and left the queue, per hour (from the `state` events).
CREATE TABLE rollup_queue (
    hour          INTEGER PRIMARY KEY,
    enqueued      INTEGER NOT NULL DEFAULT 0,
    dequeued      INTEGER NOT NULL DEFAULT 0
);

-- BACKFILL: from here on, the rollups are computed from the messages and the event log (also
-- run by Store::rebuild_rollups on empty rollup tables).
CREATE TEMP TABLE rollup_b_hours AS
    SELECT DISTINCT conversation_id AS id, created_at - created_at % 3600000 AS hour
    FROM messages WHERE author = 'customer';

CREATE TEMP TABLE rollup_b_segs AS
    SELECT id, 0 AS grain, hour AS unit,
        COALESCE(LAG(hour) OVER (PARTITION BY id ORDER BY hour), -1) AS prev
    FROM rollup_b_hours
    UNION ALL
    SELECT id, 1, day, COALESCE(LAG(last) OVER (PARTITION BY id ORDER BY day), -1)
    FROM (SELECT id, hour - hour % 86400000 AS day, MAX(hour) AS last
          FROM rollup_b_hours GROUP BY id, day);

CREATE TEMP TABLE rollup_b_handoff AS
    SELECT conversation_id AS id, MIN(created_at) AS at FROM events
    WHERE kind = 'handoff' GROUP BY conversation_id;

CREATE TEMP TABLE rollup_b_wait AS
    SELECT h.id, MIN(m.created_at) - h.at AS wait FROM rollup_b_handoff h
    JOIN messages m ON m.conversation_id = h.id AND m.author = 'agent' AND m.created_at >= h.at
    GROUP BY h.id;

CREATE INDEX temp.rollup_b_hours_by_id ON rollup_b_hours (id);
CREATE INDEX temp.rollup_b_handoff_by_id ON rollup_b_handoff (id);
CREATE INDEX temp.rollup_b_wait_by_id ON rollup_b_wait (id);

CREATE TEMP TABLE rollup_b_handler_of AS
    SELECT DISTINCT conversation_id AS id,
        COALESCE(json_extract(data, '$.agent'), json_extract(data, '$.to')) AS agent
    FROM events WHERE kind IN ('assigned', 'reassigned', 'transferred')
        AND COALESCE(json_extract(data, '$.agent'), json_extract(data, '$.to')) IS NOT NULL;

CREATE TEMP TABLE rollup_b_facts AS
    SELECT c.id AS id,
        NULLIF(lower(trim(c.customer_email)), '') IS NULL AS anonymous,
        h.id IS NOT NULL AS handed_off,
        CASE WHEN w.wait IS NULL THEN NULL
             WHEN w.wait < 3600000 THEN w.wait - w.wait % 1000
             WHEN w.wait < 86400000 THEN w.wait - w.wait % 60000
             ELSE w.wait - w.wait % 3600000 END AS wait_bucket,
        (SELECT json_extract(e.data, '$.score') FROM events e
            WHERE e.id = (SELECT MAX(r.id) FROM events r
                          WHERE r.kind = 'rating' AND r.conversation_id = c.id)) AS score,
        (SELECT COALESCE(json_extract(e.data, '$.agent'), json_extract(e.data, '$.to')) FROM events e
            WHERE e.kind IN ('assigned', 'reassigned', 'transferred') AND e.conversation_id = c.id
              AND COALESCE(json_extract(e.data, '$.agent'), json_extract(e.data, '$.to')) IS NOT NULL
            ORDER BY e.id DESC LIMIT 1) AS last_handler
    FROM conversations c
    LEFT JOIN rollup_b_handoff h ON h.id = c.id
    LEFT JOIN rollup_b_wait w ON w.id = c.id
    WHERE c.id IN (SELECT id FROM rollup_b_hours);
CREATE INDEX temp.rollup_b_facts_by_id ON rollup_b_facts (id);
CREATE INDEX temp.rollup_b_segs_by_id ON rollup_b_segs (id);

INSERT INTO rollup_segments (grain, unit, prev, conversations, handed_off, anonymous, rated, rating_sum)
    SELECT s.grain, s.unit, s.prev, COUNT(*), SUM(f.handed_off), SUM(f.anonymous),
        SUM(f.score IS NOT NULL), COALESCE(SUM(f.score), 0)
    FROM rollup_b_segs s JOIN rollup_b_facts f ON f.id = s.id
    GROUP BY s.grain, s.unit, s.prev;

INSERT INTO rollup_reasons (grain, unit, prev, reason, conversations, rated, rating_sum)
    SELECT s.grain, s.unit, s.prev, r.reason, COUNT(*), SUM(f.score IS NOT NULL),
        COALESCE(SUM(f.score), 0)
    FROM (SELECT DISTINCT e.conversation_id AS id, j.value AS reason
          FROM events e, json_each(e.data, '$.reasons') j WHERE e.kind = 'handoff') r
    JOIN rollup_b_segs s ON s.id = r.id JOIN rollup_b_facts f ON f.id = r.id
    GROUP BY s.grain, s.unit, s.prev, r.reason;

INSERT INTO rollup_agents (grain, unit, prev, agent, handled, rated, rating_sum)
    SELECT s.grain, s.unit, s.prev, a.agent, COUNT(*),
        COALESCE(SUM(a.agent = f.last_handler AND f.score IS NOT NULL), 0),
        COALESCE(SUM(CASE WHEN a.agent = f.last_handler THEN f.score END), 0)
    FROM rollup_b_handler_of a
    JOIN rollup_b_segs s ON s.id = a.id JOIN rollup_b_facts f ON f.id = a.id
    GROUP BY s.grain, s.unit, s.prev, a.agent;

INSERT INTO rollup_waits (grain, unit, prev, bucket, n)
    SELECT s.grain, s.unit, s.prev, f.wait_bucket, COUNT(*)
    FROM rollup_b_segs s JOIN rollup_b_facts f ON f.id = s.id
    WHERE f.wait_bucket IS NOT NULL
    GROUP BY s.grain, s.unit, s.prev, f.wait_bucket;

INSERT INTO rollup_customer_hours (key, hour)
    SELECT DISTINCT lower(trim(c.customer_email)), h.hour
    FROM rollup_b_hours h JOIN conversations c ON c.id = h.id
    WHERE NULLIF(lower(trim(c.customer_email)), '') IS NOT NULL;

INSERT INTO rollup_segments (grain, unit, prev, customers)
    SELECT grain, unit, prev, COUNT(*) FROM (
        SELECT 0 AS grain, hour AS unit,
            COALESCE(LAG(hour) OVER (PARTITION BY key ORDER BY hour), -1) AS prev
        FROM rollup_customer_hours
        UNION ALL
        SELECT 1, day, COALESCE(LAG(last) OVER (PARTITION BY key ORDER BY day), -1)
        FROM (SELECT key, hour - hour % 86400000 AS day, MAX(hour) AS last
              FROM rollup_customer_hours GROUP BY key, day))
    WHERE true
    GROUP BY grain, unit, prev
    ON CONFLICT (grain, unit, prev) DO UPDATE SET customers = customers + excluded.customers;

INSERT INTO rollup_queue (hour, enqueued, dequeued)
    SELECT created_at - created_at % 3600000,
        COALESCE(SUM(json_extract(data, '$.to') = 'queued' AND json_extract(data, '$.from') <> 'queued'), 0),
        COALESCE(SUM(json_extract(data, '$.from') = 'queued' AND json_extract(data, '$.to') <> 'queued'), 0)
    FROM events
    WHERE kind = 'state'
        AND (json_extract(data, '$.to') = 'queued') <> (json_extract(data, '$.from') = 'queued')
    GROUP BY created_at - created_at % 3600000;

DROP TABLE temp.rollup_b_hours;
DROP TABLE temp.rollup_b_segs;
DROP TABLE temp.rollup_b_handoff;
DROP TABLE temp.rollup_b_wait;
DROP TABLE temp.rollup_b_handler_of;
DROP TABLE temp.rollup_b_facts;
