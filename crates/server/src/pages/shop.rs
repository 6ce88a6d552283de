//! `/`: the demo shop page with the chat widget embedded by one script tag.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use maud::{html, Markup};

use super::layout::{document, lang_switch, Lang, LangQuery};
use crate::state::AppState;

async fn render(state: &AppState, lang: Lang) -> Markup {
    let name = &state.playbook().desk.name;
    let products: [(&str, &str, &str); 3] = [
        (
            "Wollpullover „Nordwind“",
            "Warm wool jumper “Nordwind”",
            "89,00 €",
        ),
        ("Leinenhemd „Sommer“", "Linen shirt “Sommer”", "49,00 €"),
        ("Wanderrucksack 30 l", "Hiking backpack 30 l", "119,00 €"),
    ];
    document(
        lang,
        name,
        html! {},
        html! {
            header.site {
                p.brand { (name) }
                (lang_switch(lang, "/"))
            }
            main #main {
                h1 { (lang.t("Willkommen im ", "Welcome to ")) (name) }
                p { (lang.t(
                    "Dies ist eine Demo-Seite. Unten rechts beantwortet der Assistent Ihre Fragen – und holt bei Bedarf einen Menschen dazu.",
                    "This is a demo page. The assistant at the bottom right answers your questions – and brings in a person when needed.")) }
                ul.products {
                    @for (de, en, price) in products {
                        li.product {
                            h2 { (lang.t(de, en)) }
                            p.price { (price) }
                        }
                    }
                }
                p.hint { (lang.t("Für Mitarbeitende: ", "For agents: ")) a href="/console" { (lang.t("zur Konsole", "the console")) } }
            }
            script src="/widget.js" data-locale=(lang.code()) defer {}
        },
    )
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Markup {
    let lang = Lang::pick(&q, &headers, state.playbook().default_locale());
    render(&state, lang).await
}
