//! Writing one outgoing mail from its outbox row: our signed `Message-ID` and `Reply-To`, the
//! thread (`In-Reply-To`, `References`), `Auto-Submitted` on the bot's answers, and a plain-text
//! part beside an HTML part built from the escaped text.

use desk::Author;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;
use store::OutboxMail;

use super::address::Signer;

/// `Auto-Submitted: auto-replied` (RFC 3834), so that mail systems do not answer the bot.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-replied".into())
    }
}

/// Why a mail cannot be written; it is given up (retrying would not help).
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error("the customer's address is gone (erased)")]
    NoAddress,
    #[error("the customer's address is not usable: {0}")]
    BadAddress(String),
    #[error("the mail cannot be built: {0}")]
    Build(String),
}

/// The conversation's reference in every subject: a reply that lost its headers still finds
/// its conversation when it comes from the customer's address.
pub fn reference(conversation: &desk::ConversationId) -> String {
    format!("[#{}]", conversation.as_str())
}

fn subject(mail: &OutboxMail) -> String {
    let base = match mail.subject.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => {
            let lower = s.to_lowercase();
            if lower.starts_with("re:") || lower.starts_with("aw:") {
                s.to_owned()
            } else {
                format!("Re: {s}")
            }
        }
        _ if mail.locale.as_str() == "de" => "Ihre Anfrage".to_owned(),
        _ => "Your request".to_owned(),
    };
    let reference = reference(&mail.conversation);
    if base.contains(&reference) {
        base
    } else {
        format!("{base} {reference}")
    }
}

/// The text as sent: the message, then who wrote it.
fn body(mail: &OutboxMail, desk_name: &str) -> String {
    let de = mail.locale.as_str() == "de";
    let footer = match (mail.author, &mail.agent_name) {
        (Author::Agent, Some(name)) => format!("{name}\n{desk_name}"),
        (Author::Bot, _) if de => format!(
            "{desk_name} (automatische Antwort). Antworten Sie auf diese Mail, wenn Sie noch Fragen haben."
        ),
        (Author::Bot, _) => format!(
            "{desk_name} (automatic answer). Reply to this mail if you have more questions."
        ),
        _ => desk_name.to_owned(),
    };
    format!("{}\n\n-- \n{footer}\n", mail.text.trim_end())
}

/// The HTML part: the same text, escaped, paragraphs and line breaks kept.
fn html(text: &str) -> String {
    let paragraphs = text.split("\n\n").map(|p| p.lines().collect::<Vec<_>>());
    maud::html! {
        (maud::DOCTYPE)
        html {
            head { meta charset="utf-8"; }
            body {
                @for lines in paragraphs {
                    p {
                        @for (i, line) in lines.iter().enumerate() {
                            @if i > 0 { br; }
                            (line)
                        }
                    }
                }
            }
        }
    }
    .into_string()
}

/// The mail for one outbox row, from `from` (the desk's address and name).
pub fn compose(
    mail: &OutboxMail,
    signer: &Signer,
    from: &Mailbox,
    desk_name: &str,
) -> Result<Message, ComposeError> {
    let to = mail.to.as_deref().ok_or(ComposeError::NoAddress)?;
    let to: Mailbox = match &mail.customer_name {
        Some(name) => format!("{} <{to}>", quote_name(name)).parse(),
        None => to.parse(),
    }
    .or_else(|_| to.parse())
    .map_err(|e: lettre::address::AddressError| ComposeError::BadAddress(e.to_string()))?;
    let reply_to: Mailbox = signer
        .reply_address(&mail.conversation)
        .parse()
        .map_err(|e: lettre::address::AddressError| ComposeError::Build(e.to_string()))?;
    let ours = |m: desk::MessageId| format!("<{}>", signer.message_id(&mail.conversation, m.get()));
    let mut references: Vec<String> = mail.theirs.iter().map(|t| bracket(t)).collect();
    references.extend(mail.earlier.iter().map(|m| ours(*m)));
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .reply_to(reply_to)
        .subject(subject(mail))
        .message_id(Some(ours(mail.message)));
    // The customer's latest mail is what this answers; failing that, our previous one.
    let parent = mail
        .theirs
        .last()
        .map(|t| bracket(t))
        .or_else(|| mail.earlier.last().map(|m| ours(*m)));
    if let Some(parent) = parent {
        builder = builder.in_reply_to(parent);
    }
    if !references.is_empty() {
        builder = builder.references(references.join(" "));
    }
    if mail.author == Author::Bot {
        builder = builder.header(AutoSubmitted);
    }
    let text = body(mail, desk_name);
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(html(&text)),
                ),
        )
        .map_err(|e| ComposeError::Build(e.to_string()))
}

