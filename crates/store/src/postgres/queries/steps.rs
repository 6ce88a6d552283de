//! A conversation's steps: created, appended to, changed in state, rated (each as planned by `crate::plan`).

use super::*;

/// The conversation's assignee (if any) has just finished it: their idle time starts now.
pub(crate) async fn finished<C: GenericClient>(c: &C, id: &ConversationId, now: i64) -> Result<()> {
    exec(
        c,
        "UPDATE agents SET idle_since = $2
         WHERE id = (SELECT assignee_id FROM conversations WHERE id = $1 AND state = 'assigned')",
        &[&id.as_str(), &now],
    )
    .await?;
    Ok(())
}

/// Applies a state change to the (locked) row and logs it.
pub(crate) async fn apply_change<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    from: ConversationState,
    change: Change,
    now: i64,
) -> Result<ConversationState> {
    let plan = plan::change(from, &change)?;
    if plan.finishes {
        finished(c, id, now).await?;
    }
    let (id_, to) = (id.as_str(), plan.to.as_str());
    match plan.row {
        RowUpdate::Queue(needs) => {
            exec(
                c,
                "UPDATE conversations SET state = $2, needs = $3, priority = $4, queued_at = $5,
                 assignee_id = NULL, updated_at = $5 WHERE id = $1",
                &[&id_, &to, &Json(needs), &needs.priority, &now],
            )
            .await?
        }
        RowUpdate::State => {
            exec(
                c,
                "UPDATE conversations SET state = $2, updated_at = $3 WHERE id = $1",
                &[&id_, &to, &now],
            )
            .await?
        }
        RowUpdate::Release => {
            exec(
                c,
                "UPDATE conversations SET state = $2, assignee_id = NULL, needs = NULL, updated_at = $3 WHERE id = $1",
                &[&id_, &to, &now],
            )
            .await?
        }
    };
    log_events(c, id, &plan.events, now).await?;
    Ok(plan.to)
}

pub(crate) async fn insert_conversation<C: GenericClient>(
    c: &C,
    now: i64,
    new: NewConversation,
) -> Result<Appended> {
    exec(
        c,
        "INSERT INTO conversations (id, token_hash, state, locale, customer_name, customer_email,
             channel, subject, created_at, updated_at)
         VALUES ($1, $2, 'bot', $3, $4, $5, $6, $7, $8, $8)",
        &[
            &new.id.as_str(),
            &new.token_hash,
            &new.locale.as_str(),
            &new.customer.name,
            &new.customer.email,
            &new.channel.as_str(),
            &new.subject,
            &now,
        ],
    )
    .await?;
    log_event(c, &new.id, &plan::created(&new.locale), now).await?;
    let mail_out = new.channel == desk::Channel::Email;
    let messages = insert_messages(c, &new.id, new.messages, now, mail_out).await?;
    let state_changed = new.change.is_some();
    if let Some(change) = new.change {
        apply_change(c, &new.id, ConversationState::Bot, change, now).await?;
    }
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, &new.id, &Snapshot::default()).await?;
    rollup::flush(c, &pending).await?;
    let conversation = conversation(c, &new.id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

/// What `append_plain` did.
pub(crate) enum Plain {
    Done(Box<Appended>),
    /// The step needs the full path (`append` in a transaction); the messages come back.
    Full(Vec<NewMessage>),
}

/// The common step in one round trip, when it can be one: messages with no state change and no
/// agent among their writers (the migration's `tandem_append_plain` says when else it cannot).
/// Runs on its own (autocommit): the function's statement is the transaction.
pub(crate) async fn append_plain<C: GenericClient>(
    c: &C,
    now: i64,
    id: &ConversationId,
    expect: &[ConversationState],
    new: Vec<NewMessage>,
) -> Result<Plain> {
    let writers = plan::Writers::of(&new);
    if new.is_empty() || writers.agent || new.iter().any(|m| m.mail.is_some()) {
        return Ok(Plain::Full(new));
    }
    let h = crate::rollup::hour(now);
    let expected: Vec<&str> = expect.iter().map(|s| s.as_str()).collect();
    let columns = Columns::of(&new);
    let row = query_opt(
        c,
        "SELECT * FROM tandem_append_plain($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            &id.as_str(),
            &now,
            &expected,
            &writers.customer,
            &h,
            &(h + crate::rollup::HOUR_MS),
            &columns.authors,
            &columns.agents,
            &columns.actions,
            &columns.texts,
        ],
    )
    .await?
    .ok_or_else(|| bad_row("tandem_append_plain returned no row"))?;
    match row.try_get::<_, &str>(15)? {
        "ok" => {}
        "missing" => return Err(StoreError::NotFound),
        "wrong_state" => {
            let state: ConversationState = parse_text(row.try_get(16)?)?;
            plan::expect_state(expect, state)?;
            return Err(bad_row(
                "tandem_append_plain: wrong_state in an expected state",
            ));
        }
        _ => return Ok(Plain::Full(new)),
    }
    let conversation = conversation_row(&row)?;
    // The function returns the ids in order (`array_agg … ORDER BY`).
    let messages = stored(id, row.try_get(17)?, new, now)?;
    Ok(Plain::Done(Box::new(Appended {
        conversation,
        messages,
        state_changed: false,
    })))
}

pub(crate) async fn append<C: GenericClient>(
    c: &C,
    now: i64,
    id: &ConversationId,
    expect: &[ConversationState],
    new: Vec<NewMessage>,
    change: Option<Change>,
) -> Result<Appended> {
    // The row lock orders every write to this conversation, whichever node it comes through;
    // the same trip reads the state and the channel. The common step that leaves the rollups
    // alone went through `append_plain` already; what comes here may move them, and a
    // snapshot before the write gives the difference (none, if nothing moved).
    let row = query_opt(
        c,
        "SELECT state, channel FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let state: ConversationState = parse_text(row.try_get(0)?)?;
    let mail_out = row.try_get::<_, &str>(1)? == "email";
    plan::expect_state(expect, state)?;
    let state_changed = change.is_some();
    let writers = plan::Writers::of(&new);
    let before = rollup::snapshot(c, id).await?;
    if let Some(change) = change {
        apply_change(c, id, state, change, now).await?;
    }
    // The row's time (a change set it already), and an agent's message marks the first
    // response: one statement for both.
    if !state_changed || writers.agent {
        exec(
            c,
            "UPDATE conversations SET updated_at = $2, replied = replied OR $3 WHERE id = $1",
            &[&id.as_str(), &now, &writers.agent],
        )
        .await?;
    }
    let messages = insert_messages(c, id, new, now, mail_out).await?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before).await?;
    rollup::flush(c, &pending).await?;
    let conversation = conversation(c, id).await?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

pub(crate) async fn rate<C: GenericClient>(
    c: &C,
    now: i64,
    id: &ConversationId,
    score: u8,
    comment: Option<String>,
) -> Result<()> {
    // The row lock orders this with every other write to the conversation (its rollups).
    query_opt(
        c,
        "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let before = rollup::snapshot(c, id).await?;
    log_event(c, id, &plan::rating(score, &comment), now).await?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before).await?;
    rollup::flush(c, &pending).await
}
