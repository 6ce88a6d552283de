//! The SQL of the PostgreSQL backend. Each function runs on the client or inside the transaction
//! it is given; the caller commits.

use deadpool_postgres::GenericClient;
use desk::routing::{self, Candidate, Rules};
use desk::{Agent, AgentId, ConversationId, ConversationState, Locale, MessageId, Needs, Presence};
use tokio_postgres::types::Json;
use tokio_postgres::Row;

use crate::plan::{self, transfer_from, transfer_target, NewEvent, RowUpdate};
use crate::rollup::{Pending, Snapshot};

use super::rollup;
use crate::{
    AgentRecord, Appended, Assignee, Change, Conversation, ConversationRecord, Customer, Event,
    Message, NewAgent, NewConversation, NewMessage, Result, Session, SessionKind, StoreError,
};

mod agents;
mod assignment;
pub(crate) mod canned;
mod conversations;
mod counters;
mod customers;
mod inbox;
pub(crate) mod lessons;
pub(crate) mod mail;
pub(crate) mod playbooks;
mod records;
mod steps;

pub(crate) use agents::*;
pub(crate) use assignment::*;
pub(crate) use conversations::*;
pub(crate) use counters::*;
pub(crate) use customers::*;
pub(crate) use records::*;
pub(crate) use steps::*;

fn bad_row(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable row: {what}"))
}

fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(bad_row)
}

fn conversation_id(s: &str) -> Result<ConversationId> {
    ConversationId::parse(s).ok_or_else(|| bad_row("bad conversation id"))
}

/// Runs one statement through the connection's statement cache.
async fn exec<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}

async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&stmt, params).await?)
}
