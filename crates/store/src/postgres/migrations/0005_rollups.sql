-- Tandem on PostgreSQL, schema version 5: analytics rollups. Kept in the same transaction as
-- every write that changes a figure (row-level upserts `n = n + excluded.n`, so nodes writing at
-- once lose nothing), so a summary reads a few rows per hour or day of its range instead of every
-- conversation in it (see src/rollup.rs and ARCHITECTURE.md, "Analytics").
--
-- A conversation's customer messages fall into UTC hours: each hour it has one in is an hourly
-- segment (grain 0, unit = the hour, prev = the hour of its customer message before, -1: none),
-- each such day a daily segment (grain 1, unit = the day, prev = the hour of its last customer
-- message before that day). A range [a, b) of whole hours and days holds each of its
-- conversations exactly once: the segment inside with prev < a. Every segment row carries what
-- its conversations are now; times are milliseconds since 1970 (UTC).
CREATE TABLE rollup_segments (
    grain         BIGINT NOT NULL,
    unit          BIGINT NOT NULL,
    prev          BIGINT NOT NULL,
    conversations BIGINT NOT NULL DEFAULT 0,
    handed_off    BIGINT NOT NULL DEFAULT 0,
    anonymous     BIGINT NOT NULL DEFAULT 0,  -- without an e-mail: each its own customer
    customers     BIGINT NOT NULL DEFAULT 0,  -- customers by e-mail (their own segments)
    rated         BIGINT NOT NULL DEFAULT 0,  -- with a rating (the latest counts)
    rating_sum    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev)
);

-- Conversations handed off for each reason, and their ratings.
CREATE TABLE rollup_reasons (
    grain         BIGINT NOT NULL,
    unit          BIGINT NOT NULL,
    prev          BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    conversations BIGINT NOT NULL DEFAULT 0,
    rated         BIGINT NOT NULL DEFAULT 0,
    rating_sum    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev, reason)
);

-- Conversations given to each agent; ratings of those they were the last to be given.
CREATE TABLE rollup_agents (
    grain         BIGINT NOT NULL,
    unit          BIGINT NOT NULL,
    prev          BIGINT NOT NULL,
    agent         BIGINT NOT NULL,
    handled       BIGINT NOT NULL DEFAULT 0,
    rated         BIGINT NOT NULL DEFAULT 0,
    rating_sum    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev, agent)
);

-- First responses by bucket (ms, rounded down: to the second below an hour, to the minute below
-- a day, to the hour beyond).
CREATE TABLE rollup_waits (
    grain         BIGINT NOT NULL,
    unit          BIGINT NOT NULL,
    prev          BIGINT NOT NULL,
    bucket        BIGINT NOT NULL,
    n             BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grain, unit, prev, bucket)
);

-- The hours each customer (lower(trim(e-mail))) wrote in, over all their conversations.
CREATE TABLE rollup_customer_hours (
    key           TEXT NOT NULL,
    hour          BIGINT NOT NULL,
    PRIMARY KEY (key, hour)
);

-- Conversations that joined and left the queue, per hour (from the `state` events).
CREATE TABLE rollup_queue (
    hour          BIGINT PRIMARY KEY,
    enqueued      BIGINT NOT NULL DEFAULT 0,
    dequeued      BIGINT NOT NULL DEFAULT 0
);

-- BACKFILL: from here on, the rollups are computed from the messages and the event log (also
-- run by Store::rebuild_rollups on empty rollup tables, holding them locked).
CREATE TEMP TABLE rollup_b_hours AS
    SELECT DISTINCT conversation_id AS id, created_at - created_at % 3600000 AS hour
    FROM messages WHERE author = 'customer';

CREATE TEMP TABLE rollup_b_segs AS
    SELECT id, 0::bigint AS grain, hour AS unit,
        COALESCE(LAG(hour) OVER (PARTITION BY id ORDER BY hour), -1) AS prev
    FROM rollup_b_hours
    UNION ALL
    SELECT id, 1, day, COALESCE(LAG(last) OVER (PARTITION BY id ORDER BY day), -1)
    FROM (SELECT id, hour - hour % 86400000 AS day, MAX(hour) AS last
          FROM rollup_b_hours GROUP BY id, hour - hour % 86400000) d;

CREATE TEMP TABLE rollup_b_handoff AS
    SELECT conversation_id AS id, MIN(created_at) AS at FROM events
    WHERE kind = 'handoff' GROUP BY conversation_id;

CREATE TEMP TABLE rollup_b_wait AS
    SELECT h.id, MIN(m.created_at) - h.at AS wait FROM rollup_b_handoff h
    JOIN messages m ON m.conversation_id = h.id AND m.author = 'agent' AND m.created_at >= h.at
    GROUP BY h.id, h.at;

CREATE TEMP TABLE rollup_b_rating AS
    SELECT DISTINCT ON (e.conversation_id) e.conversation_id AS id,
        (e.data->>'score')::bigint AS score
    FROM events e WHERE e.kind = 'rating' ORDER BY e.conversation_id, e.id DESC;

CREATE TEMP TABLE rollup_b_handler AS
    SELECT conversation_id AS id, id AS eid,
        COALESCE(data->>'agent', data->>'to')::bigint AS agent
    FROM events WHERE kind IN ('assigned', 'reassigned', 'transferred')
        AND COALESCE(data->>'agent', data->>'to') IS NOT NULL;

