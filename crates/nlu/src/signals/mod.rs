//! Signals: the handoff reasons a single message shows on its own, in German and English.
//!
//! Hand-written word lists and rules (no third-party sentiment lexicon): a request for a person,
//! a complaint, a sensitive topic (legal threats, data-protection requests, bereavement, payment
//! hardship or disconnection), complex sales (volume, many sites, negotiation, framework
//! contracts) and negative sentiment (anger, despair, sarcasm, intensifiers, negation,
//! exclamation marks, capitals, emojis). Patterns are written naturally and folded with
//! [`crate::normalize`] like the text, so `Beschwerde`/`beschwerde` and `Anwältin`/`Anwaeltin` match
//! alike.
//!
//! Pattern syntax: space-separated token patterns that must follow each other; `x*` matches a
//! token starting with `x`, `*x` one ending with `x`, `*x*` one containing `x`.

mod lexicon;

use crate::normalize;
use crate::Reason;
pub use lexicon::Trigger;
use lexicon::{lexicon, Lexicon, List, BIG_QUANTITY, DATA_ERASURE};

/// A message prepared for the rules.
pub struct Message<'a> {
    raw: &'a str,
    toks: Vec<String>,
}

impl<'a> Message<'a> {
    pub fn new(raw: &'a str) -> Self {
        Message {
            raw,
            toks: normalize::tokens(raw),
        }
    }
}

/// What the rules found in one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    /// Reasons found, in a stable order.
    pub reasons: Vec<Reason>,
    /// -1 (very negative) .. 1 (very positive).
    pub sentiment: f32,
    /// Each word-list reason found, with the words that made it fire (negative sentiment, a
    /// score of many cues, has none).
    pub fired: Vec<(Reason, Vec<Trigger>)>,
}

impl Signals {
    /// The triggers of every word-list reason found: the words an intent's examples can claim.
    pub fn triggers(&self) -> impl Iterator<Item = Trigger> + '_ {
        self.fired.iter().flat_map(|(_, t)| t.iter().copied())
    }

    /// Drop the word-list reasons all of whose triggers `claimed` holds.
    pub fn without_claimed(&mut self, claimed: &std::collections::BTreeSet<Trigger>) {
        let gone: Vec<Reason> = self
            .fired
            .iter()
            .filter(|(_, t)| t.iter().all(|t| claimed.contains(t)))
            .map(|(r, _)| *r)
            .collect();
        self.reasons.retain(|r| !gone.contains(r));
        self.fired.retain(|(r, _)| !gone.contains(r));
    }
}

/// What one rule found: the triggers that made it fire (empty: it did not).
type Found = Vec<Trigger>;

fn human_requested(lex: &Lexicon, toks: &[String]) -> Found {
    if lex.not_a_request.any(toks) {
        return Vec::new();
    }
    let direct: Found = lex.human_direct.hits(toks).collect();
    if !direct.is_empty() {
        return direct;
    }
    let person: Found = lex.person.hits(toks).collect();
    if person.is_empty() {
        return Vec::new();
    }
    // "Mitarbeiter!" / "agent" on its own is a request, too.
    let content = toks
        .iter()
        .filter(|t| !normalize::stopwords::is_stopword(t))
        .count();
    let contact: Found = lex.contact.hits(toks).collect();
    if contact.is_empty() && content > 1 {
        return Vec::new();
    }
    person.into_iter().chain(contact).collect()
}

fn complaint(lex: &Lexicon, toks: &[String]) -> Found {
    lex.complaint.hits(toks).collect()
}

fn sensitive(lex: &Lexicon, toks: &[String]) -> Found {
    let mut found: Found = [
        &lex.legal,
        &lex.privacy,
        &lex.bereavement,
        &lex.injury,
        &lex.hardship,
    ]
    .into_iter()
    .flat_map(|list| list.hits(toks))
    .collect();
    let data = toks.iter().any(|t| t == "daten" || t == "data");
    let erase = toks
        .iter()
        .any(|t| t.starts_with("losch") || t.starts_with("delet") || t.starts_with("eras"));
    if data && erase {
        found.push(DATA_ERASURE);
    }
    // A supply cut off ("Strom abgestellt") is hardship; either word alone is not.
    let supply: Found = lex.supply.hits(toks).collect();
    let cut: Found = lex.disconnect_verb.hits(toks).collect();
    if !supply.is_empty() && !cut.is_empty() {
        found.extend(supply);
        found.extend(cut);
    }
    found
}

