//! REST API v1: routes and the OpenAPI document generated from the handlers.

mod agents;
mod canned;
mod conversations;
mod customers;
mod events;
pub mod help;
mod mail;
pub mod metrics;
mod playbook;
mod playbook_settings;
mod suggestions;

use axum::routing::{get, post, put};
use axum::{Json, Router};
use utoipa::OpenApi;

use crate::state::AppState;
use crate::wire;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tandem REST API", version = "1", description = "Customer, agent and admin endpoints of the Tandem desk."),
    paths(
        conversations::create, conversations::get_one, conversations::post_message,
        conversations::rate, conversations::resolve, conversations::handback, conversations::transfer,
        conversations::suggestions, conversations::post_note, conversations::typing, conversations::read, events::conversation_events, events::agent_events,
        mail::continue_by_email, mail::attachment,
        canned::list, canned::create, canned::update, canned::delete,
        agents::token, agents::logout, agents::change_password, agents::my_conversations, agents::search, agents::presence, agents::limits, agents::create, agents::list, agents::disable, agents::enable, agents::delete,
        help::issue, help::list, help::get_one, help::put, help::comment, help::vote,
        help::contact, help::comments, help::approve, help::reject,
        metrics::summary, metrics::summary_csv, metrics::conversations_csv, customers::export, customers::erase, customers::audit_log,
        playbook::get_playbook, playbook::add_intent, playbook::add_example, playbook::rollback, playbook::versions, playbook::triage, playbook::diff, playbook::version, playbook::remove_example, playbook::set_answer,
        playbook_settings::set_intent, playbook_settings::remove_intent, playbook_settings::add_out_of_scope, playbook_settings::remove_out_of_scope, playbook_settings::set_needs, playbook_settings::reset_needs, playbook_settings::set_relax,
        suggestions::list, suggestions::accept, suggestions::reject, suggestions::suggest_answer,
    ),
    components(schemas(
        wire::Message, wire::Handoff, wire::Guess, wire::Assignee, wire::StateChange, wire::CustomerIn, wire::Queue, wire::TransferIn, wire::LimitsIn,
        wire::NewConversation, wire::ConversationCreated, wire::NewMessage, wire::MessagePosted,
        canned::CannedOut, canned::CannedIn,
        wire::MailView, wire::Delivery, wire::AttachmentView, mail::EmailIn,
        wire::Conversation, wire::Rating, wire::Login, wire::PasswordChange, wire::Token, wire::ConversationSummary,
        wire::AgentConversations, wire::AgentSearch, wire::PresenceIn, wire::Competences, wire::NewAgent, wire::Agent,
        wire::ArticleSuggestion, crate::privacy::CustomerExport, crate::privacy::ExportedConversation, crate::privacy::ExportedRating, wire::AuditEntry, wire::AuditLog,
        crate::captcha::Issued, crate::captcha::MathQuestion, crate::captcha::AltchaChallenge,
        help::CaptchaFields, help::NewComment, help::CommentCreated,
        help::CommentOut, help::CommentList, help::ArticleOut, help::ArticleList, help::ArticleIn,
        help::Vote, help::ContactIn, help::ContactCreated,
        metrics::Summary, metrics::Csat, metrics::FirstResponse, metrics::AgentFigures,
        metrics::QueueLength,
        playbook::PlaybookOut, playbook::IntentOut, playbook::OutOfScopeOut, playbook::IntentIn, playbook::ExampleIn,
        playbook::RollbackIn, playbook::VersionCreated, playbook::VersionOut, playbook::VersionList, playbook::DiffOut, playbook::VersionText, playbook::AnswerIn,
        playbook::TriageIn, playbook::TriageOut, playbook::CandidateOut, crate::teach::Training,
        playbook_settings::IntentSettingsIn, playbook_settings::NeedsIn, playbook_settings::RelaxStepIn, playbook_settings::RoutingOut, playbook_settings::RelaxIn,
        suggestions::SuggestionList, suggestions::SuggestionOut, suggestions::CandidateScore, suggestions::AcceptIn, suggestions::NewIntentIn,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(|| async { Json(ApiDoc::openapi()) }),
        )
        .route("/api/v1/conversations", post(conversations::create))
        .route("/api/v1/conversations/{id}", get(conversations::get_one))
        .route(
            "/api/v1/conversations/{id}/messages",
            post(conversations::post_message),
        )
        .route(
            "/api/v1/conversations/{id}/rating",
            post(conversations::rate),
        )
        .route(
            "/api/v1/conversations/{id}/resolve",
            post(conversations::resolve),
        )
        .route(
            "/api/v1/conversations/{id}/handback",
            post(conversations::handback),
        )
        .route(
            "/api/v1/conversations/{id}/transfer",
            post(conversations::transfer),
        )
        .route(
            "/api/v1/conversations/{id}/suggestions",
            get(conversations::suggestions),
        )
        .route(
            "/api/v1/conversations/{id}/notes",
            post(conversations::post_note),
        )
        .route(
            "/api/v1/conversations/{id}/typing",
            post(conversations::typing),
        )
        .route("/api/v1/conversations/{id}/read", post(conversations::read))
        .route(
            "/api/v1/conversations/{id}/email",
            post(mail::continue_by_email),
        )
        .route(
            "/api/v1/conversations/{id}/attachments/{attachment}",
            get(mail::attachment),
        )
        .route(
            "/api/v1/conversations/{id}/events",
            get(events::conversation_events),
        )
        .route("/api/v1/auth/token", post(agents::token))
        .route("/api/v1/auth/logout", post(agents::logout))
        .route("/api/v1/agent/password", put(agents::change_password))
        .route("/api/v1/agent/conversations", get(agents::my_conversations))
        .route("/api/v1/agent/search", get(agents::search))
        .route("/api/v1/agent/events", get(events::agent_events))
        .route("/api/v1/agents", post(agents::create).get(agents::list))
        .route(
            "/api/v1/canned-responses",
            get(canned::list).post(canned::create),
        )
        .route(
            "/api/v1/canned-responses/{id}",
            put(canned::update).delete(canned::delete),
        )
        .route("/api/v1/agents/{id}/presence", put(agents::presence))
        .route("/api/v1/agents/{id}/disable", post(agents::disable))
        .route("/api/v1/agents/{id}/enable", post(agents::enable))
        .route("/api/v1/agents/{id}", axum::routing::delete(agents::delete))
        .route("/api/v1/agents/{id}/limits", put(agents::limits))
        .route("/api/v1/playbook", get(playbook::get_playbook))
        .route("/api/v1/playbook/intents", post(playbook::add_intent))
        .route(
            "/api/v1/playbook/intents/{id}/examples",
            post(playbook::add_example),
        )
        .route(
            "/api/v1/playbook/intents/{id}/examples/remove",
            post(playbook::remove_example),
        )
        .route(
            "/api/v1/playbook/intents/{id}/answer",
            put(playbook::set_answer),
        )
        .route(
            "/api/v1/playbook/intents/{id}",
            put(playbook_settings::set_intent).delete(playbook_settings::remove_intent),
        )
        .route(
            "/api/v1/playbook/out_of_scope",
            post(playbook_settings::add_out_of_scope),
        )
        .route(
            "/api/v1/playbook/out_of_scope/remove",
            post(playbook_settings::remove_out_of_scope),
        )
        .route(
            "/api/v1/playbook/routing/needs/{reason}",
            put(playbook_settings::set_needs).delete(playbook_settings::reset_needs),
        )
        .route(
            "/api/v1/playbook/routing/relax",
            put(playbook_settings::set_relax),
        )
        .route("/api/v1/playbook/versions", get(playbook::versions))
        .route(
            "/api/v1/playbook/versions/{version}",
            get(playbook::version),
        )
        .route("/api/v1/playbook/diff", get(playbook::diff))
        .route("/api/v1/playbook/rollback", post(playbook::rollback))
        .route("/api/v1/triage", post(playbook::triage))
        .route("/api/v1/suggestions", get(suggestions::list))
        .route(
            "/api/v1/conversations/{id}/messages/{message}/suggest",
            post(suggestions::suggest_answer),
        )
        .route("/api/v1/suggestions/{id}/accept", post(suggestions::accept))
        .route("/api/v1/suggestions/{id}/reject", post(suggestions::reject))
        .merge(help_routes())
}

fn help_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/customers/export", get(customers::export))
        .route("/api/v1/customers", axum::routing::delete(customers::erase))
        .route("/api/v1/audit", get(customers::audit_log))
        .route("/api/v1/metrics/summary", get(metrics::summary))
        .route("/api/v1/metrics/summary.csv", get(metrics::summary_csv))
        .route("/api/v1/conversations.csv", get(metrics::conversations_csv))
        .route("/api/v1/captcha", get(help::issue))
        .route("/api/v1/articles", get(help::list))
        .route("/api/v1/articles/{id}", get(help::get_one).put(help::put))
        .route("/api/v1/articles/{id}/comments", post(help::comment))
        .route("/api/v1/articles/{id}/helpful", post(help::vote))
        .route("/api/v1/contact", post(help::contact))
        .route("/api/v1/comments", get(help::comments))
        .route("/api/v1/comments/{id}/approve", post(help::approve))
        .route("/api/v1/comments/{id}/reject", post(help::reject))
}
