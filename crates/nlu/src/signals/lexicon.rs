//! The signals' word lists, read from `crates/nlu/lexicon/signals.txt` (compiled in), and how a pattern matches.
//!
//! Every pattern gets a [`Trigger`] id, so a rule can say which words made it fire: the machine
//! tier lets an intent whose own examples carry those words answer them (see
//! [`crate::MachineTier`]).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::normalize;

/// Which pattern of the lexicon matched (its line's rank), or one of the rules' own triggers.
pub type Trigger = u32;

/// "A number of at least 20 followed by a unit of business volume" (see `big_quantity`).
pub const BIG_QUANTITY: Trigger = u32::MAX;
/// "Data" and "erase" in one message.
pub const DATA_ERASURE: Trigger = u32::MAX - 1;

const SOURCE: &str = include_str!("../../lexicon/signals.txt");

#[derive(Debug, Clone)]
enum TokenPattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
}

impl TokenPattern {
    fn parse(p: &str) -> Option<Self> {
        let starts = p.starts_with('*');
        let ends = p.ends_with('*') && p.len() > 1;
        let core = normalize::fold(p.trim_matches('*'));
        if core.is_empty() {
            return None;
        }
        Some(match (starts, ends) {
            (true, true) => TokenPattern::Contains(core),
            (false, true) => TokenPattern::Prefix(core),
            (true, false) => TokenPattern::Suffix(core),
            (false, false) => TokenPattern::Exact(core),
        })
    }

    fn matches(&self, token: &str) -> bool {
        match self {
            TokenPattern::Exact(s) => token == s,
            TokenPattern::Prefix(s) => token.starts_with(s.as_str()),
            TokenPattern::Suffix(s) => token.ends_with(s.as_str()),
            TokenPattern::Contains(s) => token.contains(s.as_str()),
        }
    }
}

/// A sequence of token patterns.
#[derive(Debug, Clone)]
pub struct Phrase(Vec<TokenPattern>);

