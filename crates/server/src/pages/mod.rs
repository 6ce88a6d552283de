//! Server-rendered pages: the demo shop with the widget, the help center, the agent console
//! and the admin.
//! Every page is built with maud, which escapes all interpolated text; no raw user HTML.

mod admin;
mod admin_playbook;
mod admin_suggestions;
mod assets;
mod audit;
mod console;
mod console_canned;
mod console_inbox;
mod console_keys;
mod console_mail;
mod console_panes;
mod dashboard;
mod dashboard_charts;
mod dashboard_tiles;
mod help;
mod help_admin;
mod layout;
mod playbook_settings;
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
        .route("/console", get(console_inbox::page))
        .route("/console/search", get(console_inbox::search))
        .route("/console/presence", post(console::presence))
        .route("/console/limits", post(console::limits))
        .route("/console/c/{id}", get(console::conversation))
        .route("/console/c/{id}/reply", post(console::reply))
        .route("/console/c/{id}/note", post(console::note))
        .route("/console/c/{id}/resolve", post(console::resolve))
        .route("/console/c/{id}/handback", post(console::handback))
        .route("/console/c/{id}/transfer", post(console::transfer))
        .route("/admin", get(admin::show))
        .route("/admin/dashboard", get(dashboard::show))
        .route("/admin/dashboard.csv", get(dashboard::csv))
        .route("/admin/audit", get(audit::show))
        .route("/admin/agents", post(admin::create))
        .route("/admin/playbook", get(admin_playbook::show))
        .route("/admin/playbook/intents", post(admin_playbook::add_intent))
        .route(
            "/admin/playbook/examples",
            post(admin_playbook::add_example),
        )
        .route("/admin/playbook/rollback", post(admin_playbook::rollback))
        .route(
            "/admin/playbook/examples/remove",
            post(admin_playbook::remove_example),
        )
        .route("/admin/playbook/answer", post(admin_playbook::set_answer))
        .route("/admin/playbook/diff", get(admin_playbook::diff))
        .route(
            "/admin/playbook/intent",
            post(playbook_settings::set_intent),
        )
        .route(
            "/admin/playbook/intent/remove",
            post(playbook_settings::remove_intent),
        )
        .route(
            "/admin/playbook/out_of_scope",
            post(playbook_settings::add_out_of_scope),
        )
        .route(
            "/admin/playbook/out_of_scope/remove",
            post(playbook_settings::remove_out_of_scope),
        )
        .route(
            "/admin/playbook/routing",
            post(playbook_settings::set_needs),
        )
        .route("/admin/playbook/relax", post(playbook_settings::set_relax))
        .route("/admin/suggestions", get(admin_suggestions::show))
        .route(
            "/admin/suggestions/{id}/accept",
            post(admin_suggestions::accept),
        )
        .route(
            "/admin/suggestions/{id}/reject",
            post(admin_suggestions::reject),
        )
        .merge(help_routes())
}

fn help_routes() -> Router<AppState> {
    Router::new()
        .route("/help", get(help::index))
        .route("/help/contact", get(help::contact).post(help::post_contact))
        .route("/help/{id}", get(help::article))
        .route("/help/{id}/comments", post(help::post_comment))
        .route("/help/{id}/helpful", post(help::post_vote))
        .route("/assets/help.css", get(assets::help_css))
        .route("/assets/altcha/altcha.js", get(assets::altcha_js))
        .route("/assets/altcha/worker.js", get(assets::altcha_worker_js))
        .route("/assets/altcha/altcha.css", get(assets::altcha_css))
        .route("/assets/altcha/LICENSE.txt", get(assets::altcha_license))
        .route("/console/comments", get(help_admin::comments))
        .route("/console/comments/{id}/approve", post(help_admin::approve))
        .route("/console/comments/{id}/reject", post(help_admin::reject))
        .route(
            "/admin/articles",
            get(help_admin::articles).post(help_admin::save),
        )
        .route("/admin/articles/{id}/publish", post(help_admin::publish))
}
