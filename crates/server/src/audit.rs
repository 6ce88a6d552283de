//! The audit log: one row for every admin and security-relevant action — who, what, to what,
//! when and from which address. The desk only ever appends to it; no route changes or deletes
//! a row. Recording is best effort: a store failure is logged and the action it describes
//! stands.

use std::net::IpAddr;

use desk::AgentId;
use store::AuditEntry;

use crate::state::AppState;

/// The most entries one read returns, newest first.
pub const AUDIT_PAGE: u32 = 1_000;

/// Appends `action` on `target` by `actor` from `address`.
pub async fn record(
    state: &AppState,
    actor: Option<AgentId>,
    action: &str,
    target: impl Into<String>,
    address: Option<IpAddr>,
) {
    let entry = AuditEntry {
        at_ms: state.clock.now_ms(),
        actor,
        action: action.to_owned(),
        target: target.into(),
        address: address.map(|a| a.to_string()),
    };
    if let Err(e) = state.store.audit(entry).await {
        tracing::error!(error = %e, action, "cannot write the audit log");
    }
}

/// The target word for an agent.
pub fn agent(id: AgentId) -> String {
    format!("agent:{}", id.get())
}

/// The entries of a range (`from`/`to` as the analytics take them; by default up to and
/// including this millisecond), of one actor if given,
/// newest first, at most [`AUDIT_PAGE`].
pub async fn read(
    state: &AppState,
    from: Option<String>,
    to: Option<String>,
    actor: Option<i64>,
) -> crate::service::DeskResult<Vec<crate::wire::AuditEntry>> {
    let range = crate::analytics::RangeIn { from, to };
    let (from, to) = range
        .resolve(state.clock.now_ms() + 1)
        .map_err(crate::service::DeskError::invalid)?;
    let rows = state
        .store
        .audit_log(from, to, actor.map(AgentId::new), AUDIT_PAGE)
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| crate::wire::AuditEntry {
            at: crate::wire::rfc3339(e.at_ms),
            actor: e.actor.map(AgentId::get),
            action: e.action,
            target: e.target,
            address: e.address,
        })
        .collect())
}
