-- The desk's most common write in one round trip (issue 18): messages appended to a conversation
-- without a state change and without moving the rollups (a customer's message in an hour in
-- which they already wrote, with the bot's answer). Called in autocommit, so the lock, the
-- update, the insert and the commit cost the node one trip instead of three.
--
-- Outcomes (o_outcome):
-- - 'ok': written; the conversation's columns (as `CONVERSATION_SELECT` reads them) and the new
--   messages' ids come back;
-- - 'missing': no such conversation;
-- - 'wrong_state': the conversation is in o_state, which is not one of p_expect (nothing written);
-- - 'full': the step needs the full path (an e-mail conversation's outbox, or the customer's
--   first message in this hour, which moves the rollups); nothing written, the caller runs the
--   step in a transaction of its own.
CREATE FUNCTION tandem_append_plain(
    p_id        TEXT,
    p_now       BIGINT,
    p_expect    TEXT[],
    p_customer  BOOLEAN,
    p_hour_from BIGINT,
    p_hour_to   BIGINT,
    p_authors   TEXT[],
    p_agents    BIGINT[],
    p_actions   TEXT[],
    p_texts     TEXT[]
) RETURNS TABLE (
    o_id             TEXT,
    o_token_hash     TEXT,
    o_state_now      TEXT,
    o_locale         TEXT,
    o_customer_name  TEXT,
    o_customer_email TEXT,
    o_assignee_id    BIGINT,
    o_assignee_name  TEXT,
    o_needs          JSONB,
    o_created_at     BIGINT,
    o_updated_at     BIGINT,
    o_queued_at      BIGINT,
    o_assigned_at    BIGINT,
    o_channel        TEXT,
    o_subject        TEXT,
    o_outcome        TEXT,
    o_state          TEXT,
    o_ids            BIGINT[]
) LANGUAGE plpgsql AS $$
DECLARE
    v_state   TEXT;
    v_channel TEXT;
    v_last    BIGINT;
    v_ids     BIGINT[];
BEGIN
    -- The row lock orders every write to this conversation, whichever node it comes through.
    SELECT c.state, c.channel INTO v_state, v_channel
    FROM conversations c WHERE c.id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        o_outcome := 'missing';
        RETURN NEXT;
        RETURN;
    END IF;
    IF cardinality(p_expect) > 0 AND NOT (v_state = ANY (p_expect)) THEN
        o_outcome := 'wrong_state';
        o_state := v_state;
        RETURN NEXT;
        RETURN;
    END IF;
    -- Whether the customer already wrote in this hour, from their latest message alone (found
    -- from the newest end of the conversation): if it is in the hour, they did. If it is not,
    -- the full path decides exactly (a node whose clock runs ahead may have stamped an earlier
    -- message later).
    IF p_customer THEN
        SELECT m.created_at INTO v_last FROM messages m
        WHERE m.conversation_id = p_id AND m.author || '' = 'customer'
        ORDER BY m.id DESC LIMIT 1;
    END IF;
    IF v_channel = 'email' OR (p_customer AND (v_last IS NULL OR v_last < p_hour_from
                                               OR v_last >= p_hour_to)) THEN
        o_outcome := 'full';
        RETURN NEXT;
        RETURN;
    END IF;
    UPDATE conversations c SET updated_at = p_now WHERE c.id = p_id;
    WITH inserted AS (
        INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
        SELECT p_id, m.a, m.g, m.x, m.t, p_now
        FROM unnest(p_authors, p_agents, p_actions, p_texts) WITH ORDINALITY AS m(a, g, x, t, n)
        ORDER BY m.n
        RETURNING messages.id
    )
    SELECT array_agg(inserted.id ORDER BY inserted.id) INTO v_ids FROM inserted;
    RETURN QUERY
    SELECT c.id, c.token_hash, c.state, c.locale, c.customer_name, c.customer_email,
        c.assignee_id, a.name, c.needs, c.created_at, c.updated_at, c.queued_at,
        c.assigned_at, c.channel, c.subject, 'ok'::TEXT, c.state, v_ids
    FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id
    WHERE c.id = p_id;
END
$$;
