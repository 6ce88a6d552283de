//! `/api/v1/playbook`: the rest of the editor's changes (issue 15): an intent's kind, `handoff`
//! and skills, removing an intent, `[out_of_scope]`, and the routing overrides (`[routing]`).
//! Every change makes a new version (201 `{"version"}`), live on every node within seconds.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use playbook::{IntentKind, IntentSettings, ReasonNeeds, RelaxStep};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::playbook::{changed, clean, ExampleIn, VersionCreated};
use crate::auth::Admin;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;

/// What changes about an intent; a field left out stays as it is.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentSettingsIn {
    /// `service` or `sales`.
    pub kind: Option<String>,
    /// `true`: always goes to a person. `false` needs an answer in the desk's first locale.
    pub handoff: Option<bool>,
    /// Replaces the intent's skills.
    pub skills: Option<Vec<String>>,
}

/// `service` or `sales`, or the 400 that names `kind`.
pub(super) fn kind_of(word: Option<&str>) -> ApiResult<Option<IntentKind>> {
    word.map(|w| {
        IntentKind::parse(w)
            .ok_or_else(|| ApiError::bad_request("kind: must be \"service\" or \"sales\""))
    })
    .transpose()
}

/// Change an intent's kind, `handoff` and skills (admins only).
#[utoipa::path(put, path = "/api/v1/playbook/intents/{id}", params(("id" = String, Path)),
    request_body = IntentSettingsIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn set_intent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<IntentSettingsIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let settings = IntentSettings {
        kind: kind_of(body.kind.as_deref())?,
        handoff: body.handoff,
        skills: body.skills.map(|s| s.iter().map(|s| clean(s)).collect()),
    };
    let summary = format!("Settings of {id} changed");
    changed(&state, &admin, ip, summary, |p| {
        p.set_intent(&id, settings.clone())
    })
    .await
}

/// Remove an intent (admins only); a playbook keeps at least one.
#[utoipa::path(delete, path = "/api/v1/playbook/intents/{id}", params(("id" = String, Path)),
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn remove_intent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let summary = format!("Intent {id} removed");
    changed(&state, &admin, ip, summary, |p| p.remove_intent(&id)).await
}

/// Add a text the bot must never answer itself to `[out_of_scope]` (admins only).
#[utoipa::path(post, path = "/api/v1/playbook/out_of_scope", request_body = ExampleIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn add_out_of_scope(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<ExampleIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let text = clean(&body.text);
    let summary = "Out-of-scope example added".to_owned();
    changed(&state, &admin, ip, summary, |p| p.add_out_of_scope(&text)).await
}

/// Remove a text from `[out_of_scope]` (admins only).
#[utoipa::path(post, path = "/api/v1/playbook/out_of_scope/remove", request_body = ExampleIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn remove_out_of_scope(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<ExampleIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let summary = "Out-of-scope example removed".to_owned();
    changed(&state, &admin, ip, summary, |p| {
        p.remove_out_of_scope(&body.text)
    })
    .await
}

/// What one handoff reason needs from a person (docs/playbook.md, `[routing.needs.<reason>]`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NeedsIn {
    /// Minimum competence levels, 1–5; left out: no requirement.
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situational: Option<u8>,
    #[serde(default)]
    pub skills: Vec<String>,
}

impl From<&ReasonNeeds> for NeedsIn {
    fn from(n: &ReasonNeeds) -> Self {
        NeedsIn {
            self_: n.self_,
            people: n.people,
            situational: n.situational,
            skills: n.skills.clone(),
        }
    }
}

/// One relaxation step (docs/playbook.md, `relax`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelaxStepIn {
    pub after_secs: u64,
    /// -4–0: all levels drop by this much.
    #[serde(default)]
    pub levels: i8,
    /// `true`: anyone who speaks the locale may take it.
    #[serde(default)]
    pub any: bool,
}

/// The routing overrides; a reason not listed keeps its built-in rule.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RoutingOut {
    #[schema(value_type = Object)]
    pub needs: BTreeMap<String, NeedsIn>,
    /// `null`: the built-in steps.
    pub relax: Option<Vec<RelaxStepIn>>,
}

impl RoutingOut {
    pub fn of(routing: Option<&playbook::Routing>) -> Self {
        let Some(r) = routing else {
            return Self::default();
        };
        RoutingOut {
            needs: r.needs.iter().map(|(k, n)| (k.clone(), n.into())).collect(),
            relax: r.relax.as_ref().map(|steps| {
                steps
                    .iter()
                    .map(|s| RelaxStepIn {
                        after_secs: s.after_secs,
                        levels: s.levels,
                        any: s.any,
                    })
                    .collect()
            }),
        }
    }
}

/// Set what a handoff reason needs from a person, replacing its built-in rule (admins only).
#[utoipa::path(put, path = "/api/v1/playbook/routing/needs/{reason}", params(("reason" = String, Path)),
    request_body = NeedsIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn set_needs(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(reason): Path<String>,
    ApiJson(body): ApiJson<NeedsIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let needs = ReasonNeeds {
        self_: body.self_,
        people: body.people,
        situational: body.situational,
        skills: body.skills.iter().map(|s| clean(s)).collect(),
    };
    let summary = format!("Routing for {reason} changed");
    changed(&state, &admin, ip, summary, |p| {
        p.set_reason_needs(&reason, Some(needs.clone()))
    })
    .await
}

/// Bring back a handoff reason's built-in rule (admins only).
#[utoipa::path(delete, path = "/api/v1/playbook/routing/needs/{reason}", params(("reason" = String, Path)),
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn reset_needs(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(reason): Path<String>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let summary = format!("Routing for {reason} back to the built-in rule");
    changed(&state, &admin, ip, summary, |p| {
        p.set_reason_needs(&reason, None)
    })
    .await
}

/// The relaxation steps; `steps: null` brings back the built-in ones.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelaxIn {
    pub steps: Option<Vec<RelaxStepIn>>,
}

/// Set how needs relax while a conversation waits (admins only).
#[utoipa::path(put, path = "/api/v1/playbook/routing/relax", request_body = RelaxIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn set_relax(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<RelaxIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let steps: Option<Vec<RelaxStep>> = body.steps.map(|s| {
        s.iter()
            .map(|s| RelaxStep {
                after_secs: s.after_secs,
                levels: s.levels,
                any: s.any,
            })
            .collect()
    });
    let summary = "Routing relaxation changed".to_owned();
    changed(&state, &admin, ip, summary, |p| p.set_relax(steps.clone())).await
}
