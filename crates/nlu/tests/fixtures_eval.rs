//! The fast path on every fixture playbook, in the normal suite: each trained on its own
//! examples and judged on cases written apart from them, by another author. Floors a little under
//! what was measured (docs/benchmarks.md, issue 13), so a regression fails. `autohaus`,
//! `umzug`, `hotel`, `sprachschule`, `solar`, `bibliothek`, `hosting`, `zahnarzt`, `coworking`,
//! `dienstrad`, `fahrschule` and `hausverwaltung` are the held-back fixtures: nothing in the machine tier was
//! designed or tuned on them before their first run (docs/benchmarks.md).

use nlu::eval::{parse_cases, score, Report};
use nlu::MachineTier;

struct Floor {
    in_scope: f64,
    off_topic: f64,
    handoff_recall: f64,
    handoff_precision: f64,
}

fn eval(playbook: &str, cases: &str) -> Report {
    let playbook = playbook::Playbook::parse(playbook).expect("fixture playbook is valid");
    let cases = parse_cases(cases).expect("fixture cases are valid");
    let tier = MachineTier::train(&playbook).expect("trains");
    let decisions: Vec<_> = cases.iter().map(|c| tier.triage(&c.text)).collect();
    score(&cases, &decisions, &[], 0.0)
}

fn check(name: &str, r: &Report, floor: Floor) {
    let got = |v: Option<f64>| v.unwrap_or(0.0);
    let off = got(r.by_reason.get("low_confidence").and_then(|m| m.recall));
    let (acc, rec, prec) = (
        got(r.in_scope.accuracy),
        got(r.handoff.recall),
        got(r.handoff.precision),
    );
    assert!(r.in_scope.cases >= 80 && r.handoff.cases >= 45, "{name}");
    assert!(
        acc >= floor.in_scope
            && off >= floor.off_topic
            && rec >= floor.handoff_recall
            && prec >= floor.handoff_precision,
        "{name}: in-scope {acc:.3}, off-topic recall {off:.3}, handoff recall {rec:.3}, precision {prec:.3}"
    );
}

/// One test per fixture: `name: "dir/name" => (in-scope, off-topic, handoff recall, precision);`
macro_rules! fixtures {
    ($($test:ident: $path:literal => $floor:expr;)*) => {$(
        #[test]
        fn $test() {
            let r = eval(
                include_str!(concat!($path, ".toml")),
                include_str!(concat!($path, "_cases.jsonl")),
            );
            let (in_scope, off_topic, handoff_recall, handoff_precision) = $floor;
            check($path, &r, Floor { in_scope, off_topic, handoff_recall, handoff_precision });
        }
    )*};
}

fixtures! {
    radhaus: "fixtures/radhaus" => (0.72, 0.88, 0.95, 0.70);
    fitnesspark: "fixtures/dev/fitnesspark" => (0.62, 0.95, 0.95, 0.63);
    versicherung: "fixtures/dev/versicherung" => (0.67, 0.85, 0.93, 0.68);
    buergeramt: "fixtures/dev/buergeramt" => (0.81, 0.90, 0.92, 0.86);
    faktura: "fixtures/dev/faktura" => (0.69, 0.90, 0.95, 0.68);
    tierarzt: "fixtures/dev/tierarzt" => (0.70, 0.90, 0.95, 0.68);
    carsharing: "fixtures/dev/carsharing" => (0.68, 0.95, 0.95, 0.68);
    autohaus_held_back: "holdout/autohaus" => (0.75, 0.80, 0.90, 0.75);
    umzug_held_back: "holdout/umzug" => (0.65, 0.80, 0.86, 0.68);
    hotel_held_back: "holdout/hotel" => (0.64, 0.80, 0.92, 0.64);
    sprachschule_held_back: "holdout/sprachschule" => (0.74, 0.75, 0.85, 0.72);
    solar_held_back: "holdout/solar" => (0.80, 0.85, 0.93, 0.79);
    bibliothek_held_back: "holdout/bibliothek" => (0.74, 0.85, 0.88, 0.70);
    hosting_held_back: "holdout/hosting" => (0.81, 0.70, 0.88, 0.80);
    zahnarzt_held_back: "holdout/zahnarzt" => (0.77, 0.85, 0.90, 0.77);
    coworking_held_back: "holdout/coworking" => (0.72, 0.95, 0.95, 0.77);
    dienstrad_held_back: "holdout/dienstrad" => (0.59, 0.75, 0.85, 0.61);
    fahrschule_held_back: "holdout/fahrschule" => (0.79, 0.70, 0.87, 0.77);
    hausverwaltung_held_back: "holdout/hausverwaltung" => (0.69, 0.60, 0.82, 0.67);
}
