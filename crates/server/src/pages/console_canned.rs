//! The console's canned responses: a picker under the reply box with the responses the agent
//! may use, their variables already filled in for this conversation. Typing `/` in an empty
//! reply box moves to the picker; Enter (or the button) inserts the chosen text (console.js).
//! Without JavaScript the picker stays hidden: the console works as before.

use maud::{html, Markup};

use super::layout::Lang;

/// `responses`: (title, text ready to insert).
pub(super) fn picker(lang: Lang, responses: &[(String, String)]) -> Markup {
    if responses.is_empty() {
        return html! {};
    }
    html! {
        div #canned-box.canned hidden {
            label for="canned" { (lang.t("Textbaustein (/ im leeren Eingabefeld)", "Canned response (/ in an empty reply box)")) }
            select #canned {
                @for (title, text) in responses {
                    option value=(text) { (title) }
                }
            }
            button #canned-insert type="button" { (lang.t("Einfügen", "Insert")) }
        }
    }
}
