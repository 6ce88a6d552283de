//! `/admin/playbook`, continued: an intent's kind, `handoff` and skills, removing an intent,
//! `[out_of_scope]` and the routing overrides (issue 15). The markup sits in the editor page;
//! every change goes through `teach`, like the API's (`api/playbook_settings.rs`).

use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{html, Markup};
use playbook::{EditError, Intent, IntentKind, IntentSettings, Playbook, ReasonNeeds, RelaxStep};
use serde::Deserialize;

use super::admin_playbook::{edit, hidden};
use super::layout::{reason_label, Lang};
use crate::extract::ClientIp;
use crate::state::AppState;

/// An intent's kind, `handoff` and skills, and a button that removes it.
pub fn intent_settings(lang: Lang, csrf: &str, intent: &Intent) -> Markup {
    let id = &intent.id;
    html! {
        form.grid method="post" action="/admin/playbook/intent" aria-label={(lang.t("Einstellungen von ", "Settings of ")) (id)} {
            (hidden(lang, csrf))
            input type="hidden" name="intent" value=(id);
            label for={"kind-" (id)} { (lang.t("Art", "Kind")) }
            select id={"kind-" (id)} name="kind" {
                option value="service" selected[intent.kind == IntentKind::Service] { (lang.t("Service", "service")) }
                option value="sales" selected[intent.kind == IntentKind::Sales] { (lang.t("Vertrieb", "sales")) }
            }
            label for={"skills-" (id)} { (lang.t("Skills (kommagetrennt)", "Skills (comma-separated)")) }
            input id={"skills-" (id)} name="skills" value=(intent.skills.join(", "));
            label for={"handoff-" (id)} {
                input id={"handoff-" (id)} type="checkbox" name="handoff" value="true" checked[intent.handoff];
                " " (lang.t("Immer an einen Menschen", "Always to a person"))
            }
            button type="submit" { (lang.t("Einstellungen speichern", "Save the settings")) }
        }
        form.inline method="post" action="/admin/playbook/intent/remove" {
            (hidden(lang, csrf))
            input type="hidden" name="intent" value=(id);
            button.small.danger type="submit" { (lang.t("Intent entfernen: ", "Remove the intent: ")) (id) }
        }
    }
}

/// `[out_of_scope]`: what the bot never answers itself, each with a remove button, and a form
/// for one more.
pub fn out_of_scope(lang: Lang, csrf: &str, playbook: &Playbook) -> Markup {
    html! {
        section aria-labelledby="oos-h" {
            h2 #oos-h { (lang.t("Nicht unser Thema", "Not ours")) " ([out_of_scope], " (playbook.out_of_scope.examples.len()) ")" }
            p { (lang.t("Nachrichten wie diese beantwortet der Bot nie selbst.", "The bot never answers messages like these itself.")) }
            ul.examples {
                @for e in &playbook.out_of_scope.examples {
                    li {
                        (e) " "
                        form.inline method="post" action="/admin/playbook/out_of_scope/remove" {
                            (hidden(lang, csrf))
                            input type="hidden" name="text" value=(e);
                            button.small type="submit" aria-label={(lang.t("Entfernen: ", "Remove: ")) (e)} { (lang.t("Entfernen", "Remove")) }
                        }
                    }
                }
            }
            form.inline method="post" action="/admin/playbook/out_of_scope" {
                (hidden(lang, csrf))
                label for="oos-text" { (lang.t("Neue Nachricht, die der Bot nie beantwortet", "A new message the bot never answers")) }
                input #oos-text name="text" required maxlength="1000";
                button type="submit" { (lang.t("Hinzufügen", "Add")) }
            }
        }
    }
}

/// One level select: none, or 1–5.
fn level(lang: Lang, id: &str, name: &str, label: &str, value: u8) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(name) {
            option value="" selected[value == 0] { (lang.t("–", "–")) }
            @for v in 1..=5u8 { option value=(v) selected[value == v] { (v) } }
        }
    }
}

