//! `tandem bench`: the message round trip (customer POST → stored durably → bot reply) under
//! concurrency, against a running desk (`--url`) or one started in-process on a temporary
//! SQLite database. `--texts FILE` sends the messages of a file (e.g. a playbook's cases) instead
//! of the demo shop's questions, so a desk with another playbook (and its encoder) can be
//! measured; the encoder's refusals under load are read from the desk's `/metrics`. With
//! `--peer-url`, it measures instead how long a message posted on one node takes to reach an SSE
//! listener on another. A benchmark, not a test: it reports what it measured. `tandem bench
//! routing` measures the router instead (see `bench_routing`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use playbook::Playbook;
use server::{Application, Settings};

#[derive(clap::Subcommand, Debug)]
pub enum BenchWhat {
    /// The router: decision latency and queue drain with many agents and a long queue.
    Routing(super::bench_routing::RoutingBenchArgs),
    /// The analytics summary over a large synthetic desk (SQLite or PostgreSQL).
    Summary(super::bench_summary::SummaryBenchArgs),
    /// The multilingual encoder: load time, memory, per-message latency, batch throughput.
    Encoder(super::bench_encoder::EncoderBenchArgs),
    /// E-mail: mails in per second through the SMTP listener (each triaged and stored), mails out
    /// per second through the outbox to an SMTP server, and the process's memory.
    Mail(super::bench_mail::MailBenchArgs),
    /// The learning loop: simulated days of customers, agents' answers and an admin accepting
    /// suggestions; self-service and wrong answers by day, and an SVG chart.
    Learning(super::bench_learning::LearningBenchArgs),
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub what: Option<BenchWhat>,
    /// A running desk to measure (started with TANDEM_RATE_LIMITS=false). Without it, a desk
    /// with the demo playbook (and no encoder) is started in this process on a temporary
    /// database.
    #[arg(long)]
    pub url: Option<String>,
    /// Concurrent customers.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Customer messages to send in all.
    #[arg(long, default_value_t = 20_000)]
    pub messages: usize,
    /// Messages per conversation before a customer starts a new one (a customer whose
    /// conversation was handed off starts a new one at once: queued messages skip triage).
    #[arg(long, default_value_t = 5)]
    pub per_conversation: usize,
    /// The customer messages: JSON Lines with a `"text"` field (such as a playbook's cases) or
    /// one message per line. Default: routine questions of the demo shop.
    #[arg(long)]
    pub texts: Option<std::path::PathBuf>,
    /// A second node of the same desk: measure cross-node event latency (post on `--url`, listen
    /// on both) for `--messages` messages, one at a time.
    #[arg(long, requires = "url")]
    pub peer_url: Option<String>,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Afterwards, measure the database alone at the same concurrency (durable single-row
    /// inserts; on PostgreSQL also `pgbench`) and print the desk's share of it.
    #[arg(long)]
    pub limit: bool,
    /// The PostgreSQL database to measure the limit on, when the desk runs at `--url` (use the
    /// desk's own, or an empty one on the same server). Without `--url` the limit is measured
    /// on SQLite beside the in-process desk.
    #[arg(long, requires = "limit")]
    pub limit_database_url: Option<String>,
    /// Seconds the limit is measured for.
    #[arg(long, default_value_t = 10)]
    pub limit_secs: u64,
}

/// Routine questions of the demo shop, each a different intent, so the bot answers them all.
const QUESTIONS: &[&str] = &[
    "Wo ist meine Bestellung?",
    "How much is shipping?",
    "Welche Zahlungsarten gibt es?",
    "I forgot my password",
    "Wie lange dauert der Versand?",
    "I need a copy of my invoice",
    "Wie löse ich einen Gutschein ein?",
    "When is customer service available?",
];

/// The messages of `--texts`: the `"text"` of each JSON line, or the line itself.
fn read_texts(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let content =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let texts: Vec<String> = content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match serde_json::from_str::<serde_json::Value>(l) {
            Ok(v) if v["text"].is_string() => v["text"].as_str().unwrap_or_default().to_owned(),
            _ => l.to_owned(),
        })
        .filter(|t| !t.trim().is_empty())
        .collect();
    anyhow::ensure!(!texts.is_empty(), "no messages in {}", path.display());
    Ok(texts)
}

