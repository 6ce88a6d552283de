//! Analytics rollups: what both backends share (the SQL lives in each backend's `rollup.rs`).
//!
//! **Segments.** A conversation's customer messages fall into UTC hours. Each hour it has a
//! customer message in is one *hourly segment* `(0, hour, prev)`, where `prev` is the hour of its
//! customer message before that hour (`-1`: none); each day it has one in is one *daily segment*
//! `(1, day, prev)`, `prev` being the hour of its last customer message before that day. The
//! conversations of a range `[a, b)` of whole hours (the summary's scope: those with a customer
//! message in the range) then hold exactly one segment each in the range with `prev < a`: the one
//! of their first customer message in it. So a count over any union of whole hours and whole days
//! is a sum over rollup rows, exact, with no `COUNT(DISTINCT)`.
//!
//! **What a segment row carries** is what its conversations are *now*: handed off or not, their
//! handoff reasons, the bucket of their first response, their latest rating, the agents who were
//! given them and the last of those. When a write changes one of these for a conversation, its
//! contribution moves in every row of its segments (a few). [`Snapshot`]s taken before and
//! after each write, from the conversation's own messages and events, give the change, so the
//! rollups follow the same definitions as the from-scratch queries.
//!
//! **Customers** (by e-mail) get the same segments over all their conversations, kept in the
//! `customers` column; conversations without an e-mail are their own customer (`anonymous`).
//!
//! **The queue**: per hour, how many conversations joined and left it (from the `state` events).

use crate::plan::EventKind;
use std::collections::{BTreeMap, BTreeSet};

pub(crate) const HOUR_MS: i64 = 3_600_000;
pub(crate) const DAY_MS: i64 = 86_400_000;
/// `prev` of a segment when there is no customer message before it.
pub(crate) const NONE: i64 = -1;
pub(crate) const HOURLY: i64 = 0;
pub(crate) const DAILY: i64 = 1;

/// The hour `t` falls in (UTC; times are milliseconds since 1970, never negative in a desk).
/// The same arithmetic as the SQL (`t - t % 3600000`).
pub(crate) fn hour(t: i64) -> i64 {
    t - t % HOUR_MS
}

pub(crate) fn day(t: i64) -> i64 {
    t - t % DAY_MS
}

fn ceil_to(t: i64, unit: i64) -> i64 {
    let floor = t - t % unit;
    if floor == t {
        t
    } else {
        floor.saturating_add(unit)
    }
}

/// The first-response bucket of a wait: whole seconds below an hour, whole minutes below a
/// day, whole hours beyond (the lower bound, in ms). The backfill SQL has the same `CASE`.
pub(crate) fn bucket(wait_ms: i64) -> i64 {
    if wait_ms < HOUR_MS {
        wait_ms - wait_ms % 1000
    } else if wait_ms < DAY_MS {
        wait_ms - wait_ms % 60_000
    } else {
        wait_ms - wait_ms % HOUR_MS
    }
}

