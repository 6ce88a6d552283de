//! `tandem bench encoder`: the multilingual encoder on this machine — load time, resident
//! memory after loading, latency of one short message at a time, and batch throughput. A
//! benchmark, not a test: it reports what it measured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::bench::percentile;
use nlu::embedding::Embedder;

#[derive(clap::Args, Debug)]
pub struct EncoderBenchArgs {
    /// The model directory (written by `tandem model fetch`).
    #[arg(long, env = "TANDEM_MODEL_DIR")]
    pub encoder: Option<PathBuf>,
    /// Short messages embedded one at a time (after 10 warm-up calls).
    #[arg(long, default_value_t = 200)]
    pub messages: usize,
    /// Texts per call for the throughput run.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Clients sending one message at a time together, for the run that compares them on the
    /// shared encoder with and without batching (0: skip that run).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

const OPENINGS: &[&str] = &[
    "Wo ist meine Bestellung",
    "Ich möchte meine Rechnung",
    "Kann ich mit PayPal zahlen",
    "Mein Paket ist beschädigt",
    "Wie ändere ich meine Adresse",
    "Where is my order",
    "I want to cancel my subscription",
    "How much is shipping",
    "The package arrived broken",
    "Can I talk to a person",
];
const ENDINGS: &[&str] = &[
    "?",
    ", bitte schnell!",
    " seit Montag?",
    " for order 4711?",
    " – danke 🙂",
    ", please help",
    " heute noch?",
    " to Austria?",
    " über die App?",
    " right now",
];

/// 100 distinct short German/English customer messages (about 10 to 20 tokens each).
fn messages(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let o = OPENINGS[i % OPENINGS.len()];
            let e = ENDINGS[(i / OPENINGS.len() + i) % ENDINGS.len()];
            format!("{o}{e}")
        })
        .collect()
}

/// The resident and peak memory of this process in MB (`/proc/self/status`; Linux only).
pub(super) fn memory_mb() -> (Option<f64>, Option<f64>) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time (user + system) this process has used, from `/proc/self/stat` (Linux only).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports clock ticks; USER_HZ is 100 on every Linux that Tandem targets.
    Some(Duration::from_millis(ticks * 10))
}

/// The 1-minute load average, to say how busy the machine was.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `clients` threads embed `texts` one message per call (client `i` takes every `clients`-th
/// text from `i`): per-message latency quantiles and messages per second.
fn concurrent(
    embedder: &dyn Embedder,
    texts: &[String],
    clients: usize,
) -> anyhow::Result<serde_json::Value> {
    let started = Instant::now();
    let results: Vec<anyhow::Result<Vec<Duration>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|i| {
                scope.spawn(move || {
                    let mut times = Vec::new();
                    for t in texts.iter().skip(i).step_by(clients) {
                        let at = Instant::now();
                        let v = embedder
                            .embed(&[t.as_str()])
                            .map_err(|e| anyhow::anyhow!(e.0))?;
                        times.push(at.elapsed());
                        anyhow::ensure!(v.len() == 1, "wrong output shape");
                    }
                    Ok(times)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a client panicked")))
            })
            .collect()
    });
    let wall = started.elapsed();
    let mut times = Vec::with_capacity(texts.len());
    for r in results {
        times.extend(r?);
    }
    times.sort();
    Ok(serde_json::json!({
        "p50_ms": ms(percentile(&times, 0.5)),
        "p99_ms": ms(percentile(&times, 0.99)),
        "messages_per_s": times.len() as f64 / wall.as_secs_f64(),
    }))
}

