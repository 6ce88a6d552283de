//! The help center's shared pieces: its state (CAPTCHA, search index, trusted proxies), the client address behind trusted proxies, safe Markdown rendering, and
//! the search over published articles (the machine tier's tantivy index code, rebuilt when the
//! published articles change, on whichever node notices first).

pub mod actions;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use desk::{ArticleId, Locale};
use nlu::knowledge::Knowledge;
use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag};
use store::{Article, NewArticle, Store};

use crate::captcha::Captcha;
use crate::service::{DeskError, DeskResult};
use crate::state::AppState;

/// Configuration of the help center, part of [`crate::Settings`]: the `tandem` binary reads it
/// (`TANDEM_CAPTCHA_SECRET`, `TANDEM_TRUSTED_PROXIES`); the server reads no environment.
#[derive(Clone, Default)]
pub struct HelpOptions {
    pub captcha_secret: Option<String>,
    /// Peers whose `X-Forwarded-For` is believed. Default: none.
    pub trusted_proxies: Vec<IpAddr>,
}

/// The secret never reaches a log: `Debug` shows only whether one is set.
impl std::fmt::Debug for HelpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelpOptions")
            .field(
                "captcha_secret",
                &self.captcha_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("trusted_proxies", &self.trusted_proxies)
            .finish()
    }
}

/// `"10.0.0.1, 10.0.0.2"` → addresses; anything unreadable stops the start.
pub fn parse_proxies(list: &str) -> anyhow::Result<Vec<IpAddr>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| anyhow::anyhow!("TANDEM_TRUSTED_PROXIES: {s:?} is not an IP address"))
        })
        .collect()
}

/// Which articles, at which version, an index was built from.
type Fingerprint = Vec<(ArticleId, i64)>;

pub struct HelpCenter {
    pub captcha: Captcha,
    pub trusted_proxies: Vec<IpAddr>,
    /// The search index over the published articles, and what it was built from.
    index: Mutex<Option<(Fingerprint, Arc<Knowledge>)>>,
}

