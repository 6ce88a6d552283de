//! The playbook: the team lead's description of what the machine tier may answer.
//!
//! This crate owns the TOML format of docs/playbook.md and its validation. It has no IO
//! beyond [`Playbook::from_file`]; the machine tier (`nlu`) trains from a parsed [`Playbook`] and the
//! desk reads answers, skills and the handoff flag from it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

mod check;
mod edit;
mod edit_routing;

pub use check::Problem;
pub use edit::{EditError, IntentSettings, NewIntent};

/// The built-in demo playbook: a German/English online shop.
pub const DEMO: &str = include_str!("demo.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    pub desk: DeskSettings,
    #[serde(default, rename = "intent")]
    pub intents: Vec<Intent>,
    #[serde(default)]
    pub out_of_scope: OutOfScope,
    #[serde(default, rename = "article")]
    pub articles: Vec<Article>,
    /// Routing overrides (reason → needs, relaxation steps); interpreted by the desk's router.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Routing>,
}

/// The handoff reasons a `[routing.needs.<reason>]` entry may name (docs/playbook.md vocabulary).
pub const REASONS: [&str; 8] = [
    "human_requested",
    "low_confidence",
    "negative_sentiment",
    "repeated_failure",
    "complaint",
    "complex_sales",
    "sensitive_topic",
    "intent_requires_human",
];

/// `[routing]`: overrides of the desk's default routing rules.
///
/// ```toml
/// [routing.needs.complaint]          # replaces the default for this reason
/// situational = 4
/// people = 3
/// skills = ["billing"]
///
/// [routing]
/// relax = [{ after_secs = 60, levels = -1 }, { after_secs = 180, any = true }]
/// ```
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    /// Reason → the competence levels and skills it needs.
    #[serde(default)]
    pub needs: BTreeMap<String, ReasonNeeds>,
    /// Relaxation steps by waiting time; absent means the desk's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relax: Option<Vec<RelaxStep>>,
}

/// What one handoff reason needs from a person: minimum competence levels (1–5) and skills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonNeeds {
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub people: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub situational: Option<u8>,
    #[serde(default)]
    pub skills: Vec<String>,
}

/// One relaxation step: after the conversation has waited `after_secs`, competence levels drop by
/// `levels` (a negative number), or with `any = true` any agent who speaks the locale and has not
/// ruled the conversation out will do. Limits and locale never relax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RelaxStep {
    pub after_secs: u64,
    #[serde(default)]
    pub levels: i8,
    #[serde(default)]
    pub any: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    #[default]
    Service,
    Sales,
}

impl IntentKind {
    /// The word the playbook file writes: `service` or `sales`.
    pub fn as_str(self) -> &'static str {
        match self {
            IntentKind::Service => "service",
            IntentKind::Sales => "sales",
        }
    }

    /// The kind a word names, if any.
    pub fn parse(word: &str) -> Option<Self> {
        [IntentKind::Service, IntentKind::Sales]
            .into_iter()
            .find(|k| k.as_str() == word)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
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

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutOfScope {
    #[serde(default)]
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Article {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
        match playbook.problems(Some(text)).into_iter().next() {
            Some(p) => Err(PlaybookError::Invalid(p.to_string())),
            None => Ok(playbook),
        }
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

    /// The playbook as TOML, the format [`Playbook::parse`] reads (comments of the file it came
    /// from are not kept).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// The playbook as TOML, refused unless that TOML parses back into a valid playbook: what
    /// the desk stores as a version must always load again.
    pub fn checked_toml(&self) -> Result<String, PlaybookError> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| PlaybookError::Invalid(format!("cannot be written as TOML: {e}")))?;
        Self::parse(&text)?;
        Ok(text)
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
    fn routing_overrides_parse_and_bad_ones_are_named() {
        let base = "[desk]\nname = \"x\"\n";
        let ok = format!(
            "{base}[routing]\nrelax = [{{ after_secs = 30, levels = -1 }}, {{ after_secs = 90, any = true }}]\n[routing.needs.complaint]\nsituational = 5\nskills = [\"billing\"]\n"
        );
        let p = Playbook::parse(&ok).expect("valid routing section");
        let r = p.routing.expect("routing");
        assert_eq!(r.needs["complaint"].situational, Some(5));
        assert_eq!(r.relax.map(|v| v.len()), Some(2));
        for (bad, says) in [
            ("[routing.needs.angry]\npeople = 4\n", "unknown reason"),
            (
                "[routing.needs.complaint]\npeople = 6\n",
                "people must be 1–5",
            ),
            (
                "[routing]\nrelax = [{ after_secs = 60 }, { after_secs = 30 }]\n",
                "must increase",
            ),
            (
                "[routing]\nrelax = [{ after_secs = 60, levels = 2 }]\n",
                "between -4 and 0",
            ),
        ] {
            let err = Playbook::parse(&format!("{base}{bad}"))
                .expect_err(bad)
                .to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn what_cannot_load_again_is_never_written() {
        let mut p = Playbook::demo();
        assert!(p.checked_toml().is_ok());
        p.routing = Some(Routing {
            relax: Some(vec![RelaxStep {
                after_secs: u64::MAX,
                levels: 0,
                any: true,
            }]),
            ..Routing::default()
        });
        let err = p.checked_toml().expect_err("TOML has no such integer");
        assert!(
            err.to_string().contains("cannot be written as TOML"),
            "{err}"
        );
    }

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
        let back = Playbook::parse(&p.to_toml()).expect("the demo's TOML parses");
        assert_eq!(back.to_toml(), p.to_toml(), "a round trip keeps everything");
        assert_eq!(back.intents.len(), p.intents.len());
        assert_eq!(back.articles.len(), p.articles.len());
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
