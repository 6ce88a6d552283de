//! A mail that came in: guarded against loops and bounces, threaded into its conversation, or
//! opened as a new one that the machine tier answers or hands off like a chat.
//!
//! Threading, in this order: a recipient that is one of our signed reply addresses; an
//! `In-Reply-To` or `References` id that is one of our signed message ids; the conversation's
//! reference `[#id]` in the subject, but only from the conversation's own customer address. A
//! forged or unsigned address never reaches an existing conversation: the mail opens a new one.

use desk::{Channel, ConversationId};
use mail_parser::{MessageParser, MimeHeaders};
use sha2::{Digest, Sha256};
use store::{Customer, InboundMail, MailOutcome, NewAttachment, NewMessage, StoreError};

use super::Mail;
use crate::flow;
use crate::service::{DeskError, DeskResult};
use crate::AppState;

/// What became of a mail; the listener answers the SMTP client by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Stored in this conversation (`new`: opened by it).
    Stored {
        conversation: ConversationId,
        new: bool,
    },
    /// Stored before (a relay or a mailbox that delivered it again).
    Duplicate,
    /// A delivery report about one of our mails: recorded on its conversation.
    Bounce,
    /// Taken and dropped: an automatic mail that belongs to no conversation.
    Dropped(&'static str),
    /// Refused for now: the sender's hourly allowance is spent (SMTP 450).
    Deferred,
    /// Refused: not a mail we can read (SMTP 550).
    Unreadable,
}

/// The envelope and the raw message as the listener (or a mailbox) got them.
pub struct Received<'a> {
    pub envelope_from: &'a str,
    pub recipients: &'a [String],
    pub raw: &'a [u8],
}

fn header_text<'a>(m: &'a mail_parser::Message<'a>, name: &'a str) -> Option<&'a str> {
    m.header_raw(name).map(str::trim)
}

/// Mail that no program should answer (RFC 3834, mailing lists, bulk, delivery systems).
fn is_automatic(m: &mail_parser::Message<'_>, sender: &str) -> bool {
    let auto = header_text(m, "Auto-Submitted").is_some_and(|v| !v.eq_ignore_ascii_case("no"));
    let bulk = header_text(m, "Precedence").is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        v == "bulk" || v == "list" || v == "junk"
    });
    let list = m.header_raw("List-Id").is_some() || m.header_raw("List-Unsubscribe").is_some();
    let local = sender.split('@').next().unwrap_or("").to_ascii_lowercase();
    let daemon = local == "mailer-daemon"
        || local == "postmaster"
        || local.starts_with("noreply")
        || local.starts_with("no-reply");
    auto || bulk || list || daemon
}

fn is_bounce(m: &mail_parser::Message<'_>, envelope_from: &str) -> bool {
    let report = m.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("delivery-status"))
    });
    let null_sender = matches!(envelope_from.trim(), "" | "<>");
    report || null_sender
}

/// Every `<…@domain>` id in a text (a bounce quotes our original's headers in its body).
fn ids_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == '<' || c == '>' || c.is_whitespace())
        .filter(|t| t.contains('@') && t.starts_with('m'))
}

/// The conversation a mail threads into by its signed headers or recipients.
fn signed_thread(
    mail: &Mail,
    m: &mail_parser::Message<'_>,
    recipients: &[String],
) -> Option<ConversationId> {
    let mut addresses: Vec<String> = recipients.to_vec();
    for list in [m.to(), m.cc()].into_iter().flatten() {
        addresses.extend(list.iter().filter_map(|a| a.address()).map(str::to_owned));
    }
    if let Some(c) = addresses
        .iter()
        .find_map(|a| mail.signer.conversation_of_address(a))
    {
        return Some(c);
    }
    let mut ids: Vec<String> = Vec::new();
    for v in [m.in_reply_to(), m.references()] {
        if let Some(list) = v.as_text_list() {
            ids.extend(list.iter().map(|s| s.to_string()));
        } else if let Some(one) = v.as_text() {
            ids.push(one.to_owned());
        }
    }
    ids.iter()
        .rev()
        .find_map(|id| mail.signer.conversation_of_message_id(id))
}

