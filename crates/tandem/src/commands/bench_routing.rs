//! `tandem bench routing`: the router under load. Many agents online, a long queue with mixed
//! needs: the latency of one routing decision (explanation included), and the time to drain the
//! queue when a wave of agents comes online at once, both in the pure router and through the
//! SQLite store's atomic `assign_queued`. A benchmark, not a test: it reports what it measured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use desk::routing::{self, Candidate, Rules, Waiting};
use desk::{
    Agent, AgentId, Competences, ConversationId, Locale, Needs, Presence, Reason, Role, Skill,
};
use store::{Change, Customer, NewAgent, NewConversation, Store};

use super::bench::percentile;

#[derive(clap::Args, Debug)]
pub struct RoutingBenchArgs {
    /// Agents online (all busy while the decision latency is measured: they have room).
    #[arg(long, default_value_t = 1_000)]
    pub agents: usize,
    /// Conversations waiting in the queue.
    #[arg(long, default_value_t = 10_000)]
    pub queue: usize,
    /// Agents who come online at once to drain the queue.
    #[arg(long, default_value_t = 100)]
    pub wave: usize,
    /// Also measure the drain through the SQLite store (builds the queue in a temporary
    /// database first).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub store: bool,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

const SKILLS: &[&str] = &["sales", "solar", "billing", "logistics", "account", "tech"];

/// A small deterministic generator (xorshift), so every run measures the same desk.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn level(&mut self) -> u8 {
        1 + self.below(5) as u8
    }
}

fn word(locale: &str) -> Locale {
    Locale::trusted(locale.to_owned())
}

fn profile(rng: &mut Rng, i: usize) -> NewAgent {
    let [de, en] = [word("de"), word("en")];
    let locales = match rng.below(10) {
        0..=5 => vec![de, en],
        6..=8 => vec![de],
        _ => vec![en],
    };
    let skills = (0..rng.below(3))
        .map(|_| Skill::trusted(SKILLS[rng.below(SKILLS.len() as u64) as usize].to_owned()))
        .collect();
    let limits = if rng.below(10) == 0 {
        vec![Reason::ALL[rng.below(8) as usize].as_str().to_owned()]
    } else {
        vec![]
    };
    NewAgent {
        name: format!("Agent {i}"),
        email: format!("agent{i}@bench.tandem"),
        password_hash: "$argon2id$bench".into(),
        role: Role::Agent,
        locales,
        skills,
        competences: Competences {
            self_: rng.level(),
            people: rng.level(),
            situational: rng.level(),
        },
        limits,
        capacity: 2 + rng.below(4) as u32,
    }
}

fn needs(rng: &mut Rng, rules: &Rules) -> Needs {
    let mut reasons = vec![Reason::ALL[rng.below(8) as usize]];
    if rng.below(4) == 0 {
        reasons.push(Reason::ALL[rng.below(8) as usize]);
    }
    reasons.sort();
    reasons.dedup();
    let intent_skills: Vec<String> = (0..rng.below(3))
        .map(|_| SKILLS[rng.below(SKILLS.len() as u64) as usize].to_owned())
        .collect();
    let locale = word(if rng.below(10) < 7 { "de" } else { "en" });
    Needs::new(rules, reasons, &intent_skills, &locale)
}