/// The relaxation steps as the form writes them: `60:-1, 180:any`.
fn relax_text(steps: &[desk::routing::RelaxStep]) -> String {
    steps
        .iter()
        .map(|s| {
            let secs = s.after_ms / 1000;
            match (s.lower_levels, s.any) {
                (0, true) => format!("{secs}:any"),
                (l, true) => format!("{secs}:-{l}:any"),
                (l, false) => format!("{secs}:-{l}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads `60:-1, 180:any` (seconds, then how far levels drop and/or `any`).
fn parse_relax(text: &str) -> Result<Vec<RelaxStep>, String> {
    let bad = || {
        "relax: write each step as seconds:levels or seconds:any, e.g. 60:-1, 180:any".to_owned()
    };
    let mut steps = Vec::new();
    for part in text
        .split([',', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let mut bits = part.split(':').map(str::trim);
        let after_secs = bits
            .next()
            .and_then(|s| s.trim_end_matches('s').parse().ok())
            .ok_or_else(bad)?;
        let mut step = RelaxStep {
            after_secs,
            levels: 0,
            any: false,
        };
        for bit in bits {
            if bit.eq_ignore_ascii_case("any") {
                step.any = true;
            } else {
                step.levels = bit.parse().map_err(|_| bad())?;
            }
        }
        steps.push(step);
    }
    Ok(steps)
}

/// The routing rules in force for every handoff reason, each with a form that overrides it, and
/// the relaxation steps.
pub fn routing(lang: Lang, csrf: &str, playbook: &Playbook) -> Markup {
    let rules = desk::routing::Rules::from_playbook(playbook);
    let overrides = playbook.routing.as_ref();
    let custom_relax = overrides.is_some_and(|r| r.relax.is_some());
    html! {
        section aria-labelledby="routing-h" {
            h2 #routing-h { (lang.t("Weiterleitung an Menschen", "Routing to people")) }
            p { (lang.t(
                "Was ein Mensch für jeden Übergabegrund können muss: Mindeststufen (1–5) und Skills. Ohne eigene Regel gilt die eingebaute.",
                "What a person needs for each handoff reason: minimum levels (1–5) and skills. Without a rule of your own the built-in one applies.")) }
            @for reason in playbook::REASONS {
                @let shown = rules.needs.iter().find(|(r, _)| r.as_str() == reason).map(|(_, n)| n.clone()).unwrap_or_default();
                @let own = overrides.is_some_and(|r| r.needs.contains_key(reason));
                form.range.reason method="post" action="/admin/playbook/routing" aria-label=(reason_label(lang, reason)) {
                    (hidden(lang, csrf))
                    input type="hidden" name="reason" value=(reason);
                    p.legend { strong { (reason_label(lang, reason)) } " (" code { (reason) } ") · "
                        @if own { (lang.t("eigene Regel", "your rule")) } @else { (lang.t("eingebaut", "built-in")) } }
                    (level(lang, &format!("{reason}-people"), "people", lang.t("Menschen", "People"), shown.levels.people))
                    (level(lang, &format!("{reason}-situational"), "situational", lang.t("Situation", "Situational"), shown.levels.situational))
                    (level(lang, &format!("{reason}-self"), "self", lang.t("Selbst", "Self"), shown.levels.self_))
                    label for={(reason) "-skills"} { (lang.t("Skills (kommagetrennt)", "Skills (comma-separated)")) }
                    input id={(reason) "-skills"} name="skills" value=(shown.skills.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "));
                    button type="submit" name="action" value="save" { (lang.t("Regel speichern", "Save the rule")) }
                    @if own { button type="submit" name="action" value="reset" { (lang.t("Eingebaute Regel", "Built-in rule")) } }
                }
            }
            form.grid method="post" action="/admin/playbook/relax" {
                (hidden(lang, csrf))
                label for="relax" { (lang.t(
                    "Lockern beim Warten (Sekunden:Stufen oder Sekunden:any, z. B. 60:-1, 180:any; leer: nie)",
                    "Relax while waiting (seconds:levels or seconds:any, e.g. 60:-1, 180:any; empty: never)")) }
                input #relax name="steps" value=(relax_text(&rules.relax));
                button type="submit" name="action" value="save" { (lang.t("Speichern", "Save")) }
                @if custom_relax { button type="submit" name="action" value="reset" { (lang.t("Eingebaute Schritte", "Built-in steps")) } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct IntentForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    intent: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    handoff: Option<String>,
}

pub async fn set_intent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<IntentForm>,
) -> Response {
    let skills = desk::agent::parse_list(&desk::text::clean(&f.skills).unwrap_or_default());
    let settings = IntentSettings {
        kind: Some(IntentKind::parse(&f.kind).unwrap_or_default()),
        handoff: Some(f.handoff.is_some()),
        skills: Some(skills),
    };
    let summary = format!("Settings of {} changed", f.intent);
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.set_intent(&f.intent, settings.clone()),
    )
    .await
}

#[derive(Deserialize)]
pub struct RemoveIntentForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    intent: String,
}

pub async fn remove_intent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<RemoveIntentForm>,
) -> Response {
    let summary = format!("Intent {} removed", f.intent);
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.remove_intent(&f.intent),
    )
    .await
}

#[derive(Deserialize)]
pub struct TextForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    text: String,
}

pub async fn add_out_of_scope(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<TextForm>,
) -> Response {
    let text = desk::text::clean(&f.text).unwrap_or_default();
    let summary = "Out-of-scope example added".to_owned();
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.add_out_of_scope(&text),
    )
    .await
}

pub async fn remove_out_of_scope(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<TextForm>,
) -> Response {
    let summary = "Out-of-scope example removed".to_owned();
    edit(
        &state,
        ip,
        &headers,
        (&f.csrf, f.lang.as_deref()),
        summary,
        |p| p.remove_out_of_scope(&f.text),
    )
    .await
}

#[derive(Deserialize)]
pub struct NeedsForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    reason: String,
    #[serde(default, rename = "self")]
    self_: String,
    #[serde(default)]
    people: String,
    #[serde(default)]
    situational: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    action: String,
}

/// A level field: empty is none; anything else must be a number (the edit checks 1–5).
fn level_of(field: &'static str, text: &str) -> Result<Option<u8>, EditError> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(|_| EditError::Invalid {
            field,
            message: "a level is 1–5".into(),
        }),
    }
}

