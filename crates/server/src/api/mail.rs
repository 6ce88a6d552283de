//! The e-mail channel's endpoints: a chat moves to e-mail, agents download attachments.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::{Access, Opened, Read, Write};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::service::DeskError;
use crate::state::AppState;
use crate::wire;

/// Where the customer wants the answer.
#[derive(Debug, Deserialize, ToSchema)]
pub struct EmailIn {
    pub email: String,
}

/// Continue by e-mail (the customer, with the conversation token): later bot and agent replies
/// go to this address, threaded like any mail; the transcript confirms it (extension).
#[utoipa::path(post, path = "/api/v1/conversations/{id}/email", params(("id" = String, Path)),
    request_body = EmailIn,
    responses((status = 200, body = wire::StateChange), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn continue_by_email(
    State(state): State<AppState>,
    opened: Opened<Write>,
    ApiJson(body): ApiJson<EmailIn>,
) -> ApiResult<Json<wire::StateChange>> {
    let (c, access) = opened.into_parts();
    if !matches!(access, Access::Customer) {
        return Err(
            DeskError::Forbidden("only the customer chooses how to be answered".into()).into(),
        );
    }
    let email = desk::Email::parse(&body.email)
        .map_err(|why| DeskError::invalid(format!("email {why}")))?;
    let appended = crate::mail::continue_by_email(&state, &c, email).await?;
    Ok(Json(wire::StateChange::from(&appended.conversation)))
}

/// An attachment of the customer's mails (agents and admins). Always sent as a download, never
/// shown in the desk's origin.
#[utoipa::path(get, path = "/api/v1/conversations/{id}/attachments/{attachment}",
    params(("id" = String, Path), ("attachment" = i64, Path)),
    responses((status = 200, content_type = "application/octet-stream"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn attachment(
    State(state): State<AppState>,
    opened: Opened<Read>,
    Path(ids): Path<(String, i64)>,
) -> ApiResult<impl IntoResponse> {
    let (c, access) = opened.into_parts();
    if !matches!(access, Access::Agent(_)) {
        return Err(ApiError::from(DeskError::NotFound));
    }
    let (a, bytes) = state
        .store
        .mailbox()
        .attachment(&c.id, ids.1)
        .await?
        .ok_or(DeskError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_DISPOSITION, disposition(&a.name)),
        ],
        bytes,
    ))
}

/// `attachment; filename="…"; filename*=UTF-8''…` with the name's unsafe characters replaced or
/// percent-encoded (RFC 6266), so no name can break the header.
fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_name_cannot_break_the_header() {
        let d = super::disposition("a\"b\r\nSet-Cookie: x.pdf");
        assert!(!d.contains('\r') && !d.contains('\n'));
        assert!(
            d.starts_with("attachment; filename=\"a_b__Set-Cookie: x.pdf\""),
            "{d}"
        );
        assert!(super::disposition("Zähler.jpg").ends_with("UTF-8''Z%C3%A4hler.jpg"));
    }
}