/// `tandem_encoder_skipped_total` on the desk's `/metrics` (`None`: not reported).
async fn encoder_skipped(client: &reqwest::Client, base: &str) -> Option<u64> {
    let body = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    body.lines()
        .find_map(|l| l.strip_prefix("tandem_encoder_skipped_total "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

pub fn run(mut args: BenchArgs) -> anyhow::Result<()> {
    match args.what.take() {
        Some(BenchWhat::Routing(routing)) => return super::bench_routing::run(routing),
        Some(BenchWhat::Summary(summary)) => return super::bench_summary::run(summary),
        Some(BenchWhat::Encoder(encoder)) => return super::bench_encoder::run(encoder),
        Some(BenchWhat::Mail(mail)) => return super::bench_mail::run(mail),
        Some(BenchWhat::Learning(learning)) => return super::bench_learning::run(learning),
        None => {}
    }
    anyhow::ensure!(
        args.concurrency > 0 && args.messages > 0,
        "concurrency and messages must be > 0"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.peer_url.clone() {
        Some(peer) => runtime.block_on(events(args, peer)),
        None => runtime.block_on(bench(args)),
    }
}

/// The `p`-quantile of sorted durations (the value at index ⌊n·p⌋), shared by the bench commands.
pub(super) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// Reads one conversation's SSE stream and reports each message text with the time it arrived.
async fn listen(
    client: reqwest::Client,
    url: String,
    token: String,
    out: tokio::sync::mpsc::UnboundedSender<(String, Instant)>,
    subscribed: tokio::sync::oneshot::Sender<()>,
) -> anyhow::Result<()> {
    let mut res = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?;
    let _ = subscribed.send(());
    let mut buf = String::new();
    while let Some(chunk) = res.chunk().await? {
        let now = Instant::now();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            for data in event.lines().filter_map(|l| l.strip_prefix("data:")) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(data.trim()) {
                    if let Some(text) = v["text"].as_str() {
                        let _ = out.send((text.to_owned(), now));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Waits (bounded) for `text` on a listener's channel.
async fn arrival(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, Instant)>,
    text: &str,
) -> anyhow::Result<Instant> {
    let wait = async {
        while let Some((t, at)) = rx.recv().await {
            if t == text {
                return Some(at);
            }
        }
        None
    };
    tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .ok()
        .flatten()
        .with_context(|| format!("no live event for {text:?} within 10 s"))
}

/// Cross-node event latency: one conversation on `--url`, listened to on both nodes; each
/// message is posted on `--url` and timed until it arrives on the peer.
async fn events(args: BenchArgs, peer: String) -> anyhow::Result<()> {
    let base = args.url.clone().context("--url is required")?;
    let base = base.trim_end_matches('/').to_owned();
    let peer = peer.trim_end_matches('/').to_owned();
    let client = reqwest::Client::new();
    let created: serde_json::Value = client
        .post(format!("{base}/api/v1/conversations"))
        .json(&serde_json::json!({}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let id = created["id"].as_str().context("no id")?.to_owned();
    let token = created["token"].as_str().context("no token")?.to_owned();
    let mut receivers = Vec::new();
    for node in [&base, &peer] {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (subscribed, ready) = tokio::sync::oneshot::channel();
        tokio::spawn(listen(
            client.clone(),
            format!("{node}/api/v1/conversations/{id}/events"),
            token.clone(),
            tx,
            subscribed,
        ));
        ready.await.context("cannot subscribe")?;
        receivers.push(rx);
    }
    eprintln!(
        "bench: {} messages posted on {base}, heard on {peer}",
        args.messages
    );
    let (mut cross, mut extra) = (Vec::new(), Vec::new());
    for i in 0..args.messages {
        let text = format!("{} ({i})", QUESTIONS[i % QUESTIONS.len()]);
        let sent = Instant::now();
        let res = client
            .post(format!("{base}/api/v1/conversations/{id}/messages"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"text": text}))
            .send()
            .await?;
        anyhow::ensure!(
            res.status().as_u16() == 201,
            "message refused: {}",
            res.status()
        );
        let local = arrival(&mut receivers[0], &text).await?;
        let remote = arrival(&mut receivers[1], &text).await?;
        cross.push(remote - sent);
        extra.push(remote.saturating_duration_since(local));
    }
    cross.sort();
    extra.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let result = serde_json::json!({
        "messages": cross.len(),
        "post_to_peer_ms": {"p50": ms(percentile(&cross, 0.5)), "p99": ms(percentile(&cross, 0.99))},
        "peer_after_local_ms": {"p50": ms(percentile(&extra, 0.5)), "p99": ms(percentile(&extra, 0.99))},
    });
    if args.json {
        println!("{result}");
    } else {
        println!(
            "{} messages: POST on node A → SSE on node B p50 {:.2} ms, p99 {:.2} ms; B after A's own SSE p50 {:.2} ms, p99 {:.2} ms",
            cross.len(),
            ms(percentile(&cross, 0.5)),
            ms(percentile(&cross, 0.99)),
            ms(percentile(&extra, 0.5)),
            ms(percentile(&extra, 0.99))
        );
    }
    Ok(())
}

async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    let mut _tmp = None;
    let base = match &args.url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let dir = tempfile::tempdir()?;
            let store = super::serve::open_store(None, dir.path()).await?;
            let app = Application::build(Settings::local(Playbook::demo()), store).await?;
            let base = format!("http://{}", app.local_addr()?);
            tokio::spawn(app.run());
            _tmp = Some(dir);
            base
        }
    };
    let texts: Arc<Vec<String>> = Arc::new(match &args.texts {
        Some(path) => read_texts(path)?,
        None => QUESTIONS.iter().map(|q| (*q).to_owned()).collect(),
    });
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    eprintln!(
        "bench: {} messages ({} different), concurrency {}, against {base}",
        args.messages,
        texts.len(),
        args.concurrency
    );
    let skipped_before = encoder_skipped(&client, &base).await;
    let Driven {
        mut latencies,
        answered,
        handed_off,
        elapsed,
    } = drive(&client, &base, &texts, &args).await?;
    let skipped = match (skipped_before, encoder_skipped(&client, &base).await) {
        (Some(before), Some(after)) => Some(after.saturating_sub(before)),
        _ => None,
    };
    latencies.sort();
    let pct = |p: f64| percentile(&latencies, p);
    let sent = latencies.len();
    let rate = sent as f64 / elapsed.as_secs_f64();
    let result = serde_json::json!({
        "messages": sent,
        "answered_by_bot": answered,
        "handed_off": handed_off,
        "encoder_skipped": skipped,
        "concurrency": args.concurrency,
        "seconds": elapsed.as_secs_f64(),
        "messages_per_sec": rate,
        "latency_ms": {"p50": pct(0.50).as_secs_f64() * 1e3, "p99": pct(0.99).as_secs_f64() * 1e3},
    });
    let limit = match (args.limit, &args.limit_database_url, &_tmp) {
        (false, _, _) => None,
        (true, Some(url), _) => Some(
            super::bench_limit::postgres(
                url,
                args.concurrency,
                Duration::from_secs(args.limit_secs),
            )
            .await?,
        ),
        (true, None, Some(dir)) => {
            // The yardstick: a bare axum + SQLite server, driven exactly as the desk was.
            let bare = super::bench_limit::sqlite_server(dir.path()).await?;
            let run = drive(&client, &bare, &texts, &args).await?;
            let per_sec = run.latencies.len() as f64 / run.elapsed.as_secs_f64();
            let mut sorted = run.latencies;
            sorted.sort();
            let without_http = super::bench_limit::sqlite(
                dir.path(),
                args.concurrency,
                Duration::from_secs(args.limit_secs),
            )
            .await?;
            Some(super::bench_limit::Limit {
                what: format!(
                    "a bare axum + SQLite server: durable inserts, group commit, the same client; p99 {:.2} ms",
                    percentile(&sorted, 0.99).as_secs_f64() * 1e3
                ),
                per_sec,
                also: vec![(without_http.what, without_http.per_sec)],
            })
        }
        (true, None, None) => {
            anyhow::bail!(
                "--limit with --url needs --limit-database-url (the desk's PostgreSQL database)"
            )
        }
    };
    let mut result = result;
    if let Some(l) = &limit {
        result["limit"] = serde_json::json!({
            "what": l.what, "per_sec": l.per_sec, "desk_share": rate / l.per_sec,
            "also": l.also.iter().map(|(w, n)| serde_json::json!({"what": w, "per_sec": n})).collect::<Vec<_>>(),
        });
    }
    if args.json {
        println!("{result}");
    } else {
        let skipped = skipped.map_or("not reported".to_owned(), |n| n.to_string());
        println!(
            "{sent} messages ({answered} answered by the bot, {handed_off} handed off) in {:.2}s: {rate:.0} messages/s, p50 {:.2} ms, p99 {:.2} ms; encoder skipped (over its budget): {skipped}",
            elapsed.as_secs_f64(),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3
        );
        if let Some(l) = &limit {
            println!(
                "limit: {:.0} inserts/s ({}); the desk does {:.2} of it",
                l.per_sec,
                l.what,
                rate / l.per_sec
            );
            for (what, n) in &l.also {
                println!("       {n:.0} inserts/s ({what})");
            }
        }
    }
    Ok(())
}

/// What a run of all workers measured.
struct Driven {
    latencies: Vec<Duration>,
    answered: usize,
    handed_off: usize,
    elapsed: Duration,
}

/// `args.concurrency` simulated customers, `args.messages` messages in all, against `base`.
async fn drive(
    client: &reqwest::Client,
    base: &str,
    texts: &Arc<Vec<String>>,
    args: &BenchArgs,
) -> anyhow::Result<Driven> {
    let per_worker = args.messages.div_ceil(args.concurrency);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let client = client.clone();
        let base = base.to_owned();
        let texts = texts.clone();
        let per_conversation = args.per_conversation.max(1);
        workers.push(tokio::spawn(async move {
            worker(client, base, texts, w, per_worker, per_conversation).await
        }));
    }
    let mut run = Driven {
        latencies: Vec::with_capacity(args.messages),
        answered: 0,
        handed_off: 0,
        elapsed: Duration::ZERO,
    };
    for w in workers {
        let done = w.await.context("worker panicked")??;
        run.latencies.extend(done.latencies);
        run.answered += done.answered;
        run.handed_off += done.handed_off;
    }
    run.elapsed = started.elapsed();
    Ok(run)
}

/// What one simulated customer measured.
struct Done {
    latencies: Vec<Duration>,
    answered: usize,
    handed_off: usize,
}

async fn worker(
    client: reqwest::Client,
    base: String,
    texts: Arc<Vec<String>>,
    w: usize,
    messages: usize,
    per_conversation: usize,
) -> anyhow::Result<Done> {
    let mut latencies = Vec::with_capacity(messages);
    let (mut answered, mut handed_off) = (0, 0);
    let mut sent = 0;
    let client = Arc::new(client);
    // Customers start at different places of the list, each going through all of it.
    let offset = w * 7919;
    while sent < messages {
        let created: serde_json::Value = client
            .post(format!("{base}/api/v1/conversations"))
            .json(&serde_json::json!({}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = created["id"].as_str().context("no id")?.to_owned();
        let token = created["token"].as_str().context("no token")?.to_owned();
        for _ in 0..per_conversation.min(messages - sent) {
            let text = &texts[(offset + sent) % texts.len()];
            let t0 = Instant::now();
            let res = client
                .post(format!("{base}/api/v1/conversations/{id}/messages"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"text": text}))
                .send()
                .await?;
            anyhow::ensure!(
                res.status().as_u16() == 201,
                "message refused: {}",
                res.status()
            );
            let body: serde_json::Value = res.json().await?;
            latencies.push(t0.elapsed());
            sent += 1;
            if body["state"] != "bot" {
                // Handed off: later messages would be stored without triage.
                handed_off += 1;
                break;
            }
            if body["messages"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| m["author"] == "bot"))
            {
                answered += 1;
            }
        }
    }
    Ok(Done {
        latencies,
        answered,
        handed_off,
    })
}
