//! Changing the routing overrides (`[routing]`) in place: the needs of one handoff reason, and
//! the steps by which they relax. Each edit leaves the playbook unchanged when it refuses.

use crate::edit::invalid;
use crate::{EditError, Playbook, ReasonNeeds, RelaxStep, Routing, REASONS};

/// The longest wait a relaxation step may name: a week.
pub const MAX_WAIT_SECS: u64 = 7 * 24 * 3600;

impl Playbook {
    /// Sets what `reason` needs from a person; `None` brings back the built-in rule. Refused: an
    /// unknown reason, a level outside 1–5, a blank skill.
    pub fn set_reason_needs(
        &mut self,
        reason: &str,
        needs: Option<ReasonNeeds>,
    ) -> Result<(), EditError> {
        if !REASONS.contains(&reason) {
            return Err(invalid(
                "reason",
                format!(
                    "unknown reason {reason:?}; use one of {}",
                    REASONS.join(", ")
                ),
            ));
        }
        let mut routing = self.routing.clone().unwrap_or_default();
        match needs {
            Some(mut needs) => {
                for (field, level) in [
                    ("self", needs.self_),
                    ("people", needs.people),
                    ("situational", needs.situational),
                ] {
                    if let Some(v) = level.filter(|v| !(1..=5).contains(v)) {
                        return Err(invalid(field, format!("a level is 1–5, got {v}")));
                    }
                }
                if needs.skills.iter().any(|s| s.trim().is_empty()) {
                    return Err(invalid("skills", "a skill must not be blank"));
                }
                needs.skills = needs.skills.iter().map(|s| s.trim().to_owned()).collect();
                routing.needs.insert(reason.to_owned(), needs);
            }
            None => {
                routing.needs.remove(reason);
            }
        }
        self.routing = kept(routing);
        Ok(())
    }

    /// Sets the relaxation steps; `None` brings back the built-in ones, an empty list means
    /// needs never relax. Refused: `after_secs` that do not increase, levels outside -4–0.
    pub fn set_relax(&mut self, steps: Option<Vec<RelaxStep>>) -> Result<(), EditError> {
        if let Some(step) = steps
            .iter()
            .flatten()
            .find(|s| s.after_secs > MAX_WAIT_SECS)
        {
            return Err(invalid(
                "relax",
                format!(
                    "after_secs is at most {MAX_WAIT_SECS} (a week), got {}",
                    step.after_secs
                ),
            ));
        }
        let mut routing = self.routing.clone().unwrap_or_default();
        routing.relax = steps;
        if let Some((_, message)) = routing.problems().into_iter().next() {
            let message = message.trim_start_matches("[routing] relax: ").to_owned();
            return Err(invalid("relax", message));
        }
        self.routing = kept(routing);
        Ok(())
    }
}

/// `[routing]` as the file would say it: absent when it overrides nothing.
fn kept(routing: Routing) -> Option<Routing> {
    (!routing.needs.is_empty() || routing.relax.is_some()).then_some(routing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Playbook {
        Playbook::parse(
            "[desk]\nname='x'\n[[intent]]\nid='a'\nexamples=['eins']\nanswer.de='Hallo'\n",
        )
        .expect("valid")
    }

    #[test]
    fn a_reason_s_needs_are_set_checked_and_reset() {
        let mut p = base();
        let needs = ReasonNeeds {
            people: Some(4),
            skills: vec![" billing ".into()],
            ..Default::default()
        };
        p.set_reason_needs("complaint", Some(needs)).expect("valid");
        let back = Playbook::parse(&p.to_toml()).expect("its TOML parses");
        let r = back.routing.expect("an override");
        assert_eq!(r.needs["complaint"].people, Some(4));
        assert_eq!(r.needs["complaint"].skills, vec!["billing"]);
        for (reason, needs, field) in [
            ("angry", ReasonNeeds::default(), "reason"),
            (
                "complaint",
                ReasonNeeds {
                    situational: Some(6),
                    ..Default::default()
                },
                "situational",
            ),
            (
                "complaint",
                ReasonNeeds {
                    skills: vec!["".into()],
                    ..Default::default()
                },
                "skills",
            ),
        ] {
            match p.set_reason_needs(reason, Some(needs)) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert_eq!(
            p.routing.as_ref().map(|r| r.needs["complaint"].people),
            Some(Some(4))
        );
        p.set_reason_needs("complaint", None).expect("reset");
        assert!(p.routing.is_none(), "nothing overridden, no [routing]");
    }

    #[test]
    fn relax_steps_must_increase_and_only_loosen() {
        let mut p = base();
        let step = |after_secs, levels, any| RelaxStep {
            after_secs,
            levels,
            any,
        };
        p.set_relax(Some(vec![step(30, -1, false), step(90, 0, true)]))
            .expect("valid");
        assert_eq!(
            p.routing
                .as_ref()
                .and_then(|r| r.relax.as_ref())
                .map(Vec::len),
            Some(2)
        );
        for bad in [
            vec![step(60, 0, false), step(60, -1, false)],
            vec![step(10, 1, false)],
        ] {
            match p.set_relax(Some(bad)) {
                Err(EditError::Invalid { field, .. }) => assert_eq!(field, "relax"),
                other => panic!("{other:?}"),
            }
        }
        p.set_relax(Some(vec![])).expect("never relax");
        assert!(Playbook::parse(&p.to_toml()).is_ok());
        p.set_relax(None).expect("the built-in steps");
        assert!(p.routing.is_none());
    }
}
