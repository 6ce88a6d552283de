//! `tandem bench learning`: does the learning loop work? It replays customers' messages over
//! simulated days against a real desk (in-process, SQLite, fast path) that starts from a cut-down
//! playbook: a few intents missing altogether, the others with only a few examples. Whatever the
//! bot hands off because it is unsure, an agent answers (with the answer the full playbook gives,
//! or "we don't offer that" for an off-topic question) and resolves, through the desk's own flow,
//! so the desk keeps its lessons as in production. At the end of each day an admin goes through
//! the suggestions asked by at least `--accept-from` customers: a group whose questions mostly
//! belong to an intent is accepted (as examples of it, or as the new intent, with the full
//! playbook's answer), any other is rejected. It reports, per day, the share of routine questions
//! the bot answered right (self-service) and the share of all messages it answered wrongly, and
//! writes an SVG chart. A benchmark: it reports what it measured.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use desk::{Competences, Locale, Role};
use playbook::Playbook;
use server::suggestions::{self, Acceptance};
use server::{Application, Settings};
use store::{Customer, NewAgent, Store};

#[derive(clap::Args, Debug)]
pub struct LearningBenchArgs {
    /// A playbook and its cases, as `PLAYBOOK.toml:CASES.jsonl`; repeat for several businesses.
    #[arg(long = "set", required = true)]
    pub sets: Vec<String>,
    /// Simulated days.
    #[arg(long, default_value_t = 7)]
    pub days: usize,
    /// Examples each kept intent starts with (the rest join the customers' messages).
    #[arg(long, default_value_t = 3)]
    pub start_examples: usize,
    /// Intents missing from the starting playbook (their examples join the messages).
    #[arg(long, default_value_t = 3)]
    pub missing: usize,
    /// An admin looks at suggestions asked by at least this many customers.
    #[arg(long, default_value_t = 2)]
    pub accept_from: usize,
    /// Where to write the chart (SVG).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Replays of each set, each with its own cut of the playbook and order of the messages.
    #[arg(long, default_value_t = 3)]
    pub runs: u64,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// The address the simulated admin works from (for the audit log).
const LOCAL: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

/// One customer message with what should happen to it: `Some(intent)` answered with it,
/// `None` handed off.
struct Message {
    text: String,
    truth: Option<String>,
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
struct Day {
    messages: usize,
    routine: usize,
    answered_right: usize,
    answered_wrong: usize,
    /// Of the wrong answers: messages that should have gone to a person.
    wrong_not_ours: usize,
    handed_off: usize,
    clarified: usize,
    accepted: usize,
    rejected: usize,
    retrain_ms: u64,
}

impl Day {
    fn self_service(&self) -> f64 {
        self.answered_right as f64 / self.routine.max(1) as f64
    }
    fn wrong(&self) -> f64 {
        self.answered_wrong as f64 / self.messages.max(1) as f64
    }
    fn add(&mut self, o: &Day) {
        self.messages += o.messages;
        self.routine += o.routine;
        self.answered_right += o.answered_right;
        self.answered_wrong += o.answered_wrong;
        self.wrong_not_ours += o.wrong_not_ours;
        self.handed_off += o.handed_off;
        self.clarified += o.clarified;
        self.accepted += o.accepted;
        self.rejected += o.rejected;
        self.retrain_ms = self.retrain_ms.max(o.retrain_ms);
    }
}

/// xorshift: every run replays the same stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

pub fn run(args: LearningBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.days > 0, "--days must be > 0");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(args))
}

async fn bench(args: LearningBenchArgs) -> anyhow::Result<()> {
    let mut total = vec![Day::default(); args.days];
    let mut per_set = Vec::new();
    for (i, set) in args.sets.iter().enumerate() {
        let (pb, cases) = set
            .split_once(':')
            .with_context(|| format!("--set {set:?}: expected PLAYBOOK.toml:CASES.jsonl"))?;
        let started = Instant::now();
        let mut days = vec![Day::default(); args.days];
        for run in 0..args.runs.max(1) {
            let seed = args.seed.wrapping_add(i as u64 * 1_000 + run);
            for (t, d) in days.iter_mut().zip(replay(&args, pb, cases, seed).await?) {
                t.add(&d);
            }
        }
        eprintln!(
            "bench learning: {pb}: {} runs of {} days in {:.1} s",
            args.runs.max(1),
            days.len(),
            started.elapsed().as_secs_f64()
        );
        for (t, d) in total.iter_mut().zip(&days) {
            t.add(d);
        }
        per_set.push((pb.to_owned(), days));
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, chart(&total))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        let sets: Vec<serde_json::Value> = per_set
            .iter()
            .map(|(name, days)| serde_json::json!({"playbook": name, "days": days}))
            .collect();
        let out = serde_json::json!({
            "days": total.iter().map(|d| serde_json::json!({
                "self_service": d.self_service(), "wrong": d.wrong(), "detail": d,
            })).collect::<Vec<_>>(),
            "sets": sets,
        });
        println!("{out}");
    } else {
        println!("day | messages | self-service | wrong answers | of them not ours | handed off | accepted | rejected | retrain (max)");
        for (i, d) in total.iter().enumerate() {
            println!(
                "{:>3} | {:>8} | {:>12.3} | {:>13.3} | {:>16} | {:>10} | {:>8} | {:>8} | {} ms",
                i + 1,
                d.messages,
                d.self_service(),
                d.wrong(),
                d.wrong_not_ours,
                d.handed_off,
                d.accepted,
                d.rejected,
                d.retrain_ms
            );
        }
    }
    Ok(())
}

