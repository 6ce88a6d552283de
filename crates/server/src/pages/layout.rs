//! The page frame, the page language (German or English) and small shared pieces.

use axum::http::{header, HeaderMap};
use maud::{html, Markup, DOCTYPE};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    De,
    En,
}

#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

impl Lang {
    /// `?lang=` first, then the browser's Accept-Language, then the desk's default.
    pub fn pick(query: &LangQuery, headers: &HeaderMap, default: &str) -> Lang {
        let wanted = query.lang.clone().or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|v| v.trim().to_owned())
        });
        match wanted.as_deref().unwrap_or(default).get(..2) {
            Some("en") => Lang::En,
            Some("de") => Lang::De,
            _ if default.starts_with("en") => Lang::En,
            _ => Lang::De,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    /// The text in this language.
    pub fn t(self, de: &'static str, en: &'static str) -> &'static str {
        match self {
            Lang::De => de,
            Lang::En => en,
        }
    }
}

pub fn document(lang: Lang, title: &str, head_extra: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tandem" }
                link rel="stylesheet" href="/assets/app.css";
                (head_extra)
            }
            body {
                a.skip href="#main" { (lang.t("Zum Inhalt springen", "Skip to content")) }
                (body)
            }
        }
    }
}

/// A language switch that keeps the user on the same page: `path` may carry a query of its own.
pub fn lang_switch(lang: Lang, path: &str) -> Markup {
    let sep = if path.contains('?') { '&' } else { '?' };
    html! {
        nav.lang aria-label=(lang.t("Sprache", "Language")) {
            @if lang == Lang::De { span aria-current="true" { "Deutsch" } } @else { a href={(path) (sep) "lang=de"} lang="de" { "Deutsch" } }
            " · "
            @if lang == Lang::En { span aria-current="true" { "English" } } @else { a href={(path) (sep) "lang=en"} lang="en" { "English" } }
        }
    }
}

pub fn reason_label(lang: Lang, reason: &str) -> &'static str {
    match reason {
        "human_requested" => lang.t("Wunsch nach einem Menschen", "asked for a person"),
        "low_confidence" => lang.t("nicht verstanden", "not understood"),
        "negative_sentiment" => lang.t("verärgert", "upset"),
        "repeated_failure" => lang.t("Bot half wiederholt nicht", "bot failed repeatedly"),
        "complaint" => lang.t("Beschwerde", "complaint"),
        "complex_sales" => lang.t("komplexer Vertrieb", "complex sale"),
        "sensitive_topic" => lang.t("heikles Thema", "sensitive topic"),
        "intent_requires_human" => lang.t("Anliegen braucht einen Menschen", "needs a person"),
        _ => lang.t("sonstiger Grund", "other reason"),
    }
}

pub fn state_label(lang: Lang, state: &str) -> &'static str {
    match state {
        "bot" => lang.t("beim Bot", "with the bot"),
        "queued" => lang.t("wartet", "waiting"),
        "assigned" => lang.t("zugewiesen", "assigned"),
        "resolved" => lang.t("erledigt", "resolved"),
        _ => "",
    }
}
