//! The playbook: the team lead's description of what the machine tier may answer.
//!
//! This crate owns the TOML format from DESIGN.md ("Playbook") and its validation. It has no IO
//! beyond [`Playbook::from_file`]; the machine tier (`nlu`) trains from a parsed [`Playbook`] and the
//! desk reads answers, skills and the handoff flag from it.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;

/// The built-in demo playbook: a German/English online shop.
pub const DEMO: &str = include_str!("demo.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub desk: DeskSettings,
    #[serde(default, rename = "intent")]
    pub intents: Vec<Intent>,
    #[serde(default)]
    pub out_of_scope: OutOfScope,
    #[serde(default, rename = "article")]
    pub articles: Vec<Article>,
    /// Routing overrides (reason → needs); interpreted by the desk's router.
    #[serde(default)]
    pub routing: Option<toml::Table>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskSettings {
    pub name: String,
    /// The first locale is the desk's default.
    #[serde(default = "default_locales")]
    pub locales: Vec<String>,
}

fn default_locales() -> Vec<String> {
    vec!["de".into(), "en".into()]
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    #[default]
    Service,
    Sales,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub id: String,
    pub examples: Vec<String>,
    /// Answer text per locale (`answer.de = "..."`).
    #[serde(default)]
    pub answer: BTreeMap<String, String>,
    /// `true`: this intent always goes to a person.
    #[serde(default)]
    pub handoff: bool,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub kind: IntentKind,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutOfScope {
    #[serde(default)]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: String,
    #[serde(default)]
    pub locale: Option<String>,
    pub title: String,
    pub body: String,
    #[serde(default)]
    pub category: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaybookError {
    #[error("cannot read playbook {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("playbook is not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("playbook is invalid: {0}")]
    Invalid(String),
}

impl Playbook {
    pub fn parse(text: &str) -> Result<Self, PlaybookError> {
        let playbook: Playbook = toml::from_str(text)?;
        playbook.validate()?;
        Ok(playbook)
    }

    pub fn from_file(path: &Path) -> Result<Self, PlaybookError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlaybookError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    pub fn demo() -> Self {
        Self::parse(DEMO).expect("the built-in demo playbook is valid")
    }

    /// The desk's default locale (the first one listed).
    pub fn default_locale(&self) -> &str {
        self.desk
            .locales
            .first()
            .map(String::as_str)
            .unwrap_or("en")
    }

    pub fn intent(&self, id: &str) -> Option<&Intent> {
        self.intents.iter().find(|i| i.id == id)
    }

    pub fn article(&self, id: &str) -> Option<&Article> {
        self.articles.iter().find(|a| a.id == id)
    }

    fn validate(&self) -> Result<(), PlaybookError> {
        let invalid = |m: String| Err(PlaybookError::Invalid(m));
        if self.desk.locales.is_empty() {
            return invalid("[desk] locales must name at least one locale".into());
        }
        let mut seen = HashSet::new();
        for intent in &self.intents {
            if intent.id.is_empty()
                || !intent
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return invalid(format!("intent id {:?} must match [a-z0-9_]+", intent.id));
            }
            if !seen.insert(intent.id.as_str()) {
                return invalid(format!("intent id {:?} appears twice", intent.id));
            }
            if intent.examples.iter().all(|e| e.trim().is_empty()) {
                return invalid(format!("intent {:?} has no examples", intent.id));
            }
        }
        let mut seen = HashSet::new();
        for article in &self.articles {
            if article.id.is_empty() || !seen.insert(article.id.as_str()) {
                return invalid(format!(
                    "article id {:?} is empty or appears twice",
                    article.id
                ));
            }
        }
        Ok(())
    }
}

impl Intent {
    /// The answer in `locale`, else in the desk's first locale that has one.
    pub fn answer_in<'a>(&'a self, locale: &str, desk_locales: &[String]) -> Option<&'a str> {
        self.answer
            .get(locale)
            .or_else(|| desk_locales.iter().find_map(|l| self.answer.get(l)))
            .or_else(|| self.answer.values().next())
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_parses_with_service_and_sales_intents() {
        let p = Playbook::demo();
        assert_eq!(p.default_locale(), "de");
        assert!(p.intents.len() >= 15);
        assert!(p.intent("order_status").is_some());
        let bulk = p.intent("bulk_order_quote").expect("bulk quote intent");
        assert!(bulk.handoff);
        assert_eq!(bulk.kind, IntentKind::Sales);
        assert!(!p.articles.is_empty());
    }

    #[test]
    fn rejects_bad_ids_and_duplicates() {
        let bad = "[desk]\nname='x'\n[[intent]]\nid='Bad-Id'\nexamples=['a']\n";
        assert!(matches!(
            Playbook::parse(bad),
            Err(PlaybookError::Invalid(_))
        ));
        let dup = "[desk]\nname='x'\n[[intent]]\nid='a'\nexamples=['a']\n[[intent]]\nid='a'\nexamples=['b']\n";
        assert!(matches!(
            Playbook::parse(dup),
            Err(PlaybookError::Invalid(_))
        ));
        assert!(matches!(
            Playbook::parse("not toml ["),
            Err(PlaybookError::Toml(_))
        ));
    }

    #[test]
    fn answer_falls_back_to_desk_locale() {
        let p = Playbook::parse(
            "[desk]\nname='x'\nlocales=['de','en']\n[[intent]]\nid='a'\nexamples=['a']\nanswer.de='Hallo'\n",
        )
        .expect("valid");
        let a = p.intent("a").expect("intent");
        assert_eq!(a.answer_in("en", &p.desk.locales), Some("Hallo"));
    }
}
