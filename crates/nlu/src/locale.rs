//! Locale: whether a customer writes German or English, kept within the desk's locales.
//!
//! Function words, umlauts/ß and typical German letter sequences vote; when the vote is
//! unclear the desk's default locale wins.

use crate::normalize;

const GERMAN_ONLY: &[&str] = &[
    "ich", "nicht", "ist", "und", "der", "die", "das", "mein", "meine", "meinen", "meiner", "sie",
    "ihr", "ihre", "wie", "wo", "was", "wann", "warum", "bitte", "kann", "konnen", "mochte", "mit",
    "fur", "auf", "ein", "eine", "einen", "es", "zu", "von", "habe", "haben", "hat", "wir", "uns",
    "unser", "noch", "schon", "kein", "keine", "auch", "aber", "oder", "wenn", "dass", "mir",
    "mich", "sind", "bin", "wird", "werden", "den", "dem", "des", "im", "zum", "zur", "nach",
    "bei", "aus", "uber", "danke", "hallo", "gibt", "welche", "wieso", "weshalb", "leider",
    "jetzt", "heute", "morgen", "ja", "nein", "gerne", "will", "brauche", "soll",
];
const ENGLISH_ONLY: &[&str] = &[
    "i", "the", "is", "and", "my", "you", "your", "what", "where", "when", "why", "how", "please",
    "can", "could", "would", "to", "of", "for", "on", "a", "an", "it", "have", "has", "do", "does",
    "not", "dont", "with", "we", "our", "us", "this", "that", "are", "was", "be", "been", "me",
    "am", "from", "at", "by", "get", "want", "need", "there", "which", "who", "thanks", "hello",
    "hi", "yes", "no", "still", "just", "cant", "im", "its", "will", "should", "they",
];

/// Detect the locale of `text`: one of `locales` (the first is the default).
pub fn detect(text: &str, locales: &[String]) -> String {
    let default = locales.first().map(String::as_str).unwrap_or("en");
    let guess = guess(text);
    match guess {
        Some(l) if locales.iter().any(|x| x == l) || locales.is_empty() => l.to_string(),
        _ => default.to_string(),
    }
}

/// "de", "en" or `None` when unsure.
pub fn guess(text: &str) -> Option<&'static str> {
    let mut de = 0.0f32;
    let mut en = 0.0f32;
    if text
        .chars()
        .any(|c| matches!(c, 'ä' | 'ö' | 'ü' | 'ß' | 'Ä' | 'Ö' | 'Ü'))
    {
        de += 1.5;
    }
    for tok in normalize::tokens(text) {
        let t = tok.as_str();
        if GERMAN_ONLY.contains(&t) {
            de += 1.0;
        }
        if ENGLISH_ONLY.contains(&t) {
            en += 1.0;
        }
        if t.len() > 4
            && (t.ends_with("ung")
                || t.ends_with("keit")
                || t.ends_with("heit")
                || t.contains("sch"))
        {
            de += 0.5;
        }
        if t.len() > 4 && (t.ends_with("ing") || t.ends_with("tion") || t.contains("th")) {
            en += 0.5;
        }
    }
    if de >= en + 1.0 {
        Some("de")
    } else if en >= de + 1.0 {
        Some("en")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> Vec<String> {
        vec!["de".into(), "en".into()]
    }

    #[test]
    fn detects_german_and_english() {
        assert_eq!(detect("Wo ist meine Bestellung?", &both()), "de");
        assert_eq!(detect("Where is my order?", &both()), "en");
        assert_eq!(detect("Zählerstand", &both()), "de");
        assert_eq!(detect("I want to speak to an agent", &both()), "en");
        assert_eq!(
            detect("Ich möchte meinen Zählerstand melden", &both()),
            "de"
        );
    }

    #[test]
    fn falls_back_to_the_default_and_stays_within_locales() {
        assert_eq!(detect("ok", &both()), "de");
        let en_first = vec!["en".to_string(), "de".to_string()];
        assert_eq!(detect("ok", &en_first), "en");
        let only_de = vec!["de".to_string()];
        assert_eq!(detect("Where is my order?", &only_de), "de");
    }
}
