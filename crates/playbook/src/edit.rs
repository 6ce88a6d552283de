//! Changing a playbook in place: what the desk's editor and API do. Each edit checks its input
//! first and leaves the playbook unchanged when it refuses, naming the field at fault.

use std::collections::BTreeMap;

use crate::check::valid_id;
use crate::{Intent, IntentKind, Playbook};

/// Longest example or out-of-scope line, in characters.
pub const MAX_EXAMPLE_CHARS: usize = 1_000;
/// Longest answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 4_000;
/// Most examples one intent may have.
pub const MAX_EXAMPLES: usize = 500;

/// A new intent, as an admin writes it.
#[derive(Debug, Clone, Default)]
pub struct NewIntent {
    pub id: String,
    pub kind: IntentKind,
    pub examples: Vec<String>,
    pub answer: BTreeMap<String, String>,
    pub handoff: bool,
    pub skills: Vec<String>,
}

/// What an admin may change about an intent besides its examples and answers; `None` keeps it.
#[derive(Debug, Clone, Default)]
pub struct IntentSettings {
    pub kind: Option<IntentKind>,
    pub handoff: Option<bool>,
    pub skills: Option<Vec<String>>,
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// `field` of the input is wrong.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> EditError {
    EditError::Invalid {
        field,
        message: message.into(),
    }
}

