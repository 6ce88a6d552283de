//! A conversation's steps: created, appended to, changed in state, rated (each as planned by `crate::plan`).

use super::*;

/// The conversation's assignee (if any) has just finished it: their idle time starts now.
pub(crate) fn finished(c: &Connection, id: &ConversationId, now: i64) -> Result<()> {
    exec(
        c,
        "UPDATE agents SET idle_since = ?2
         WHERE id = (SELECT assignee_id FROM conversations WHERE id = ?1 AND state = 'assigned')",
        params![id.as_str(), now],
    )?;
    Ok(())
}

/// Applies a state change to the row and logs it. The caller has checked the current state.
pub(crate) fn apply_change(
    c: &Connection,
    id: &ConversationId,
    from: ConversationState,
    change: Change,
    now: i64,
) -> Result<ConversationState> {
    let plan = plan::change(from, &change)?;
    if plan.finishes {
        finished(c, id, now)?;
    }
    let (id_, to) = (id.as_str(), plan.to.as_str());
    match plan.row {
        RowUpdate::Queue(needs) => exec(
            c,
            "UPDATE conversations SET state = ?2, needs = ?3, priority = ?4, queued_at = ?5,
             assignee_id = NULL, updated_at = ?5 WHERE id = ?1",
            params![id_, to, json(needs), needs.priority, now],
        )?,
        RowUpdate::State => exec(
            c,
            "UPDATE conversations SET state = ?2, updated_at = ?3 WHERE id = ?1",
            params![id_, to, now],
        )?,
        RowUpdate::Release => exec(
            c,
            "UPDATE conversations SET state = ?2, assignee_id = NULL, needs = NULL, updated_at = ?3 WHERE id = ?1",
            params![id_, to, now],
        )?,
    };
    log_events(c, id, &plan.events, now)?;
    Ok(plan.to)
}

pub(crate) fn insert_conversation(
    c: &Connection,
    now: i64,
    new: NewConversation,
) -> Result<Appended> {
    exec(
        c,
        "INSERT INTO conversations (id, token_hash, state, locale, customer_name, customer_email,
             channel, subject, created_at, updated_at)
         VALUES (?1, ?2, 'bot', ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            new.id.as_str(),
            new.token_hash,
            new.locale.as_str(),
            new.customer.name,
            new.customer.email,
            new.channel.as_str(),
            new.subject,
            now
        ],
    )?;
    log_event(c, &new.id, &plan::created(&new.locale), now)?;
    let messages = insert_messages(c, &new.id, new.messages, now)?;
    let state_changed = new.change.is_some();
    if let Some(change) = new.change {
        apply_change(c, &new.id, ConversationState::Bot, change, now)?;
    }
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, &new.id, &Snapshot::default())?;
    rollup::flush(c, &pending)?;
    let conversation = conversation(c, &new.id)?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

pub(crate) fn append(
    c: &Connection,
    now: i64,
    id: &ConversationId,
    expect: &[ConversationState],
    new: Vec<NewMessage>,
    change: Option<Change>,
) -> Result<Appended> {
    let state: String = c
        .prepare_cached("SELECT state FROM conversations WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let state: ConversationState = parse_text(&state)?;
    plan::expect_state(expect, state)?;
    let state_changed = change.is_some();
    let writers = plan::Writers::of(&new);
    // The rollups change with a state change, an agent's message (the first response) or a
    // customer's first message in an hour; a snapshot before the write gives the difference.
    let tracked = state_changed
        || writers.agent
        || (writers.customer && !rollup::customer_wrote_in_hour(c, id, now)?);
    let before = if tracked {
        Some(rollup::snapshot(c, id)?)
    } else {
        None
    };
    if let Some(change) = change {
        apply_change(c, id, state, change, now)?;
    }
    // The row's time (a change set it already), and an agent's message marks the first
    // response: one statement for both, as on PostgreSQL.
    if !state_changed || writers.agent {
        exec(
            c,
            "UPDATE conversations SET updated_at = ?2, replied = replied OR ?3 WHERE id = ?1",
            params![id.as_str(), now, writers.agent],
        )?;
    }
    let messages = insert_messages(c, id, new, now)?;
    if let Some(before) = before {
        let mut pending = Pending::default();
        rollup::record(c, &mut pending, id, &before)?;
        rollup::flush(c, &pending)?;
    }
    let conversation = conversation(c, id)?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

pub(crate) fn rate(
    c: &Connection,
    now: i64,
    id: &ConversationId,
    score: u8,
    comment: Option<String>,
) -> Result<()> {
    let exists: Option<i64> = c
        .query_row(
            "SELECT 1 FROM conversations WHERE id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let before = rollup::snapshot(c, id)?;
    log_event(c, id, &plan::rating(score, &comment), now)?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before)?;
    rollup::flush(c, &pending)
}
