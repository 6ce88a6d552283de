//! Development aid (not part of the product): generates small playbooks from the public pool
//! (`python3 bench/pool.py`), trains the machine tier on each exactly as the desk would, and judges
//! unseen messages: in-scope ones of the playbook's intents, ones of the source's other intents
//! (near the business, but not answered by it) and off-topic ones. Prints one CSV row per message
//! (for fitting and checking the shipped calibration) and a summary per playbook shape.
//!
//! `cargo run --release -p nlu --example transfer -- [--playbooks 200] [--seed 1] [--pool FILE] [--out FILE]`
use std::collections::BTreeMap;
use std::io::Write;

use serde::Deserialize;

#[derive(Deserialize)]
struct Row {
    source: String,
    intent: String,
    role: String,
    text: String,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

#[derive(Default)]
struct Source {
    examples: BTreeMap<String, Vec<String>>,
    messages: BTreeMap<String, Vec<String>>,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n_playbooks: usize = arg(&args, "--playbooks").map_or(Ok(200), |s| s.parse())?;
    let seed: u64 = arg(&args, "--seed").map_or(Ok(1), |s| s.parse())?;
    let pool = arg(&args, "--pool").unwrap_or_else(|| "bench/out/pool.jsonl".into());
    let out = arg(&args, "--out").unwrap_or_else(|| "bench/out/transfer.csv".into());
    let sizes: Vec<usize> = arg(&args, "--sizes")
        .unwrap_or_else(|| "3,5,8".into())
        .split(',')
        .map(|s| s.parse())
        .collect::<Result<_, _>>()?;
    let mut sources: BTreeMap<String, Source> = BTreeMap::new();
    let mut oos_examples = Vec::new();
    let mut offtopic = Vec::new();
    for line in std::fs::read_to_string(&pool)?.lines() {
        let r: Row = serde_json::from_str(line)?;
        match r.role.as_str() {
            "offtopic_example" => oos_examples.push(r.text),
            "offtopic" => offtopic.push(r.text),
            role => {
                let s = sources.entry(r.source).or_default();
                let m = if role == "example" {
                    &mut s.examples
                } else {
                    &mut s.messages
                };
                m.entry(r.intent).or_default().push(r.text);
            }
        }
    }
    let names: Vec<String> = sources.keys().cloned().collect();
    let mut rng = Rng(seed);
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&out)?);
    writeln!(
        csv,
        "playbook,source,intents,per_intent,oos,kind,top1,top2,top_oos,confidence,action_answer,p1,p2,s1,s2,s_any,coverage,s_oos,n1"
    )?;
    // (answered right, ranked right, in-scope, off-topic handed off, off-topic, near handed off, near)
    let mut by_shape: BTreeMap<(usize, bool), [usize; 7]> = BTreeMap::new();
    for g in 0..n_playbooks {
        let sname = names[rng.below(names.len())].clone();
        let source = &sources[&sname];
        let mut intents: Vec<&String> = source.examples.keys().collect();
        rng.shuffle(&mut intents);
        let k = 5 + rng.below(36).min(intents.len() - 5);
        let per = sizes[rng.below(sizes.len())];
        let with_oos = rng.below(2) == 0;
        let (chosen, others) = intents.split_at(k);
        let mut playbook = playbook::Playbook::parse(
            "[desk]\nname = \"generated\"\nlocales = [\"en\", \"de\"]\n",
        )?;
        for (i, id) in chosen.iter().enumerate() {
            let mut ex = source.examples[*id].clone();
            rng.shuffle(&mut ex);
            ex.truncate(per);
            playbook.intents.push(playbook::Intent {
                id: format!("i{i}"),
                examples: ex,
                answer: BTreeMap::new(),
                handoff: false,
                skills: Vec::new(),
                kind: Default::default(),
            });
        }
        if with_oos {
            let mut ex = oos_examples.clone();
            rng.shuffle(&mut ex);
            ex.truncate(5 + rng.below(6));
            playbook.out_of_scope.examples = ex;
        }
        let tier = nlu::MachineTier::train(&playbook)?;
        let mut judged: Vec<(&str, Option<String>, &str)> = Vec::new();
        for (i, id) in chosen.iter().enumerate() {
            let mut m = source.messages[*id].clone();
            rng.shuffle(&mut m);
            for t in m.into_iter().take(6) {
                judged.push(("in", Some(format!("i{i}")), leak(t)));
            }
        }
        for _ in 0..(2 * k).min(60) {
            let id = others[rng.below(others.len())];
            let m = &source.messages[id];
            judged.push(("near", None, leak(m[rng.below(m.len())].clone())));
        }
        for _ in 0..20 {
            judged.push((
                "off",
                None,
                leak(offtopic[rng.below(offtopic.len())].clone()),
            ));
        }
        let tally = by_shape.entry((per, with_oos)).or_default();
        for (kind, truth, text) in judged {
            let (t, e) = tier.triage_explained(text);
            let top1 = truth.is_some() && e.ranked.first().and_then(|r| r.0.clone()) == truth;
            let answered = t.action == nlu::Action::Answer;
            write_row(
                &mut csv,
                &g.to_string(),
                &sname,
                k,
                per,
                with_oos,
                kind,
                &truth,
                &t,
                &e,
            )?;
            match kind {
                "in" => {
                    tally[2] += 1;
                    if top1 {
                        tally[1] += 1;
                        if answered && t.intent == truth {
                            tally[0] += 1;
                        }
                    }
                }
                "off" => {
                    tally[4] += 1;
                    tally[3] += usize::from(t.action == nlu::Action::Handoff);
                }
                _ => {
                    tally[6] += 1;
                    tally[5] += usize::from(t.action == nlu::Action::Handoff);
                }
            }
        }
    }
    for pair in args
        .iter()
        .enumerate()
        .filter(|(_, a)| *a == "--fixture")
        .filter_map(|(i, _)| Some((args.get(i + 1)?, args.get(i + 2)?)))
    {
        let playbook = playbook::Playbook::from_file(std::path::Path::new(pair.0))?;
        let cases = nlu::eval::parse_cases(&std::fs::read_to_string(pair.1)?)?;
        let tier = nlu::MachineTier::train(&playbook)?;
        let name = std::path::Path::new(pair.0)
            .file_stem()
            .map_or("fixture".into(), |s| s.to_string_lossy().to_string());
        for c in &cases {
            let (kind, truth) = match &c.expected {
                nlu::eval::Expected::Intent(id) => ("in", Some(id.clone())),
                nlu::eval::Expected::Handoff(Some(nlu::Reason::LowConfidence)) => ("off", None),
                _ => continue,
            };
            let (t, e) = tier.triage_explained(&c.text);
            write_row(
                &mut csv,
                &name,
                &name,
                playbook.intents.len(),
                0,
                false,
                kind,
                &truth,
                &t,
                &e,
            )?;
        }
    }
    println!("per_intent oos | answered/ranked-right top1 | off-topic recall | near recall");
    let ratio = |a: usize, b: usize| a as f64 / b.max(1) as f64;
    for ((per, oos), t) in &by_shape {
        println!(
            "{per:>3} {:>5} | {:.3} {:.3} | {:.3} | {:.3}",
            oos,
            ratio(t[0], t[1]),
            ratio(t[1], t[2]),
            ratio(t[3], t[4]),
            ratio(t[5], t[6])
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_row(
    csv: &mut impl Write,
    playbook: &str,
    source: &str,
    k: usize,
    per: usize,
    with_oos: bool,
    kind: &str,
    truth: &Option<String>,
    t: &nlu::Triage,
    e: &nlu::Explanation,
) -> std::io::Result<()> {
    let top1 = truth.is_some() && e.ranked.first().and_then(|r| r.0.as_ref()) == truth.as_ref();
    let top2 = truth.is_some()
        && e.ranked
            .iter()
            .take(2)
            .any(|r| r.0.as_ref() == truth.as_ref());
    let ev = |name: &str| e.evidence.iter().find(|x| x.0 == name).map_or(0.0, |x| x.1);
    writeln!(
        csv,
        "{playbook},{source},{k},{per},{},{kind},{},{},{},{:.5},{},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{:.5},{}",
        u8::from(with_oos),
        u8::from(top1),
        u8::from(top2),
        u8::from(e.ranked.first().is_some_and(|r| r.0.is_none())),
        e.confidence,
        u8::from(t.action == nlu::Action::Answer),
        ev("p1"),
        ev("p2"),
        ev("s1"),
        ev("s2"),
        ev("s_any"),
        ev("coverage"),
        ev("s_oos"),
        ev("n1"),
    )
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}
