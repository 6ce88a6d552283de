//! `/api/v1/playbook`: the playbook in the desk (admins), and `/api/v1/triage`: the live machine
//! tier's view of a text (agents and admins). Issue 15.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use playbook::{NewIntent, Playbook};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::{Admin, SignedIn};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;
use crate::teach::{self, Training};

/// One intent of the playbook.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntentOut {
    pub id: String,
    /// `service` or `sales`.
    pub kind: String,
    /// Always goes to a person.
    pub handoff: bool,
    pub skills: Vec<String>,
    pub examples: Vec<String>,
    /// The answer per locale (`de`, `en`, …).
    #[schema(value_type = Object)]
    pub answer: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutOfScopeOut {
    pub examples: Vec<String>,
}

/// The playbook: its newest version, and what this node answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlaybookOut {
    /// The newest version: the desk's playbook.
    pub version: i64,
    /// The version this node's machine tier answers with now (extension; it follows `version`
    /// within seconds).
    pub live_version: i64,
    /// Retraining on this node (extension).
    pub training: Training,
    pub intents: Vec<IntentOut>,
    pub out_of_scope: OutOfScopeOut,
    /// The routing overrides (extension).
    pub routing: super::playbook_settings::RoutingOut,
}

/// A text as every stored text is kept (`desk::text::clean`); nothing visible is empty, which
/// the edit then refuses by name.
pub(super) fn clean(text: &str) -> String {
    desk::text::clean(text).unwrap_or_default()
}

/// The playbook (admins only).
#[utoipa::path(get, path = "/api/v1/playbook",
    responses((status = 200, body = PlaybookOut), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn get_playbook(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> ApiResult<Json<PlaybookOut>> {
    let newest = state
        .store
        .playbooks()
        .playbook_version(None)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let playbook = Playbook::parse(&newest.toml).map_err(|e| {
        tracing::error!(error = %e, "the newest playbook version does not parse");
        ApiError::internal()
    })?;
    Ok(Json(PlaybookOut {
        version: newest.info.version,
        live_version: state.machine.now().version,
        training: state.teacher.status(),
        intents: playbook
            .intents
            .into_iter()
            .map(|i| IntentOut {
                kind: i.kind.as_str().into(),
                id: i.id,
                handoff: i.handoff,
                skills: i.skills,
                examples: i.examples,
                answer: i.answer,
            })
            .collect(),
        out_of_scope: OutOfScopeOut {
            examples: playbook.out_of_scope.examples,
        },
        routing: super::playbook_settings::RoutingOut::of(playbook.routing.as_ref()),
    }))
}

/// A new intent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentIn {
    /// `[a-z0-9_]+`, not taken.
    pub id: String,
    /// `service` (default) or `sales`.
    pub kind: Option<String>,
    /// At least one, none empty.
    pub examples: Vec<String>,
    /// The answer per locale; the desk's first locale is needed unless `handoff` is true.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answer: BTreeMap<String, String>,
    #[serde(default)]
    pub handoff: bool,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleIn {
    pub text: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackIn {
    /// The earlier version whose playbook becomes the newest again.
    pub version: i64,
}

/// The version a change made.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionCreated {
    pub version: i64,
}

/// Add an intent (admins only). Live for triage on every node within seconds.
#[utoipa::path(post, path = "/api/v1/playbook/intents", request_body = IntentIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn add_intent(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<IntentIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let kind = super::playbook_settings::kind_of(body.kind.as_deref())?.unwrap_or_default();
    let new = NewIntent {
        id: body.id,
        kind,
        examples: body.examples.iter().map(|e| clean(e)).collect(),
        answer: body
            .answer
            .iter()
            .map(|(l, a)| (l.clone(), clean(a)))
            .collect(),
        handoff: body.handoff,
        skills: body.skills.iter().map(|s| clean(s)).collect(),
    };
    let summary = format!("Intent {} added", new.id);
    changed(&state, &admin, ip, summary, move |p| {
        p.add_intent(new.clone())
    })
    .await
}

/// Add an example to an intent (admins only). Live for triage on every node within seconds.
#[utoipa::path(post, path = "/api/v1/playbook/intents/{id}/examples", params(("id" = String, Path)),
    request_body = ExampleIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn add_example(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExampleIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let summary = format!("Example added to {id}");
    let text = clean(&body.text);
    changed(&state, &admin, ip, summary, |p| p.add_example(&id, &text)).await
}

/// Remove an example from an intent (admins only); its last one stays.
#[utoipa::path(post, path = "/api/v1/playbook/intents/{id}/examples/remove", params(("id" = String, Path)),
    request_body = ExampleIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn remove_example(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExampleIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let summary = format!("Example removed from {id}");
    changed(&state, &admin, ip, summary, |p| {
        p.remove_example(&id, &body.text)
    })
    .await
}

/// An intent's answer in one locale.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerIn {
    pub locale: String,
    /// Empty removes the answer in that locale (not the desk's first locale's, unless the
    /// intent always goes to a person).
    pub text: String,
}

/// Set an intent's answer in one locale (admins only).
#[utoipa::path(put, path = "/api/v1/playbook/intents/{id}/answer", params(("id" = String, Path)),
    request_body = AnswerIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn set_answer(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AnswerIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let summary = format!("Answer of {id} ({}) changed", body.locale);
    let text = desk::text::clean(&body.text).unwrap_or_default();
    changed(&state, &admin, ip, summary, |p| {
        p.set_answer(&id, &body.locale, &text)
    })
    .await
}

