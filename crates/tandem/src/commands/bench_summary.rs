//! `tandem bench summary`: the analytics summary over a large desk. Bulk-inserts synthetic
//! conversations (messages and events included) into a fresh store, SQLite or PostgreSQL, fills
//! the rollups with the migration's own backfill (`Store::rebuild_rollups`), then times
//! `Store::summary` over the last 30 days. A benchmark, not a test: it reports what it measured.

use std::time::{Duration, Instant};

use desk::{Competences, Role};
use store::{NewAgent, Store};

#[derive(clap::Args, Debug)]
pub struct SummaryBenchArgs {
    /// The store to fill: a SQLite file path (created; must not exist) or a
    /// `postgres://` URL of an empty database.
    #[arg(long)]
    pub database_url: String,
    /// Synthetic conversations to insert.
    #[arg(long, default_value_t = 1_000_000)]
    pub conversations: i64,
    /// Timed summaries (after one warm-up).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Also recount the same range from scratch (`Store::summary_exact`, slow) and say whether
    /// the figures agree.
    #[arg(long)]
    pub check: bool,
}

const DAY_MS: i64 = 86_400_000;

use store::Clock;

pub fn run(args: SummaryBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.conversations > 0 && args.runs > 0,
        "conversations and runs must be > 0"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(args))
}

fn agent() -> NewAgent {
    NewAgent {
        name: "Bench Agent".into(),
        email: "bench@bench.example".into(),
        password_hash: "$argon2id$bench".into(),
        role: Role::Agent,
        locales: vec![desk::Locale::trusted("de".into())],
        skills: vec![],
        competences: Competences::default(),
        limits: vec![],
        capacity: 5,
    }
}

async fn bench(args: SummaryBenchArgs) -> anyhow::Result<()> {
    let clock = Clock::system();
    let now = clock.now_ms();
    let from = now - 30 * DAY_MS;
    let started = Instant::now();
    let (backend, store): (&str, std::sync::Arc<dyn Store>) =
        if args.database_url.starts_with("postgres://")
            || args.database_url.starts_with("postgresql://")
        {
            let pg = store::postgres::PgStore::connect(&args.database_url).await?;
            let a = pg.create_agent(agent()).await?;
            pg.seed_bench(args.conversations, from, 30 * DAY_MS - 200_000, a.id.get())
                .await?;
            ("postgresql", std::sync::Arc::new(pg))
        } else {
            anyhow::ensure!(
                !std::path::Path::new(&args.database_url).exists(),
                "{} exists: give a new file",
                args.database_url
            );
            let sqlite = store::sqlite::SqliteStore::open(&args.database_url)?;
            let a = sqlite.create_agent(agent()).await?;
            sqlite
                .seed_bench(args.conversations, from, 30 * DAY_MS - 200_000, a.id.get())
                .await?;
            ("sqlite", std::sync::Arc::new(sqlite))
        };
    let seeded = started.elapsed();
    let started = Instant::now();
    store.rebuild_rollups().await?;
    let backfilled = started.elapsed();
    let to = clock.now_ms() + 1;
    let warm = store.summary(from, to).await?;
    let mut times: Vec<Duration> = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let t = Instant::now();
        store.summary(from, to).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    let min = times.first().copied().unwrap_or_default();
    println!(
        "summary bench ({backend}): {} conversations inserted in {:.1} s, rollups backfilled in \
         {:.1} s; summary over 30 days: median {:.0} ms, best {:.0} ms ({} runs); it counted {} \
         conversations, {} handed off ({:.0} %), CSAT {:?} over {}, first response median {:?} s, \
         {:.3} contacts per customer",
        args.conversations,
        seeded.as_secs_f64(),
        backfilled.as_secs_f64(),
        median.as_secs_f64() * 1000.0,
        min.as_secs_f64() * 1000.0,
        args.runs,
        warm.conversations,
        (warm.handoff_rate * warm.conversations as f64).round(),
        warm.handoff_rate * 100.0,
        warm.csat.average,
        warm.csat.count,
        warm.first_response_secs.median,
        warm.contacts_per_customer,
    );
    if args.check {
        let t = Instant::now();
        let mut exact = store.summary_exact(from, to).await?;
        let took = t.elapsed();
        let mut got = warm.clone();
        // The rollups keep first responses in buckets (whole seconds below an hour); the queue
        // series ends at now, which moved.
        let second = |v: Option<f64>| v.map(|s| (s * 1000.0).round() as i64 / 1000);
        let (a, b) = (&got.first_response_secs, &exact.first_response_secs);
        let waits_agree = (second(a.median), second(a.p90)) == (second(b.median), second(b.p90));
        got.first_response_secs = exact.first_response_secs;
        got.queue_length.clear();
        exact.queue_length.clear();
        println!(
            "check: the recount from scratch took {:.1} s; the figures {}",
            took.as_secs_f64(),
            if got == exact && waits_agree {
                "agree".to_owned()
            } else {
                format!("DIFFER:\n  rollups {got:?}\n  recount {exact:?}")
            }
        );
    }
    Ok(())
}
