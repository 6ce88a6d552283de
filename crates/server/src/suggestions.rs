//! Suggestions from the people's work (issue 15): what agents answer today becomes what the
//! machine answers tomorrow, with an admin approving every step.
//!
//! - [`learn_from`]: when an agent resolves a conversation the machine handed off because it was
//!   unsure, the customer's question and the agent's answer are kept as a lesson, masked of
//!   personal data first (`desk::mask`). Handoffs for complaints, sensitive topics or anger
//!   teach nothing the machine should answer, and are left out.
//! - [`suggestions`]: the open lessons grouped by likeness (of the questions, or of the agents'
//!   answers: agents answering the same new thing write alike), each group with the intents it is
//!   closest to. With the encoder on, questions are compared by their meaning, so they group when
//!   they share few words ("Vermietet ihr Möbel?", "Do you rent out furniture?"); their vectors
//!   are kept per node ([`Vectors`]), so each question is embedded once. A question the encoder
//!   has not embedded yet (it was busy) is compared by its words. A group whose agents answered like an existing intent's answer suggests adding
//!   its questions to that intent (`add_examples`); any other suggests a new intent.
//! - [`accept`] and [`reject`] settle a group; a rejected group does not come back.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use desk::{Author, Reason};
use nlu::embedding::{cosine, Embedder};
use nlu::features::Weighed;
use playbook::NewIntent;
use store::{Conversation, Lesson, LessonStatus, NewLesson, VersionInfo};

use crate::service::{DeskError, DeskResult};
use crate::state::{AppState, Taught};

/// The most open lessons grouped at once (the oldest first).
pub const OPEN_LESSONS: u32 = 2_000;
/// Two questions this alike (the fast path's n-gram cosine) ask the same thing.
const SAME_QUESTION: f32 = 0.35;
/// Two questions whose encoder vectors are this alike ask the same thing: the bar at which the
/// machine tier takes a background line to ask what one of the playbook's examples asks. On the
/// four development fixtures' examples (docs/benchmarks.md, "Grouping suggestions") it joins 2.5 %
/// of the pairs of one intent and 0.09 % of the pairs of two, where the words' 0.35 joins 1.0 %
/// and 0.15 %: more of the same question, and fewer mixed groups.
const SAME_QUESTION_ENCODED: f32 = nlu::semantic::BACKGROUND_KEEP_BELOW;
/// Two agents' answers this alike answer the same thing.
const SAME_ANSWER: f32 = 0.5;
/// An agent's answer this close to an intent's answer makes the question an example of it.
const ANSWER_MATCH: f32 = 0.45;
/// Sample questions and answers shown per suggestion.
const SAMPLES: usize = 5;

/// Reasons after which the question is no lesson for the machine: people's matters.
const PEOPLES_MATTERS: [Reason; 4] = [
    Reason::Complaint,
    Reason::SensitiveTopic,
    Reason::NegativeSentiment,
    Reason::IntentRequiresHuman,
];

/// Keeps what `conversation` (as it was before an agent resolved it) can teach: its last
/// handed-off question and the agents' answers to it. Best effort: failures are logged.
pub async fn learn_from(state: &AppState, conversation: &Conversation) {
    let Some(needs) = &conversation.handoff else {
        return;
    };
    if !needs.reasons.contains(&Reason::LowConfidence)
        || needs.reasons.iter().any(|r| PEOPLES_MATTERS.contains(r))
    {
        return;
    }
    let messages = match state.store.messages(&conversation.id).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read a resolved conversation to learn from");
            return;
        }
    };
    let Some(handoff_at) = messages
        .iter()
        .rposition(|m| m.author == Author::Bot && m.action == Some(desk::Action::Handoff))
    else {
        return;
    };
    let answers: Vec<&str> = messages[handoff_at..]
        .iter()
        .filter(|m| m.author == Author::Agent)
        .map(|m| m.text.as_str())
        .take(2)
        .collect();
    if answers.is_empty() {
        return;
    }
    let agent = conversation.assignee.as_ref().map(|a| a.name.as_str());
    let answer = answers.join("\n");
    let Some(lesson) = lesson(conversation, &messages, handoff_at, &answer, agent, false) else {
        return;
    };
    let question = lesson.question.clone();
    if let Err(e) = state.store.lessons().add_lesson(lesson).await {
        tracing::warn!(error = %e, "cannot keep a lesson");
        return;
    }
    // Embedded now, while the agent moves on, so the suggestions page need not.
    let state = state.clone();
    let embedding = tokio::task::spawn_blocking(move || {
        state
            .machine
            .vectors
            .of(&state.machine, &[question.as_str()]);
    });
    if let Err(e) = embedding.await {
        tracing::warn!(error = %e, "embedding a lesson's question failed");
    }
}

