//! Errors mapped to HTTP in one place: `{"error": {"code", "message"}}`. Internal failures are
//! logged here and never sent to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or invalid credentials",
        )
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many requests, slow down",
        )
    }
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Conflict(_) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", "that already exists")
            }
            StoreError::Refused(message) => ApiError::new(StatusCode::CONFLICT, "refused", message),
            StoreError::WrongState { expected, actual } => ApiError::new(
                StatusCode::CONFLICT,
                "wrong_state",
                format!("the conversation is {actual}; this needs {expected}"),
            ),
            StoreError::Backend(detail) => {
                tracing::error!(%detail, "storage failure");
                ApiError::internal()
            }
        }
    }
}

/// The desk's refusals, as HTTP: the one mapping (see `service`).
impl From<crate::service::DeskError> for ApiError {
    fn from(e: crate::service::DeskError) -> Self {
        use crate::service::DeskError;
        match e {
            DeskError::Invalid(message) => ApiError::bad_request(message),
            DeskError::TooLong(max) => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "text_too_long",
                format!("text is longer than {max} characters"),
            ),
            DeskError::NotFound => ApiError::not_found(),
            DeskError::Forbidden(message) => ApiError::forbidden(message),
            DeskError::RateLimited => ApiError::too_many_requests(),
            DeskError::Captcha(message) => {
                ApiError::new(StatusCode::BAD_REQUEST, "captcha_invalid", message)
            }
            DeskError::Store(e) => e.into(),
            DeskError::Internal => ApiError::internal(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        let mut res = (self.status, Json(body)).into_response();
        if self.status == StatusCode::TOO_MANY_REQUESTS {
            // Every limit refills within a minute.
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("60"),
            );
        }
        res
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::DeskError;

    #[test]
    fn the_desks_refusals_map_to_their_http_status_once() {
        let status = |e: DeskError| ApiError::from(e).status;
        assert_eq!(status(DeskError::invalid("x")), StatusCode::BAD_REQUEST);
        assert_eq!(
            status(DeskError::TooLong(10)),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(status(DeskError::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(
            status(DeskError::Forbidden("x".into())),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            status(DeskError::Store(StoreError::Refused("busy".into()))),
            StatusCode::CONFLICT
        );
        assert_eq!(
            status(DeskError::RateLimited),
            StatusCode::TOO_MANY_REQUESTS
        );
        let captcha = ApiError::from(DeskError::Captcha("expired".into()));
        assert_eq!(
            (captcha.status, captcha.code),
            (StatusCode::BAD_REQUEST, "captcha_invalid")
        );
        let internal = ApiError::from(DeskError::Internal);
        assert_eq!(internal.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(internal.message, "internal error");
    }
}
