//! Who takes a conversation: the queue routed, unanswered ones reassigned, transfers between agents.

use super::*;

/// The online agents with their load and idle time, as the router sees them.
pub(crate) async fn online_candidates<C: GenericClient>(c: &C) -> Result<Vec<Candidate>> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS}, (SELECT COUNT(*) FROM conversations c
             WHERE c.assignee_id = agents.id AND c.state = 'assigned'), idle_since
         FROM agents WHERE presence = $1 ORDER BY id"
    );
    let mut candidates: Vec<Candidate> = Vec::new();
    for r in query(c, &sql, &[&Presence::Online.as_str()]).await? {
        let load: i64 = r.try_get(10)?;
        candidates.push(Candidate {
            agent: agent_row(&r)?,
            load: load.max(0) as u32,
            idle_since_ms: r.try_get(11)?,
        });
    }
    Ok(candidates)
}

/// Moves every conversation whose assignee has not replied within `timeout_ms` of getting it to
/// another fit agent (never back to the same one). Holds the routing lock, so it never plans
/// against stale loads; the rows are locked, so a reply committed meanwhile wins.
pub(crate) async fn reassign_unanswered<C: GenericClient>(
    c: &C,
    lock: i64,
    rules: &Rules,
    now: i64,
    timeout_ms: i64,
) -> Result<Vec<Appended>> {
    let cutoff = now.saturating_sub(timeout_ms);
    let any: bool = query_opt(
        c,
        "SELECT EXISTS (SELECT 1 FROM conversations
             WHERE state = 'assigned' AND NOT replied AND assigned_at <= $1)",
        &[&cutoff],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?
    .unwrap_or(false);
    if !any {
        return Ok(Vec::new());
    }
    exec(c, "SELECT pg_advisory_xact_lock($1)", &[&lock]).await?;
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE c.state = 'assigned' AND NOT c.replied AND c.assigned_at <= $1
         ORDER BY c.assigned_at FOR UPDATE OF c"
    );
    let stale: Vec<Conversation> = query(c, &sql, &[&cutoff])
        .await?
        .iter()
        .map(conversation_row)
        .collect::<Result<_>>()?;
    let mut candidates = online_candidates(c).await?;
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for conv in stale {
        let Some(from) = conv.assignee.clone() else {
            continue;
        };
        let Some((to, why)) =
            routing::reassign(&plan::waiting(&conv), &mut candidates, from.id, rules, now)
        else {
            continue;
        };
        let step = plan::reassign(&conv, (from.id, &from.name), to, &why);
        out.push(give(c, &conv.id, step, to, &mut pending, now).await?);
    }
    rollup::flush(c, &pending).await?;
    Ok(out)
}

/// Passes an assigned conversation from `by` to a colleague or a skill. Holds the routing lock
/// (the colleague's free capacity cannot change meanwhile) and the conversation's row lock.
pub(crate) async fn transfer<C: GenericClient>(
    c: &C,
    lock: i64,
    id: &ConversationId,
    by: AgentId,
    to: &crate::TransferTo,
    now: i64,
) -> Result<Appended> {
    exec(c, "SELECT pg_advisory_xact_lock($1)", &[&lock]).await?;
    query_opt(
        c,
        "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let conv = conversation(c, id).await?.ok_or(StoreError::NotFound)?;
    let from = transfer_from(&conv, by)?;
    let before = rollup::snapshot(c, id).await?;
    let (step, state_changed) = match to {
        crate::TransferTo::Agent(to) => {
            let needs = conv.handoff.clone().unwrap_or_default();
            let target = transfer_target(&online_candidates(c).await?, *to, by, &needs)?;
            let step = plan::transfer_to_agent(&conv, &from, by, *to, &target);
            finished(c, id, now).await?;
            hand_to(c, id, step.to, *to, now).await?;
            (step, false)
        }
        crate::TransferTo::Skill(_) | crate::TransferTo::Queue => {
            let (step, needs) = plan::requeue(&conv, &from, by, to.skill())?;
            finished(c, id, now).await?;
            // A fresh wait: the skill is required until the relaxation steps come round again.
            exec(
                c,
                "UPDATE conversations SET state = $2, assignee_id = NULL, needs = $3, queued_at = $4,
                 assigned_at = NULL, updated_at = $4 WHERE id = $1",
                &[&id.as_str(), &step.to.as_str(), &Json(&needs), &now],
            )
            .await?;
            (step, true)
        }
    };
    let mut pending = Pending::default();
    let appended = finish_step(c, id, step, state_changed, &before, &mut pending, now).await?;
    rollup::flush(c, &pending).await?;
    Ok(appended)
}

/// Routing's step: the conversation goes to `agent` as `step` says, with its events, message
/// and rollup change (flushed by the caller).
async fn give<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    step: plan::Step,
    agent: AgentId,
    pending: &mut Pending,
    now: i64,
) -> Result<Appended> {
    let before = rollup::snapshot(c, id).await?;
    hand_to(c, id, step.to, agent, now).await?;
    finish_step(c, id, step, true, &before, pending, now).await
}