/// A number of at least 20 (or a word like "hunderte") followed by a unit of business volume
/// ("40 Standorte", "500 units").
fn big_quantity(lex: &Lexicon, toks: &[String]) -> bool {
    toks.iter().enumerate().any(|(i, t)| {
        let number: Option<u64> = t.parse().ok();
        let big = number.is_some_and(|n| n >= 20) || lex.sales_many.matches_token(t);
        big && toks
            .iter()
            .skip(i + 1)
            .take(3)
            .any(|u| lex.sales_units.matches_token(u))
    })
}

/// A count of at least `min` of something that is no measure ("80 Mandanten", not "80 Euro").
fn count_of_at_least(lex: &Lexicon, toks: &[String], min: u64) -> bool {
    toks.iter().enumerate().any(|(i, t)| {
        t.parse::<u64>().is_ok_and(|n| (min..=100_000).contains(&n))
            && toks
                .get(i + 1)
                .is_some_and(|next| !lex.measures.matches_token(next))
    })
}

fn complex_sales(lex: &Lexicon, toks: &[String]) -> Found {
    let mut found: Found = lex.sales_direct.hits(toks).collect();
    let cues: Found = lex.sales_cue.hits(toks).collect();
    if big_quantity(lex, toks) {
        found.push(BIG_QUANTITY);
    } else if !cues.is_empty() && count_of_at_least(lex, toks, 20) {
        found.push(BIG_QUANTITY);
        found.extend(&cues);
    }
    // Someone speaking for an organisation ("Wir sind ein Pflegedienst und brauchen 15
    // Kleinwagen, können Sie uns ein Angebot machen?") about an offer for ten or more.
    let speaker: Found = lex.organisation.hits(toks).collect();
    if !speaker.is_empty() && !cues.is_empty() && count_of_at_least(lex, toks, 10) {
        found.extend(speaker);
        found.extend(cues);
    }
    found
}

/// Score of negative cues minus positive ones (before squashing).
fn sentiment_score(lex: &Lexicon, msg: &Message) -> (f32, f32) {
    let toks = &msg.toks;
    let near = |list: &List, at: usize, window: usize| -> bool {
        let from = at.saturating_sub(window);
        list.any(&toks[from..at])
    };
    let mut negative = 0.0f32;
    let mut positive = 0.0f32;
    for i in lex.negative.candidates(toks) {
        let (phrase, weight, _) = &lex.negative.entries[i];
        for at in phrase.positions(toks) {
            // Negation flips single evaluative words ("nicht schlecht"), not phrases ("mal wieder").
            if phrase.len() == 1 && near(&lex.negators, at, 2) && *weight < 1.0 {
                continue; // "nicht schlecht", "not bad"
            }
            let boost = if near(&lex.intensifiers, at, 2) {
                1.5
            } else {
                1.0
            };
            negative += weight * boost;
        }
    }
    for i in lex.positive.candidates(toks) {
        let (phrase, weight, _) = &lex.positive.entries[i];
        for at in phrase.positions(toks) {
            if near(&lex.negators, at, 3) {
                // "nicht zufrieden", "not helpful"
                negative += 0.4 + weight;
            } else {
                positive += weight;
            }
        }
    }
    if lex.sarcasm.any(toks) {
        negative += 0.7;
        positive = 0.0;
    }
    // surface cues: exclamation marks, capitals, emojis
    let raw = msg.raw;
    let bangs = raw.matches('!').count();
    if raw.contains("!!") || raw.contains("?!") || raw.contains("!?") {
        negative += 0.4;
    } else if bangs >= 1 {
        negative += 0.1;
    }
    if raw.contains("??") {
        negative += 0.2;
    }
    let shouted = raw
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4 && w.chars().all(|c| c.is_uppercase()))
        .count();
    if shouted >= 2 {
        negative += 0.6;
    } else if shouted == 1 {
        negative += 0.2;
    }
    for c in raw.chars() {
        match c {
            '😡' | '😠' | '🤬' | '😤' | '🙄' | '👎' | '😒' | '😞' | '😢' | '😭' | '😩' | '😫'
            | '🤮' | '💩' | '😣' | '😖' => negative += 0.6,
            '😊' | '👍' | '🙂' | '😀' | '😃' | '😍' | '❤' | '🥰' | '😁' => {
                positive += 0.3
            }
            _ => {}
        }
    }
    // Problem words only matter when something else shows the mood.
    (negative, positive)
}