fn bracket(id: &str) -> String {
    let id = id.trim();
    if id.starts_with('<') {
        id.to_owned()
    } else {
        format!("<{id}>")
    }
}

/// A display name as a quoted string (quotes and backslashes escaped, line breaks dropped).
fn quote_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("\"{clean}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use desk::{ConversationId, Locale, MessageId};

    fn mail(author: Author) -> OutboxMail {
        OutboxMail {
            message: MessageId::new(7),
            conversation: ConversationId::parse("c_x").expect("id"),
            author,
            agent_name: Some("Mia".into()),
            text: "Hallo <b>Kim</b>,\nIhr Zähler & mehr.\n\nGrüße".into(),
            to: Some("kim@kunde.example".into()),
            customer_name: Some("Kim \"K\" Meier\r\nBcc: x@evil.example".into()),
            subject: Some("Zählerstand".into()),
            locale: Locale::parse("de").expect("locale"),
            attempts: 1,
            earlier: vec![MessageId::new(3)],
            theirs: vec!["<a1@kunde.example>".into()],
        }
    }

    fn signer() -> Signer {
        Signer::new(b"0123456789abcdef0123456789abcdef", "shop.example")
    }

    fn written(m: &OutboxMail) -> String {
        let from: Mailbox = "Shop <service@shop.example>".parse().expect("from");
        let message = compose(m, &signer(), &from, "Shop").expect("compose");
        String::from_utf8(message.formatted()).expect("utf-8")
    }

    #[test]
    fn a_bot_answer_is_threaded_signed_and_auto_submitted() {
        let raw = written(&mail(Author::Bot));
        assert!(raw.contains("Auto-Submitted: auto-replied"), "{raw}");
        assert!(raw.contains("In-Reply-To: <a1@kunde.example>"), "{raw}");
        let s = signer();
        let c = ConversationId::parse("c_x").expect("id");
        assert!(raw.contains(&format!("<{}>", s.message_id(&c, 7))));
        assert!(
            raw.contains(&format!("<{}>", s.message_id(&c, 3))),
            "references ours"
        );
        assert!(raw.contains(&s.reply_address(&c)));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/html"));
        // The header injection in the name stayed inside the quoted display name.
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
    }

    #[test]
    fn an_agent_reply_is_no_auto_reply_and_html_is_escaped() {
        let m = mail(Author::Agent);
        assert!(!written(&m).contains("Auto-Submitted"));
        let h = html(&body(&m, "Shop"));
        assert!(
            h.contains("Hallo &lt;b&gt;Kim&lt;/b&gt;,<br>Ihr Zähler &amp; mehr."),
            "{h}"
        );
        assert!(!h.contains("<b>"));
        assert!(body(&m, "Shop").contains("Mia\nShop"));
    }

    #[test]
    fn the_subject_names_the_conversation_once() {
        let mut m = mail(Author::Bot);
        assert_eq!(subject(&m), "Re: Zählerstand [#c_x]");
        m.subject = Some("AW: Re: Zählerstand [#c_x]".into());
        assert_eq!(subject(&m), "AW: Re: Zählerstand [#c_x]");
        m.subject = None;
        assert_eq!(subject(&m), "Ihre Anfrage [#c_x]");
    }

    #[test]
    fn an_erased_address_is_given_up() {
        let mut m = mail(Author::Bot);
        m.to = None;
        let from: Mailbox = "service@shop.example".parse().expect("from");
        assert!(matches!(
            compose(&m, &signer(), &from, "Shop"),
            Err(ComposeError::NoAddress)
        ));
    }
}