/// The starting playbook, and the messages of the stream with their truth.
fn stream(
    full: &Playbook,
    cases: &str,
    args: &LearningBenchArgs,
    rng: &mut Rng,
) -> anyhow::Result<(Playbook, Vec<Message>)> {
    let mut start = full.clone();
    let mut answerable: Vec<usize> = (0..start.intents.len())
        .filter(|&i| !start.intents[i].handoff && !start.intents[i].answer.is_empty())
        .collect();
    rng.shuffle(&mut answerable);
    let missing: Vec<String> = answerable
        .iter()
        .take(args.missing.min(answerable.len().saturating_sub(1)))
        .map(|&i| start.intents[i].id.clone())
        .collect();
    let mut messages = Vec::new();
    for intent in &mut start.intents {
        let truth = (!intent.handoff).then(|| intent.id.clone());
        let keep = if missing.contains(&intent.id) {
            0
        } else {
            args.start_examples.max(1)
        };
        let mut examples = std::mem::take(&mut intent.examples);
        rng.shuffle(&mut examples);
        for e in examples.split_off(keep.min(examples.len())) {
            messages.push(Message {
                text: e,
                truth: truth.clone(),
            });
        }
        intent.examples = examples;
    }
    start.intents.retain(|i| !missing.contains(&i.id));
    for line in cases.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).context("a case line")?;
        let text = case["text"].as_str().unwrap_or_default().to_owned();
        let expect = case["expect"].as_str().unwrap_or("handoff");
        let truth = full
            .intent(expect)
            .filter(|i| !i.handoff)
            .map(|i| i.id.clone());
        messages.push(Message { text, truth });
    }
    rng.shuffle(&mut messages);
    Ok((start, messages))
}

async fn replay(
    args: &LearningBenchArgs,
    pb: &str,
    cases: &str,
    seed: u64,
) -> anyhow::Result<Vec<Day>> {
    let full = Playbook::from_file(std::path::Path::new(pb))?;
    let cases = std::fs::read_to_string(cases).with_context(|| format!("cannot read {cases}"))?;
    let mut rng = Rng(seed.max(1));
    let (start, messages) = stream(&full, &cases, args, &mut rng)?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> = Arc::new(store::sqlite::SqliteStore::open(
        dir.path().join("learning.db"),
    )?);
    let agent = store
        .create_agent(NewAgent {
            name: "Alex".into(),
            email: "alex@bench.example".into(),
            password_hash: "$argon2id$unused".into(),
            role: Role::Admin,
            locales: full
                .desk
                .locales
                .iter()
                .map(|l| Locale::trusted(l.clone()))
                .collect(),
            skills: vec![],
            competences: Competences::default(),
            limits: vec![],
            capacity: 1_000,
        })
        .await?;
    let app = Application::build(Settings::local(start), store.clone()).await?;
    let state = app.state().clone();
    let mut truth_of: HashMap<String, Option<String>> = HashMap::new();
    // Days of equal size (the remainder is left out), so the shares compare.
    let per_day = (messages.len() / args.days).max(1);
    let mut days = Vec::new();
    for chunk in messages.chunks_exact(per_day).take(args.days) {
        let mut day = Day {
            messages: chunk.len(),
            ..Day::default()
        };
        for m in chunk {
            day.routine += usize::from(m.truth.is_some());
            let customer = Customer {
                name: None,
                email: None,
            };
            let Ok(started) = server::flow::start(&state, None, customer, Some(&m.text)).await
            else {
                continue;
            };
            let c = started.appended.conversation;
            let bot = started
                .appended
                .messages
                .iter()
                .find(|x| x.author == desk::Author::Bot);
            if c.state == desk::ConversationState::Bot
                && bot.is_some_and(|b| b.action == Some(desk::Action::Clarify))
            {
                // The bot asked back: neither an answer nor a handoff yet.
                day.clarified += 1;
                continue;
            }
            if c.state != desk::ConversationState::Bot {
                day.handed_off += 1;
                truth_of.insert(c.id.as_str().to_owned(), m.truth.clone());
                let reply = m
                    .truth
                    .as_deref()
                    .and_then(|t| full.intent(t))
                    .and_then(|i| i.answer_in(c.locale.as_str(), &full.desk.locales))
                    .unwrap_or(if c.locale.as_str() == "de" {
                        "Das bieten wir leider nicht an."
                    } else {
                        "Sorry, that is not something we offer."
                    })
                    .to_owned();
                let replied = server::flow::agent_message(&state, &c, agent.id, &reply).await?;
                let before = replied.conversation.clone();
                server::flow::resolve(&state, &before, Some(agent.id)).await?;
                suggestions::learn_from(&state, &before).await;
                continue;
            }
            // What the bot answered with: the intent whose answer it sent.
            let right = m.truth.as_deref().is_some_and(|t| {
                let said = bot.map(|b| b.text.as_str()).unwrap_or_default();
                full.intent(t)
                    .is_some_and(|i| i.answer.values().any(|a| a == said))
            });
            if right {
                day.answered_right += 1;
            } else {
                day.answered_wrong += 1;
                day.wrong_not_ours += usize::from(m.truth.is_none());
            }
        }
        // The admin's round at the end of the day.
        for s in suggestions::suggestions(&state).await? {
            if s.count() < args.accept_from {
                continue;
            }
            let mut votes: BTreeMap<Option<String>, usize> = BTreeMap::new();
            for l in &s.lessons {
                let t = truth_of.get(l.new.conversation.as_str()).cloned().flatten();
                *votes.entry(t).or_default() += 1;
            }
            let (top, n) = votes
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(t, n)| (t.clone(), *n))
                .unwrap_or((None, 0));
            let top_intent = top.clone();
            let how = match top.filter(|_| n * 2 > s.lessons.len()) {
                Some(intent) if state.playbook().intent(&intent).is_some() => {
                    Some(Acceptance::Examples { intent })
                }
                Some(intent) => full.intent(&intent).map(|i| Acceptance::NewIntent {
                    id: intent.clone(),
                    answer: i.answer.clone(),
                }),
                // Questions the team answered "we don't offer that": never to be answered.
                None if n * 2 > s.lessons.len() => Some(Acceptance::OutOfScope),
                None => None,
            };
            // The admin takes only the questions that belong to it.
            let belongs: Vec<String> = s
                .lessons
                .iter()
                .filter(|l| {
                    truth_of.get(l.new.conversation.as_str()).cloned().flatten() == top_intent
                })
                .map(|l| l.new.question.clone())
                .fold(Vec::new(), |mut v, q| {
                    if !v.contains(&q) {
                        v.push(q);
                    }
                    v
                });
            let done = match how {
                Some(how) => suggestions::accept(&state, &agent, &s.id, how, Some(belongs), LOCAL)
                    .await
                    .map(|_| true),
                None => suggestions::reject(&state, &agent, &s.id, LOCAL)
                    .await
                    .map(|()| false),
            };
            match done {
                Ok(true) => day.accepted += 1,
                Ok(false) => day.rejected += 1,
                Err(e) => eprintln!("bench learning: suggestion {}: {e}", s.id),
            }
        }
        // Until the newest version answers.
        let started = Instant::now();
        let newest = store
            .playbooks()
            .playbook_version(None)
            .await?
            .map_or(0, |v| v.info.version);
        while state.machine.now().version < newest {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "retraining took over 5 minutes"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        day.retrain_ms = started.elapsed().as_millis() as u64;
        days.push(day);
    }
    Ok(days)
}

