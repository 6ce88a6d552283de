//! A small end-to-end eval in the normal test suite: train on a playbook of another business
//! (a municipal energy utility) and decide cases written separately from its examples, in German
//! and English, covering every single-message handoff reason.

use nlu::eval::{parse_cases, score};
use nlu::{MachineTier, Reason};

const PLAYBOOK: &str = include_str!("fixtures/stadtwerke.toml");
const CASES: &str = include_str!("fixtures/stadtwerke_cases.jsonl");

#[test]
fn stadtwerke_playbook_meets_the_bars() {
    let playbook = playbook::Playbook::parse(PLAYBOOK).expect("fixture playbook is valid");
    let cases = parse_cases(CASES).expect("fixture cases are valid");
    let tier = MachineTier::train(&playbook).expect("trains");
    let decisions: Vec<_> = cases.iter().map(|c| tier.triage(&c.text)).collect();
    let report = score(&cases, &decisions, &[], 0.0);
    let accuracy = report.in_scope.accuracy.unwrap_or(0.0);
    let recall = report.handoff.recall.unwrap_or(0.0);
    let precision = report.handoff.precision.unwrap_or(0.0);
    assert!(report.in_scope.cases >= 90 && report.handoff.cases >= 45);
    assert!(accuracy >= 0.85, "in-scope accuracy {accuracy:.3}");
    assert!(recall >= 0.85, "handoff recall {recall:.3}");
    assert!(precision >= 0.80, "handoff precision {precision:.3}");
    for reason in [
        Reason::HumanRequested,
        Reason::LowConfidence,
        Reason::NegativeSentiment,
        Reason::Complaint,
        Reason::ComplexSales,
        Reason::SensitiveTopic,
        Reason::IntentRequiresHuman,
    ] {
        let m = report
            .by_reason
            .get(reason.as_str())
            .unwrap_or_else(|| panic!("no cases for {reason}"));
        let r = m.recall.unwrap_or(0.0);
        assert!(r >= 0.6, "{reason} recall {r:.3}");
    }
}
