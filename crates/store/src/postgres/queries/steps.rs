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
    let authors: Vec<&str> = new.iter().map(|m| m.author.as_str()).collect();
    let agents: Vec<Option<i64>> = new.iter().map(|m| m.agent.map(|a| a.get())).collect();
    let actions: Vec<Option<String>> = new.iter().map(action_text).collect();
    let texts: Vec<&str> = new.iter().map(|m| m.text.as_str()).collect();
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
            &authors,
            &agents,
            &actions,
            &texts,
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
    let mut ids: Vec<i64> = row.try_get(17)?;
    ids.sort_unstable();
    if ids.len() != new.len() {
        return Err(bad_row("tandem_append_plain returned too few ids"));
    }
    let messages = ids
        .into_iter()
        .zip(new)
        .map(|(message, m)| Message::stored(MessageId::new(message), id, m, now))
        .collect();
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
    // The row lock orders every write to this conversation, whichever node it comes through.
    // The same trip reads what the step needs: the state, the channel, and whether the
    // customer already wrote in this hour (if another writer's message of this hour committed
    // while this one waited for the lock, the answer may be "no": then the snapshot path below
    // runs, which is exact either way).
    let h = crate::rollup::hour(now);
    let row = query_opt(
        c,
        "SELECT c.state, c.channel, EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1
             AND author || '' = 'customer' AND created_at + 0 >= $2 AND created_at + 0 < $3)
         FROM conversations c WHERE c.id = $1 FOR UPDATE OF c",
        &[&id.as_str(), &h, &(h + crate::rollup::HOUR_MS)],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let state: ConversationState = parse_text(row.try_get(0)?)?;
    let mail_out = row.try_get::<_, &str>(1)? == "email";
    let wrote_in_hour: bool = row.try_get(2)?;
    plan::expect_state(expect, state)?;
    let state_changed = change.is_some();
    let writers = plan::Writers::of(&new);
    // The rollups change with a state change, an agent's message (the first response) or a
    // customer's first message in an hour; a snapshot before the write gives the difference.
    let tracked = state_changed || writers.agent || (writers.customer && !wrote_in_hour);
    if !tracked {
        // The common step (a customer message and the bot's answer): the row's update, which
        // also returns the conversation, and the inserts go out together (pipelined).
        let sql = format!(
            "WITH c AS (UPDATE conversations SET updated_at = $2 WHERE id = $1 RETURNING *)
             {}",
            CONVERSATION_SELECT.replace("FROM conversations c", "FROM c")
        );
        let key = id.as_str();
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&key, &now];
        let update = query_opt(c, &sql, &params);
        let insert = insert_messages(c, id, new, now, mail_out);
        let (row, messages) = tokio::try_join!(update, insert)?;
        let conversation = conversation_row(&row.ok_or(StoreError::NotFound)?)?;
        return Ok(Appended {
            conversation,
            messages,
            state_changed,
        });
    }
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