CREATE TEMP TABLE rollup_b_facts AS
    SELECT c.id AS id,
        (NULLIF(lower(trim(c.customer_email)), '') IS NULL)::int AS anonymous,
        (h.id IS NOT NULL)::int AS handed_off,
        CASE WHEN w.wait IS NULL THEN NULL
             WHEN w.wait < 3600000 THEN w.wait - w.wait % 1000
             WHEN w.wait < 86400000 THEN w.wait - w.wait % 60000
             ELSE w.wait - w.wait % 3600000 END AS wait_bucket,
        r.score,
        l.agent AS last_handler
    FROM conversations c
    LEFT JOIN rollup_b_handoff h ON h.id = c.id
    LEFT JOIN rollup_b_wait w ON w.id = c.id
    LEFT JOIN rollup_b_rating r ON r.id = c.id
    LEFT JOIN (SELECT DISTINCT ON (id) id, agent FROM rollup_b_handler ORDER BY id, eid DESC) l
        ON l.id = c.id
    WHERE c.id IN (SELECT id FROM rollup_b_hours);
ANALYZE rollup_b_segs;
ANALYZE rollup_b_facts;

INSERT INTO rollup_segments (grain, unit, prev, conversations, handed_off, anonymous, rated, rating_sum)
    SELECT s.grain, s.unit, s.prev, COUNT(*), SUM(f.handed_off), SUM(f.anonymous),
        COUNT(f.score), COALESCE(SUM(f.score), 0)
    FROM rollup_b_segs s JOIN rollup_b_facts f ON f.id = s.id
    GROUP BY s.grain, s.unit, s.prev
    ORDER BY s.grain, s.unit, s.prev;

INSERT INTO rollup_reasons (grain, unit, prev, reason, conversations, rated, rating_sum)
    SELECT s.grain, s.unit, s.prev, r.reason, COUNT(*), COUNT(f.score), COALESCE(SUM(f.score), 0)
    FROM (SELECT DISTINCT e.conversation_id AS id, j.reason
          FROM events e, jsonb_array_elements_text(e.data->'reasons') AS j(reason)
          WHERE e.kind = 'handoff') r
    JOIN rollup_b_segs s ON s.id = r.id JOIN rollup_b_facts f ON f.id = r.id
    GROUP BY s.grain, s.unit, s.prev, r.reason
    ORDER BY s.grain, s.unit, s.prev, r.reason;

INSERT INTO rollup_agents (grain, unit, prev, agent, handled, rated, rating_sum)
    SELECT s.grain, s.unit, s.prev, a.agent, COUNT(*),
        COUNT(*) FILTER (WHERE a.agent = f.last_handler AND f.score IS NOT NULL),
        COALESCE(SUM(f.score) FILTER (WHERE a.agent = f.last_handler), 0)
    FROM (SELECT DISTINCT id, agent FROM rollup_b_handler) a
    JOIN rollup_b_segs s ON s.id = a.id JOIN rollup_b_facts f ON f.id = a.id
    GROUP BY s.grain, s.unit, s.prev, a.agent
    ORDER BY s.grain, s.unit, s.prev, a.agent;

INSERT INTO rollup_waits (grain, unit, prev, bucket, n)
    SELECT s.grain, s.unit, s.prev, f.wait_bucket, COUNT(*)
    FROM rollup_b_segs s JOIN rollup_b_facts f ON f.id = s.id
    WHERE f.wait_bucket IS NOT NULL
    GROUP BY s.grain, s.unit, s.prev, f.wait_bucket
    ORDER BY s.grain, s.unit, s.prev, f.wait_bucket;

INSERT INTO rollup_customer_hours (key, hour)
    SELECT DISTINCT lower(trim(c.customer_email)), h.hour
    FROM rollup_b_hours h JOIN conversations c ON c.id = h.id
    WHERE NULLIF(lower(trim(c.customer_email)), '') IS NOT NULL;

INSERT INTO rollup_segments AS t (grain, unit, prev, customers)
    SELECT grain, unit, prev, COUNT(*) FROM (
        SELECT 0::bigint AS grain, hour AS unit,
            COALESCE(LAG(hour) OVER (PARTITION BY key ORDER BY hour), -1) AS prev
        FROM rollup_customer_hours
        UNION ALL
        SELECT 1, day, COALESCE(LAG(last) OVER (PARTITION BY key ORDER BY day), -1)
        FROM (SELECT key, hour - hour % 86400000 AS day, MAX(hour) AS last
              FROM rollup_customer_hours GROUP BY key, hour - hour % 86400000) d) s
    GROUP BY grain, unit, prev
    ON CONFLICT (grain, unit, prev) DO UPDATE SET customers = t.customers + excluded.customers;

INSERT INTO rollup_queue (hour, enqueued, dequeued)
    SELECT created_at - created_at % 3600000,
        COUNT(*) FILTER (WHERE data->>'to' = 'queued' AND data->>'from' <> 'queued'),
        COUNT(*) FILTER (WHERE data->>'from' = 'queued' AND data->>'to' <> 'queued')
    FROM events
    WHERE kind = 'state' AND (data->>'to' = 'queued') <> (data->>'from' = 'queued')
    GROUP BY created_at - created_at % 3600000
    ORDER BY 1;

DROP TABLE rollup_b_hours, rollup_b_segs, rollup_b_handoff, rollup_b_wait, rollup_b_rating,
    rollup_b_handler, rollup_b_facts;
-- Rows were written in key order (a range reads neighbouring pages); the planner learns their
-- sizes now rather than at the next autovacuum.
ANALYZE rollup_segments, rollup_reasons, rollup_agents, rollup_waits, rollup_customer_hours,
    rollup_queue;
