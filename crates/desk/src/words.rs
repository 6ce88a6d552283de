//! The desk's small words, each checked once where it comes in (the API, a page's form, the
//! playbook) and carried as its own type from there on: a [`Locale`], a [`Skill`], an
//! [`ArticleId`]. Stored values were checked when they were written, so reading them back
//! ([`Locale::trusted`] and serde) does not check again.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! word {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }

            /// A value checked before: read back from the store, or taken from a playbook
            /// that was validated when it loaded.
            pub fn trusted(value: String) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

word!(
    /// A language the desk or an agent speaks: the primary subtag of a language tag, lower
    /// case (`de`, `en`). `de-AT` and `DE_de` are `de`.
    Locale
);

word!(
    /// What an intent needs and an agent has (`billing`, `contracts`): trimmed, 1–64
    /// characters, no commas (lists are comma-separated in forms) and no control characters.
    Skill
);

word!(
    /// A help-center article's id, part of its address: `a-z`, `0-9`, `_` and `-`, at most 64.
    ArticleId
);

/// No locale: what a handoff stored before locales were kept carries (it matches any agent).
impl Default for Locale {
    fn default() -> Self {
        Locale(String::new())
    }
}

impl Locale {
    /// German and English: what an agent speaks unless told otherwise.
    pub fn german_and_english() -> Vec<Locale> {
        vec![Locale("de".into()), Locale("en".into())]
    }

    pub fn parse(text: &str) -> Result<Locale, &'static str> {
        let primary = text.trim().split(['-', '_']).next().unwrap_or_default();
        if (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(Locale(primary.to_ascii_lowercase()))
        } else {
            Err("is not a language tag such as de or en")
        }
    }
}

impl Skill {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(text: &str) -> Result<Skill, &'static str> {
        let t = text.trim();
        if t.is_empty() {
            return Err("must not be empty");
        }
        if t.chars().count() > Self::MAX_CHARS {
            return Err("is longer than 64 characters");
        }
        if t.chars().any(|c| c == ',' || c.is_control()) {
            return Err("may not hold commas or control characters");
        }
        Ok(Skill(t.to_owned()))
    }
}

impl ArticleId {
    pub fn parse(text: &str) -> Result<ArticleId, &'static str> {
        let ok = !text.is_empty()
            && text.len() <= 64
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(ArticleId(text.to_owned()))
        } else {
            Err("may hold a-z, 0-9, '_' and '-' (at most 64)")
        }
    }
}

/// Words for people: `de, en`.
pub fn list<W: std::ops::Deref<Target = str>>(words: &[W]) -> String {
    words.iter().map(|w| &**w).collect::<Vec<&str>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_locale_is_the_lower_case_primary_subtag() {
        for (given, want) in [
            ("de", "de"),
            ("DE", "de"),
            ("de-AT", "de"),
            (" en_GB ", "en"),
        ] {
            assert_eq!(Locale::parse(given).map(String::from), Ok(want.to_owned()));
        }
        for bad in ["", "d", "deutsch", "d3", "-de", "<b>"] {
            assert!(Locale::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_skill_is_trimmed_short_and_free_of_commas() {
        assert_eq!(
            Skill::parse("  billing ").map(String::from),
            Ok("billing".into())
        );
        assert!(Skill::parse("Verträge & Kündigung").is_ok());
        for bad in ["", "   ", "a,b", "tab\there", &"x".repeat(65)] {
            assert!(Skill::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_article_id_is_safe_in_an_address() {
        assert!(ArticleId::parse("returns-2024_de").is_ok());
        for bad in ["", "Returns", "a/b", "../x", "a b", &"x".repeat(65)] {
            assert!(ArticleId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_words_are_plain_strings_on_the_wire() {
        let skill = Skill::parse("billing").expect("skill");
        assert_eq!(serde_json::to_string(&skill).expect("json"), "\"billing\"");
        let back: Vec<Locale> = serde_json::from_str("[\"de\",\"en\"]").expect("json");
        assert_eq!(back[1], "en");
    }
}