/// The conversation goes to `agent` in `state` (assigned), waiting for a first reply from now;
/// the agent's idle time ends now.
async fn hand_to<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    state: ConversationState,
    agent: AgentId,
    now: i64,
) -> Result<()> {
    exec(
        c,
        "UPDATE conversations SET state = $2, assignee_id = $3, assigned_at = $4, replied = false,
         updated_at = $4 WHERE id = $1",
        &[&id.as_str(), &state.as_str(), &agent.get(), &now],
    )
    .await?;
    exec(
        c,
        "UPDATE agents SET idle_since = $2 WHERE id = $1",
        &[&agent.get(), &now],
    )
    .await?;
    Ok(())
}

/// The rest of a planned step once its row updates ran: its events, its system message, its
/// rollup change (into `pending`), and the conversation as it is now.
async fn finish_step<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    step: plan::Step,
    state_changed: bool,
    before: &Snapshot,
    pending: &mut Pending,
    now: i64,
) -> Result<Appended> {
    log_events(c, id, &step.events, now).await?;
    // A system message: never mailed.
    let messages = insert_messages(c, id, vec![step.message], now, false).await?;
    rollup::record(c, pending, id, before).await?;
    let conversation = conversation(c, id).await?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

/// Routes the whole queue in one transaction. The advisory lock lets one node at a time plan,
/// so two plans never share an agent's free capacity; the queued rows are locked too, so a
/// conversation resolved meanwhile on another node is left alone.
pub(crate) async fn assign_queued<C: GenericClient>(
    c: &C,
    lock: i64,
    rules: &Rules,
    now: i64,
) -> Result<Vec<Appended>> {
    let waiting: bool = query_opt(
        c,
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE state = 'queued')",
        &[],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?
    .unwrap_or(false);
    if !waiting {
        return Ok(Vec::new());
    }
    exec(c, "SELECT pg_advisory_xact_lock($1)", &[&lock]).await?;
    // Read Committed: these statements see everything committed before the lock was granted.
    let sql = format!("{CONVERSATION_SELECT} {QUEUE_ORDER} FOR UPDATE OF c");
    let queued: Vec<Conversation> = query(c, &sql, &[])
        .await?
        .iter()
        .map(conversation_row)
        .collect::<Result<_>>()?;
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = online_candidates(c).await?;
    let waiting = plan::queue(&queued);
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for a in routing::plan(&waiting, &mut candidates, rules, now) {
        let conv = &queued[a.key];
        let step = plan::assign(conv, a.agent, &a.why)?;
        out.push(give(c, &conv.id, step, a.agent, &mut pending, now).await?);
    }
    rollup::flush(c, &pending).await?;
    Ok(out)
}