pub async fn set_needs(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<NeedsForm>,
) -> Response {
    let reset = f.action == "reset";
    let summary = if reset {
        format!("Routing for {} back to the built-in rule", f.reason)
    } else {
        format!("Routing for {} changed", f.reason)
    };
    let skills = desk::agent::parse_list(&desk::text::clean(&f.skills).unwrap_or_default());
    let form = (f.csrf.as_str(), f.lang.as_deref());
    edit(&state, ip, &headers, form, summary, |p| {
        let needs = if reset {
            None
        } else {
            Some(ReasonNeeds {
                self_: level_of("self", &f.self_)?,
                people: level_of("people", &f.people)?,
                situational: level_of("situational", &f.situational)?,
                skills: skills.clone(),
            })
        };
        p.set_reason_needs(&f.reason, needs)
    })
    .await
}

#[derive(Deserialize)]
pub struct RelaxForm {
    csrf: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    steps: String,
    #[serde(default)]
    action: String,
}

pub async fn set_relax(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<RelaxForm>,
) -> Response {
    let summary = "Routing relaxation changed".to_owned();
    let form = (f.csrf.as_str(), f.lang.as_deref());
    edit(&state, ip, &headers, form, summary, |p| {
        let steps = if f.action == "reset" {
            None
        } else {
            Some(parse_relax(&f.steps).map_err(|message| EditError::Invalid {
                field: "relax",
                message,
            })?)
        };
        p.set_relax(steps)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relax_steps_read_back_as_they_are_shown() {
        let rules = desk::routing::Rules::default();
        let shown = relax_text(&rules.relax);
        assert_eq!(shown, "60:-1, 180:any");
        let steps = parse_relax(&shown).expect("reads back");
        assert_eq!(
            steps,
            vec![
                RelaxStep {
                    after_secs: 60,
                    levels: -1,
                    any: false
                },
                RelaxStep {
                    after_secs: 180,
                    levels: 0,
                    any: true
                },
            ]
        );
        assert_eq!(parse_relax("").expect("never"), vec![]);
        assert!(parse_relax("soon:-1").is_err());
        assert!(parse_relax("60:minus").is_err());
    }
}