impl Phrase {
    pub fn parse(p: &str) -> Self {
        // Folding may split a pattern token (e.g. "e-mail"), so fold word by word.
        Phrase(
            p.split_whitespace()
                .flat_map(|w| {
                    let star_front = w.starts_with('*');
                    let star_back = w.ends_with('*');
                    let parts: Vec<String> = normalize::tokens(w.trim_matches('*'));
                    let n = parts.len();
                    parts
                        .into_iter()
                        .enumerate()
                        .filter_map(move |(i, part)| {
                            let mut s = String::new();
                            if star_front && i == 0 {
                                s.push('*');
                            }
                            s.push_str(&part);
                            if star_back && i + 1 == n {
                                s.push('*');
                            }
                            TokenPattern::parse(&s)
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
        )
    }

    /// How many tokens the phrase spans.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Start positions where the phrase matches.
    pub fn positions<'a>(&'a self, toks: &'a [String]) -> impl Iterator<Item = usize> + 'a {
        let n = self.0.len();
        (0..toks.len().saturating_sub(n.saturating_sub(1))).filter(move |&i| {
            n > 0
                && self
                    .0
                    .iter()
                    .enumerate()
                    .all(|(k, p)| toks.get(i + k).is_some_and(|t| p.matches(t)))
        })
    }

    pub fn found_in(&self, toks: &[String]) -> bool {
        self.positions(toks).next().is_some()
    }
}

/// One list of the lexicon: its phrases, their weights (1 unless given) and trigger ids.
#[derive(Debug, Clone, Default)]
pub struct List {
    pub entries: Vec<(Phrase, f32, Trigger)>,
    /// The entries by their first token's pattern, so a message is checked against the phrases
    /// that can start at one of its tokens instead of against every phrase (built by `index`).
    first: FirstTokens,
}

/// Entry indices by the kind of their first token pattern.
#[derive(Debug, Clone, Default)]
struct FirstTokens {
    exact: HashMap<String, Vec<usize>>,
    prefix: HashMap<String, Vec<usize>>,
    suffix: HashMap<String, Vec<usize>>,
    /// `*x*` first tokens (and empty phrases): always checked.
    always: Vec<usize>,
}

impl List {
    /// Files each entry under its first token's pattern.
    fn index(&mut self) {
        let mut first = FirstTokens::default();
        for (i, (phrase, _, _)) in self.entries.iter().enumerate() {
            let (map, key) = match phrase.0.first() {
                Some(TokenPattern::Exact(k)) => (&mut first.exact, k),
                Some(TokenPattern::Prefix(k)) => (&mut first.prefix, k),
                Some(TokenPattern::Suffix(k)) => (&mut first.suffix, k),
                _ => {
                    first.always.push(i);
                    continue;
                }
            };
            map.entry(key.clone()).or_default().push(i);
        }
        self.first = first;
    }

    /// The entries whose first pattern matches one of `toks`, in the list's order: the only
    /// ones that can be found in `toks`.
    pub fn candidates(&self, toks: &[String]) -> Vec<usize> {
        let f = &self.first;
        let mut out = f.always.clone();
        for t in toks {
            out.extend(f.exact.get(t.as_str()).into_iter().flatten());
            for (at, _) in t.char_indices().skip(1).chain([(t.len(), ' ')]) {
                out.extend(f.prefix.get(&t[..at]).into_iter().flatten());
            }
            for (at, _) in t.char_indices() {
                out.extend(f.suffix.get(&t[at..]).into_iter().flatten());
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether any phrase of the list is in `toks`.
    pub fn any(&self, toks: &[String]) -> bool {
        self.candidates(toks)
            .into_iter()
            .any(|i| self.entries[i].0.found_in(toks))
    }

    /// The triggers of every phrase of the list found in `toks`, in the list's order.
    pub fn hits<'a>(&'a self, toks: &'a [String]) -> impl Iterator<Item = Trigger> + 'a {
        self.candidates(toks)
            .into_iter()
            .map(|i| &self.entries[i])
            .filter(|(p, _, _)| p.found_in(toks))
            .map(|(_, _, t)| *t)
    }

    /// Whether one token matches a one-word phrase of the list.
    pub fn matches_token(&self, token: &String) -> bool {
        self.any(std::slice::from_ref(token))
    }
}

/// The word lists the rules read, by the names of `crates/nlu/lexicon/signals.txt`'s sections.
pub struct Lexicon {
    pub person: List,
    pub contact: List,
    pub human_direct: List,
    pub not_a_request: List,
    pub complaint: List,
    pub legal: List,
    pub privacy: List,
    pub bereavement: List,
    pub injury: List,
    pub hardship: List,
    pub disconnect_verb: List,
    pub supply: List,
    pub sales_direct: List,
    pub sales_units: List,
    pub sales_many: List,
    pub sales_cue: List,
    pub organisation: List,
    pub measures: List,
    pub negative: List,
    pub positive: List,
    pub negators: List,
    pub intensifiers: List,
    pub sarcasm: List,
}

/// `crates/nlu/lexicon/signals.txt` read into its sections. A malformed line is a programming error, caught by the
/// unit tests, so it panics with the line.
fn parse(source: &str) -> HashMap<String, List> {
    let mut lists: HashMap<String, List> = HashMap::new();
    let mut current: Option<String> = None;
    for (n, line) in source.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            lists.entry(name.to_string()).or_default();
            current = Some(name.to_string());
            continue;
        }
        let Some(list) = current.as_ref().and_then(|c| lists.get_mut(c)) else {
            panic!(
                "crates/nlu/lexicon/signals.txt line {}: a pattern before any [list]",
                n + 1
            );
        };
        let (pattern, weight) = match line.split_once('\t') {
            Some((p, w)) => (
                p,
                w.trim().parse::<f32>().unwrap_or_else(|_| {
                    panic!(
                        "crates/nlu/lexicon/signals.txt line {}: bad weight {w:?}",
                        n + 1
                    )
                }),
            ),
            None => (line, 1.0),
        };
        let trigger = Trigger::try_from(n).expect("lexicon fits u32");
        list.entries.push((Phrase::parse(pattern), weight, trigger));
    }
    lists
}

pub fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| {
        let mut lists = parse(SOURCE);
        let mut take = |name: &str| {
            let mut list = lists
                .remove(name)
                .unwrap_or_else(|| panic!("crates/nlu/lexicon/signals.txt has no [{name}]"));
            list.index();
            list
        };
        Lexicon {
            person: take("person"),
            contact: take("contact"),
            human_direct: take("human_direct"),
            not_a_request: take("not_a_request"),
            complaint: take("complaint"),
            legal: take("legal"),
            privacy: take("privacy"),
            bereavement: take("bereavement"),
            injury: take("injury"),
            hardship: take("hardship"),
            disconnect_verb: take("disconnect_verb"),
            supply: take("supply"),
            sales_direct: take("sales_direct"),
            sales_units: take("sales_units"),
            sales_many: take("sales_many"),
            sales_cue: take("sales_cue"),
            organisation: take("organisation"),
            measures: take("measures"),
            negative: take("negative"),
            positive: take("positive"),
            negators: take("negators"),
            intensifiers: take("intensifiers"),
            sarcasm: take("sarcasm"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_section_is_read_and_none_is_left_over() {
        let lists = parse(SOURCE);
        assert_eq!(lists.len(), 23, "{:?}", lists.keys().collect::<Vec<_>>());
        let lex = lexicon();
        assert!(lex.negative.entries.iter().any(|(_, w, _)| *w < 1.0));
        assert!(lex.person.entries.len() > 10);
    }

    /// The first-token index finds exactly what checking every phrase finds.
    #[test]
    fn the_index_finds_what_a_full_scan_finds() {
        let lex = lexicon();
        let lists = [
            &lex.person,
            &lex.contact,
            &lex.human_direct,
            &lex.not_a_request,
            &lex.complaint,
            &lex.legal,
            &lex.privacy,
            &lex.bereavement,
            &lex.injury,
            &lex.hardship,
            &lex.disconnect_verb,
            &lex.supply,
            &lex.sales_direct,
            &lex.sales_units,
            &lex.sales_many,
            &lex.sales_cue,
            &lex.organisation,
            &lex.measures,
            &lex.negative,
            &lex.positive,
            &lex.negators,
            &lex.intensifiers,
            &lex.sarcasm,
        ];
        // Every pattern as a text (stars as letters around it), and sentences mixing them.
        let mut texts: Vec<String> = SOURCE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('['))
            .map(|l| l.split('\t').next().unwrap_or("").replace('*', "x"))
            .collect();
        let joined: Vec<String> = texts.chunks(7).map(|c| c.join(" ")).collect();
        texts.extend(joined);
        texts.extend(
            [
                "Ich möchte mich beschweren, das ist eine Frechheit!!",
                "Können Sie mir ein Angebot für 40 Standorte machen?",
                "my husband passed away and I need to cancel the contract",
                "Ärger über die Rechnung, nicht zufrieden",
            ]
            .map(String::from),
        );
        let mut found = 0;
        for text in &texts {
            let toks = normalize::tokens(text);
            for list in lists {
                let scanned: Vec<Trigger> = list
                    .entries
                    .iter()
                    .filter(|(p, _, _)| p.found_in(&toks))
                    .map(|(_, _, t)| *t)
                    .collect();
                assert_eq!(list.hits(&toks).collect::<Vec<_>>(), scanned, "{text:?}");
                assert_eq!(list.any(&toks), !scanned.is_empty(), "{text:?}");
                found += scanned.len();
            }
        }
        assert!(found > 1000, "the texts hit the lists ({found})");
    }

    #[test]
    fn patterns_fold_like_text() {
        let p = Phrase::parse("beschwer*");
        assert!(p.found_in(&normalize::tokens("Ich möchte mich BESCHWEREN")));
        let p = Phrase::parse("*anwalt");
        assert!(p.found_in(&normalize::tokens("mein Rechtsanwalt")));
        let p = Phrase::parse("anwält*");
        assert!(p.found_in(&normalize::tokens("meine Anwaeltin")));
    }
}
