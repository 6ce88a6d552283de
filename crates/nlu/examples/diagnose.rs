//! Error analysis for the intent model (not part of the product): trains on a playbook and shows
//! how confidence separates right answers, wrong answers and out-of-scope cases.
//! `cargo run --release -p nlu --example diagnose -- PLAYBOOK CASES`
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(pb), Some(cases)) = (args.get(1), args.get(2)) else {
        return Err("usage: diagnose PLAYBOOK CASES".into());
    };
    let playbook = playbook::Playbook::from_file(std::path::Path::new(pb))?;
    let cases = nlu::eval::parse_cases(&std::fs::read_to_string(cases)?)?;
    let t = Instant::now();
    let tier = nlu::MachineTier::train(&playbook)?;
    eprintln!("train {:?}", t.elapsed());
    let mut rows = Vec::new(); // (is_intent_case, top1_right, top2_right, conf, pair)
    for c in &cases {
        let e = tier.explain(&c.text);
        let (intent_case, r1, r2) = match &c.expected {
            nlu::eval::Expected::Intent(id) => (
                true,
                e.ranked.first().and_then(|r| r.0.as_deref()) == Some(id.as_str()),
                e.ranked
                    .iter()
                    .take(2)
                    .any(|r| r.0.as_deref() == Some(id.as_str())),
            ),
            _ => (false, false, false),
        };
        if std::env::var_os("DUMP").is_some() {
            let ev: Vec<String> = e.evidence.iter().map(|(_, v)| format!("{v:.4}")).collect();
            println!(
                "ROW {} {} {:.4} {}",
                u8::from(intent_case),
                u8::from(r1),
                e.confidence,
                ev.join(" ")
            );
        }
        rows.push((intent_case, r1, r2, e.confidence, e.pair_confidence));
    }
    let n_in = rows.iter().filter(|r| r.0).count().max(1) as f64;
    let n_out = rows.iter().filter(|r| !r.0).count().max(1) as f64;
    let raw = rows.iter().filter(|r| r.1).count() as f64 / n_in;
    let raw2 = rows.iter().filter(|r| r.2).count() as f64 / n_in;
    println!("raw top-1 accuracy {raw:.3}  top-2 {raw2:.3}");
    for th in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] {
        let acc = rows.iter().filter(|r| r.0 && r.1 && r.3 >= th).count() as f64 / n_in;
        let rec = rows.iter().filter(|r| !r.0 && r.3 < th).count() as f64 / n_out;
        println!("threshold {th:.1}: in-scope acc {acc:.3}  oos recall {rec:.3}");
    }
    Ok(())
}