/// Negative cues needed (after positive ones are subtracted) for `negative_sentiment`.
const NEGATIVE_THRESHOLD: f32 = 0.7;

/// Detect the reasons a single message shows on its own, and its sentiment.
pub fn detect(text: &str) -> Signals {
    let lex = lexicon();
    let msg = Message::new(text);
    let toks = &msg.toks;
    let mut fired = Vec::new();
    for (reason, found) in [
        (Reason::HumanRequested, human_requested(lex, toks)),
        (Reason::Complaint, complaint(lex, toks)),
        (Reason::SensitiveTopic, sensitive(lex, toks)),
        (Reason::ComplexSales, complex_sales(lex, toks)),
    ] {
        if !found.is_empty() {
            fired.push((reason, found));
        }
    }
    let (negative, positive) = sentiment_score(lex, &msg);
    let net = negative - positive;
    let mut reasons: Vec<Reason> = fired.iter().map(|(r, _)| *r).collect();
    if net >= NEGATIVE_THRESHOLD {
        reasons.push(Reason::NegativeSentiment);
    }
    Signals {
        reasons,
        sentiment: (positive - negative).tanh(),
        fired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(text: &str, r: Reason) -> bool {
        detect(text).reasons.contains(&r)
    }

    #[test]
    fn new_words_of_the_second_lexicon() {
        for (t, r) in [
            (
                "Ich möchte das bitte direkt besprechen, nicht hier im Chat",
                Reason::HumanRequested,
            ),
            ("can i talk to an actual vet please", Reason::HumanRequested),
            (
                "Mir wurde der Beitrag doppelt abgebucht, ich will das Geld zurück",
                Reason::Complaint,
            ),
            ("You charged me twice this month", Reason::Complaint),
            (
                "I think your system was hacked and my data leaked",
                Reason::SensitiveTopic,
            ),
            ("Mein Partner schlägt mich", Reason::SensitiveTopic),
            (
                "Ich habe gerade die Diagnose Krebs bekommen",
                Reason::SensitiveTopic,
            ),
            ("hier brennt es im nachbarhaus", Reason::SensitiveTopic),
            (
                "our company has filed for insolvency",
                Reason::SensitiveTopic,
            ),
            (
                "Steuerkanzlei mit 80 Mandanten, gibt es ein Sonderangebot?",
                Reason::ComplexSales,
            ),
            (
                "we have 30 dogs, could we get a discount?",
                Reason::ComplexSales,
            ),
            ("Was für ein Saftladen", Reason::NegativeSentiment),
            (
                "seriously what a joke of a software, i'm so done with this",
                Reason::NegativeSentiment,
            ),
        ] {
            assert!(has(t, r), "{t}: {r:?}");
        }
        for (t, r) in [
            ("Is there an actual price list?", Reason::HumanRequested),
            (
                "Ich habe 50 Euro überwiesen, gibt es ein Angebot für Neukunden?",
                Reason::ComplexSales,
            ),
            ("Das Angebot gilt seit 30 Tagen", Reason::ComplexSales),
            ("Wie bekomme ich eine Rechnungskopie?", Reason::Complaint),
        ] {
            assert!(!has(t, r), "{t}: {r:?}");
        }
    }

    #[test]
    fn words_of_the_third_lexicon() {
        for (t, r) in [
            (
                "Wir sind eine Spedition und brauchen 12 Transporter, machen Sie uns ein Angebot?",
                Reason::ComplexSales,
            ),
            (
                "we are a school and want a discount for 14 laptops",
                Reason::ComplexSales,
            ),
            (
                "Wir hätten Interesse an einer Kooperation",
                Reason::ComplexSales,
            ),
            (
                "Need 30 rooms for our conference in June",
                Reason::ComplexSales,
            ),
            (
                "Der Fahrer war extrem unfreundlich, ich erwarte eine Stellungnahme",
                Reason::Complaint,
            ),
            ("we demand a credit note for the outage", Reason::Complaint),
            (
                "es qualmt aus dem Gerät und riecht verbrannt",
                Reason::SensitiveTopic,
            ),
            ("my colleague collapsed at the desk", Reason::SensitiveTopic),
            ("i honestly see no point anymore", Reason::SensitiveTopic),
            ("Das ist Diskriminierung!", Reason::SensitiveTopic),
            (
                "I was diagnosed with cancer last week",
                Reason::SensitiveTopic,
            ),
            ("Ihr seid das Letzte", Reason::NegativeSentiment),
            (
                "ich hab keine lust mehr, bei euch funktioniert nie etwas",
                Reason::NegativeSentiment,
            ),
            ("Kann mich ein Techniker anrufen?", Reason::HumanRequested),
        ] {
            assert!(has(t, r), "{t}: {r:?}");
        }
        // Routine questions with the same words must stay routine.
        for (t, r) in [
            (
                "Wir sind eine Familie mit 2 Kindern, gibt es ein Angebot?",
                Reason::ComplexSales,
            ),
            (
                "Wir sind ein kleiner Betrieb mit 12 Leuten, was kostet das?",
                Reason::ComplexSales,
            ),
            (
                "Ist Rauchen auf dem Balkon erlaubt?",
                Reason::SensitiveTopic,
            ),
            (
                "Wann werden die Rauchmelder geprüft?",
                Reason::SensitiveTopic,
            ),
            ("my roof is leaking", Reason::SensitiveTopic),
            (
                "Das letzte Mal hat es gut geklappt",
                Reason::NegativeSentiment,
            ),
            ("Wann kommt der Techniker?", Reason::HumanRequested),
        ] {
            assert!(!has(t, r), "{t}: {r:?}");
        }
    }

    #[test]
    fn claimed_triggers_drop_their_reason_only() {
        let mut found = detect("Mein Anwalt braucht die Deckungszusage, das ist eine Frechheit!!");
        assert!(found.reasons.contains(&Reason::SensitiveTopic));
        let claimed = detect("Zahlt ihr meinen Anwalt?").triggers().collect();
        found.without_claimed(&claimed);
        assert!(!found.reasons.contains(&Reason::SensitiveTopic));
        assert!(found.reasons.contains(&Reason::NegativeSentiment));
        let mut found = detect("Mein Anwalt wird euch verklagen");
        found.without_claimed(&claimed);
        assert!(
            found.reasons.contains(&Reason::SensitiveTopic),
            "'verklagen' is not claimed"
        );
    }

    #[test]
    fn human_requested_in_both_languages() {
        for t in [
            "Ich möchte mit einem Mitarbeiter sprechen",
            "Bitte verbinden Sie mich mit einem Menschen",
            "Ich will einen echten Menschen!",
            "Mitarbeiter",
            "agent please",
            "Can I talk to a human?",
            "Bitte rufen Sie mich zurück",
            "Gibt es bei euch auch echte Mitarbeiter oder nur den Bot?",
            "please call me back tomorrow",
            "I want to speak to a real person",
            "connect me with a representative",
        ] {
            assert!(has(t, Reason::HumanRequested), "{t}");
        }
        for t in [
            "Wie viele Mitarbeiter haben Sie?",
            "Wo ist meine Bestellung?",
            "am I talking to a real person?",
            "are you a human",
            "How do I transfer money to my savings account?",
        ] {
            assert!(!has(t, Reason::HumanRequested), "{t}");
        }
    }

    #[test]
    fn complaint_in_both_languages() {
        for t in [
            "Ich möchte eine Beschwerde einreichen",
            "Hiermit lege ich Widerspruch gegen die Rechnung ein",
            "Reklamation: Ware beschädigt",
            "Ich fordere Schadensersatz",
            "I want to complain about your service",
            "I want to file a formal complaint",
        ] {
            assert!(has(t, Reason::Complaint), "{t}");
        }
        for t in ["Wie ist die Lieferzeit?", "How do I return an item?"] {
            assert!(!has(t, Reason::Complaint), "{t}");
        }
    }

    #[test]
    fn sensitive_topics_in_both_languages() {
        for t in [
            "Ich werde meinen Anwalt einschalten",
            "Auskunft nach Art. 15 DSGVO über meine gespeicherten Daten",
            "Bitte löschen Sie alle meine Daten",
            "Mein Mann ist verstorben, der Vertrag lief auf ihn",
            "Ich bin arbeitslos und kann die Rechnung nicht bezahlen",
            "Mir wurde eine Stromsperre angedroht",
            "Sie haben mir den Strom abgestellt",
            "I will take legal action",
            "Please delete my data under GDPR",
            "My mother passed away last month",
            "Nach dem Sturz war ich im Krankenhaus",
            "Mein Sohn hat sich an der Maschine verletzt",
            "I was injured when the handle broke",
            "I cannot afford the bill this month",
            "You cut off my electricity",
        ] {
            assert!(has(t, Reason::SensitiveTopic), "{t}");
        }
        for t in [
            "Kann ich auf Raten zahlen?",
            "Ratenzahlung möglich?",
            "Wie ändere ich mein Passwort?",
            "Mein Paket ist beschädigt angekommen",
            "Why was my card payment declined?",
            "Where can I find my invoice?",
        ] {
            assert!(!has(t, Reason::SensitiveTopic), "{t}");
        }
    }

    #[test]
    fn complex_sales_in_both_languages() {
        for t in [
            "Wir haben 40 Standorte und suchen einen Rahmenvertrag",
            "Können wir über die Konditionen verhandeln?",
            "Wir sind ein Unternehmen mit 300 Mitarbeitern",
            "We need a framework agreement for all our sites",
            "We would like to negotiate a volume discount for 500 units",
        ] {
            assert!(has(t, Reason::ComplexSales), "{t}");
        }
        for t in [
            "Was kostet der Versand?",
            "I need 2 more days to pay",
            "transfer 500 dollars",
        ] {
            assert!(!has(t, Reason::ComplexSales), "{t}");
        }
    }

    #[test]
    fn negative_sentiment_in_both_languages() {
        for t in [
            "Das ist eine absolute Frechheit!!",
            "Ich bin total enttäuscht von Ihrem Service",
            "SCHON WIEDER keine Lieferung, ich bin so sauer",
            "Danke für nichts, mal wieder kein Strom",
            "Ich bin mit dem Service überhaupt nicht zufrieden!",
            "This is ridiculous, I am so angry",
            "Worst service ever 😡",
            "Thanks for nothing, still not fixed after weeks",
        ] {
            assert!(has(t, Reason::NegativeSentiment), "{t}");
        }
        for t in [
            "Mein Paket ist nicht angekommen",
            "Meine Bestellung ist noch nicht da",
            "Das ist nicht schlecht",
            "Vielen Dank, alles super!",
            "My order has not arrived yet",
            "The product stopped working",
            "Leider funktioniert der Login nicht",
        ] {
            assert!(!has(t, Reason::NegativeSentiment), "{t}");
        }
    }

    #[test]
    fn sentiment_is_signed() {
        assert!(detect("Vielen Dank, super freundlich!").sentiment > 0.0);
        assert!(detect("Das ist eine Katastrophe").sentiment < 0.0);
    }
}