/// The encoder's vectors of lessons' questions, by text, on this node.
#[derive(Default)]
pub struct Vectors(Mutex<HashMap<String, Arc<[f32]>>>);

/// Questions kept at most; beyond, the store starts afresh.
const VECTORS_KEPT: usize = 4 * OPEN_LESSONS as usize;
/// Questions embedded per call: few, so an encoder busy with customers' messages refuses some
/// (within its latency budget) instead of all; those group by their words until next time.
const EMBED_AT_ONCE: usize = 8;

impl Vectors {
    /// The vectors of `texts`, in order; `None` everywhere without an encoder, and where it
    /// refused. Blocks while it embeds what is not kept yet.
    pub fn of(&self, machine: &crate::state::Machine, texts: &[&str]) -> Vec<Option<Arc<[f32]>>> {
        let Some(encoder) = machine.encoder() else {
            return vec![None; texts.len()];
        };
        let lock = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let missing: Vec<&str> = {
            let kept = lock();
            let mut m: Vec<&str> = texts
                .iter()
                .copied()
                .filter(|t| !kept.contains_key(*t))
                .collect();
            m.sort_unstable();
            m.dedup();
            m
        };
        for chunk in missing.chunks(EMBED_AT_ONCE) {
            match encoder.embed(chunk) {
                Ok(vs) => {
                    let mut kept = lock();
                    if kept.len() + chunk.len() > VECTORS_KEPT {
                        kept.clear();
                    }
                    for (t, v) in chunk.iter().zip(vs) {
                        kept.insert((*t).to_owned(), v.into());
                    }
                }
                Err(e) => tracing::debug!(error = %e, "questions group by their words for now"),
            }
        }
        let kept = lock();
        texts.iter().map(|t| kept.get(*t).cloned()).collect()
    }
}

/// What a suggestion proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The questions ask something no intent covers.
    NewIntent,
    /// The agents answered as an existing intent does: its questions are examples of it.
    AddExamples,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NewIntent => "new_intent",
            Kind::AddExamples => "add_examples",
        }
    }
}

/// A group of open lessons that ask the same thing.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// `s` and the group's oldest lesson id: stable while the group grows.
    pub id: String,
    pub kind: Kind,
    pub lessons: Vec<Lesson>,
    /// Intents it is closest to, best first, with a score 0..1.
    pub candidates: Vec<(String, f32)>,
}

impl Suggestion {
    /// How many customers asked: one per conversation.
    pub fn count(&self) -> usize {
        let mut ids: Vec<&str> = self
            .lessons
            .iter()
            .map(|l| l.new.conversation.as_str())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    pub fn questions(&self) -> Vec<String> {
        distinct(self.lessons.iter().map(|l| l.new.question.as_str()))
    }

    pub fn answers(&self) -> Vec<String> {
        distinct(self.lessons.iter().map(|l| l.new.answer.as_str()))
            .into_iter()
            .take(SAMPLES)
            .collect()
    }
}

fn distinct<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    out
}

/// The open lessons, grouped, most asked first.
pub async fn suggestions(state: &AppState) -> DeskResult<Vec<Suggestion>> {
    let lessons = state.store.lessons().open_lessons(OPEN_LESSONS).await?;
    let taught = state.machine.now();
    let state = state.clone();
    tokio::task::spawn_blocking(move || {
        let questions: Vec<&str> = lessons.iter().map(|l| l.new.question.as_str()).collect();
        let vectors = state.machine.vectors.of(&state.machine, &questions);
        group(lessons, vectors, &taught)
    })
    .await
    .map_err(|e| {
        tracing::error!(error = %e, "grouping the lessons failed");
        DeskError::Internal
    })
}

/// Groups `lessons` (oldest first, each with its question's encoder vector if there is one): a
/// lesson joins the first group holding a lesson whose question or answer is alike enough, else
/// starts its own.
fn group(
    lessons: Vec<Lesson>,
    vectors: Vec<Option<Arc<[f32]>>>,
    taught: &Taught,
) -> Vec<Suggestion> {
    let tier = &taught.tier;
    let mut groups: Vec<Vec<Member>> = Vec::new();
    for (lesson, v) in lessons.into_iter().zip(vectors) {
        let q = tier.likeness(&lesson.new.question);
        let a = tier.likeness(&lesson.new.answer);
        // By the encoder when both questions have a vector, else by their words.
        let same_question = |gq: &Weighed, gv: &Option<Arc<[f32]>>| match (gv, &v) {
            (Some(gv), Some(v)) => cosine(gv, v) >= SAME_QUESTION_ENCODED,
            _ => gq.similarity(&q) >= SAME_QUESTION,
        };
        let home = groups.iter().position(|g| {
            g.iter()
                .any(|(_, gq, ga, gv)| same_question(gq, gv) || ga.similarity(&a) >= SAME_ANSWER)
        });
        match home {
            Some(i) => groups[i].push((lesson, q, a, v)),
            None => groups.push(vec![(lesson, q, a, v)]),
        }
    }
    // The intents' answers, weighed once for every group.
    let known: Vec<(&str, Weighed)> = taught
        .playbook
        .intents
        .iter()
        .filter(|i| !i.handoff)
        .flat_map(|i| i.answer.values().map(|t| (i.id.as_str(), tier.likeness(t))))
        .collect();
    let mut out: Vec<Suggestion> = groups
        .into_iter()
        .map(|g| suggestion(g, &known, taught))
        .collect();
    out.sort_by(|a, b| b.count().cmp(&a.count()).then(a.id.cmp(&b.id)));
    out
}

