//! Eval: labelled cases (JSON Lines, docs/playbook.md "Cases") and the metric arithmetic of
//! `tandem eval`. Pure functions; the CLI does the timing and IO.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Action, Reason, Triage};

/// What a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Answer with this intent.
    Intent(String),
    /// A person should take it, optionally for this reason.
    Handoff(Option<Reason>),
}

/// One labelled message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub text: String,
    pub expected: Expected,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseLine {
    text: String,
    expect: String,
    #[serde(default)]
    reason: Option<String>,
}

/// A bad line in a cases file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line}: {message}")]
pub struct CaseError {
    pub line: usize,
    pub message: String,
}

/// Parse JSON Lines cases; blank lines are skipped, line numbers start at 1.
pub fn parse_cases(jsonl: &str) -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| CaseError {
            line: line_no,
            message,
        };
        let parsed: CaseLine = serde_json::from_str(line).map_err(|e| err(e.to_string()))?;
        let expected = if parsed.expect == "handoff" {
            let reason = match parsed.reason.as_deref() {
                None | Some("") => None,
                Some(r) => Some(
                    r.parse::<Reason>()
                        .map_err(|_| err(format!("unknown reason {r:?}")))?,
                ),
            };
            Expected::Handoff(reason)
        } else {
            if parsed.expect.is_empty() {
                return Err(err("\"expect\" is empty".into()));
            }
            if parsed.reason.is_some() {
                return Err(err(
                    "\"reason\" is only allowed with \"expect\": \"handoff\"".into(),
                ));
            }
            Expected::Intent(parsed.expect)
        };
        cases.push(Case {
            text: parsed.text,
            expected,
        });
    }
    Ok(cases)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InScope {
    pub cases: usize,
    /// Share answered with the expected intent (clarify and handoff count as wrong).
    pub accuracy: Option<f64>,
    /// Where the others went: answered with another intent or an article, clarified, handed off.
    pub wrong_answer: usize,
    pub clarified: usize,
    pub handed_off: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Handoff {
    pub cases: usize,
    pub recall: Option<f64>,
    pub precision: Option<f64>,
    /// Handoff cases the bot answered or clarified instead.
    pub answered: usize,
    pub clarified: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReasonMetrics {
    pub cases: usize,
    /// Share of cases labelled with this reason that were handed off with it.
    pub recall: Option<f64>,
    /// Share of the cases *not* labelled with this reason whose decision carries it anyway.
    pub fired_on_others: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Latency {
    pub p50: f64,
    pub p99: f64,
}

/// The metrics object of `tandem eval --json`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub cases: usize,
    pub in_scope: InScope,
    pub handoff: Handoff,
    pub by_reason: BTreeMap<String, ReasonMetrics>,
    pub triage_us: Latency,
    pub train_ms: f64,
}

fn share(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The `q`-quantile (0..=1) by nearest rank; 0 for no values.
pub fn percentile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Score decisions against cases (same order). `triage_us` holds one latency per decision.
pub fn score(cases: &[Case], decisions: &[Triage], triage_us: &[f64], train_ms: f64) -> Report {
    let mut in_scope = InScope {
        cases: 0,
        accuracy: None,
        wrong_answer: 0,
        clarified: 0,
        handed_off: 0,
    };
    let mut right = 0;
    let mut handoff_cases = 0;
    let mut handed_off_right = 0;
    let mut handoff_decisions = 0;
    let mut answered = 0;
    let mut clarified = 0;
    let mut labelled: BTreeMap<Reason, (usize, usize)> = BTreeMap::new();
    for (case, d) in cases.iter().zip(decisions) {
        if d.action == Action::Handoff {
            handoff_decisions += 1;
        }
        match &case.expected {
            Expected::Intent(id) => {
                in_scope.cases += 1;
                match d.action {
                    Action::Answer if d.intent.as_deref() == Some(id.as_str()) => right += 1,
                    Action::Answer => in_scope.wrong_answer += 1,
                    Action::Clarify => in_scope.clarified += 1,
                    Action::Handoff => in_scope.handed_off += 1,
                }
            }
            Expected::Handoff(reason) => {
                handoff_cases += 1;
                match d.action {
                    Action::Handoff => handed_off_right += 1,
                    Action::Answer => answered += 1,
                    Action::Clarify => clarified += 1,
                }
                if let Some(r) = reason {
                    let e = labelled.entry(*r).or_insert((0, 0));
                    e.0 += 1;
                    if d.action == Action::Handoff && d.reasons.contains(r) {
                        e.1 += 1;
                    }
                }
            }
        }
    }
    in_scope.accuracy = share(right, in_scope.cases);
    let by_reason = labelled
        .into_iter()
        .map(|(reason, (n, hit))| {
            let is_labelled =
                |c: &Case| matches!(c.expected, Expected::Handoff(Some(r)) if r == reason);
            let others: Vec<&Triage> = cases
                .iter()
                .zip(decisions)
                .filter(|(c, _)| !is_labelled(c))
                .map(|(_, d)| d)
                .collect();
            let fired = others
                .iter()
                .filter(|d| d.reasons.contains(&reason))
                .count();
            (
                reason.as_str().to_string(),
                ReasonMetrics {
                    cases: n,
                    recall: share(hit, n),
                    fired_on_others: share(fired, others.len()),
                },
            )
        })
        .collect();
    Report {
        cases: cases.len().min(decisions.len()),
        in_scope,
        handoff: Handoff {
            cases: handoff_cases,
            recall: share(handed_off_right, handoff_cases),
            precision: share(handed_off_right, handoff_decisions),
            answered,
            clarified,
        },
        by_reason,
        triage_us: Latency {
            p50: percentile(triage_us, 0.5),
            p99: percentile(triage_us, 0.99),
        },
        train_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(action: Action, intent: Option<&str>, reasons: &[Reason]) -> Triage {
        Triage {
            text: String::new(),
            intent: intent.map(str::to_string),
            confidence: 0.5,
            action,
            reasons: reasons.to_vec(),
            locale: "de".into(),
            article: None,
            sentiment: 0.0,
            candidates: Vec::new(),
        }
    }

    #[test]
    fn parses_cases_and_reports_bad_lines() {
        let ok = "{\"text\":\"a\",\"expect\":\"x\"}\n\n{\"text\":\"b\",\"expect\":\"handoff\",\"reason\":\"complaint\"}\n{\"text\":\"c\",\"expect\":\"handoff\"}";
        let cases = parse_cases(ok).expect("valid");
        assert_eq!(cases.len(), 3);
        assert_eq!(cases[0].expected, Expected::Intent("x".into()));
        assert_eq!(
            cases[1].expected,
            Expected::Handoff(Some(Reason::Complaint))
        );
        assert_eq!(cases[2].expected, Expected::Handoff(None));
        let bad = "{\"text\":\"a\",\"expect\":\"x\"}\n{oops";
        assert_eq!(parse_cases(bad).map_err(|e| e.line), Err(2));
        let bad_reason = "{\"text\":\"a\",\"expect\":\"handoff\",\"reason\":\"angry\"}";
        assert_eq!(parse_cases(bad_reason).map_err(|e| e.line), Err(1));
    }

    #[test]
    fn metric_arithmetic() {
        let cases = parse_cases(
            &[
                r#"{"text":"1","expect":"a"}"#,
                r#"{"text":"2","expect":"a"}"#,
                r#"{"text":"3","expect":"b"}"#,
                r#"{"text":"4","expect":"b"}"#,
                r#"{"text":"5","expect":"handoff","reason":"complaint"}"#,
                r#"{"text":"6","expect":"handoff","reason":"complaint"}"#,
                r#"{"text":"7","expect":"handoff"}"#,
            ]
            .join("\n"),
        )
        .expect("valid");
        let decisions = vec![
            decision(Action::Answer, Some("a"), &[]),
            decision(Action::Answer, Some("b"), &[]),
            decision(Action::Clarify, Some("b"), &[]),
            decision(Action::Handoff, Some("b"), &[Reason::Complaint]),
            decision(Action::Handoff, None, &[Reason::Complaint]),
            decision(Action::Handoff, None, &[Reason::LowConfidence]),
            decision(Action::Answer, Some("a"), &[]),
        ];
        let r = score(&cases, &decisions, &[10.0, 20.0, 30.0, 40.0], 5.0);
        assert_eq!(r.cases, 7);
        assert_eq!(r.in_scope.cases, 4);
        assert_eq!(r.in_scope.accuracy, Some(0.25));
        assert_eq!(
            (
                r.in_scope.wrong_answer,
                r.in_scope.clarified,
                r.in_scope.handed_off
            ),
            (1, 1, 1)
        );
        assert_eq!(r.handoff.cases, 3);
        assert_eq!(r.handoff.recall, Some(2.0 / 3.0));
        // 3 handoff decisions, 2 of them on handoff cases
        assert_eq!(r.handoff.precision, Some(2.0 / 3.0));
        let c = &r.by_reason["complaint"];
        assert_eq!(c.cases, 2);
        assert_eq!(c.recall, Some(0.5));
        // 5 other cases, one of which (case 4) carries complaint
        assert_eq!(c.fired_on_others, Some(0.2));
        assert_eq!(r.triage_us.p50, 20.0);
        assert_eq!(r.triage_us.p99, 40.0);
        assert_eq!(r.train_ms, 5.0);
    }

    #[test]
    fn empty_sets_give_no_ratio() {
        let r = score(&[], &[], &[], 0.0);
        assert_eq!(r.in_scope.accuracy, None);
        assert_eq!(r.handoff.precision, None);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.5), 2.0);
    }
}