/// `text` trimmed, if it is a usable example.
fn example(field: &'static str, text: &str) -> Result<String, EditError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid(field, "an example must not be empty"));
    }
    if text.chars().count() > MAX_EXAMPLE_CHARS {
        return Err(invalid(
            field,
            format!("an example has at most {MAX_EXAMPLE_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

impl Playbook {
    /// Adds an intent. Refused: a bad or taken id, no examples or an empty one, an answer in a
    /// locale the desk does not speak, no answer in the desk's first locale (unless the intent
    /// always goes to a person), a blank skill.
    pub fn add_intent(&mut self, new: NewIntent) -> Result<(), EditError> {
        if !valid_id(&new.id) {
            return Err(invalid("id", "an intent id must match [a-z0-9_]+"));
        }
        if self.intent(&new.id).is_some() {
            return Err(invalid(
                "id",
                format!("there already is an intent {:?}", new.id),
            ));
        }
        if new.examples.is_empty() {
            return Err(invalid("examples", "give at least one example"));
        }
        if new.examples.len() > MAX_EXAMPLES {
            return Err(invalid(
                "examples",
                format!("at most {MAX_EXAMPLES} examples"),
            ));
        }
        let mut examples: Vec<String> = Vec::with_capacity(new.examples.len());
        for e in &new.examples {
            let e = example("examples", e)?;
            if !examples.contains(&e) {
                examples.push(e);
            }
        }
        let mut answer = BTreeMap::new();
        for (locale, text) in new.answer {
            if !self.desk.locales.contains(&locale) {
                return Err(invalid(
                    "answer",
                    format!(
                        "the desk does not speak {locale:?} (it speaks {})",
                        self.desk.locales.join(", ")
                    ),
                ));
            }
            let text = text.trim();
            if text.chars().count() > MAX_ANSWER_CHARS {
                return Err(invalid(
                    "answer",
                    format!("an answer has at most {MAX_ANSWER_CHARS} characters"),
                ));
            }
            if !text.is_empty() {
                answer.insert(locale, text.to_owned());
            }
        }
        let first = self.default_locale().to_owned();
        if !new.handoff && !answer.contains_key(&first) {
            return Err(invalid(
                "answer",
                format!("an answer in the desk's first locale ({first}) is needed"),
            ));
        }
        if new.skills.iter().any(|s| s.trim().is_empty()) {
            return Err(invalid("skills", "a skill must not be blank"));
        }
        self.intents.push(Intent {
            id: new.id,
            examples,
            answer,
            handoff: new.handoff,
            skills: new.skills.iter().map(|s| s.trim().to_owned()).collect(),
            kind: new.kind,
        });
        Ok(())
    }

    /// Adds `text` as an example of `intent`. Refused: an unknown intent, an empty or too long
    /// text, one the intent already has.
    pub fn add_example(&mut self, intent: &str, text: &str) -> Result<(), EditError> {
        let text = example("text", text)?;
        let Some(found) = self.intents.iter_mut().find(|i| i.id == intent) else {
            return Err(invalid("intent", format!("there is no intent {intent:?}")));
        };
        if found.examples.len() >= MAX_EXAMPLES {
            return Err(invalid(
                "text",
                format!("{intent:?} has {MAX_EXAMPLES} examples already"),
            ));
        }
        if found.examples.iter().any(|e| e.trim() == text) {
            return Err(invalid(
                "text",
                format!("this already is an example of {intent:?}"),
            ));
        }
        found.examples.push(text);
        Ok(())
    }
}

impl Playbook {
    /// Removes the example `text` from `intent`. Refused: an unknown intent, a text it does not
    /// have, its last example.
    pub fn remove_example(&mut self, intent: &str, text: &str) -> Result<(), EditError> {
        let Some(found) = self.intents.iter_mut().find(|i| i.id == intent) else {
            return Err(invalid("intent", format!("there is no intent {intent:?}")));
        };
        let Some(at) = found.examples.iter().position(|e| e.trim() == text.trim()) else {
            return Err(invalid("text", format!("{intent:?} has no such example")));
        };
        if found
            .examples
            .iter()
            .filter(|e| !e.trim().is_empty())
            .count()
            <= 1
        {
            return Err(invalid(
                "text",
                format!("{intent:?} needs at least one example"),
            ));
        }
        found.examples.remove(at);
        Ok(())
    }

    /// Sets `intent`'s answer in `locale` to `text`; an empty text removes it. Refused: an
    /// unknown intent, a locale the desk does not speak, a too long answer, removing the desk's
    /// first locale's answer of an intent that does not always go to a person.
    pub fn set_answer(&mut self, intent: &str, locale: &str, text: &str) -> Result<(), EditError> {
        let first = self.default_locale().to_owned();
        if !self.desk.locales.iter().any(|l| l == locale) {
            return Err(invalid(
                "locale",
                format!("the desk does not speak {locale:?}"),
            ));
        }
        let Some(found) = self.intents.iter_mut().find(|i| i.id == intent) else {
            return Err(invalid("intent", format!("there is no intent {intent:?}")));
        };
        let text = text.trim();
        if text.chars().count() > MAX_ANSWER_CHARS {
            return Err(invalid(
                "text",
                format!("an answer has at most {MAX_ANSWER_CHARS} characters"),
            ));
        }
        if text.is_empty() {
            if locale == first && !found.handoff {
                return Err(invalid(
                    "text",
                    format!("an answer in the desk's first locale ({first}) is needed"),
                ));
            }
            found.answer.remove(locale);
        } else {
            found.answer.insert(locale.to_owned(), text.to_owned());
        }
        Ok(())
    }

    /// Changes `intent`'s kind, `handoff` and skills. Refused: an unknown intent, a blank skill,
    /// letting the bot answer (`handoff = false`) an intent without an answer in the desk's
    /// first locale.
    pub fn set_intent(&mut self, intent: &str, settings: IntentSettings) -> Result<(), EditError> {
        let first = self.default_locale().to_owned();
        let Some(found) = self.intents.iter_mut().find(|i| i.id == intent) else {
            return Err(invalid("intent", format!("there is no intent {intent:?}")));
        };
        let skills = match settings.skills {
            Some(skills) if skills.iter().any(|s| s.trim().is_empty()) => {
                return Err(invalid("skills", "a skill must not be blank"));
            }
            Some(skills) => skills.iter().map(|s| s.trim().to_owned()).collect(),
            None => found.skills.clone(),
        };
        let handoff = settings.handoff.unwrap_or(found.handoff);
        if !handoff && !found.answer.contains_key(&first) {
            return Err(invalid(
                "handoff",
                format!("the bot can only answer {intent:?} with an answer in the desk's first locale ({first})"),
            ));
        }
        found.handoff = handoff;
        found.skills = skills;
        found.kind = settings.kind.unwrap_or(found.kind);
        Ok(())
    }

    /// Removes `intent`. Refused: an unknown intent, the playbook's last intent.
    pub fn remove_intent(&mut self, intent: &str) -> Result<(), EditError> {
        let Some(at) = self.intents.iter().position(|i| i.id == intent) else {
            return Err(invalid("intent", format!("there is no intent {intent:?}")));
        };
        if self.intents.len() <= 1 {
            return Err(invalid("intent", "a playbook keeps at least one intent"));
        }
        self.intents.remove(at);
        Ok(())
    }

    /// Removes `text` from `[out_of_scope]`. Refused: a text that is not there.
    pub fn remove_out_of_scope(&mut self, text: &str) -> Result<(), EditError> {
        let Some(at) = self
            .out_of_scope
            .examples
            .iter()
            .position(|e| e.trim() == text.trim())
        else {
            return Err(invalid("text", "this is not out of scope"));
        };
        self.out_of_scope.examples.remove(at);
        Ok(())
    }

    /// Adds `text` to `[out_of_scope]`: what the desk never answers. Refused: an empty or too
    /// long text, one already there.
    pub fn add_out_of_scope(&mut self, text: &str) -> Result<(), EditError> {
        let text = example("text", text)?;
        if self.out_of_scope.examples.iter().any(|e| e.trim() == text) {
            return Err(invalid("text", "this already is out of scope"));
        }
        self.out_of_scope.examples.push(text);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Playbook {
        Playbook::parse("[desk]\nname='x'\nlocales=['de','en']\n[[intent]]\nid='a'\nexamples=['eins']\nanswer.de='Hallo'\n")
            .expect("valid")
    }

    fn new(id: &str) -> NewIntent {
        NewIntent {
            id: id.into(),
            examples: vec!["Wo ist das Paket?".into(), " Wo ist das Paket? ".into()],
            answer: BTreeMap::from([("de".into(), "Unterwegs.".into())]),
            ..Default::default()
        }
    }

    #[test]
    fn a_new_intent_is_checked_and_survives_a_round_trip() {
        let mut p = base();
        p.add_intent(new("parcel")).expect("valid intent");
        let intent = p.intent("parcel").expect("added");
        assert_eq!(intent.examples, vec!["Wo ist das Paket?"], "trimmed, once");
        let back = Playbook::parse(&p.to_toml()).expect("its TOML parses");
        assert_eq!(back.intents.len(), 2);
        assert_eq!(
            back.intent("parcel").map(|i| i.answer.clone()),
            Some(intent.answer.clone())
        );
        for (bad, field) in [
            (new("parcel"), "id"),
            (new("Bad Id"), "id"),
            (
                NewIntent {
                    examples: vec![],
                    ..new("b")
                },
                "examples",
            ),
            (
                NewIntent {
                    examples: vec!["ok".into(), "  ".into()],
                    ..new("b")
                },
                "examples",
            ),
            (
                NewIntent {
                    answer: BTreeMap::from([("en".into(), "On its way.".into())]),
                    ..new("b")
                },
                "answer",
            ),
            (
                NewIntent {
                    answer: BTreeMap::from([("fr".into(), "En route.".into())]),
                    ..new("b")
                },
                "answer",
            ),
        ] {
            let before = p.intents.len();
            match p.add_intent(bad) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
            assert_eq!(p.intents.len(), before, "unchanged");
        }
        let handoff_without_answer = NewIntent {
            answer: BTreeMap::new(),
            handoff: true,
            ..new("human")
        };
        p.add_intent(handoff_without_answer)
            .expect("a handoff intent needs no answer");
    }

    #[test]
    fn an_example_joins_its_intent_once() {
        let mut p = base();
        p.add_example("a", "  zwei ").expect("added");
        assert_eq!(p.intents[0].examples, vec!["eins", "zwei"]);
        for (intent, text, field) in [
            ("a", "zwei", "text"),
            ("a", "   ", "text"),
            ("nope", "drei", "intent"),
        ] {
            match p.add_example(intent, text) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{intent}/{text}: {other:?}"),
            }
        }
        assert_eq!(p.intents[0].examples.len(), 2);
        p.remove_example("a", "eins").expect("removed");
        assert_eq!(p.intents[0].examples, vec!["zwei"]);
        for (intent, text, field) in [
            ("a", "zwei", "text"),
            ("a", "drei", "text"),
            ("x", "zwei", "intent"),
        ] {
            match p.remove_example(intent, text) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{intent}/{text}: {other:?}"),
            }
        }
        p.set_answer("a", "en", "Hello").expect("an English answer");
        assert_eq!(
            p.intents[0].answer.get("en").map(String::as_str),
            Some("Hello")
        );
        p.set_answer("a", "en", " ").expect("removed");
        assert!(!p.intents[0].answer.contains_key("en"));
        for (locale, text, field) in [("de", "", "text"), ("fr", "Salut", "locale")] {
            match p.set_answer("a", locale, text) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{locale}: {other:?}"),
            }
        }
        p.add_out_of_scope(" Wie wird das Wetter? ").expect("added");
        assert_eq!(p.out_of_scope.examples, vec!["Wie wird das Wetter?"]);
        assert!(p.add_out_of_scope("Wie wird das Wetter?").is_err());
        assert!(Playbook::parse(&p.to_toml()).is_ok());
        p.remove_out_of_scope("Wie wird das Wetter?")
            .expect("removed");
        assert!(p.out_of_scope.examples.is_empty());
        assert!(p.remove_out_of_scope("Wie wird das Wetter?").is_err());
    }

    #[test]
    fn an_intent_s_settings_change_only_when_they_make_sense() {
        let mut p = base();
        p.set_intent(
            "a",
            IntentSettings {
                kind: Some(IntentKind::Sales),
                handoff: Some(true),
                skills: Some(vec![" billing ".into()]),
            },
        )
        .expect("valid");
        let a = &p.intents[0];
        assert_eq!((a.kind, a.handoff), (IntentKind::Sales, true));
        assert_eq!(a.skills, vec!["billing"]);
        p.set_answer("a", "de", "")
            .expect("a handoff intent may lose its answer");
        for (intent, settings, field) in [
            ("nope", IntentSettings::default(), "intent"),
            (
                "a",
                IntentSettings {
                    skills: Some(vec![" ".into()]),
                    ..Default::default()
                },
                "skills",
            ),
            (
                "a",
                IntentSettings {
                    handoff: Some(false),
                    ..Default::default()
                },
                "handoff",
            ),
        ] {
            match p.set_intent(intent, settings) {
                Err(EditError::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(p.intents[0].handoff, "unchanged");
        assert_eq!(p.intents[0].skills, vec!["billing"], "unchanged");
        assert!(p.remove_intent("a").is_err(), "the last intent stays");
        p.add_intent(new("parcel")).expect("valid");
        p.remove_intent("a").expect("removed");
        assert!(p.remove_intent("a").is_err());
        assert_eq!(p.intents.len(), 1);
    }
}
