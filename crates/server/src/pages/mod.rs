//! Server-rendered pages: the demo shop with the widget, the agent console and the admin.
//! Every page is built with maud, which escapes all interpolated text; no raw user HTML.

mod admin;
mod assets;
mod console;
mod layout;
mod shop;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(shop::show))
        .route("/widget.js", get(assets::widget_js))
        .route("/widget.css", get(assets::widget_css))
        .route("/assets/app.css", get(assets::app_css))
        .route("/assets/console.js", get(assets::console_js))
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/console/login",
            get(console::login_page).post(console::login),
        )
        .route("/console/logout", post(console::logout))
        .route("/console", get(console::inbox))
        .route("/console/presence", post(console::presence))
        .route("/console/limits", post(console::limits))
        .route("/console/c/{id}", get(console::conversation))
        .route("/console/c/{id}/reply", post(console::reply))
        .route("/console/c/{id}/resolve", post(console::resolve))
        .route("/console/c/{id}/handback", post(console::handback))
        .route("/console/c/{id}/transfer", post(console::transfer))
        .route("/admin", get(admin::show))
        .route("/admin/agents", post(admin::create))
}