/// The backfill of a rollup migration: its statements after the `-- BACKFILL` comment line.
pub(crate) fn backfill_of(migration: &'static str) -> crate::Result<&'static str> {
    migration
        .split_once("\n-- BACKFILL")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .map(|(_, sql)| sql)
        .ok_or_else(|| crate::StoreError::Backend("the rollup migration has no backfill".into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Seg {
    pub grain: i64,
    pub unit: i64,
    pub prev: i64,
}

/// The segments of `hours` (ascending, distinct), `before` being the hour before the first.
pub(crate) fn segments(before: Option<i64>, hours: &[i64]) -> Vec<Seg> {
    let mut out = Vec::with_capacity(hours.len() * 2);
    let mut prev = before;
    for &h in hours {
        let p = prev.unwrap_or(NONE);
        out.push(Seg {
            grain: HOURLY,
            unit: h,
            prev: p,
        });
        if prev.is_none_or(|p| day(p) < day(h)) {
            out.push(Seg {
                grain: DAILY,
                unit: day(h),
                prev: p,
            });
        }
        prev = Some(h);
    }
    out
}

/// What a conversation is now, as far as the summary cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// No e-mail: the conversation is its own customer.
    pub anonymous: bool,
    pub handed_off: bool,
    pub reasons: BTreeSet<String>,
    /// [`bucket`] of the time from the first handoff to the first agent message after it.
    pub wait_bucket: Option<i64>,
    /// The latest rating.
    pub score: Option<i64>,
    /// Every agent an `assigned`, `reassigned` or `transferred` event gave it to.
    pub handlers: BTreeSet<i64>,
    /// The agent of the latest of those events.
    pub last_handler: Option<i64>,
}

/// One event of a conversation, as the snapshot reads it.
pub(crate) struct EventRow {
    pub id: i64,
    pub kind: String,
    pub data: serde_json::Value,
    pub at: i64,
}

/// A queue transition logged by a `state` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StateRow {
    pub event: i64,
    pub at: i64,
    /// +1 joined the queue, -1 left it.
    pub queue: i64,
}

/// +1 when a `state` event puts a conversation in the queue, -1 when it takes it out, else 0
/// (the backfill SQL says the same).
pub(crate) fn queue_step(data: &serde_json::Value) -> i64 {
    let from = data.get("from").and_then(|v| v.as_str());
    let to = data.get("to").and_then(|v| v.as_str());
    match (from, to) {
        (Some(f), Some(t)) if t == "queued" && f != "queued" => 1,
        (Some(f), Some(t)) if f == "queued" && t != "queued" => -1,
        _ => 0,
    }
}

/// The agent an assignment-like event gave the conversation to (`agent`, else `to`).
fn handler(data: &serde_json::Value) -> Option<i64> {
    let of = |k: &str| data.get(k).and_then(|v| v.as_i64());
    of("agent").or_else(|| of("to"))
}

/// What the snapshot query returns for one conversation.
#[derive(Default)]
pub(crate) struct Raw {
    pub events: Vec<EventRow>,
    /// `(is_agent, created_at)` of its customer and agent messages.
    pub messages: Vec<(bool, i64)>,
    pub key: Option<String>,
}

impl Raw {
    pub(crate) fn snapshot(mut self) -> Snapshot {
        self.events.sort_by_key(|e| e.id);
        Snapshot::build(&self.events, &self.messages, self.key)
    }
}

/// A conversation's rollup-relevant state at one moment of a write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub facts: Facts,
    /// Distinct hours of its customer messages, ascending.
    pub hours: Vec<i64>,
    /// `lower(trim(customer_email))` (computed by the database, as in the summary), if any.
    pub key: Option<String>,
    /// The id of its latest event (0: none).
    pub last_event: i64,
    pub states: Vec<StateRow>,
}

impl Snapshot {
    /// Builds the snapshot from the conversation's events (ascending ids), its customer and agent
    /// messages (`(is_agent, created_at)`) and its e-mail key.
    pub(crate) fn build(
        events: &[EventRow],
        messages: &[(bool, i64)],
        key: Option<String>,
    ) -> Self {
        let mut facts = Facts {
            anonymous: key.is_none(),
            ..Facts::default()
        };
        let mut first_handoff: Option<i64> = None;
        let mut last_rating = None;
        let mut last_handler = None;
        let mut states = Vec::new();
        let mut last_event = 0;
        for e in events {
            last_event = last_event.max(e.id);
            let Some(kind) = EventKind::parse(&e.kind) else {
                continue;
            };
            match kind {
                EventKind::Handoff => {
                    facts.handed_off = true;
                    first_handoff = Some(first_handoff.map_or(e.at, |f: i64| f.min(e.at)));
                    if let Some(rs) = e.data.get("reasons").and_then(|r| r.as_array()) {
                        facts
                            .reasons
                            .extend(rs.iter().filter_map(|r| r.as_str()).map(str::to_owned));
                    }
                }
                // Events come by id: the last one seen is the latest.
                EventKind::Rating => {
                    last_rating = Some(e.data.get("score").and_then(|s| s.as_i64()))
                }
                k if k.gives_a_handler() => {
                    if let Some(a) = handler(&e.data) {
                        facts.handlers.insert(a);
                        last_handler = Some(a);
                    }
                }
                EventKind::State => {
                    let step = queue_step(&e.data);
                    if step != 0 {
                        states.push(StateRow {
                            event: e.id,
                            at: e.at,
                            queue: step,
                        });
                    }
                }
                _ => {}
            }
        }
        facts.score = last_rating.flatten();
        facts.last_handler = last_handler;
        facts.wait_bucket = first_handoff.and_then(|h| {
            messages
                .iter()
                .filter(|(agent, at)| *agent && *at >= h)
                .map(|(_, at)| *at)
                .min()
                .map(|first| bucket(first - h))
        });
        let hours: BTreeSet<i64> = messages
            .iter()
            .filter(|(agent, _)| !agent)
            .map(|(_, at)| hour(*at))
            .collect();
        Self {
            facts,
            hours: hours.into_iter().collect(),
            key,
            last_event,
            states,
        }
    }
}

/// Counters of a segment row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SegRow {
    pub conversations: i64,
    pub handed_off: i64,
    pub anonymous: i64,
    pub customers: i64,
    pub rated: i64,
    pub rating_sum: i64,
}

