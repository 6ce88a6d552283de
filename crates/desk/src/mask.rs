//! Masking personal data out of a text before it can become a suggestion for the playbook:
//! e-mail addresses, IBANs, phone numbers, customer, order and contract numbers, and names
//! (those the desk knows, and those a text introduces: "mein Name ist …", "Frau …", "my name is
//! …", a greeting or a signature). What is masked becomes a placeholder in the text's words
//! (`[E-Mail]`, `[IBAN]`, `[Telefon]`, `[Nummer]`, `[Name]`), so the question still reads.
//!
//! It errs on the side of masking: a suggestion is read by admins and may end up in the
//! playbook, which every customer's answers come from.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// The placeholders.
pub const EMAIL: &str = "[E-Mail]";
pub const IBAN: &str = "[IBAN]";
pub const PHONE: &str = "[Telefon]";
pub const NUMBER: &str = "[Nummer]";
pub const NAME: &str = "[Name]";

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| panic!("mask pattern {pattern:?}: {e}"))
}

static EMAILS: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}"));
/// Two letters, two check digits, then 11–30 letters or digits, in groups or not.
static IBANS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?\b")
});
/// A date written with dots ("24.12.2026"): no phone number.
static DATE: LazyLock<Regex> = LazyLock::new(|| re(r"^\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})$"));
/// A number with 6 or more digits, possibly with a leading +, spaces, slashes, dots or dashes
/// inside (phone numbers and long account numbers).
static PHONES: LazyLock<Regex> = LazyLock::new(|| re(r"(?:\+|\b00)?\d(?:[ /.\-]?\(?\d\)?){5,}"));
/// What a text calls a customer, order, contract, invoice or ticket number, with its value.
static LABELLED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(kd\.?-?nr\.?|kundennummer|kundennr\.?|kunden-nr\.?|customer (?:number|no\.?|id)|auftragsnummer|bestellnummer|bestell-nr\.?|order (?:number|no\.?|id)|vertragsnummer|vertrags-nr\.?|contract (?:number|no\.?)|rechnungsnummer|rechnungs-nr\.?|invoice (?:number|no\.?)|ticket(?:nummer| number)?|aktenzeichen|reference|referenz|mitgliedsnummer|member(?:ship)? (?:number|no\.?)|nr\.?|no\.|#)\s*[:.]?\s*([a-z]{0,4}[-/]?\d[\w\-/]*)",
    )
});
/// Any other token holding three or more digits next to letters or dashes ("KD-4711", "A-123").
static CODES: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[a-z]{1,4}[-/]?\d{3,}[\w\-/]*\b|\b\d{5,}\b"));
/// A name the text introduces, in German or English: up to two capitalised words after the cue.
static INTRODUCED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(\b(?i:mein name ist|ich heiße|ich heisse|ich bin|hier ist|hier spricht|my name is|this is|i am|i'm|herr|frau|hr\.|fr\.|mr\.?|mrs\.?|ms\.?|dr\.?|hallo|hello|hi|liebe|lieber|dear|grüße|gruß|grüßen|regards|cheers|thanks|danke|viele grüße|mfg|lg|vg|best)[,:]?)\s+((?:\p{Lu}[\p{L}'\-]+)(?:\s+\p{Lu}[\p{L}'\-]+)?)",
    )
});

/// Words that follow a cue but are no name ("Hallo Team", "Ich bin Kunde", "Hi there").
const NOT_NAMES: &[&str] = &[
    "team",
    "kunde",
    "kundin",
    "customer",
    "support",
    "service",
    "there",
    "all",
    "zusammen",
    "leute",
    "everyone",
    "neu",
    "new",
    "sehr",
    "ihr",
    "ihre",
    "ihnen",
    "sie",
    "du",
    "dir",
    "euch",
    "und",
    "and",
    "mit",
    "with",
    "für",
    "for",
    "im",
    "in",
    "am",
    "an",
    "the",
    "der",
    "die",
    "das",
    "ein",
    "eine",
    "a",
    "nicht",
    "not",
    "seit",
    "since",
    "gerade",
    "just",
    "leider",
    "sorry",
    "again",
    "wieder",
    "noch",
    "still",
    "dankbar",
    "grateful",
    "froh",
    "glad",
    "interested",
    "interessiert",
    "looking",
    "trying",
    "wondering",
    "calling",
    "writing",
    "schreibe",
    "rufe",
    "gruss",
    "gruß",
    "grüße",
    "regards",
    "wishes",
    "morgen",
    "tag",
    "abend",
    "good",
    "guten",
    "schönen",
    "frage",
    "question",
    "mitglied",
    "member",
    "student",
    "studentin",
    "rentner",
    "rentnerin",
    "mieter",
    "mieterin",
    "tenant",
    "owner",
    "eigentümer",
];