fn candidate(a: NewAgent, id: i64, load: u32) -> Candidate {
    Candidate {
        agent: Agent {
            id: AgentId::new(id),
            name: a.name,
            email: a.email,
            role: a.role,
            locales: a.locales,
            skills: a.skills,
            competences: a.competences,
            limits: a.limits,
            capacity: a.capacity,
            presence: Presence::Online,
        },
        load,
        idle_since_ms: 0,
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub fn run(args: RoutingBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.agents > 0 && args.queue > 0,
        "agents and queue must be > 0"
    );
    let rules = Rules::default();
    let mut rng = Rng(0x005e_ed7a_4de3);
    let now: i64 = 1_000_000_000;
    let queue: Vec<Waiting<usize>> = (0..args.queue)
        .map(|i| Waiting {
            key: i,
            needs: needs(&mut rng, &rules),
            // Waiting 0–5 minutes: every relaxation step occurs.
            queued_at_ms: now - rng.below(300_000) as i64,
        })
        .collect();

    // 1. Decision latency: every queued conversation decided against the agents online.
    let candidates: Vec<Candidate> = (0..args.agents)
        .map(|i| {
            let p = profile(&mut rng, i);
            let load = rng.below(u64::from(p.capacity)) as u32;
            candidate(p, i as i64 + 1, load)
        })
        .collect();
    let mut times = Vec::with_capacity(queue.len());
    let mut found = 0usize;
    for w in &queue {
        let t = Instant::now();
        let picked = routing::decide(w, &candidates, &rules, now);
        times.push(t.elapsed());
        found += usize::from(picked.is_some());
    }
    times.sort();
    let p50 = percentile(&times, 0.50);
    let p99 = percentile(&times, 0.99);
    let max = times.last().copied().unwrap_or_default();

    // 2. Drain, pure: the agents online are full; a wave comes online; one plan for the queue.
    let mut full: Vec<Candidate> = candidates
        .iter()
        .cloned()
        .map(|mut c| {
            c.load = c.agent.capacity;
            c
        })
        .collect();
    for i in 0..args.wave {
        let p = profile(&mut rng, args.agents + i);
        full.push(candidate(p, (args.agents + i) as i64 + 1, 0));
    }
    let t = Instant::now();
    let planned = routing::plan(&queue, &mut full, &rules, now);
    let drain_pure = t.elapsed();

    // 3. Drain through the store: the same desk in SQLite, one atomic `assign_queued`.
    let store = if args.store {
        Some(drain_in_store(&args, &rules)?)
    } else {
        None
    };

    if args.json {
        let mut out = serde_json::json!({
            "agents": args.agents, "queue": args.queue, "wave": args.wave,
            "decision_us": {"p50": us(p50), "p99": us(p99), "max": us(max)},
            "decisions_with_a_fit_agent": found,
            "drain_pure_ms": drain_pure.as_secs_f64() * 1e3,
            "drain_pure_assigned": planned.len(),
        });
        if let Some((ms, n)) = store {
            out["drain_store_ms"] = serde_json::json!(ms);
            out["drain_store_assigned"] = serde_json::json!(n);
        }
        println!("{out}");
    } else {
        println!(
            "routing: {} agents online, {} queued, mixed needs",
            args.agents, args.queue
        );
        println!(
            "  decision latency: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} of {} had a fit agent)",
            us(p50),
            us(p99),
            us(max),
            found,
            args.queue
        );
        println!(
            "  drain, router only: {} agents come online → {} assigned in {:.2} ms",
            args.wave,
            planned.len(),
            drain_pure.as_secs_f64() * 1e3
        );
        if let Some((ms, n)) = store {
            println!(
                "  drain, SQLite store (one atomic assign_queued): {n} assigned in {ms:.1} ms"
            );
        }
    }
    Ok(())
}

/// Builds the desk in a temporary SQLite database (agents offline, queue full), brings the wave
/// online and times one `assign_queued`.
fn drain_in_store(args: &RoutingBenchArgs, rules: &Rules) -> anyhow::Result<(f64, usize)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let dir = tempfile::tempdir()?;
        let store: Arc<dyn Store> = Arc::new(store::sqlite::SqliteStore::open(
            dir.path().join("bench.db"),
        )?);
        let mut rng = Rng(0x0be4_c0de);
        let mut wave = Vec::new();
        for i in 0..args.wave {
            let a = store.create_agent(profile(&mut rng, i)).await?;
            wave.push(a.id);
        }
        // Concurrent creates share commits (group commit), so the queue builds quickly.
        let mut next = 0usize;
        while next < args.queue {
            let batch: Vec<_> = (next..(next + 256).min(args.queue))
                .map(|i| {
                    let store = store.clone();
                    let needs = needs(&mut rng, rules);
                    tokio::spawn(async move {
                        let id = ConversationId::parse(&format!("c_bench{i:08}"))
                            .ok_or_else(|| anyhow::anyhow!("bad id"))?;
                        store
                            .create_conversation(NewConversation {
                                id,
                                token_hash: format!("bench-{i}"),
                                locale: needs.locale.clone(),
                                customer: Customer::default(),
                                channel: desk::Channel::Chat,
                                subject: None,
                                messages: vec![],
                                change: Some(Change::Handoff(needs)),
                            })
                            .await?;
                        anyhow::Ok(())
                    })
                })
                .collect();
            for task in batch {
                task.await??;
            }
            next += 256;
        }
        for id in &wave {
            store.set_presence(*id, Presence::Online).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or_default();
        let t = Instant::now();
        let assigned = store.assign_queued(rules, now).await?;
        Ok((t.elapsed().as_secs_f64() * 1e3, assigned.len()))
    })
}