impl SegRow {
    fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// `n` conversations (reasons) or conversations handled (agents), with their ratings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub n: i64,
    pub rated: i64,
    pub rating_sum: i64,
}

impl Tally {
    fn is_zero(&self) -> bool {
        *self == Self::default()
    }
    fn add(&mut self, o: Tally) {
        self.n += o.n;
        self.rated += o.rated;
        self.rating_sum += o.rating_sum;
    }
}

/// The rollup changes of one write, applied in one go at its end, in key order (on PostgreSQL
/// every transaction locks rollup rows in the same order, so they cannot deadlock).
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub segs: BTreeMap<Seg, SegRow>,
    pub reasons: BTreeMap<(Seg, String), Tally>,
    pub agents: BTreeMap<(Seg, i64), Tally>,
    pub waits: BTreeMap<(Seg, i64), i64>,
    /// hour → (joined, left).
    pub queue: BTreeMap<i64, (i64, i64)>,
}

impl Pending {
    fn conversation(&mut self, seg: Seg, f: &Facts, sign: i64) {
        let rated = i64::from(f.score.is_some());
        let score = f.score.unwrap_or(0);
        let row = self.segs.entry(seg).or_default();
        row.conversations += sign;
        row.handed_off += sign * i64::from(f.handed_off);
        row.anonymous += sign * i64::from(f.anonymous);
        row.rated += sign * rated;
        row.rating_sum += sign * score;
        for r in &f.reasons {
            self.reasons
                .entry((seg, r.clone()))
                .or_default()
                .add(Tally {
                    n: sign,
                    rated: sign * rated,
                    rating_sum: sign * score,
                });
        }
        for &a in &f.handlers {
            let last = f.last_handler == Some(a);
            self.agents.entry((seg, a)).or_default().add(Tally {
                n: sign,
                rated: sign * i64::from(last) * rated,
                rating_sum: sign * i64::from(last) * score,
            });
        }
        if let Some(b) = f.wait_bucket {
            *self.waits.entry((seg, b)).or_default() += sign;
        }
    }

