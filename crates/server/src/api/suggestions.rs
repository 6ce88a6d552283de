//! `/api/v1/suggestions`: what the people's work suggests for the playbook (admins; issue 15).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::playbook::VersionCreated;
use crate::auth::{Access, Admin, Opened, Read};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ClientIp};
use crate::state::AppState;
use crate::suggestions::{self, Acceptance};

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateScore {
    pub intent: String,
    /// 0..1: how close the group is to the intent.
    pub score: f32,
}

/// A group of handed-off questions agents answered alike.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionOut {
    pub id: String,
    /// `new_intent` or `add_examples`.
    pub kind: String,
    /// The customers' questions, masked of personal data.
    pub questions: Vec<String>,
    /// Sample answers the agents gave, masked of personal data.
    pub answers: Vec<String>,
    /// How many customers asked.
    pub count: usize,
    /// The intents it is closest to, best first.
    pub candidates: Vec<CandidateScore>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuggestionList {
    /// Most asked first.
    pub suggestions: Vec<SuggestionOut>,
}

/// The suggestions from the people's work (admins only).
#[utoipa::path(get, path = "/api/v1/suggestions",
    responses((status = 200, body = SuggestionList), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    Admin(_admin): Admin,
) -> ApiResult<Json<SuggestionList>> {
    let all = suggestions::suggestions(&state).await?;
    Ok(Json(SuggestionList {
        suggestions: all
            .iter()
            .map(|s| SuggestionOut {
                id: s.id.clone(),
                kind: s.kind.as_str().into(),
                questions: s.questions(),
                answers: s.answers(),
                count: s.count(),
                candidates: s
                    .candidates
                    .iter()
                    .map(|(intent, score)| CandidateScore {
                        intent: intent.clone(),
                        score: *score,
                    })
                    .collect(),
            })
            .collect(),
    }))
}

/// A new intent made from a suggestion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIntentIn {
    pub id: String,
    /// The answer per locale; the desk's first locale is needed.
    #[schema(value_type = Object)]
    pub answer: BTreeMap<String, String>,
}

/// How to accept, one of three: `intent` (add the questions to it), `new_intent`, or
/// `out_of_scope: true` (the questions join `[out_of_scope]`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptIn {
    pub intent: Option<String>,
    pub new_intent: Option<NewIntentIn>,
    #[serde(default)]
    pub out_of_scope: bool,
    /// Only these of the suggestion's questions (default: all); the others are rejected.
    pub questions: Option<Vec<String>>,
}

/// Accept a suggestion (admins only): its questions join an intent, or become a new one.
#[utoipa::path(post, path = "/api/v1/suggestions/{id}/accept", params(("id" = String, Path)),
    request_body = AcceptIn,
    responses((status = 201, body = VersionCreated), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn accept(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AcceptIn>,
) -> ApiResult<(StatusCode, Json<VersionCreated>)> {
    let how = match (body.intent, body.new_intent, body.out_of_scope) {
        (Some(intent), None, false) => Acceptance::Examples { intent },
        (None, None, true) => Acceptance::OutOfScope,
        (None, Some(n), false) => Acceptance::NewIntent {
            id: n.id,
            answer: n
                .answer
                .iter()
                .map(|(l, a)| (l.clone(), desk::text::clean(a).unwrap_or_default()))
                .collect(),
        },
        _ => {
            return Err(ApiError::bad_request(
                "intent: give one of \"intent\", \"new_intent\" or \"out_of_scope\": true",
            ))
        }
    };
    let v = suggestions::accept(&state, &admin, &id, how, body.questions, ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(VersionCreated { version: v.version }),
    ))
}

/// Reject a suggestion (admins only): it does not come back.
#[utoipa::path(post, path = "/api/v1/suggestions/{id}/reject", params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn reject(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    suggestions::reject(&state, &admin, &id, ip).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suggest one's own reply as the answer to the customer's question before it (agents): it joins
/// the suggestions, masked of personal data. 201 when new, 200 when it already was there.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/messages/{message}/suggest",
    params(("id" = String, Path), ("message" = i64, Path)),
    responses((status = 201), (status = 200), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn suggest_answer(
    State(state): State<AppState>,
    opened: Opened<Read>,
    Path((_id, message)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let (c, access) = opened.into_parts();
    let Access::Agent(agent) = access else {
        return Err(ApiError::forbidden("suggestions come from agents"));
    };
    let new =
        suggestions::suggest_answer(&state, &c, desk::MessageId::new(message), &agent).await?;
    Ok(if new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}