pub fn run(args: EncoderBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.messages > 0 && args.batch > 0,
        "messages and batch must be > 0"
    );
    let dir = args.encoder.unwrap_or_else(encoder::default_model_dir);
    let (rss_before, _) = memory_mb();
    let started = Instant::now();
    let model = Arc::new(encoder::Encoder::load(&dir)?);
    let load = started.elapsed();
    let (rss_loaded, peak_loaded) = memory_mb();

    let texts = messages(args.messages);
    let tokens: Vec<usize> = texts.iter().map(|t| model.token_ids(t).len()).collect();
    for t in texts.iter().take(10) {
        model.embed(&[t])?;
    }
    let mut times = Vec::with_capacity(texts.len());
    let load_before = load_average();
    let cpu_before = cpu_time();
    for t in &texts {
        let at = Instant::now();
        let v = model.embed(&[t])?;
        times.push(at.elapsed());
        anyhow::ensure!(
            v.len() == 1 && v[0].len() == model.dim(),
            "wrong output shape"
        );
    }
    let cpu_per_message = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| ms(after.saturating_sub(before)) / texts.len() as f64);
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    times.sort();
    let pct = |p: f64| percentile(&times, p);

    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let at = Instant::now();
    for chunk in refs.chunks(args.batch) {
        model.embed(chunk).context("batch")?;
    }
    let batch_time = at.elapsed();
    let together = if args.concurrency > 0 {
        let direct = concurrent(model.as_ref(), &texts, args.concurrency)?;
        let batcher = nlu::batcher::Batcher::new(model.clone())?;
        let batched = concurrent(&batcher, &texts, args.concurrency)?;
        Some(serde_json::json!({"clients": args.concurrency, "direct": direct, "batched": batched}))
    } else {
        None
    };
    let (rss_end, peak_end) = memory_mb();

    let threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into());
    let result = serde_json::json!({
        "model_dir": dir.display().to_string(),
        "load_ms": ms(load),
        "rss_mb_before_load": rss_before,
        "rss_mb_after_load": rss_loaded,
        "peak_rss_mb_after_load": peak_loaded,
        "rss_mb_end": rss_end,
        "tokenizer_tables_mb": model.tokenizer().heap_bytes() as f64 / 1e6,
        "peak_rss_mb_end": peak_end,
        "messages": texts.len(),
        "mean_tokens": tokens.iter().sum::<usize>() as f64 / tokens.len() as f64,
        "single_ms": {"p50": ms(pct(0.5)), "p99": ms(pct(0.99)), "mean": ms(mean)},
        "single_cpu_ms_per_message": cpu_per_message,
        "load_average": {"before": load_before, "after": load_average()},
        "batch": args.batch,
        "batch_messages_per_s": texts.len() as f64 / batch_time.as_secs_f64(),
        "rayon_num_threads": threads,
        "concurrent": together,
    });
    if args.json {
        println!("{result}");
        return Ok(());
    }
    let mb = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.0} MB"));
    println!(
        "encoder bench ({}):\n  load {:.0} ms; RSS {} before, {} after load (peak {}), {} at the end (peak {}); tokenizer tables {:.1} MB\n  \
         one message at a time ({} messages, {:.1} tokens on average): p50 {:.1} ms, p99 {:.1} ms, mean {:.1} ms; \
         CPU time {} per message\n  \
         batches of {}: {:.0} messages/s\n{}  threads: RAYON_NUM_THREADS={threads}; machine load average {} before, {} after",
        dir.display(),
        ms(load),
        mb(rss_before),
        mb(rss_loaded),
        mb(peak_loaded),
        mb(rss_end),
        mb(peak_end),
        model.tokenizer().heap_bytes() as f64 / 1e6,
        texts.len(),
        tokens.iter().sum::<usize>() as f64 / tokens.len() as f64,
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(mean),
        cpu_per_message.map_or("?".to_string(), |c| format!("{c:.1} ms")),
        args.batch,
        texts.len() as f64 / batch_time.as_secs_f64(),
        together.as_ref().map_or(String::new(), |t| {
            let line = |k: &str| {
                format!(
                    "p50 {:.1} ms, p99 {:.1} ms, {:.0} messages/s",
                    t[k]["p50_ms"].as_f64().unwrap_or(f64::NAN),
                    t[k]["p99_ms"].as_f64().unwrap_or(f64::NAN),
                    t[k]["messages_per_s"].as_f64().unwrap_or(f64::NAN)
                )
            };
            format!(
                "  {} clients at once, one message per call: each on its own {}; batched {}\n",
                args.concurrency,
                line("direct"),
                line("batched")
            )
        }),
        load_before.map_or("?".to_string(), |l| format!("{l:.2}")),
        load_average().map_or("?".to_string(), |l| format!("{l:.2}")),
    );
    Ok(())
}
