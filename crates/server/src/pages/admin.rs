//! `/admin`: list and create agents (admins only).

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use desk::{agent::parse_list, Role};
use maud::html;
use serde::Deserialize;

use super::console::{admin_session, console_top_bar, error_response, head, signed_in_form};
use super::layout::{document, Lang, LangQuery};
use crate::error::ApiError;
use crate::extract::ClientIp;
use crate::state::AppState;
use crate::wire;

pub async fn page_view(
    state: &AppState,
    headers: &HeaderMap,
    lang: Lang,
    problem: Option<String>,
) -> Response {
    let (session, agent) = match admin_session(state, headers, lang).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let csrf = session.csrf.clone().unwrap_or_default();
    let agents = match state.store.agents().await {
        Ok(a) => a,
        Err(e) => return error_response(lang, e),
    };
    let status = if problem.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = document(
        lang,
        lang.t("Verwaltung", "Admin"),
        head(&csrf),
        html! {
            (console_top_bar(lang, &agent, &csrf, "/admin"))
            main #main {
                h1 { (lang.t("Mitarbeitende", "Agents")) }
                table {
                    caption { (lang.t("Alle Konten", "All accounts")) }
                    thead { tr {
                        th scope="col" { "Name" } th scope="col" { (lang.t("E-Mail", "E-mail")) }
                        th scope="col" { (lang.t("Rolle", "Role")) } th scope="col" { (lang.t("Sprachen", "Languages")) }
                        th scope="col" { "Skills" } th scope="col" { (lang.t("Grenzen", "Limits")) }
                        th scope="col" { (lang.t("Kapazität", "Capacity")) } th scope="col" { (lang.t("Status", "Status")) }
                    } }
                    tbody {
                        @for a in &agents {
                            tr {
                                td { (a.name) } td { (a.email) } td { (a.role.as_str()) }
                                td { (desk::words::list(&a.locales)) } td { (desk::words::list(&a.skills)) } td { (a.limits.join(", ")) }
                                td { (a.capacity) } td { (a.presence.as_str()) }
                            }
                        }
                    }
                }
                h2 #new-agent { (lang.t("Neues Konto", "New account")) }
                @if let Some(p) = &problem { p.error role="alert" { (p) } }
                form.grid method="post" action="/admin/agents" aria-labelledby="new-agent" {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="a-name" { "Name" } input #a-name name="name" required maxlength="200";
                    label for="a-email" { (lang.t("E-Mail", "E-mail")) } input #a-email type="email" name="email" required;
                    label for="a-password" { (lang.t("Passwort (mind. 12 Zeichen)", "Password (at least 12 characters)")) }
                    input #a-password type="password" name="password" required minlength="12" autocomplete="new-password";
                    label for="a-role" { (lang.t("Rolle", "Role")) }
                    select #a-role name="role" { option value="agent" { "agent" } option value="admin" { "admin" } }
                    label for="a-locales" { (lang.t("Sprachen (kommagetrennt)", "Languages (comma-separated)")) } input #a-locales name="locales" value="de, en";
                    label for="a-skills" { (lang.t("Skills (kommagetrennt)", "Skills (comma-separated)")) } input #a-skills name="skills";
                    label for="a-limits" { (lang.t("Grenzen: Gründe oder Skills, die die Person ausschließt", "Limits: reasons or skills the person rules out")) } input #a-limits name="limits";
                    label for="a-capacity" { (lang.t("Kapazität (gleichzeitige Gespräche)", "Capacity (concurrent conversations)")) }
                    input #a-capacity type="number" name="capacity" min="1" max="100" value="3";
                    fieldset {
                        legend { (lang.t("Kompetenzen (1–5)", "Competences (1–5)")) }
                        @for (name, de, en) in [("self", "Selbst", "Self"), ("people", "Menschen", "People"), ("situational", "Situativ", "Situational")] {
                            label for={"a-" (name)} { (lang.t(de, en)) }
                            input id={"a-" (name)} type="number" name=(name) min="1" max="5" value="3";
                        }
                    }
                    button type="submit" { (lang.t("Anlegen", "Create")) }
                }
            }
        },
    );
    (status, body).into_response()
}

pub async fn show(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
) -> Response {
    let lang = Lang::pick(&q, &headers, state.playbook().default_locale());
    page_view(&state, &headers, lang, None).await
}

#[derive(Deserialize)]
pub struct AgentForm {
    csrf: String,
    name: String,
    email: String,
    password: String,
    role: String,
    #[serde(default)]
    locales: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    limits: String,
    capacity: Option<String>,
    #[serde(rename = "self")]
    self_: Option<String>,
    people: Option<String>,
    situational: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<AgentForm>,
) -> Response {
    let lang = Lang::pick(
        &LangQuery::default(),
        &headers,
        state.playbook().default_locale(),
    );
    let (_, agent) = match signed_in_form(&state, &headers, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if agent.role != Role::Admin {
        return error_response(lang, ApiError::forbidden("admins only"));
    }
    let num = |v: &Option<String>, default: u32| -> Option<u32> {
        match v.as_deref().map(str::trim) {
            None | Some("") => Some(default),
            Some(s) => s.parse().ok(),
        }
    };
    let (Some(capacity), Some(s), Some(p), Some(si)) = (
        num(&f.capacity, 3),
        num(&f.self_, 3),
        num(&f.people, 3),
        num(&f.situational, 3),
    ) else {
        return page_view(
            &state,
            &headers,
            lang,
            Some(
                lang.t(
                    "Zahlen bitte als Ziffern angeben.",
                    "Please enter numbers as digits.",
                )
                .into(),
            ),
        )
        .await;
    };
    let body = wire::NewAgent {
        name: f.name,
        email: f.email,
        password: f.password,
        role: Some(f.role),
        locales: parse_list(&f.locales),
        skills: parse_list(&f.skills),
        competences: Some(wire::Competences {
            self_: s.min(255) as u8,
            people: p.min(255) as u8,
            situational: si.min(255) as u8,
        }),
        limits: parse_list(&f.limits),
        capacity: Some(capacity),
    };
    let created = match crate::team::validate_new_agent(body, crate::team::password_hash) {
        Ok(new) => state.store.create_agent(new).await.map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    match created {
        Ok(new) => {
            let target = crate::audit::agent(new.id);
            crate::audit::record(&state, Some(agent.id), "agent_created", target, Some(ip)).await;
            Redirect::to("/admin").into_response()
        }
        Err(e) => page_view(&state, &headers, lang, Some(e.message)).await,
    }
}
