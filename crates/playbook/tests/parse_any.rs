//! The playbook parser takes outside input (an admin's file): whatever it is given, it answers
//! with a playbook or a clear error, and never panics. A parsed playbook is valid: it names its
//! desk and at least one locale, and every intent has an id.

use playbook::Playbook;
use proptest::prelude::*;

/// Lines that look like a playbook's, shuffled and broken.
fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[desk]".to_owned()),
        Just("[[intent]]".to_owned()),
        Just("[[article]]".to_owned()),
        Just("[out_of_scope]".to_owned()),
        Just("[routing]".to_owned()),
        "name = \"[a-zA-Zäöü ]{0,12}\"",
        "locales = \\[(\"[a-z]{0,3}\", ?){0,3}\\]",
        "id = \"[a-z_]{0,10}\"",
        "examples = \\[(\"[a-zA-Z ?]{0,20}\", ?){0,4}\\]",
        "answer\\.(de|en) = \"[a-zA-Z .]{0,20}\"",
        "handoff = (true|false|1|\"x\")",
        "skills = \\[(\"[a-z]{0,8}\", ?){0,3}\\]",
        "(title|body|locale|category) = \"[a-z]{0,10}\"",
        "relax = \\[\\{ after_secs = -?[0-9]{1,4}, levels = -?[0-9] \\}\\]",
        "\\PC{0,30}",
    ]
}

proptest! {
    #[test]
    fn any_text_parses_or_is_refused(lines in proptest::collection::vec(line(), 0..24)) {
        let text = lines.join("\n");
        if let Ok(p) = Playbook::parse(&text) {
            prop_assert!(!p.desk.locales.is_empty(), "{text}");
            prop_assert!(p.intents.iter().all(|i| !i.id.trim().is_empty()), "{text}");
        }
    }
}
