//! What a customer's mail says that is new: the quoted history of earlier mails and the
//! signature are cut off, in the ways the common mail programs write them (German and English).
//! If cutting would leave nothing, the whole text is kept: nothing the customer wrote is lost.

/// Lines that start the quoted history ("On … wrote:", "Am … schrieb …:", Outlook's headers).
fn starts_history(line: &str, next: Option<&str>) -> bool {
    let l = line.trim();
    let lower = l.to_lowercase();
    if lower.starts_with("-----original message-----")
        || lower.starts_with("-----ursprüngliche nachricht-----")
        || lower.starts_with("________________________________")
    {
        return true;
    }
    if (lower.starts_with("on ") && lower.ends_with("wrote:"))
        || (lower.starts_with("am ") && lower.ends_with(':') && lower.contains("schrieb"))
    {
        return true;
    }
    // Outlook: "Von: …" / "From: …" followed by "Gesendet: …" / "Sent: …".
    let header = lower.starts_with("von:") || lower.starts_with("from:");
    let sent = next.is_some_and(|n| {
        let n = n.trim().to_lowercase();
        n.starts_with("gesendet:") || n.starts_with("sent:") || n.starts_with("date:")
    });
    header && sent
}

/// Lines that start the signature or a mail program's footer.
fn starts_signature(line: &str) -> bool {
    let l = line.trim_end();
    let lower = l.trim().to_lowercase();
    l == "-- "
        || l == "--"
        || lower.starts_with("sent from my ")
        || lower.starts_with("von meinem ") && lower.contains("gesendet")
        || lower == "get outlook for ios"
        || lower == "get outlook for android"
}

/// The new part of a mail's text.
pub fn new_part(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if starts_history(line, lines.get(i + 1).copied()) || starts_signature(line) {
            break;
        }
        if line.trim_start().starts_with('>') {
            continue;
        }
        kept.push(*line);
    }
    let cut = kept.join("\n").trim().to_owned();
    if cut.is_empty() {
        text.trim().to_owned()
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_history_and_signatures_are_cut() {
        let gmail = "Danke, das hat geklappt!\n\nAm Mo., 3. Nov. 2026 um 10:12 Uhr schrieb Shop <service+c_x.abc@shop.example>:\n> Guten Tag,\n> Ihr Zähler …\n";
        assert_eq!(new_part(gmail), "Danke, das hat geklappt!");
        let en = "Thanks!\r\n\r\nOn Mon, Nov 3, 2026 at 10:12 AM Shop <s@shop.example> wrote:\r\n> Hello\r\n";
        assert_eq!(new_part(en), "Thanks!");
        let outlook = "Bitte rufen Sie mich an.\n\nVon: Shop <s@shop.example>\nGesendet: Montag, 3. November 2026 10:12\nAn: Kim\nBetreff: Re: Zähler\n\nGuten Tag";
        assert_eq!(new_part(outlook), "Bitte rufen Sie mich an.");
        let signed = "Meine Zählernummer ist 123.\n-- \nKim Meier\nMusterstraße 1";
        assert_eq!(new_part(signed), "Meine Zählernummer ist 123.");
        let phone = "Geht klar.\n\nVon meinem iPhone gesendet";
        assert_eq!(new_part(phone), "Geht klar.");
        let inline = "> Haben Sie eine Nummer?\n12345\n> Und wann?\nMorgen";
        assert_eq!(new_part(inline), "12345\nMorgen");
    }

    #[test]
    fn a_mail_of_nothing_but_quotes_is_kept_whole() {
        let only = "> Guten Tag\n> Ihr Zähler";
        assert_eq!(new_part(only), only);
        assert_eq!(
            new_part("Hallo\nich habe eine Frage."),
            "Hallo\nich habe eine Frage."
        );
    }
}
