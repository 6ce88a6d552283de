//! Static assets compiled into the binary: no front-end build step.

use axum::http::header;
use axum::response::IntoResponse;

fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
}

pub async fn widget_js() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/widget.js"),
    )
}

pub async fn widget_css() -> impl IntoResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/widget.css"),
    )
}

pub async fn app_css() -> impl IntoResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    )
}

pub async fn console_js() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/console.js"),
    )
}

pub async fn help_css() -> impl IntoResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/help.css"),
    )
}

/// The vendored ALTCHA widget (MIT, see `assets/altcha/LICENSE.txt`), unchanged.
pub async fn altcha_js() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/altcha/altcha.js"),
    )
}

pub async fn altcha_worker_js() -> impl IntoResponse {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../../assets/altcha/worker.js"),
    )
}

pub async fn altcha_css() -> impl IntoResponse {
    asset(
        "text/css; charset=utf-8",
        include_str!("../../assets/altcha/altcha.css"),
    )
}

pub async fn altcha_license() -> impl IntoResponse {
    asset(
        "text/plain; charset=utf-8",
        include_str!("../../assets/altcha/LICENSE.txt"),
    )
}
