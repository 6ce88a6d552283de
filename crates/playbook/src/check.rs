//! Checking a playbook: every problem at once, each with the line it is on, so an admin who
//! imports a file can mend all of it in one go.

use std::collections::HashSet;
use std::fmt;

use crate::{Playbook, Routing, REASONS};

/// One thing wrong with a playbook, with its line (1-based) when the text is known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Where the sections of a playbook's text start.
struct Sections<'a> {
    text: Option<&'a str>,
}

impl Sections<'_> {
    /// The line of the `nth` (0-based) header `header`, e.g. the third `[[intent]]`.
    fn nth(&self, header: &str, nth: usize) -> Option<usize> {
        self.text?
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with(header))
            .nth(nth)
            .map(|(i, _)| i + 1)
    }

    fn first(&self, header: &str) -> Option<usize> {
        self.nth(header, 0)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl Playbook {
    /// Parses and checks `text`: the playbook, or every problem found, each with its line.
    pub fn check(text: &str) -> Result<Playbook, Vec<Problem>> {
        let playbook: Playbook = toml::from_str(text).map_err(|e| {
            vec![Problem {
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_owned(),
            }]
        })?;
        let problems = playbook.problems(Some(text));
        if problems.is_empty() {
            Ok(playbook)
        } else {
            Err(problems)
        }
    }

    /// Every problem of a parsed playbook; with its `text`, each knows its line.
    pub(crate) fn problems(&self, text: Option<&str>) -> Vec<Problem> {
        let at = Sections { text };
        let mut out = Vec::new();
        let mut say = |line: Option<usize>, message: String| out.push(Problem { line, message });
        if self.desk.locales.is_empty() {
            say(
                at.first("[desk]"),
                "[desk] locales must name at least one locale".into(),
            );
        }
        let mut seen = HashSet::new();
        for (i, intent) in self.intents.iter().enumerate() {
            let line = at.nth("[[intent]]", i);
            if !valid_id(&intent.id) {
                say(
                    line,
                    format!("intent id {:?} must match [a-z0-9_]+", intent.id),
                );
            }
            if !seen.insert(intent.id.as_str()) {
                say(line, format!("intent id {:?} appears twice", intent.id));
            }
            if intent.examples.iter().all(|e| e.trim().is_empty()) {
                say(line, format!("intent {:?} has no examples", intent.id));
            }
        }
        let mut seen = HashSet::new();
        for (i, article) in self.articles.iter().enumerate() {
            if article.id.is_empty() || !seen.insert(article.id.as_str()) {
                say(
                    at.nth("[[article]]", i),
                    format!("article id {:?} is empty or appears twice", article.id),
                );
            }
        }
        if let Some(routing) = &self.routing {
            for (reason, message) in routing.problems() {
                let line = reason
                    .and_then(|r| at.first(&format!("[routing.needs.{r}]")))
                    .or_else(|| at.first("[routing"));
                say(line, message);
            }
        }
        out
    }
}

/// An intent id: `[a-z0-9_]+`.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

impl Routing {
    /// Every problem of the routing overrides, with the reason whose entry it is in.
    pub(crate) fn problems(&self) -> Vec<(Option<&str>, String)> {
        let mut out = Vec::new();
        for (reason, needs) in &self.needs {
            let r = Some(reason.as_str());
            if !REASONS.contains(&reason.as_str()) {
                out.push((
                    r,
                    format!(
                        "[routing.needs.{reason}]: unknown reason; use one of {}",
                        REASONS.join(", ")
                    ),
                ));
            }
            for (name, level) in [
                ("self", needs.self_),
                ("people", needs.people),
                ("situational", needs.situational),
            ] {
                if let Some(v) = level.filter(|v| !(1..=5).contains(v)) {
                    out.push((
                        r,
                        format!("[routing.needs.{reason}] {name} must be 1–5, got {v}"),
                    ));
                }
            }
            if needs.skills.iter().any(|s| s.trim().is_empty()) {
                out.push((
                    r,
                    format!("[routing.needs.{reason}] skills must not be blank"),
                ));
            }
        }
        let mut last = None;
        for step in self.relax.iter().flatten() {
            if !(-4..=0).contains(&step.levels) {
                out.push((
                    None,
                    format!(
                        "[routing] relax: levels must be between -4 and 0, got {}",
                        step.levels
                    ),
                ));
            }
            if last.is_some_and(|l| step.after_secs <= l) {
                out.push((
                    None,
                    "[routing] relax: after_secs must increase from step to step".into(),
                ));
            }
            last = Some(step.after_secs);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let text = "[desk]\nname = 'x'\n\n[[intent]]\nid = 'ok'\nexamples = ['a']\n\n[[intent]]\nid = 'Bad-Id'\nexamples = ['b']\n\n[[intent]]\nid = 'ok'\nexamples = ['  ']\n\n[routing.needs.angry]\npeople = 9\n";
        let problems = Playbook::check(text).expect_err("four problems");
        let got: Vec<(Option<usize>, bool)> = problems
            .iter()
            .map(|p| (p.line, p.message.is_empty()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(8), false),
                (Some(12), false),
                (Some(12), false),
                (Some(16), false),
                (Some(16), false)
            ],
            "{problems:?}"
        );
        assert!(problems[1].message.contains("appears twice"));
        assert!(problems[2].message.contains("no examples"));
        assert!(problems[3].message.contains("unknown reason"));
        assert!(problems[4].to_string().starts_with("line 16: "));
    }

    #[test]
    fn a_toml_error_names_its_line() {
        let problems = Playbook::check(
            "[desk]\nname = 'x'\n[[intent]]\nid = 'a'\nexamples = ['a' 'b']\nanswer.de = 'x'\n",
        )
        .expect_err("no comma");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(5), "{problems:?}");
    }
}
