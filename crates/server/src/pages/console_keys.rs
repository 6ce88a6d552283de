//! The console's keyboard shortcuts and the `?` overlay that lists them (console.js acts on
//! them; outside text fields only, so typing is never taken over).

use maud::{html, Markup};

use super::layout::Lang;

/// (keys, what they do in German, in English).
pub(super) const SHORTCUTS: &[(&str, &str, &str)] = &[
    (
        "j / k",
        "nächstes / voriges Gespräch",
        "next / previous conversation",
    ),
    ("r", "Antwort schreiben", "write a reply"),
    ("n", "interne Notiz schreiben", "write an internal note"),
    (
        "/",
        "Textbaustein (im leeren Antwortfeld)",
        "canned response (in the empty reply box)",
    ),
    ("e", "Gespräch erledigen", "resolve the conversation"),
    ("b", "an den Bot zurückgeben", "hand back to the bot"),
    ("t", "übergeben", "transfer"),
    ("Strg+Enter", "Antwort senden", "send the reply"),
    ("?", "diese Übersicht", "this overview"),
];

pub(super) fn overlay(lang: Lang) -> Markup {
    html! {
        dialog #shortcuts aria-labelledby="shortcuts-h" {
            h2 #shortcuts-h { (lang.t("Tastenkürzel", "Keyboard shortcuts")) }
            table {
                thead { tr { th scope="col" { (lang.t("Taste", "Key")) } th scope="col" { (lang.t("Wirkung", "Action")) } } }
                tbody {
                    @for (keys, de, en) in SHORTCUTS {
                        tr { td { kbd { (keys) } } td { (lang.t(de, en)) } }
                    }
                }
            }
            form method="dialog" { button type="submit" { (lang.t("Schließen", "Close")) } }
        }
    }
}
