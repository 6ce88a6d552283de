//! The SQL of the SQLite backend. Each function runs inside the caller's transaction or read.

use desk::routing::{self, Candidate, Rules};
use desk::{Agent, AgentId, ConversationId, ConversationState, Locale, MessageId, Needs};
use rusqlite::{params, Connection, OptionalExtension, Row};

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

/// Executes one statement through the connection's statement cache: hot paths never re-parse SQL.
fn exec<P: rusqlite::Params>(c: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> rusqlite::Result<T> {
    s.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::<dyn std::error::Error + Send + Sync>::from(e),
        )
    })
}
