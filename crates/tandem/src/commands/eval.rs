//! `tandem eval`: train on a playbook, decide every case of a JSON Lines file, print the metrics
//! of docs/playbook.md (`--json`: one object) — the arithmetic lives in `nlu::eval`.
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The playbook (TOML) to train on.
    #[arg(long, env = "TANDEM_PLAYBOOK")]
    pub playbook: PathBuf,
    /// Labelled cases, JSON Lines: {"text","expect"[,"reason"]}.
    #[arg(long, env = "TANDEM_CASES")]
    pub cases: PathBuf,
    /// Print the metrics as one JSON object.
    #[arg(long, env = "TANDEM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub encoder: super::encoder_arg::EncoderArgs,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let playbook = playbook::Playbook::from_file(&args.playbook)?;
    let text = std::fs::read_to_string(&args.cases)
        .with_context(|| format!("cannot read cases {}", args.cases.display()))?;
    let cases = nlu::eval::parse_cases(&text)
        .with_context(|| format!("invalid cases file {}", args.cases.display()))?;
    let mut cache = None;
    let encoder = match (args.encoder.load()?, std::env::var_os("TANDEM_EMBED_CACHE")) {
        (Some(inner), Some(file)) => {
            let cached =
                std::sync::Arc::new(super::embed_cache::CachedEmbedder::open(inner, file.into()));
            cache = Some(cached.clone());
            Some(cached as std::sync::Arc<dyn nlu::embedding::Embedder>)
        }
        (encoder, _) => encoder,
    };
    let with_encoder = encoder.is_some();
    let started = Instant::now();
    let mut progress = super::encoder_arg::progress("playbook examples");
    let (tier, cascade) = nlu::MachineTier::train_with(&playbook, encoder, &mut progress)
        .with_context(|| format!("cannot train on {}", args.playbook.display()))?;
    let train_ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Some(cache) = cache
        .as_ref()
        .filter(|_| std::env::var_os("TANDEM_EMBED_CACHE_CASES").is_some())
    {
        // Development aid: put every case's vector in the cache too, for offline analysis.
        use nlu::embedding::Embedder;
        let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
        for chunk in texts.chunks(64) {
            cache.embed(chunk)?;
        }
    }
    let mut decisions = Vec::with_capacity(cases.len());
    let mut latencies = Vec::with_capacity(cases.len());
    let mut top1_right = 0usize;
    let mut top1_total = 0usize;
    let mut by_stage: std::collections::BTreeMap<&'static str, usize> = Default::default();
    let dump_to = std::env::var("TANDEM_EVAL_DUMP").ok();
    let dump_file = dump_to.as_deref().filter(|f| f.ends_with(".jsonl"));
    let mut views = Vec::new();
    for case in &cases {
        let t0 = Instant::now();
        let (d, why) = tier.triage_explained(&case.text);
        latencies.push(t0.elapsed().as_secs_f64() * 1e6);
        *by_stage.entry(why.stage).or_default() += 1;
        if dump_file.is_some() {
            views.push(serde_json::json!({
                "top": why.ranked.first().map(|r| r.0.clone()),
                "stage": why.stage,
                "evidence": why.evidence.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                    .collect::<serde_json::Map<_, _>>(),
            }));
        }
        if let nlu::eval::Expected::Intent(expected) = &case.expected {
            top1_total += 1;
            let best = why.ranked.into_iter().next().and_then(|(id, _)| id);
            top1_right += usize::from(best.as_deref() == Some(expected.as_str()));
        }
        decisions.push(d);
    }
    if let Some(cache) = cache {
        cache.save().context("cannot write TANDEM_EMBED_CACHE")?;
    }
    match (dump_file, &dump_to) {
        (Some(file), _) => dump_all(file, &cases, &decisions, &views)?,
        (None, Some(_)) => dump(&cases, &decisions),
        (None, None) => {}
    }
    let report = nlu::eval::score(&cases, &decisions, &latencies, train_ms);
    // Share of intent cases whose best-ranked intent is the expected one, whatever the action.
    let top1 = (top1_total > 0).then(|| top1_right as f64 / top1_total as f64);
    let mean_us = latencies.iter().sum::<f64>() / latencies.len().max(1) as f64;
    let decided_by: serde_json::Map<String, serde_json::Value> = by_stage
        .iter()
        .map(|(k, v)| {
            (
                (*k).to_string(),
                serde_json::json!(*v as f64 / cases.len().max(1) as f64),
            )
        })
        .collect();
    if args.json {
        // Extensions: `in_scope.top1`, the classifier's best guess before any threshold, to
        // compare with peers that never hand off; `triage_us.mean`; `cascade`: whether the
        // encoder ran, which stage decided what share of cases, and the fast path's "sure" level.
        let mut value = serde_json::to_value(&report)?;
        value["in_scope"]["top1"] = serde_json::json!(top1);
        value["triage_us"]["mean"] = serde_json::json!(mean_us);
        value["cascade"] = serde_json::json!({
            "encoder": with_encoder,
            "decided_by": decided_by,
            "fast_path_sure": cascade.sure,
            "lexical_weight": cascade.lexical_weight,
            "answer_at": cascade.answer_at,
        });
        println!("{value}");
    } else {
        print_table(&report);
        println!("top-1 (no threshold) {:>7}", pct(top1));
        println!("triage mean          {mean_us:.0} µs");
        if with_encoder {
            let shares: Vec<String> = decided_by
                .iter()
                .map(|(k, v)| format!("{k} {:.1}%", v.as_f64().unwrap_or(0.0) * 100.0))
                .collect();
            println!(
                "cascade              decided by {}; fast path sure from {:.2}; lexical weight {:.2}; encoder answers from {:.2} (alone {:.2})",
                shares.join(", "),
                cascade.sure.unwrap_or(1.0),
                cascade.lexical_weight.unwrap_or(0.0),
                cascade.answer_at.map_or(0.5, |a| a.0),
                cascade.answer_at.map_or(0.5, |a| a.1),
            );
        }
    }
    Ok(())
}