    /// What a write changed of one conversation: its contributions move from the segments and
    /// facts before to those after, and its new `state` events count in the queue.
    pub(crate) fn change(&mut self, before: &Snapshot, after: &Snapshot) {
        if before.facts != after.facts || before.hours != after.hours {
            for seg in segments(None, &before.hours) {
                self.conversation(seg, &before.facts, -1);
            }
            for seg in segments(None, &after.hours) {
                self.conversation(seg, &after.facts, 1);
            }
        }
        for s in after.states.iter().filter(|s| s.event > before.last_event) {
            let e = self.queue.entry(hour(s.at)).or_default();
            if s.queue > 0 {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
    }

    /// A customer (by e-mail) has a first customer message in hour `new`; `prev` and `next` are
    /// their hours with customer messages just before and after it.
    pub(crate) fn customer_hour(&mut self, prev: Option<i64>, new: i64, next: Option<i64>) {
        if let Some(n) = next {
            for seg in segments(prev, &[n]) {
                self.segs.entry(seg).or_default().customers -= 1;
            }
        }
        let after: Vec<i64> = std::iter::once(new).chain(next).collect();
        for seg in segments(prev, &after) {
            self.segs.entry(seg).or_default().customers += 1;
        }
    }

    /// The changes that are not zero, in key order.
    pub(crate) fn segs(&self) -> impl Iterator<Item = (&Seg, &SegRow)> {
        self.segs.iter().filter(|(_, r)| !r.is_zero())
    }
    pub(crate) fn reasons(&self) -> impl Iterator<Item = (&(Seg, String), &Tally)> {
        self.reasons.iter().filter(|(_, t)| !t.is_zero())
    }
    pub(crate) fn agents(&self) -> impl Iterator<Item = (&(Seg, i64), &Tally)> {
        self.agents.iter().filter(|(_, t)| !t.is_zero())
    }
    pub(crate) fn waits(&self) -> impl Iterator<Item = (&(Seg, i64), &i64)> {
        self.waits.iter().filter(|(_, n)| **n != 0)
    }
    pub(crate) fn queue(&self) -> impl Iterator<Item = (&i64, &(i64, i64))> {
        self.queue.iter().filter(|(_, q)| **q != (0, 0))
    }
}

/// How a summary of `[from, to)` is read. Whole hours `[h_a, h_b)` come from rollup rows: hourly
/// rows for `[h_a, d_a)` and `[d_b, h_b)`, daily rows for the whole days `[d_a, d_b)`. The
/// conversations with customer messages only in the partial hours at either end
/// (`[from, h_a)`, `[h_b, to)`) are counted exactly from the log. A range without a whole hour
/// (`exact`) is counted from the log entirely.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    pub exact: bool,
    pub h_a: i64,
    pub d_a: i64,
    pub d_b: i64,
    pub h_b: i64,
}

impl Plan {
    pub(crate) fn new(from: i64, to: i64) -> Self {
        let h_a = ceil_to(from.max(0), HOUR_MS);
        let h_b = hour(to.max(0));
        if h_a >= h_b {
            return Self {
                exact: true,
                h_a: to,
                d_a: to,
                d_b: to,
                h_b: to,
            };
        }
        let (mut d_a, mut d_b) = (ceil_to(h_a, DAY_MS), day(h_b));
        if d_a >= d_b {
            (d_a, d_b) = (h_b, h_b);
        }
        Self {
            exact: false,
            h_a,
            d_a,
            d_b,
            h_b,
        }
    }

    /// The whole hours read from rollups, `[h_a, h_b)` (empty when `exact`).
    pub(crate) fn core(&self) -> (i64, i64) {
        (self.h_a, self.h_b)
    }
}

/// The agents (id, name) and how many conversations each has assigned now.
pub(crate) type AgentsAndLoad = (Vec<(i64, String)>, Vec<(i64, u64)>);

/// The figures of some set of conversations, mergeable (rollup rows + exact edges).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Parts {
    pub conversations: u64,
    pub handed_off: u64,
    pub customers: u64,
    pub rated: i64,
    pub rating_sum: i64,
    /// Per reason: conversations handed off for it, and their ratings.
    pub reasons: BTreeMap<String, Tally>,
    /// Per agent: conversations given to them, and the ratings of those they were the last to
    /// be given.
    pub agents: BTreeMap<i64, Tally>,
    /// First-response waits (ms, or their bucket) → how many.
    pub waits: BTreeMap<i64, u64>,
}

