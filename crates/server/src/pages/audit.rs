//! `/admin/audit`: the audit log (admins only), newest first, read-only.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::console::{admin_session, console_top_bar, error_response, head};
use super::layout::{document, Lang, LangQuery};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct AuditPageQuery {
    #[serde(flatten)]
    pub lang: LangQuery,
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<AuditPageQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(&q.lang, &headers, state.playbook().default_locale());
    let (session, agent) = match admin_session(&state, &headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let entries = match crate::audit::read(&state, q.from.clone(), q.to.clone(), None).await {
        Ok(e) => e,
        Err(e) => return error_response(lang, e),
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    document(
        lang,
        lang.t("Protokoll", "Audit log"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/admin/audit"))
            main #main {
                h1 { (lang.t("Protokoll", "Audit log")) }
                p { (lang.t(
                    "Was Administratorinnen und Administratoren taten und jede Anmeldung, neueste zuerst (höchstens 1.000; Standard: die letzten 30 Tage). Einträge lassen sich nicht ändern oder löschen.",
                    "What admins did, and every sign-in, newest first (at most 1,000; by default the last 30 days). Entries cannot be changed or deleted.",
                )) }
                table {
                    caption { (lang.t("Einträge", "Entries")) }
                    thead { tr {
                        th scope="col" { (lang.t("Zeit (UTC)", "Time (UTC)")) }
                        th scope="col" { (lang.t("Wer", "Who")) }
                        th scope="col" { (lang.t("Aktion", "Action")) }
                        th scope="col" { (lang.t("Ziel", "Target")) }
                        th scope="col" { (lang.t("Adresse", "Address")) }
                    } }
                    tbody {
                        @for e in &entries {
                            tr {
                                td { (e.at) }
                                td { @match e.actor { Some(id) => { "agent:" (id) } None => { "–" } } }
                                td { (e.action) }
                                td { (e.target) }
                                td { (e.address.as_deref().unwrap_or("–")) }
                            }
                        }
                    }
                }
            }
        },
    )
    .into_response()
}