/// Make an earlier version's playbook the newest again (admins only), as a new version.
#[utoipa::path(post, path = "/api/v1/playbook/rollback", request_body = RollbackIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn rollback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    ApiJson(body): ApiJson<RollbackIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let v = teach::rollback(&state, &admin, body.version).await?;
    created(&state, &admin, ip, v.version).await
}

/// Makes `edit` a new version (see [`teach::change`]) and answers 201 with it.
pub(super) async fn changed(
    state: &AppState,
    admin: &desk::Agent,
    ip: std::net::IpAddr,
    summary: String,
    edit: impl Fn(&mut Playbook) -> Result<(), playbook::EditError>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let v = teach::change(state, admin, summary, edit).await?;
    created(state, admin, ip, v.version).await
}

pub(super) async fn created(
    state: &AppState,
    admin: &desk::Agent,
    ip: std::net::IpAddr,
    version: i64,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let target = format!("playbook:{version}");
    audit::record(state, Some(admin.id), "playbook_changed", target, Some(ip)).await;
    Ok((StatusCode::CREATED, Json(VersionCreated { version })))
}

/// One version of the playbook.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionOut {
    pub version: i64,
    /// Who made it: an admin's e-mail, `start` (imported when the desk started) or `import`
    /// (`tandem playbook import`).
    pub author: String,
    pub summary: String,
    pub created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionList {
    /// Newest first.
    pub versions: Vec<VersionOut>,
}

/// The playbook's versions, newest first (admins only).
#[utoipa::path(get, path = "/api/v1/playbook/versions",
    responses((status = 200, body = VersionList), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn versions(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> ApiResult<Json<VersionList>> {
    let all = state.store.playbooks().playbook_versions().await?;
    Ok(Json(VersionList {
        versions: all
            .into_iter()
            .map(|v| VersionOut {
                version: v.version,
                author: v.author,
                summary: v.summary,
                created_at: crate::wire::rfc3339(v.created_at_ms),
            })
            .collect(),
    }))
}

/// A text to triage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriageIn {
    pub text: String,
}

/// One of the machine's best guesses.
#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateOut {
    pub intent: String,
    pub confidence: f32,
}

/// The live machine tier's decision on a text, as `tandem triage --json` prints it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TriageOut {
    pub text: String,
    pub intent: Option<String>,
    pub confidence: f32,
    /// `answer`, `clarify` or `handoff`.
    #[schema(value_type = String)]
    pub action: desk::Action,
    /// Why a person should take over.
    #[schema(value_type = Vec<String>)]
    pub reasons: Vec<desk::Reason>,
    pub locale: String,
    pub article: Option<String>,
    pub sentiment: f32,
    /// The best three intents, best first, whatever the action.
    pub candidates: Vec<CandidateOut>,
    /// The playbook version that decided (extension).
    pub version: i64,
}

/// Triage a text with the live machine tier (agents and admins); nothing is stored.
#[utoipa::path(post, path = "/api/v1/triage", request_body = TriageIn,
    responses((status = 200, body = TriageOut), (status = 400), (status = 401)),
    security(("bearer" = [])))]
pub async fn triage(
    State(state): State<AppState>,
    SignedIn(_agent): SignedIn,
    ApiJson(body): ApiJson<TriageIn>,
) -> ApiResult<Json<TriageOut>> {
    let text = crate::flow::check_text(&body.text)?;
    let now = state.machine.now();
    let t = crate::flow::triage(&now.tier, &text).await?;
    Ok(Json(TriageOut {
        text: t.text,
        intent: t.intent,
        confidence: t.confidence,
        action: t.action,
        reasons: t.reasons,
        locale: t.locale,
        article: t.article,
        sentiment: t.sentiment,
        candidates: t
            .candidates
            .into_iter()
            .map(|c| CandidateOut {
                intent: c.intent,
                confidence: c.confidence,
            })
            .collect(),
        version: now.version,
    }))
}

/// What changed between two versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiffOut {
    pub from: i64,
    pub to: i64,
    /// A unified diff of the two playbooks, each written out by the desk (so comments and
    /// formatting of an imported file do not show as changes).
    pub diff: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DiffQuery {
    /// The earlier version [default: the one before `to`].
    pub from: Option<i64>,
    /// The later version [default: the newest].
    pub to: Option<i64>,
}

/// What changed between two versions of the playbook (admins only).
#[utoipa::path(get, path = "/api/v1/playbook/diff", params(DiffQuery),
    responses((status = 200, body = DiffOut), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn diff(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    axum::extract::Query(q): axum::extract::Query<DiffQuery>,
) -> ApiResult<Json<DiffOut>> {
    let (from, to, diff) = teach::diff(&state, q.from, q.to).await?;
    Ok(Json(DiffOut { from, to, diff }))
}

/// One version of the playbook with its TOML.
#[derive(Debug, Serialize, ToSchema)]
pub struct VersionText {
    pub version: i64,
    pub author: String,
    pub summary: String,
    pub created_at: String,
    /// The playbook as stored (an imported file keeps its comments).
    pub toml: String,
}

/// One version of the playbook (admins only).
#[utoipa::path(get, path = "/api/v1/playbook/versions/{version}", params(("version" = i64, Path)),
    responses((status = 200, body = VersionText), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn version(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Path(version): Path<i64>,
) -> ApiResult<Json<VersionText>> {
    let v = state
        .store
        .playbooks()
        .playbook_version(Some(version))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(VersionText {
        version: v.info.version,
        author: v.info.author,
        summary: v.info.summary,
        created_at: crate::wire::rfc3339(v.info.created_at_ms),
        toml: v.toml,
    }))
}
