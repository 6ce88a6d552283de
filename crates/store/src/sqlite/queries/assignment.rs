//! Who takes a conversation: the queue routed, unanswered ones reassigned, transfers between agents.

use super::*;

/// The online agents with their load and idle time, as the router sees them.
pub(crate) fn online_candidates(c: &Connection) -> Result<Vec<Candidate>> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS}, idle_since, (SELECT COUNT(*) FROM conversations c
             WHERE c.assignee_id = agents.id AND c.state = 'assigned')
         FROM agents WHERE presence = 'online' ORDER BY id"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(Candidate {
            agent: agent_row(r)?,
            idle_since_ms: r.get(10)?,
            load: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Moves every conversation whose assignee has not replied within `timeout_ms` of getting it to
/// another fit agent (never back to the same one), in one step of the single writer. A
/// conversation nobody else fits stays where it is.
pub(crate) fn reassign_unanswered(
    c: &Connection,
    rules: &Rules,
    now: i64,
    timeout_ms: i64,
) -> Result<Vec<Appended>> {
    let stale = conversations_where(
        c,
        "c.state = 'assigned' AND c.replied = 0 AND c.assigned_at <= ?1 ORDER BY c.assigned_at",
        [now.saturating_sub(timeout_ms)],
    )?;
    if stale.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = online_candidates(c)?;
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
        out.push(give(c, &conv.id, step, to, &mut pending, now)?);
    }
    rollup::flush(c, &pending)?;
    Ok(out)
}

/// Passes an assigned conversation from `by` to a colleague or a skill, in one step of the
/// single writer (so the colleague's free capacity cannot change meanwhile).
pub(crate) fn transfer(
    c: &Connection,
    id: &ConversationId,
    by: AgentId,
    to: &crate::TransferTo,
    now: i64,
) -> Result<Appended> {
    let conv = conversation(c, id)?.ok_or(StoreError::NotFound)?;
    let from = transfer_from(&conv, by)?;
    let before = rollup::snapshot(c, id)?;
    let (step, state_changed) = match to {
        crate::TransferTo::Agent(to) => {
            let needs = conv.handoff.clone().unwrap_or_default();
            let target = transfer_target(&online_candidates(c)?, *to, by, &needs)?;
            let step = plan::transfer_to_agent(&conv, &from, by, *to, &target);
            finished(c, id, now)?;
            hand_to(c, id, step.to, *to, now)?;
            (step, false)
        }
        crate::TransferTo::Skill(_) | crate::TransferTo::Queue => {
            let (step, needs) = plan::requeue(&conv, &from, by, to.skill())?;
            finished(c, id, now)?;
            // A fresh wait: the skill is required until the relaxation steps come round again.
            exec(
                c,
                "UPDATE conversations SET state = ?2, assignee_id = NULL, needs = ?3, queued_at = ?4,
                 assigned_at = NULL, updated_at = ?4 WHERE id = ?1",
                params![id.as_str(), step.to.as_str(), json(&needs), now],
            )?;
            (step, true)
        }
    };
    let mut pending = Pending::default();
    let appended = finish_step(c, id, step, state_changed, &before, &mut pending, now)?;
    rollup::flush(c, &pending)?;
    Ok(appended)
}

/// Routing's step: the conversation goes to `agent` as `step` says, with its events, message
/// and rollup change (flushed by the caller).
fn give(
    c: &Connection,
    id: &ConversationId,
    step: plan::Step,
    agent: AgentId,
    pending: &mut Pending,
    now: i64,
) -> Result<Appended> {
    let before = rollup::snapshot(c, id)?;
    hand_to(c, id, step.to, agent, now)?;
    finish_step(c, id, step, true, &before, pending, now)
}

/// The conversation goes to `agent` in `state` (assigned), waiting for a first reply from now;
/// the agent's idle time ends now.
fn hand_to(
    c: &Connection,
    id: &ConversationId,
    state: ConversationState,
    agent: AgentId,
    now: i64,
) -> Result<()> {
    exec(
        c,
        "UPDATE conversations SET state = ?2, assignee_id = ?3, assigned_at = ?4, replied = 0,
         updated_at = ?4 WHERE id = ?1",
        params![id.as_str(), state.as_str(), agent.get(), now],
    )?;
    exec(
        c,
        "UPDATE agents SET idle_since = ?2 WHERE id = ?1",
        params![agent.get(), now],
    )?;
    Ok(())
}

/// The rest of a planned step once its row updates ran: its events, its system message, its
/// rollup change (into `pending`), and the conversation as it is now.
fn finish_step(
    c: &Connection,
    id: &ConversationId,
    step: plan::Step,
    state_changed: bool,
    before: &Snapshot,
    pending: &mut Pending,
    now: i64,
) -> Result<Appended> {
    log_events(c, id, &step.events, now)?;
    let messages = insert_messages(c, id, vec![step.message], now)?;
    rollup::record(c, pending, id, before)?;
    let conversation = conversation(c, id)?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

/// Routes the whole queue in one step of the single writer, so no conversation is assigned twice
/// and no agent goes over capacity.
pub(crate) fn assign_queued(c: &Connection, rules: &Rules, now: i64) -> Result<Vec<Appended>> {
    let queued = queue(c)?;
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = online_candidates(c)?;
    let waiting = plan::queue(&queued);
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for a in routing::plan(&waiting, &mut candidates, rules, now) {
        let conv = &queued[a.key];
        let step = plan::assign(conv, a.agent, &a.why)?;
        out.push(give(c, &conv.id, step, a.agent, &mut pending, now)?);
    }
    rollup::flush(c, &pending)?;
    Ok(out)
}