/// With `TANDEM_EVAL_DUMP=FILE.jsonl`: every case with its decision and the model's view (best
/// intent before any threshold, stage, evidence), one JSON object a line, for offline analysis.
fn dump_all(
    file: &str,
    cases: &[nlu::eval::Case],
    decisions: &[nlu::Triage],
    views: &[serde_json::Value],
) -> anyhow::Result<()> {
    use nlu::eval::Expected;
    let mut out = String::new();
    for ((c, d), view) in cases.iter().zip(decisions).zip(views) {
        let (expect, reason) = match &c.expected {
            Expected::Intent(id) => (id.clone(), None),
            Expected::Handoff(r) => ("handoff".to_string(), r.map(|r| r.as_str())),
        };
        let mut line = serde_json::json!({
            "text": c.text, "expect": expect, "reason": reason, "decision": d,
        });
        line["view"] = view.clone();
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(file, out).with_context(|| format!("cannot write {file}"))
}

/// With `TANDEM_EVAL_DUMP` set (not to a `.jsonl` file): every wrong decision on stderr.
fn dump(cases: &[nlu::eval::Case], decisions: &[nlu::Triage]) {
    use nlu::eval::Expected;
    for (c, d) in cases.iter().zip(decisions) {
        let ok = match &c.expected {
            Expected::Intent(id) => {
                d.action == nlu::Action::Answer && d.intent.as_deref() == Some(id)
            }
            Expected::Handoff(r) => {
                d.action == nlu::Action::Handoff && r.is_none_or(|r| d.reasons.contains(&r))
            }
        };
        if !ok {
            let expected = match &c.expected {
                Expected::Intent(id) => id.clone(),
                Expected::Handoff(r) => format!("handoff/{}", r.map(|r| r.as_str()).unwrap_or("-")),
            };
            let reasons: Vec<&str> = d.reasons.iter().map(|r| r.as_str()).collect();
            eprintln!(
                "want {expected:<28} got {:?} {:<24} conf {:.2} [{}] {}",
                d.action,
                d.intent.as_deref().or(d.article.as_deref()).unwrap_or("-"),
                d.confidence,
                reasons.join(","),
                c.text
            );
        }
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.1}%", v * 100.0))
        .unwrap_or_else(|| "n/a".into())
}

fn print_table(r: &nlu::eval::Report) {
    println!("cases                {}", r.cases);
    println!(
        "in scope             {:>6} cases   accuracy {:>7}   (wrong answer {}, clarified {}, handed off {})",
        r.in_scope.cases,
        pct(r.in_scope.accuracy),
        r.in_scope.wrong_answer,
        r.in_scope.clarified,
        r.in_scope.handed_off
    );
    println!(
        "handoff              {:>6} cases   recall   {:>7}   precision {}   (answered {}, clarified {})",
        r.handoff.cases,
        pct(r.handoff.recall),
        pct(r.handoff.precision),
        r.handoff.answered,
        r.handoff.clarified
    );
    for (reason, m) in &r.by_reason {
        println!(
            "  {:<22} {:>5} cases   recall   {:>7}   fired on others {}",
            reason,
            m.cases,
            pct(m.recall),
            pct(m.fired_on_others)
        );
    }
    println!(
        "triage               p50 {:.0} µs   p99 {:.0} µs",
        r.triage_us.p50, r.triage_us.p99
    );
    println!("training             {:.0} ms", r.train_ms);
}