/// `text` with the personal data in it masked; `names` are names the desk knows of (the
/// customer's, the agent's), masked wherever they appear, each of their words on its own too.
pub fn mask(text: &str, names: &[&str]) -> String {
    let mut out = EMAILS.replace_all(text, EMAIL).into_owned();
    out = IBANS
        .replace_all(&out, |c: &Captures<'_>| {
            // An IBAN has at least 15 characters besides spaces and holds digits past its head.
            let raw: String = c[0].chars().filter(|ch| !ch.is_whitespace()).collect();
            if raw.len() >= 15 && raw[4..].chars().filter(char::is_ascii_digit).count() >= 6 {
                IBAN.to_owned()
            } else {
                c[0].to_owned()
            }
        })
        .into_owned();
    out = LABELLED
        .replace_all(&out, |c: &Captures<'_>| format!("{} {NUMBER}", &c[1]))
        .into_owned();
    out = PHONES
        .replace_all(&out, |c: &Captures<'_>| {
            let digits = c[0].chars().filter(char::is_ascii_digit).count();
            if digits >= 6 && !DATE.is_match(c[0].trim()) {
                PHONE.to_owned()
            } else {
                c[0].to_owned()
            }
        })
        .into_owned();
    out = CODES.replace_all(&out, NUMBER).into_owned();
    out = INTRODUCED
        .replace_all(&out, |c: &Captures<'_>| {
            let first = c[2].split_whitespace().next().unwrap_or_default();
            if NOT_NAMES.contains(&first.to_lowercase().as_str()) {
                c[0].to_owned()
            } else {
                format!("{} {NAME}", &c[1])
            }
        })
        .into_owned();
    for name in names {
        for word in name
            .split_whitespace()
            .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
            .filter(|w| w.chars().count() >= 2)
        {
            let known = re(&format!(r"(?i)\b{}\b", regex::escape(word)));
            out = known.replace_all(&out, NAME).into_owned();
        }
    }
    // "[Name] [Name]" reads as one name.
    while out.contains("[Name] [Name]") {
        out = out.replace("[Name] [Name]", NAME);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_data_is_masked() {
        for (text, names, want) in [
            (
                "Bitte an max.mustermann@example.de schicken",
                &[][..],
                "Bitte an [E-Mail] schicken",
            ),
            (
                "Meine IBAN ist DE89 3704 0044 0532 0130 00, bitte abbuchen",
                &[][..],
                "Meine IBAN ist [IBAN], bitte abbuchen",
            ),
            (
                "Rufen Sie mich an: +49 171 2345678",
                &[][..],
                "Rufen Sie mich an: [Telefon]",
            ),
            (
                "call me on 0171/234 56 78 please",
                &[][..],
                "call me on [Telefon] please",
            ),
            (
                "Kundennummer: 4711-0815, wo bleibt meine Lieferung?",
                &[][..],
                "Kundennummer [Nummer], wo bleibt meine Lieferung?",
            ),
            (
                "my order number is A-99231 and it never came",
                &[][..],
                "my order number is [Nummer] and it never came",
            ),
            (
                "Hallo, mein Name ist Erika Mustermann und ich habe eine Frage",
                &[][..],
                "Hallo, mein Name ist [Name] und ich habe eine Frage",
            ),
            (
                "Guten Tag Frau Yılmaz, das geht so: …",
                &[][..],
                "Guten Tag Frau [Name], das geht so: …",
            ),
            (
                "Danke! Viele Grüße, Jonas",
                &["Jonas Weber"][..],
                "Danke! Viele Grüße, [Name]",
            ),
            (
                "Hi, this is Priya. Do you ship to Austria?",
                &[][..],
                "Hi, this is [Name]. Do you ship to Austria?",
            ),
            (
                "Weber hier, habt ihr samstags offen?",
                &["Jonas Weber"][..],
                "[Name] hier, habt ihr samstags offen?",
            ),
        ] {
            assert_eq!(mask(text, names), want, "{text}");
        }
    }

    #[test]
    fn ordinary_questions_stay_as_they_are() {
        for text in [
            "Habt ihr am 24.12. geöffnet?",
            "Hallo Team, gibt es bei euch auch Gutscheine?",
            "Ich bin Kunde seit 2019 und frage mich, ob ihr auch Ersatzteile habt",
            "Do you deliver within 3 days?",
            "Wie viel kostet ein Fahrrad für 500 Euro Budget?",
            "Hi there, can I pay with PayPal?",
        ] {
            assert_eq!(mask(text, &[]), text);
        }
    }
}
