//! What the desk keeps of a text people typed: the same words, without the characters that only
//! ever hide or disguise something. NUL and the bidirectional overrides and isolates (U+202A–
//! U+202E, U+2066–U+2069, which can make a text read differently from what it says) are dropped;
//! a text of nothing but white space and zero-width characters counts as empty.

/// Characters dropped from every stored text.
fn hidden(c: char) -> bool {
    matches!(c, '\0' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that show nothing: a text made only of these (and white space) is empty.
fn invisible(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// `text` without the hidden characters, trimmed; `None` when nothing visible is left.
pub fn clean(text: &str) -> Option<String> {
    let kept: String = text.chars().filter(|&c| !hidden(c)).collect();
    let trimmed = kept.trim_matches(invisible);
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_go_and_the_words_stay() {
        assert_eq!(clean("  Hallo\0 Welt ").as_deref(), Some("Hallo Welt"));
        assert_eq!(
            clean("invoice\u{202E}fdp.exe\u{202C}").as_deref(),
            Some("invoicefdp.exe")
        );
        assert_eq!(clean("a\u{2066}b\u{2069}").as_deref(), Some("ab"));
        // Zero-width characters inside a word are part of how it was typed; only a text of
        // nothing else is empty.
        assert_eq!(clean("ja\u{200B}nein").as_deref(), Some("ja\u{200B}nein"));
    }

    #[test]
    fn a_text_of_nothing_visible_is_empty() {
        for blank in [
            "",
            "   ",
            "\u{200B}",
            " \u{FEFF}\u{200D} ",
            "\0\u{202E}",
            "\n\t\u{2060}",
        ] {
            assert_eq!(clean(blank), None, "{blank:?}");
        }
    }
}
