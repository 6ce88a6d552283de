//! Normalisation: the one canonical folding of German and English text that every other part of
//! the machine tier (features, signals, knowledge base) works on.
//!
//! Folding rules, in order:
//! - lower case;
//! - umlauts, ß and accents fold to plain letters (`ä`→`a`, `ß`→`ss`, `é`→`e`);
//! - runs of three or more identical letters collapse to one (`biiitte`→`bitte`, `sooo`→`so`);
//! - the German transliterations `ae`/`oe`/`ue` fold to `a`/`o`/`u` (not after `q`), so that
//!   `Zählerstand`, `Zaehlerstand` and `zahlerstand` all become `zahlerstand`;
//! - apostrophes vanish (`don't`→`dont`), every other non-alphanumeric character separates words.

/// Fold `text` into its canonical form: lower-case words separated by single spaces.
pub fn fold(text: &str) -> String {
    let mut words = String::with_capacity(text.len());
    for word in raw_words(text) {
        if !words.is_empty() {
            words.push(' ');
        }
        fold_word_into(&word, &mut words);
    }
    words
}

/// The canonical tokens of `text` (the words of [`fold`]).
pub fn tokens(text: &str) -> Vec<String> {
    raw_words(text)
        .map(|w| {
            let mut out = String::with_capacity(w.len());
            fold_word_into(&w, &mut out);
            out
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Lower-cased words with umlauts and accents folded to single letters, before the digraph and
/// repeat rules. Splits on everything that is not a letter or digit.
fn raw_words(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    std::iter::from_fn(move || {
        for c in chars.by_ref() {
            if c == '\'' || c == '’' || c == '`' || c == '´' || c == '\u{AD}' {
                continue;
            }
            if c.is_alphanumeric() {
                for lc in c.to_lowercase() {
                    push_folded_letter(lc, &mut current);
                }
            } else if !current.is_empty() {
                return Some(std::mem::take(&mut current));
            }
        }
        if current.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut current))
        }
    })
}

fn push_folded_letter(c: char, out: &mut String) {
    let folded: &str = match c {
        'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' => "a",
        'æ' => "ae",
        'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' => "o",
        'œ' => "oe",
        'ü' | 'ù' | 'ú' | 'û' | 'ū' => "u",
        'é' | 'è' | 'ê' | 'ë' | 'ē' => "e",
        'í' | 'ì' | 'î' | 'ï' => "i",
        'ñ' => "n",
        'ç' => "c",
        'ß' => "ss",
        'ý' | 'ÿ' => "y",
        _ => {
            out.push(c);
            return;
        }
    };
    out.push_str(folded);
}

/// Apply the repeat and digraph rules to one lower-cased word.
fn fold_word_into(word: &str, out: &mut String) {
    // Collapse runs of 3+ identical characters (emphasis) to one; digits are kept as they are.
    let mut collapsed: Vec<char> = Vec::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let mut j = i;
        while j < chars.len() && chars[j] == c {
            j += 1;
        }
        let run = j - i;
        if run >= 3 && !c.is_ascii_digit() {
            collapsed.push(c);
        } else {
            collapsed.extend(std::iter::repeat_n(c, run));
        }
        i = j;
    }
    // ae/oe/ue → a/o/u, except "que" (question, Quelle).
    let mut prev: Option<char> = None;
    let mut k = 0;
    while k < collapsed.len() {
        let c = collapsed[k];
        out.push(c);
        if matches!(c, 'a' | 'o' | 'u')
            && collapsed.get(k + 1) == Some(&'e')
            && !(c == 'u' && prev == Some('q'))
        {
            k += 1; // skip the 'e'
        }
        prev = Some(c);
        k += 1;
    }
}

/// Small German and English function-word lists: used to find a text's content words and its locale.
pub mod stopwords {
    /// German function words (folded).
    pub const DE: &[&str] = &[
        "aber", "alle", "als", "also", "am", "an", "auch", "auf", "aus", "bei", "bin", "bis",
        "bitte", "da", "damit", "dann", "das", "dass", "dem", "den", "der", "des", "die", "dies",
        "diese", "dieser", "doch", "du", "durch", "ein", "eine", "einem", "einen", "einer",
        "eines", "er", "es", "fur", "gibt", "habe", "haben", "hat", "hatte", "ich", "ihm", "ihn",
        "ihr", "ihre", "ihrem", "ihren", "ihrer", "im", "in", "ist", "ja", "jetzt", "kann",
        "konnen", "mein", "meine", "meinem", "meinen", "meiner", "mich", "mir", "mit", "muss",
        "nach", "noch", "nun", "nur", "ob", "oder", "schon", "sehr", "sein", "sich", "sie", "sind",
        "so", "uber", "um", "und", "uns", "unser", "unsere", "vom", "von", "vor", "war", "warum",
        "was", "weil", "wenn", "wer", "werden", "wie", "wieder", "will", "wir", "wird", "wo",
        "wurde", "zu", "zum", "zur", "mochte", "moechte", "konnte", "hallo", "guten", "tag",
        "danke", "wann", "welche", "welcher", "wieso", "gerne", "gern", "denn", "mal", "etwas",
        "einfach", "hier", "dort",
    ];
    /// English function words.
    pub const EN: &[&str] = &[
        "a", "about", "all", "am", "an", "and", "any", "are", "as", "at", "be", "been", "but",
        "by", "can", "could", "did", "do", "does", "for", "from", "get", "got", "had", "has",
        "have", "he", "hello", "hi", "how", "i", "if", "im", "in", "into", "is", "it", "its",
        "just", "me", "my", "of", "on", "or", "our", "please", "she", "so", "some", "that", "the",
        "their", "them", "then", "there", "they", "this", "to", "was", "we", "were", "what",
        "when", "where", "which", "who", "why", "will", "with", "would", "you", "your", "want",
        "need", "still", "not", "dont", "cant", "thanks", "thank", "should", "may", "there",
        "these", "those", "here", "too", "very",
    ];

    pub fn is_stopword(word: &str) -> bool {
        DE.contains(&word) || EN.contains(&word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umlauts_sharp_s_and_transliterations_fold_alike() {
        assert_eq!(fold("Zählerstand"), "zahlerstand");
        assert_eq!(fold("Zaehlerstand"), "zahlerstand");
        assert_eq!(fold("zahlerstand"), "zahlerstand");
        assert_eq!(fold("Straße"), fold("Strasse"));
        assert_eq!(fold("Grüße"), fold("Gruesse"));
        assert_eq!(fold("Öffnungszeiten"), fold("Oeffnungszeiten"));
        assert_eq!(fold("Café"), "cafe");
    }

    #[test]
    fn case_punctuation_and_repeats() {
        assert_eq!(fold("Biiitte HILFE!!!"), "bitte hilfe");
        assert_eq!(
            fold("Wo ist   meine Bestellung?"),
            "wo ist meine bestellung"
        );
        assert_eq!(fold("don't"), "dont");
        assert_eq!(fold("sooo gut"), "so gut");
        assert_eq!(fold("1000 kWh"), "1000 kwh");
        assert_eq!(fold(""), "");
        assert_eq!(fold("?!"), "");
    }

    #[test]
    fn que_is_not_folded() {
        assert_eq!(fold("question"), "question");
        assert_eq!(fold("Quelle"), "quelle");
    }

    #[test]
    fn tokens_split_words() {
        assert_eq!(
            tokens("E-Mail-Adresse ändern."),
            vec!["e", "mail", "adresse", "andern"]
        );
    }
}