/// A lesson with its question and answer weighed, and its question's encoder vector.
type Member = (Lesson, Weighed, Weighed, Option<Arc<[f32]>>);

/// One group as a suggestion: its candidates from the machine's guesses at handoff and from how
/// close the agents' answers came to each intent's answers (`known`, weighed).
fn suggestion(members: Vec<Member>, known: &[(&str, Weighed)], taught: &Taught) -> Suggestion {
    let mut matched: Option<(String, f32)> = None;
    let mut answer_scores: Vec<(&str, f32)> = Vec::with_capacity(known.len());
    for (intent, theirs) in known {
        let best = members
            .iter()
            .map(|m| m.2.similarity(theirs))
            .fold(0.0, f32::max);
        answer_scores.push((intent, best));
        if matched.as_ref().is_none_or(|m| best > m.1) {
            matched = Some(((*intent).to_owned(), best));
        }
    }
    let lessons: Vec<Lesson> = members.into_iter().map(|m| m.0).collect();
    let mut scores: BTreeMap<String, f32> = BTreeMap::new();
    for lesson in &lessons {
        for g in &lesson.new.guesses {
            if taught.playbook.intent(&g.intent).is_some() {
                *scores.entry(g.intent.clone()).or_default() += g.confidence;
            }
        }
    }
    let n = lessons.len().max(1) as f32;
    scores.values_mut().for_each(|s| *s /= n);
    for (intent, best) in answer_scores {
        let entry = scores.entry(intent.to_owned()).or_default();
        *entry = entry.max(best);
    }
    let mut candidates: Vec<(String, f32)> = scores.into_iter().filter(|(_, s)| *s > 0.0).collect();
    candidates.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    candidates.truncate(3);
    let kind = match matched {
        Some((_, score)) if score >= ANSWER_MATCH => Kind::AddExamples,
        _ => Kind::NewIntent,
    };
    Suggestion {
        id: format!("s{}", lessons.first().map_or(0, |l| l.id)),
        kind,
        lessons,
        candidates,
    }
}

async fn find(state: &AppState, id: &str) -> DeskResult<Suggestion> {
    suggestions(state)
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(DeskError::NotFound)
}

/// How an admin accepts a suggestion.
pub enum Acceptance {
    /// Its questions become examples of this intent.
    Examples { intent: String },
    /// A new intent with its questions as examples.
    NewIntent {
        id: String,
        answer: BTreeMap<String, String>,
    },
    /// Its questions are not the business's: they join `[out_of_scope]`, so the bot never
    /// answers such questions.
    OutOfScope,
}