impl HelpCenter {
    /// Imports the playbook's articles and loads the CAPTCHA secret. Fails (and the desk does
    /// not start) without a secret.
    pub async fn start(
        store: &dyn Store,
        playbook: &playbook::Playbook,
        options: HelpOptions,
    ) -> anyhow::Result<Self> {
        let articles = playbook
            .articles
            .iter()
            .map(|a| {
                let id = ArticleId::parse(&a.id)
                    .map_err(|why| anyhow::anyhow!("the playbook's article id {:?} {why}", a.id))?;
                let locale = match a.locale.as_deref() {
                    Some(l) => Some(Locale::parse(l).map_err(|why| {
                        anyhow::anyhow!("the locale {l:?} of the playbook's article {id} {why}")
                    })?),
                    None => None,
                };
                Ok(NewArticle {
                    id,
                    locale,
                    title: a.title.clone(),
                    body: a.body.clone(),
                    category: a.category.clone(),
                    published: true,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        store
            .import_articles(articles)
            .await
            .map_err(|e| anyhow::anyhow!("cannot import the playbook's articles: {e}"))?;
        let secret = crate::captcha::load_secret(store, options.captcha_secret.as_deref()).await?;
        Ok(Self {
            captcha: Captcha::new(&secret),
            trusted_proxies: options.trusted_proxies,
            index: Mutex::new(None),
        })
    }

    /// Searches the published articles; `articles` is the current published list (the index is
    /// rebuilt when it differs from what the index was built from).
    pub fn search(&self, articles: &[Article], text: &str, limit: usize) -> Vec<String> {
        let fingerprint: Fingerprint = articles
            .iter()
            .map(|a| (a.id.clone(), a.updated_at_ms))
            .collect();
        let knowledge = {
            let Ok(mut guard) = self.index.lock() else {
                return Vec::new();
            };
            match guard.as_ref() {
                Some((f, k)) if *f == fingerprint => k.clone(),
                _ => {
                    let docs: Vec<playbook::Article> = articles
                        .iter()
                        .map(|a| playbook::Article {
                            id: a.id.to_string(),
                            locale: a.locale.as_ref().map(Locale::to_string),
                            title: a.title.clone(),
                            body: a.body.clone(),
                            category: a.category.clone(),
                        })
                        .collect();
                    match Knowledge::build(&docs) {
                        Ok(k) => {
                            let k = Arc::new(k);
                            *guard = Some((fingerprint, k.clone()));
                            k
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "cannot build the help-center index");
                            return Vec::new();
                        }
                    }
                }
            }
        };
        knowledge
            .hits(text, limit)
            .into_iter()
            .map(|h| h.id)
            .collect()
    }
}

/// Markdown to HTML with no raw HTML at all: HTML blocks and inline HTML become text (escaped),
/// and links or images may only point to http(s), mailto or relative addresses.
pub fn render_markdown(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(|event| match event {
        Event::Html(s) | Event::InlineHtml(s) => Event::Text(s),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let lower = url.trim().to_ascii_lowercase();
    let scheme = lower
        .split_once(':')
        .map(|(s, _)| s)
        .filter(|s| !s.contains('/') && !s.contains('?') && !s.contains('#'));
    match scheme {
        None | Some("http" | "https" | "mailto") => url,
        Some(_) => CowStr::Borrowed("#"),
    }
}

/// A published article, or 404 (an unpublished one answers exactly like a missing one).
pub async fn published_article(state: &AppState, id: &str) -> DeskResult<Article> {
    let id = ArticleId::parse(id).map_err(|_| DeskError::NotFound)?;
    match state.store.article(&id).await? {
        Some(a) if a.published => Ok(a),
        _ => Err(DeskError::NotFound),
    }
}

impl AppState {
    /// The desk's clock in whole seconds (CAPTCHA lifetimes).
    pub fn now_secs(&self) -> i64 {
        self.clock.now_ms() / 1000
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn debug_shows_no_captcha_secret() {
        let options = super::HelpOptions {
            captcha_secret: Some("0123456789abcdef0123456789abcdef".into()),
            trusted_proxies: vec![],
        };
        let shown = format!("{options:?}");
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }

    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever an editor writes, the rendered page carries no tag of theirs and no link
        /// to a script: every `<` of the input arrives escaped, and `javascript:` never makes
        /// it into an attribute.
        #[test]
        fn any_markdown_renders_without_html_of_its_own(
            text in "(\\PC|<[a-z]{1,8}( [a-z]+=[a-z\\(\\)]*)?>|\\[x\\]\\((javascript|data|https):[a-z/]*\\)|\\n){0,40}",
        ) {
            let html = render_markdown(&text);
            for tag in ["<script", "<img src=x", "<iframe", "<a href=\"javascript", "<a href=\"data"] {
                prop_assert!(!html.contains(tag), "{text:?} -> {html}");
            }
            let opened = html.matches('<').count();
            let ours = ["<p>", "</p>", "<h", "</h", "<a ", "</a>", "<em>", "</em>", "<strong>",
                "</strong>", "<code>", "</code>", "<pre>", "</pre>", "<ul>", "</ul>", "<ol",
                "</ol>", "<li>", "</li>", "<br", "<hr", "<blockquote>", "</blockquote>", "<img ",
                "<table>", "</table>", "<t", "</t", "<del>", "</del>", "<sup", "</sup", "<input"]
                .iter()
                .map(|t| html.matches(t).count())
                .sum::<usize>();
            prop_assert!(opened <= ours, "{text:?} -> {html}");
        }
    }

    #[test]
    fn markdown_never_passes_html_or_script_urls() {
        let html = render_markdown(
            "# Hi\n\n<script>alert(1)</script>\n\nText <img src=x onerror=alert(1)> [a](javascript:alert(1)) [b](https://x.org) ![i](data:text/html,x)",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img src=\"x\""), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("data:"), "{html}");
        assert!(html.contains("href=\"https://x.org\""), "{html}");
        assert!(html.contains("<h1>Hi</h1>"), "{html}");
    }

    #[test]
    fn proxies_parse() {
        assert_eq!(
            parse_proxies(" 10.0.0.1, ::1 ").map(|v| v.len()).ok(),
            Some(2)
        );
        assert!(parse_proxies("nope").is_err());
        assert!(parse_proxies("").map(|v| v.is_empty()).unwrap_or(false));
    }
}
