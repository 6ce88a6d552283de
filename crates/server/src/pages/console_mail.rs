//! The console's view of e-mail: the channel on every conversation, the subject and address of a
//! mail conversation, each reply's delivery (queued, sent, failed, bounced), the attachments, and
//! whether mail is on at all.

use desk::{Author, Channel, MailState};
use maud::{html, Markup};
use store::{Attachment, Conversation, MailStatus, Message};

use super::layout::Lang;

/// What the console shows of one e-mail conversation.
pub(super) struct MailPanel {
    pub sending: bool,
    pub status: Vec<MailStatus>,
    pub attachments: Vec<Attachment>,
}

/// "Chat" or "E-Mail", on every conversation.
pub(super) fn channel_badge(lang: Lang, c: &Conversation) -> Markup {
    let label = match c.channel {
        Channel::Chat => lang.t("Chat", "Chat"),
        Channel::Email => lang.t("E-Mail", "E-mail"),
    };
    html! { span class={"channel " (c.channel.as_str())} { (label) } }
}

/// The inbox line's subject, for a mail conversation.
pub(super) fn subject_line(c: &Conversation) -> Markup {
    html! { @if let Some(s) = &c.subject { " · " span.subject { (s) } } }
}

fn state_label(lang: Lang, s: MailState) -> &'static str {
    match s {
        MailState::Queued => lang.t("wartet auf Versand", "queued"),
        MailState::Sending => lang.t("wird gesendet", "sending"),
        MailState::Sent => lang.t("per E-Mail gesendet", "sent by e-mail"),
        MailState::Failed => lang.t("Versand fehlgeschlagen", "sending failed"),
        MailState::Bounced => lang.t("unzustellbar", "bounced"),
    }
}

/// Under a bot or agent message of a mail conversation: how its mail fares.
pub(super) fn delivery(lang: Lang, panel: Option<&MailPanel>, m: &Message) -> Markup {
    let Some(panel) = panel else { return html! {} };
    if !matches!(m.author, Author::Bot | Author::Agent) {
        return html! {};
    }
    let Some(s) = panel.status.iter().find(|s| s.message == m.id) else {
        return html! {};
    };
    html! {
        p class={"delivery " (s.state.as_str())} {
            (state_label(lang, s.state))
            @if let Some(e) = &s.last_error { ": " (e) }
        }
    }
}

/// The mail facts above the transcript.
pub(super) fn header(lang: Lang, c: &Conversation, panel: Option<&MailPanel>) -> Markup {
    let Some(panel) = panel else { return html! {} };
    html! {
        section.mail aria-labelledby="mail-h" {
            h2 #mail-h { (lang.t("E-Mail", "E-mail")) }
            dl {
                dt { (lang.t("Betreff", "Subject")) }
                dd { (c.subject.as_deref().unwrap_or("–")) }
                dt { (lang.t("Adresse", "Address")) }
                dd { (c.customer.email.as_deref().unwrap_or(lang.t("gelöscht", "erased"))) }
            }
            @if !panel.sending {
                p.note role="status" { (lang.t(
                    "E-Mail ist auf diesem Desk aus: Antworten warten, bis der Versand eingerichtet ist.",
                    "Mail is off on this desk: replies wait until sending is set up.")) }
            }
            @if !panel.attachments.is_empty() {
                h3 { (lang.t("Anhänge", "Attachments")) }
                ul.attachments {
                    @for a in &panel.attachments {
                        li {
                            @if a.kept {
                                a href={"/api/v1/conversations/" (c.id) "/attachments/" (a.id)} download=(a.name) { (a.name) }
                            } @else {
                                (a.name)
                            }
                            " (" (a.content_type) ", " (size(a.size)) ")"
                            @if !a.kept { " – " (lang.t("zu groß, nicht gespeichert", "too large, not kept")) }
                        }
                    }
                }
            }
        }
    }
}

/// On the inbox, when this desk sends no mail: replies to mail conversations wait.
pub(super) fn mail_off(lang: Lang, mail: Option<&crate::mail::Mail>) -> Markup {
    if mail.is_some_and(|m| m.sends()) {
        return html! {};
    }
    html! {
        p.note #mail-off role="status" { (lang.t(
            "E-Mail ist aus: Antworten auf E-Mail- und Kontaktformular-Gespräche warten im Postausgang, bis TANDEM_SMTP_URL gesetzt ist.",
            "Mail is off: replies to e-mail and contact-form conversations wait in the outbox until TANDEM_SMTP_URL is set.")) }
    }
}

/// The reply field's label: agents know where their words go.
pub(super) fn reply_label(lang: Lang, c: &Conversation) -> &'static str {
    match c.channel {
        Channel::Email => lang.t(
            "Antwort (wird per E-Mail gesendet)",
            "Reply (will be sent by e-mail)",
        ),
        Channel::Chat => lang.t("Antwort", "Reply"),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} B"),
    }
}