/// Accepts suggestion `id`: the playbook gets a new version, and its lessons are settled. With
/// `only`, just those of its questions are taken (an admin leaves out the ones that do not
/// belong); the others are settled as rejected. Written to the audit log.
pub async fn accept(
    state: &AppState,
    admin: &desk::Agent,
    id: &str,
    how: Acceptance,
    only: Option<Vec<String>>,
    address: std::net::IpAddr,
) -> DeskResult<VersionInfo> {
    let found = find(state, id).await?;
    let all = found.questions();
    let questions = match only {
        None => all,
        Some(chosen) => {
            if let Some(stranger) = chosen.iter().find(|q| !all.contains(q)) {
                return Err(DeskError::invalid(format!(
                    "questions: {stranger:?} is not a question of {id}"
                )));
            }
            if chosen.is_empty() {
                return Err(DeskError::invalid("questions: choose at least one"));
            }
            chosen
        }
    };
    let version = match how {
        Acceptance::Examples { intent } => {
            let summary = format!(
                "{} example(s) from suggestion {id} added to {intent}",
                questions.len()
            );
            crate::teach::change(state, admin, summary, |p| {
                let mut added = 0;
                for q in &questions {
                    match p.add_example(&intent, q) {
                        Ok(()) => added += 1,
                        // One the intent already has is no reason to refuse the rest.
                        Err(playbook::EditError::Invalid { field: "text", .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
                if added == 0 {
                    return Err(playbook::EditError::Invalid {
                        field: "intent",
                        message: format!("{intent:?} already has every question of {id}"),
                    });
                }
                Ok(())
            })
            .await?
        }
        Acceptance::NewIntent { id: intent, answer } => {
            let summary = format!("Intent {intent} added from suggestion {id}");
            let new = NewIntent {
                id: intent,
                examples: questions.clone(),
                answer,
                ..NewIntent::default()
            };
            crate::teach::change(state, admin, summary, |p| p.add_intent(new.clone())).await?
        }
        Acceptance::OutOfScope => {
            let summary = format!(
                "{} question(s) from suggestion {id} out of scope",
                questions.len()
            );
            crate::teach::change(state, admin, summary, |p| {
                let before = p.out_of_scope.examples.len();
                for q in &questions {
                    // One already there is no reason to refuse the rest.
                    let _ = p.add_out_of_scope(q);
                }
                if p.out_of_scope.examples.len() == before {
                    return Err(playbook::EditError::Invalid {
                        field: "out_of_scope",
                        message: format!("every question of {id} already is out of scope"),
                    });
                }
                Ok(())
            })
            .await?
        }
    };
    let (taken, left): (Vec<&Lesson>, Vec<&Lesson>) = found
        .lessons
        .iter()
        .partition(|l| questions.contains(&l.new.question));
    let lessons = state.store.lessons();
    let ids = |ls: &[&Lesson]| ls.iter().map(|l| l.id).collect::<Vec<i64>>();
    lessons
        .settle_lessons(&ids(&taken), LessonStatus::Accepted)
        .await?;
    lessons
        .settle_lessons(&ids(&left), LessonStatus::Rejected)
        .await?;
    let target = format!("playbook:{}", version.version);
    crate::audit::record(
        state,
        Some(admin.id),
        "suggestion_accepted",
        target,
        Some(address),
    )
    .await;
    Ok(version)
}

/// Rejects suggestion `id`: its lessons are settled and it does not come back. Written to the
/// audit log.
pub async fn reject(
    state: &AppState,
    admin: &desk::Agent,
    id: &str,
    address: std::net::IpAddr,
) -> DeskResult<()> {
    let found = find(state, id).await?;
    settle(state, &found, LessonStatus::Rejected).await?;
    let target = format!("suggestion:{id}");
    crate::audit::record(
        state,
        Some(admin.id),
        "suggestion_rejected",
        target,
        Some(address),
    )
    .await;
    Ok(())
}

/// Settles every lesson of `s` as `status`.
async fn settle(state: &AppState, s: &Suggestion, status: LessonStatus) -> DeskResult<()> {
    let ids: Vec<i64> = s.lessons.iter().map(|l| l.id).collect();
    state.store.lessons().settle_lessons(&ids, status).await?;
    Ok(())
}

/// An agent's "suggest as an answer" on their own reply `message` in `conversation`: the
/// customer's question before it and the reply become a lesson. `Ok(false)`: already there.
pub async fn suggest_answer(
    state: &AppState,
    conversation: &Conversation,
    message: desk::MessageId,
    agent: &desk::Agent,
) -> DeskResult<bool> {
    let messages = state.store.messages(&conversation.id).await?;
    let Some(at) = messages.iter().position(|m| m.id == message) else {
        return Err(DeskError::NotFound);
    };
    let reply = &messages[at];
    if reply.author != Author::Agent || reply.agent != Some(agent.id) {
        return Err(DeskError::Forbidden(
            "only one's own replies can be suggested as an answer".into(),
        ));
    }
    let Some(lesson) = lesson(
        conversation,
        &messages,
        at,
        &reply.text,
        Some(&agent.name),
        true,
    ) else {
        return Err(DeskError::invalid(
            "message: no customer question comes before this reply",
        ));
    };
    Ok(state.store.lessons().add_lesson(lesson).await?)
}

/// The lesson of `answer` to the customer's question that comes last before `messages[at]`,
/// both masked (with the customer's and the `agent`'s names); `None` without such a question.
fn lesson(
    conversation: &Conversation,
    messages: &[store::Message],
    at: usize,
    answer: &str,
    agent: Option<&str>,
    by_agent: bool,
) -> Option<NewLesson> {
    let question = messages[..at]
        .iter()
        .rev()
        .find(|m| m.author == Author::Customer)?;
    let names: Vec<&str> = conversation
        .customer
        .name
        .as_deref()
        .into_iter()
        .chain(agent)
        .collect();
    Some(NewLesson {
        conversation: conversation.id.clone(),
        question: desk::mask::mask(&question.text, &names),
        answer: desk::mask::mask(answer, &names),
        locale: conversation.locale.clone(),
        guesses: conversation
            .handoff
            .as_ref()
            .map(|n| n.guesses.clone())
            .unwrap_or_default(),
        by_agent,
    })
}