/// Self-service and wrong answers by day, as a small accessible SVG line chart.
fn chart(days: &[Day]) -> String {
    let (w, h, left, bottom, top, right) = (640.0, 320.0, 56.0, 40.0, 40.0, 16.0);
    let x = |i: usize| {
        left + (w - left - right) * i as f64 / (days.len().saturating_sub(1).max(1)) as f64
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v);
    let line = |f: &dyn Fn(&Day) -> f64| -> String {
        days.iter()
            .enumerate()
            .map(|(i, d)| format!("{:.1},{:.1}", x(i), y(f(d))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"t d\" font-family=\"sans-serif\" font-size=\"12\">\
         <title id=\"t\">The learning loop: self-service and wrong answers by day</title>\
         <desc id=\"d\">Self-service by day: {}. Wrong answers by day: {}.</desc>\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>",
        days.iter().map(|d| format!("{:.2}", d.self_service())).collect::<Vec<_>>().join(", "),
        days.iter().map(|d| format!("{:.2}", d.wrong())).collect::<Vec<_>>().join(", "),
    );
    for v in [0.0, 0.25, 0.5, 0.75, 1.0] {
        svg += &format!(
            "<line x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{:.0} %</text>",
            w - right, y(v), y(v), left - 6.0, y(v) + 4.0, v * 100.0
        );
    }
    for (i, _) in days.iter().enumerate() {
        svg += &format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x(i),
            h - bottom + 18.0,
            i + 1
        );
    }
    svg += &format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">day</text>",
        (left + w - right) / 2.0,
        h - 4.0
    );
    svg += &format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2.5\"/>",
        line(&|d| d.self_service())
    );
    svg += &format!("<polyline points=\"{}\" fill=\"none\" stroke=\"#b3261e\" stroke-width=\"2.5\" stroke-dasharray=\"6 4\"/>", line(&|d| d.wrong()));
    svg += &format!(
        "<text x=\"{left}\" y=\"20\" fill=\"#0b5cad\">— self-service (routine questions answered right)</text>\
         <text x=\"{:.1}\" y=\"20\" fill=\"#b3261e\">- - wrong answers (all messages)</text></svg>\n",
        left + 330.0
    );
    svg
}