fn sender_of(
    m: &mail_parser::Message<'_>,
    envelope_from: &str,
) -> (Option<String>, Option<String>) {
    let from = m.from().and_then(|a| a.first());
    let address = from
        .and_then(|a| a.address())
        .map(str::to_owned)
        .or_else(|| {
            let e = envelope_from
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>');
            (!e.is_empty()).then(|| e.to_owned())
        })
        .and_then(|a| desk::Email::parse(&a).ok())
        .map(|e| e.into_string().to_lowercase());
    let name = from.and_then(|a| a.name()).and_then(desk::text::clean);
    (address, name)
}

/// Records a delivery report on the mail it reports on.
async fn bounce(
    state: &AppState,
    mail: &Mail,
    m: &mail_parser::Message<'_>,
    raw: &[u8],
) -> DeskResult<()> {
    let text = String::from_utf8_lossy(raw);
    let Some((conversation, message)) = ids_in(&text).find_map(|id| {
        let c = mail.signer.conversation_of_message_id(id)?;
        let n = id
            .strip_prefix('m')?
            .split('.')
            .next()?
            .parse::<i64>()
            .ok()?;
        Some((c, n))
    }) else {
        tracing::info!("a delivery report about no mail of ours was dropped");
        return Ok(());
    };
    let reason = m
        .subject()
        .unwrap_or("undeliverable")
        .chars()
        .take(200)
        .collect::<String>();
    match state
        .store
        .mailbox()
        .mail_outcome(
            desk::MessageId::new(message),
            MailOutcome::Bounced { error: reason },
        )
        .await
    {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(e.into()),
    }
    if let Some(c) = state.store.conversation(&conversation).await? {
        let note = if c.locale.as_str() == "de" {
            "Die Mail an den Kunden kam als unzustellbar zurück."
        } else {
            "The mail to the customer bounced."
        };
        flow::note(state, &c, NewMessage::system(note)).await?;
    }
    Ok(())
}

/// Takes in one mail.
pub async fn take_in(
    state: &AppState,
    mail: &Mail,
    received: Received<'_>,
) -> DeskResult<Disposition> {
    let Some(m) = MessageParser::default().parse(received.raw) else {
        return Ok(Disposition::Unreadable);
    };
    if is_bounce(&m, received.envelope_from) {
        bounce(state, mail, &m, received.raw).await?;
        return Ok(Disposition::Bounce);
    }
    let (sender, name) = sender_of(&m, received.envelope_from);
    let Some(sender) = sender else {
        return Ok(Disposition::Unreadable);
    };
    let key = format!(
        "mail-sender:{}",
        &hex::encode(Sha256::digest(sender.as_bytes()))[..32]
    );
    if state.store.count_hit(&key, 3_600_000).await? > mail.settings.per_sender_per_hour {
        return Ok(Disposition::Deferred);
    }
    let mail_id = match m.message_id() {
        Some(id) if !id.trim().is_empty() => format!("<{}>", id.trim()),
        _ => format!(
            "<sha256.{}@tandem>",
            hex::encode(Sha256::digest(received.raw))
        ),
    };
    if state.store.mailbox().mail_seen(&mail_id).await?.is_some() {
        return Ok(Disposition::Duplicate);
    }
    let body = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let mut text = super::text::new_part(&body);
    if text.chars().count() > flow::MAX_TEXT_CHARS {
        text = text
            .chars()
            .take(flow::MAX_TEXT_CHARS - 1)
            .collect::<String>()
            + "…";
    }
    let subject = m.subject().map(|s| s.chars().take(200).collect::<String>());
    let text = desk::text::clean(&text)
        .or_else(|| subject.as_deref().and_then(desk::text::clean))
        .unwrap_or_else(|| "(ohne Text / no text)".to_owned());
    let attachments: Vec<NewAttachment> = m
        .attachments()
        .map(|a| {
            let size = a.len() as u64;
            let content_type =
                a.content_type()
                    .map_or("application/octet-stream".to_owned(), |ct| {
                        match ct.subtype() {
                            Some(sub) => format!("{}/{}", ct.ctype(), sub),
                            None => ct.ctype().to_owned(),
                        }
                    });
            NewAttachment {
                name: a
                    .attachment_name()
                    .and_then(desk::text::clean)
                    .map(|n| n.chars().take(200).collect())
                    .unwrap_or_else(|| "attachment".to_owned()),
                content_type: content_type.chars().take(100).collect(),
                size,
                data: (size <= mail.settings.max_attachment_bytes).then(|| a.contents().to_vec()),
            }
        })
        .collect();
    let message = NewMessage::mail(
        text.clone(),
        InboundMail {
            mail_id,
            attachments,
        },
    );
    let automatic = is_automatic(&m, &sender);
    let mut thread = signed_thread(mail, &m, received.recipients);
    if thread.is_none() {
        thread = by_subject(state, subject.as_deref(), &sender).await?;
    }
    if let Some(id) = thread {
        if let Some(c) = state.store.conversation(&id).await? {
            let stored = if automatic {
                flow::note(state, &c, message).await
            } else {
                flow::customer_message_with(state, &c, message).await
            };
            return match stored {
                Ok(_) => Ok(Disposition::Stored {
                    conversation: id,
                    new: false,
                }),
                Err(DeskError::Store(StoreError::Conflict(_))) => Ok(Disposition::Duplicate),
                Err(e) => Err(e),
            };
        }
    }
    if automatic {
        return Ok(Disposition::Dropped(
            "an automatic mail that belongs to no conversation",
        ));
    }
    let started = flow::start_on(
        state,
        flow::Opening {
            locale: nlu::locale::guess(&text),
            customer: Customer {
                name,
                email: Some(sender),
            },
            channel: Channel::Email,
            subject,
            first: Some(message),
        },
    )
    .await;
    match started {
        Ok(s) => Ok(Disposition::Stored {
            conversation: s.appended.conversation.id,
            new: true,
        }),
        Err(DeskError::Store(StoreError::Conflict(_))) => Ok(Disposition::Duplicate),
        Err(e) => Err(e),
    }
}

