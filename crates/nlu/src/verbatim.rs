//! Verbatim examples: a message that is one of the playbook's examples gets that example's class.
//!
//! The team lead who wrote "Passwort vergessen" under `password_reset` has said what it means; no
//! model may overrule that. Messages are compared in their folded form ([`normalize::fold`]), so
//! case, punctuation, spacing and umlaut spellings (`Zählerstand`, `Zaehlerstand`, `zahlerstand`)
//! do not matter. A folded text written under two classes means nothing certain and is left to
//! the models.

use std::collections::HashMap;

use crate::model::ClassId;
use crate::normalize;

/// The playbook's examples by folded text.
#[derive(Debug, Clone, Default)]
pub struct Verbatim {
    classes: HashMap<String, Option<ClassId>>,
}

impl Verbatim {
    /// From (text, class) pairs; a folded text seen with two classes is ambiguous.
    pub fn of<'a>(examples: impl IntoIterator<Item = (&'a str, ClassId)>) -> Self {
        let mut classes: HashMap<String, Option<ClassId>> = HashMap::new();
        for (text, class) in examples {
            let folded = key(text);
            if folded.is_empty() {
                continue;
            }
            classes
                .entry(folded)
                .and_modify(|c| {
                    if *c != Some(class) {
                        *c = None;
                    }
                })
                .or_insert(Some(class));
        }
        Verbatim { classes }
    }

    /// The class of the example `text` is (folded), unless there is none or it is ambiguous.
    pub fn class_of(&self, text: &str) -> Option<ClassId> {
        self.classes.get(&key(text)).copied().flatten()
    }
}

fn key(text: &str) -> String {
    normalize::fold(text).replace(' ', "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_spellings_find_the_example() {
        let v = Verbatim::of([("Zählerstand melden!", 3), ("Where is my parcel?", 1)]);
        for t in [
            "Zählerstand melden!",
            "zählerstand melden",
            "Zaehlerstand melden",
            "ZAHLERSTAND   MELDEN?",
        ] {
            assert_eq!(v.class_of(t), Some(3), "{t}");
        }
        assert_eq!(v.class_of("where is my parcel"), Some(1));
        assert_eq!(v.class_of("where is my parcel now"), None);
        let v = Verbatim::of([("Please double-check my order", 2)]);
        assert_eq!(v.class_of("please doublecheck my order"), Some(2));
    }

    #[test]
    fn an_example_under_two_classes_decides_nothing() {
        let v = Verbatim::of([
            ("Rechnung", 0),
            ("rechnung!", 2),
            ("Tarif", 1),
            ("tarif", 1),
        ]);
        assert_eq!(v.class_of("Rechnung"), None);
        assert_eq!(v.class_of("TARIF"), Some(1));
    }
}