fn unsigned(n: i64) -> u64 {
    n.max(0) as u64
}

impl Parts {
    pub(crate) fn merge(&mut self, o: Parts) {
        self.conversations += o.conversations;
        self.handed_off += o.handed_off;
        self.customers += o.customers;
        self.rated += o.rated;
        self.rating_sum += o.rating_sum;
        for (k, t) in o.reasons {
            self.reasons.entry(k).or_default().add(t);
        }
        for (k, t) in o.agents {
            self.agents.entry(k).or_default().add(t);
        }
        for (k, n) in o.waits {
            *self.waits.entry(k).or_default() += n;
        }
    }

    /// The figures of conversations counted one by one from their snapshots (the partial hours
    /// at the ends of a range): their customers are those without an e-mail and the e-mails
    /// not in `counted` (already counted by the rollups).
    pub(crate) fn of_conversations(snaps: &[Snapshot], counted: &BTreeSet<String>) -> Self {
        let mut parts = Parts::default();
        let mut keys = BTreeSet::new();
        for s in snaps {
            let f = &s.facts;
            parts.conversations += 1;
            parts.handed_off += u64::from(f.handed_off);
            let rated = i64::from(f.score.is_some());
            let score = f.score.unwrap_or(0);
            parts.rated += rated;
            parts.rating_sum += score;
            for r in &f.reasons {
                parts.reasons.entry(r.clone()).or_default().add(Tally {
                    n: 1,
                    rated,
                    rating_sum: score,
                });
            }
            for &a in &f.handlers {
                let last = i64::from(f.last_handler == Some(a));
                parts.agents.entry(a).or_default().add(Tally {
                    n: 1,
                    rated: last * rated,
                    rating_sum: last * score,
                });
            }
            if let Some(b) = f.wait_bucket {
                *parts.waits.entry(b).or_default() += 1;
            }
            match &s.key {
                None => parts.customers += 1,
                Some(k) if !counted.contains(k) => {
                    keys.insert(k.as_str());
                }
                Some(_) => {}
            }
        }
        parts.customers += keys.len() as u64;
        parts
    }

    pub(crate) fn into_summary(
        self,
        from_ms: i64,
        to_ms: i64,
        agents: Vec<(i64, String)>,
        load: Vec<(i64, u64)>,
        queue_length: Vec<crate::QueuePoint>,
    ) -> crate::Summary {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let csat = |rated: i64, sum: i64| crate::Csat {
            count: unsigned(rated),
            average: (rated > 0).then(|| sum as f64 / rated as f64),
        };
        let total: u64 = self.waits.values().sum();
        let percentile = |p: u64| {
            if total == 0 {
                return None;
            }
            let rank = (total * p).div_ceil(100).clamp(1, total);
            let mut seen = 0;
            self.waits.iter().find_map(|(w, n)| {
                seen += n;
                (seen >= rank).then_some(*w as f64 / 1000.0)
            })
        };
        crate::Summary {
            from_ms,
            to_ms,
            conversations: self.conversations,
            self_service_rate: ratio(
                self.conversations.saturating_sub(self.handed_off),
                self.conversations,
            ),
            handoff_rate: ratio(self.handed_off, self.conversations),
            handoff_reasons: self
                .reasons
                .iter()
                .filter(|(_, t)| t.n > 0)
                .map(|(r, t)| (r.clone(), unsigned(t.n)))
                .collect(),
            first_response_secs: crate::FirstResponse {
                median: percentile(50),
                p90: percentile(90),
            },
            csat: csat(self.rated, self.rating_sum),
            contacts_per_customer: ratio(self.conversations, self.customers),
            agents: agents
                .into_iter()
                .map(|(id, name)| {
                    let t = self.agents.get(&id).copied().unwrap_or_default();
                    crate::AgentFigures {
                        id,
                        name,
                        load: load
                            .iter()
                            .find(|(a, _)| *a == id)
                            .map(|(_, n)| *n)
                            .unwrap_or(0),
                        handled: unsigned(t.n),
                        csat: csat(t.rated, t.rating_sum),
                    }
                })
                .collect(),
            reasons_csat: self
                .reasons
                .iter()
                .filter(|(_, t)| t.rated > 0)
                .map(|(r, t)| (r.clone(), csat(t.rated, t.rating_sum)))
                .collect(),
            queue_length,
        }
    }
}