/// The conversation `[#id]` in the subject names, if `sender` is its customer.
async fn by_subject(
    state: &AppState,
    subject: Option<&str>,
    sender: &str,
) -> DeskResult<Option<ConversationId>> {
    let Some(s) = subject else { return Ok(None) };
    let Some(start) = s.find("[#") else {
        return Ok(None);
    };
    let rest = &s[start + 2..];
    let Some(end) = rest.find(']') else {
        return Ok(None);
    };
    let Some(id) = ConversationId::parse(&rest[..end]) else {
        return Ok(None);
    };
    let Some(c) = state.store.conversation(&id).await? else {
        return Ok(None);
    };
    let same = c
        .customer
        .email
        .as_deref()
        .is_some_and(|e| e.eq_ignore_ascii_case(sender));
    Ok(same.then_some(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &str) -> mail_parser::Message<'_> {
        MessageParser::default()
            .parse(raw.as_bytes())
            .expect("parses")
    }

    #[test]
    fn automatic_mail_is_recognised() {
        let auto = parse("From: a@x.example\r\nAuto-Submitted: auto-replied\r\nSubject: Out of office\r\n\r\nAway.");
        assert!(is_automatic(&auto, "a@x.example"));
        let no = parse("From: a@x.example\r\nAuto-Submitted: no\r\nSubject: Hi\r\n\r\nHi.");
        assert!(!is_automatic(&no, "a@x.example"));
        let list = parse("From: a@x.example\r\nPrecedence: list\r\n\r\nHi.");
        assert!(is_automatic(&list, "a@x.example"));
        let daemon = parse("From: MAILER-DAEMON@x.example\r\n\r\nHi.");
        assert!(is_automatic(&daemon, "mailer-daemon@x.example"));
        let person = parse("From: kim@x.example\r\nSubject: Frage\r\n\r\nHallo");
        assert!(!is_automatic(&person, "kim@x.example"));
    }

    #[test]
    fn a_delivery_report_is_a_bounce() {
        let dsn = parse("From: MAILER-DAEMON@x.example\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n");
        assert!(is_bounce(&dsn, "<>"));
        assert!(is_bounce(&parse("From: a@x.example\r\n\r\nHi"), "<>"));
        assert!(!is_bounce(
            &parse("From: a@x.example\r\n\r\nHi"),
            "a@x.example"
        ));
    }

    #[test]
    fn the_sender_is_checked_and_lower_cased() {
        let m = parse("From: \"Kim\" <Kim@Kunde.Example>\r\n\r\nHi");
        assert_eq!(
            sender_of(&m, ""),
            (Some("kim@kunde.example".into()), Some("Kim".into()))
        );
        let none = parse("Subject: x\r\n\r\nHi");
        assert_eq!(sender_of(&none, "<>").0, None);
        assert_eq!(
            sender_of(&none, "<b@y.example>").0,
            Some("b@y.example".into())
        );
    }
}