/// The instants of the queue-length series of `[from, to)`: the end of each hour (ranges up to
/// 7 days) or of each day (or of wider steps, so there are at most about 400 points), never
/// after `now`, and finally the end of the range (or `now`).
pub(crate) fn queue_instants(from: i64, to: i64, now: i64) -> Vec<i64> {
    let end = to.min(now);
    if end <= from {
        return Vec::new();
    }
    let span = to - from;
    let step = if span <= 7 * DAY_MS {
        HOUR_MS
    } else {
        let days = (span + DAY_MS - 1) / DAY_MS;
        DAY_MS * ((days + 365) / 366).max(1)
    };
    let mut out = Vec::new();
    let mut t = hour(from.max(0)) - hour(from.max(0)) % step + step;
    while t < end {
        if t > from {
            out.push(t);
        }
        t += step;
    }
    out.push(end);
    out
}

/// Queue length at each instant (ascending), from the hourly counters: `base` is the net of all
/// hours before the first instant's hour, `hours` the net of each later hour (ascending), and
/// `partial(t)` the net of the `state` events in `[hour(t), t)` (only asked for instants that
/// are not on the hour).
pub(crate) fn queue_series(
    instants: &[i64],
    base: i64,
    hours: &[(i64, i64)],
    mut partial: impl FnMut(i64) -> crate::Result<i64>,
) -> crate::Result<Vec<crate::QueuePoint>> {
    let mut out = Vec::with_capacity(instants.len());
    let mut total = base;
    let mut next = 0;
    for &t in instants {
        let h = hour(t);
        while let Some(&(at, net)) = hours.get(next) {
            if at >= h {
                break;
            }
            total += net;
            next += 1;
        }
        let extra = if h == t { 0 } else { partial(t)? };
        out.push(crate::QueuePoint {
            at_ms: t,
            length: unsigned(total + extra),
        });
    }
    Ok(out)
}

/// The queries (the same on both backends) that list every rollup row that is not all zeros,
/// as text, in key order: tests compare a rebuild with the rows kept write by write.
pub(crate) fn dump_queries() -> Vec<String> {
    [
        (
            "rollup_segments",
            "grain, unit, prev",
            "conversations, handed_off, anonymous, customers, rated, rating_sum",
        ),
        (
            "rollup_reasons",
            "grain, unit, prev, reason",
            "conversations, rated, rating_sum",
        ),
        (
            "rollup_agents",
            "grain, unit, prev, agent",
            "handled, rated, rating_sum",
        ),
        ("rollup_waits", "grain, unit, prev, bucket", "n"),
        ("rollup_customer_hours", "key, hour", "1"),
        ("rollup_queue", "hour", "enqueued, dequeued"),
    ]
    .into_iter()
    .map(|(t, keys, counts)| {
        let nonzero = counts.replace(", ", " <> 0 OR ") + " <> 0";
        format!(
            "SELECT '{t} ' || concat_ws(' ', {keys}, {counts}) FROM {t} WHERE {nonzero} \
             ORDER BY {keys}"
        )
    })
    .collect()
}

#[cfg(test)]
mod tests;
