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

use std::sync::OnceLock;

use crate::normalize;
use crate::Reason;

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
struct Phrase(Vec<TokenPattern>);

impl Phrase {
    fn parse(p: &str) -> Self {
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

    /// Start positions where the phrase matches.
    fn positions<'a>(&'a self, toks: &'a [String]) -> impl Iterator<Item = usize> + 'a {
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

    fn found_in(&self, toks: &[String]) -> bool {
        self.positions(toks).next().is_some()
    }
}

fn phrases(list: &[&str]) -> Vec<Phrase> {
    list.iter().map(|p| Phrase::parse(p)).collect()
}

fn any(list: &[Phrase], toks: &[String]) -> bool {
    list.iter().any(|p| p.found_in(toks))
}

fn weighted(list: &[(&str, f32)]) -> Vec<(Phrase, f32)> {
    list.iter().map(|(p, w)| (Phrase::parse(p), *w)).collect()
}

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
}

struct Lexicon {
    person: Vec<Phrase>,
    contact: Vec<Phrase>,
    human_direct: Vec<Phrase>,
    not_a_request: Vec<Phrase>,
    complaint: Vec<Phrase>,
    legal: Vec<Phrase>,
    privacy: Vec<Phrase>,
    bereavement: Vec<Phrase>,
    injury: Vec<Phrase>,
    hardship: Vec<Phrase>,
    hardship_weak: Vec<Phrase>,
    disconnect_verb: Vec<Phrase>,
    supply: Vec<Phrase>,
    sales_direct: Vec<Phrase>,
    sales_units: Vec<Phrase>,
    sales_many: Vec<Phrase>,
    negative: Vec<(Phrase, f32)>,
    positive: Vec<(Phrase, f32)>,
    negators: Vec<Phrase>,
    intensifiers: Vec<Phrase>,
    sarcasm: Vec<Phrase>,
}

fn lexicon() -> &'static Lexicon {
    static LEXICON: OnceLock<Lexicon> = OnceLock::new();
    LEXICON.get_or_init(|| Lexicon {
        person: phrases(&[
            "mitarbeiter*",
            "mensch*",
            "person",
            "personen",
            "persönlich",
            "kundenberater*",
            "berater*",
            "sachbearbeiter*",
            "kundenbetreuer*",
            "betreuer*",
            "kollege*",
            "kollegin*",
            "jemand*",
            "vorgesetzt*",
            "chef*",
            "supervisor*",
            "servicemitarbeiter*",
            "agent*",
            "human*",
            "representative*",
            "rep",
            "operator*",
            "someone",
            "somebody",
            "staff",
            "manager*",
            "employee*",
            "live chat",
            "hotline",
            "people",
        ]),
        contact: phrases(&[
            "sprech*",
            "sprach*",
            "reden",
            "rede",
            "verbind*",
            "weiterleit*",
            "leiten sie",
            "durchstell*",
            "stellen sie mich",
            "rückruf*",
            "zurückruf*",
            "ruf mich",
            "rufen sie mich",
            "anruf*",
            "kontaktier*",
            "chatten",
            "talk*",
            "speak*",
            "chat",
            "connect*",
            "transfer me",
            "put me through",
            "escalat*",
            "eskalier*",
            "call me",
            "call back",
            "callback",
            "get me",
            "give me",
            "want",
            "need",
            "möchte",
            "will",
            "brauche",
            "hätte gern*",
            "bitte",
            "please",
            "hätte ich gern*",
            "verlange",
            "fordere",
        ]),
        human_direct: phrases(&[
            "echte* mensch*",
            "echte* person",
            "echte* mitarbeiter*",
            "richtige* mensch*",
            "richtige* mitarbeiter*",
            "rufen sie mich zurück",
            "ruf mich zurück",
            "ruft mich zurück",
            "um rückruf",
            "bitte um rückruf",
            "rückruf bitte",
            "call me back",
            "callback please",
            "request a callback",
            "realen menschen",
            "lebende* person",
            "kein* bot*",
            "kein* roboter*",
            "kein* maschine",
            "keine ki",
            "nicht mit einem bot*",
            "nicht mit einer maschine",
            "real person",
            "real human",
            "actual person",
            "actual human",
            "live agent",
            "live person",
            "not a bot",
            "no bot*",
            "no robot*",
            "not a robot",
            "not a machine",
            "stop the bot",
            "human agent",
            "agent please",
            "human please",
            "operator please",
            "mitarbeiter bitte",
            "mensch bitte",
            "person bitte",
            "representative please",
        ]),
        not_a_request: phrases(&[
            "are you a",
            "are you an",
            "are you human",
            "are you real",
            "am i talking",
            "am i speaking",
            "am i chatting",
            "is this a",
            "bist du ein*",
            "bist du echt",
            "sind sie ein*",
            "sind sie echt",
            "spreche ich mit",
            "rede ich mit",
            "chatte ich mit",
            "is this a real",
            "whats your name",
            "who are you",
            "wer bist du",
        ]),
        complaint: phrases(&[
            "beschwer*",
            "*beschwerde*",
            "reklamation*",
            "reklamier*",
            "widerspruch*",
            "widerspreche*",
            "widersprechen",
            "schadensersatz*",
            "schadenersatz*",
            "entschädigung*",
            "schlichtung*",
            "ombudsman*",
            "ombudsstelle",
            "bundesnetzagentur",
            "verbraucherzentrale",
            "complain*",
            "formal complaint",
            "file a complaint",
            "grievance",
            "compensation",
            "i object",
            "dispute the",
            "dispute this",
            "dispute my",
            "dispute a",
            "beanstand*",
            "mängelrüge",
            "mangelrüge",
            "so nicht hinnehmen",
            "nicht akzeptieren",
            "nicht hinnehmen",
            "not accept",
        ]),
        legal: phrases(&[
            "anwalt*",
            "*anwalt",
            "anwält*",
            "*anwältin",
            "rechtsanwält*",
            "kanzlei",
            "klage*",
            "verklag*",
            "gericht*",
            "rechtliche schritte",
            "rechtlichen schritten",
            "juristisch*",
            "strafanzeige",
            "anzeige erstatten",
            "polizei",
            "mahnbescheid",
            "lawyer*",
            "attorney*",
            "solicitor*",
            "sue",
            "suing",
            "lawsuit",
            "legal action",
            "court",
            "small claims",
            "legal steps",
            "take legal",
        ]),
        privacy: phrases(&[
            "dsgvo",
            "datenschutz*",
            "*datenschutz",
            "art 15",
            "art 17",
            "artikel 15",
            "artikel 17",
            "auskunft über meine daten",
            "auskunft über die gespeicherten",
            "gespeicherten daten",
            "meine daten lösch*",
            "daten löschen",
            "löschung meiner*",
            "löschung aller",
            "personenbezogen*",
            "gdpr",
            "data protection",
            "delete my data",
            "delete all my data",
            "my personal data",
            "personal information you hold",
            "data you hold",
            "right to be forgotten",
            "subject access",
            "access request",
            "erase my data",
            "datenauskunft",
            "daten auskunft",
        ]),
        bereavement: phrases(&[
            "verstorben*",
            "gestorben",
            "verstarb",
            "todesfall*",
            "trauerfall",
            "beerdigung*",
            "sterbeurkunde",
            "erbschein",
            "nachlass*",
            "hinterblieben*",
            "witwe*",
            "verwitwet",
            "ist tot",
            "tod meine*",
            "tod unsere*",
            "todes",
            "passed away",
            "died",
            "death",
            "deceased",
            "funeral",
            "bereave*",
            "widow*",
            "late husband",
            "late wife",
            "late father",
            "late mother",
            "death certificate",
            "next of kin",
        ]),
        // Someone was hurt: never a case for a canned answer.
        injury: phrases(&[
            "verletz*",
            "krankenhaus*",
            "notaufnahme",
            "notarzt",
            "schmerzensgeld",
            "gebrochen* arm",
            "gebrochen* bein",
            "injur*",
            "hospital*",
            "emergency room",
            "broke my arm",
            "broke my leg",
        ]),
        hardship: phrases(&[
            "notlage",
            "zahlungsschwierigkeit*",
            "finanzielle* schwierigkeit*",
            "finanzielle* probleme*",
            "finanzielle* not",
            "geldsorgen",
            "arbeitslos*",
            "bürgergeld",
            "hartz",
            "sozialamt",
            "jobcenter",
            "insolvenz*",
            "privatinsolvenz",
            "schuldnerberatung",
            "überschuldet",
            "schulden",
            "kein geld",
            "nicht bezahlen",
            "nicht zahlen",
            "nicht mehr zahlen",
            "nicht mehr bezahlen",
            "kann mir* nicht leisten",
            "mahnung*",
            "*mahnung",
            "inkasso*",
            "gerichtsvollzieher",
            "pfändung*",
            "*sperre",
            "sperrandrohung",
            "sperrankündigung",
            "sperrung",
            "abgestellt",
            "abgeschaltet",
            "abgeklemmt",
            "cant afford",
            "cannot afford",
            "can not afford",
            "unable to afford",
            "hardship",
            "financial difficult*",
            "financial trouble",
            "struggling to pay",
            "cant pay my",
            "cannot pay my",
            "unable to pay my",
            "lost my job",
            "unemployed",
            "debt collect*",
            "collection agency",
            "bailiff*",
            "in debt",
            "final notice",
            "reminder notice",
            "overdue notice",
            "disconnection",
            "cut off",
            "shut off",
            "switched off",
            "eviction",
        ]),
        hardship_weak: phrases(&["ratenzahlung*", "raten", "payment plan", "instalment plan"]),
        disconnect_verb: phrases(&[
            "abstellen",
            "abschalten",
            "abklemmen",
            "sperren",
            "gesperrt",
            "disconnect*",
            "cut",
            "shut",
        ]),
        supply: phrases(&[
            "strom*",
            "gas",
            "wasser*",
            "heizung*",
            "versorgung*",
            "anschluss*",
            "zähler*",
            "power",
            "electricity",
            "gas",
            "water",
            "heating",
            "supply",
            "meter",
        ]),
        sales_direct: phrases(&[
            "rahmenvertrag*",
            "rahmenvereinbarung*",
            "framework agreement*",
            "framework contract*",
            "master agreement*",
            "ausschreibung*",
            "tender*",
            "rfp",
            "request for proposal",
            "verhandl*",
            "verhandeln",
            "nachverhandl*",
            "negotiat*",
            "konditionen verhandeln",
            "individuelle* angebot*",
            "individuelle* konditionen",
            "custom quote",
            "custom pricing",
            "enterprise",
            "konzern*",
            "großkunde*",
            "großabnehmer*",
            "geschäftskunde*",
            "gewerbekunde*",
            "einkaufsabteilung",
            "procurement",
            "purchasing department",
            "volume discount",
            "volume pricing",
            "mengenrabatt*",
            "staffelpreis*",
            "sonderkonditionen",
            "special terms",
            "mehrere standorte",
            "mehreren standorten",
            "alle standorte",
            "allen standorten",
            "multiple sites",
            "multiple locations",
            "several sites",
            "several locations",
            "all our sites",
            "all our locations",
            "filialnetz",
            "bundesweit",
            "nationwide",
            "unternehmensgruppe",
        ]),
        sales_units: phrases(&[
            "standort*",
            "filiale*",
            "niederlassung*",
            "liegenschaft*",
            "gebäude",
            "sites",
            "locations",
            "branches",
            "stores",
            "offices",
            "mitarbeiter*",
            "employees",
            "stück",
            "units",
            "geräte",
            "devices",
            "lizenzen",
            "licenses",
            "licences",
            "seats",
            "zähler*",
            "meters",
            "mwh",
            "gwh",
            "wohnungen",
            "wohneinheiten",
            "apartments",
            "fahrzeuge",
            "vehicles",
            "arbeitsplätze",
            "workstations",
        ]),
        sales_many: phrases(&[
            "viele*",
            "zahlreiche*",
            "dutzende",
            "hunderte",
            "many",
            "dozens",
            "hundreds",
        ]),
        negative: weighted(&[
            // strong: anger, contempt, despair
            ("frechheit", 1.0),
            ("unverschämt*", 1.0),
            ("zumutung", 1.0),
            ("unzumutbar", 1.0),
            ("katastroph*", 1.0),
            ("*katastrophe", 1.0),
            ("skandal*", 1.0),
            ("*skandal", 1.0),
            ("wütend", 1.0),
            ("wut", 0.8),
            ("stinksauer", 1.0),
            ("sauer", 0.7),
            ("verärgert", 1.0),
            ("ärgerlich", 0.8),
            ("ärgert", 0.8),
            ("ärger", 0.6),
            ("enttäusch*", 1.0),
            ("lächerlich", 1.0),
            ("unfassbar", 0.8),
            ("unglaublich", 0.5),
            ("inakzeptabel", 1.0),
            ("nicht akzeptabel", 1.0),
            ("miserabel", 1.0),
            ("mies*", 0.8),
            ("scheiß*", 1.0),
            ("scheiss*", 1.0),
            ("*scheiße", 1.0),
            ("beschissen", 1.0),
            ("kacke", 1.0),
            ("mist", 0.8),
            ("verdammt*", 1.0),
            ("nervt", 1.0),
            ("genervt", 1.0),
            ("nervig", 0.8),
            ("nerven", 0.6),
            ("peinlich", 0.8),
            ("armselig", 1.0),
            ("dreist*", 1.0),
            ("abzocke*", 1.0),
            ("abgezockt", 1.0),
            ("betrug", 0.8),
            ("betrüger*", 1.0),
            ("verarsch*", 1.0),
            ("nie wieder", 1.0),
            ("schlechteste*", 1.0),
            ("furchtbar*", 1.0),
            ("schrecklich*", 1.0),
            ("grauenhaft*", 1.0),
            ("grottig", 1.0),
            ("unfähig*", 1.0),
            ("inkompetent*", 1.0),
            ("chaos", 0.7),
            ("*chaos", 0.7),
            ("desaster", 1.0),
            ("horror", 0.8),
            ("albtraum", 1.0),
            ("alptraum", 1.0),
            ("verzweifel*", 1.0),
            ("hilflos", 0.8),
            ("am ende", 0.6),
            ("reicht mir", 1.0),
            ("reicht jetzt", 1.0),
            ("satt", 0.5),
            ("die nase voll", 1.0),
            ("schnauze voll", 1.0),
            ("unterirdisch", 1.0),
            ("bodenlos", 1.0),
            ("schande", 1.0),
            ("ätzend", 1.0),
            ("hasse", 1.0),
            ("hass", 0.8),
            ("schlecht*", 0.6),
            ("schlimm*", 0.6),
            ("übel", 0.6),
            ("traurig", 0.5),
            ("unmöglich", 0.5),
            ("idiot*", 1.0),
            ("deppen", 1.0),
            ("vollidiot*", 1.0),
            ("witz", 0.4),
            ("fail", 0.8),
            ("epic fail", 1.0),
            ("pech", 0.5),
            ("verflucht*", 1.0),
            ("schwachsinn", 1.0),
            ("quatsch", 0.6),
            ("unterste schublade", 1.0),
            ("angry", 1.0),
            ("furious", 1.0),
            ("outraged", 1.0),
            ("outrageous", 1.0),
            ("livid", 1.0),
            ("pissed", 1.0),
            ("annoyed", 0.8),
            ("annoying", 0.8),
            ("frustrat*", 1.0),
            ("disappoint*", 1.0),
            ("terrible", 1.0),
            ("horrible", 1.0),
            ("awful", 1.0),
            ("worst", 1.0),
            ("useless", 1.0),
            ("ridiculous", 1.0),
            ("unacceptable", 1.0),
            ("disgrace*", 1.0),
            ("disgust*", 1.0),
            ("pathetic", 1.0),
            ("incompetent", 1.0),
            ("scam*", 1.0),
            ("rip off", 1.0),
            ("ripoff", 1.0),
            ("ripped off", 1.0),
            ("fed up", 1.0),
            ("sick of", 1.0),
            ("sick and tired", 1.0),
            ("hate", 1.0),
            ("never again", 1.0),
            ("shit*", 1.0),
            ("crap*", 1.0),
            ("damn*", 0.8),
            ("wtf", 1.0),
            ("nightmare", 1.0),
            ("appalling", 1.0),
            ("shocking", 0.6),
            ("rude", 0.8),
            ("joke", 0.4),
            ("fuck*", 1.0),
            ("hopeless", 1.0),
            ("desperate", 1.0),
            ("upset", 0.8),
            ("unhappy", 0.8),
            ("bad", 0.5),
            ("poor service", 1.0),
            ("lousy", 1.0),
            ("clowns", 1.0),
            // weak: ongoing trouble, resignation, delays
            ("leider", 0.3),
            ("schon wieder", 0.6),
            ("mal wieder", 0.6),
            ("wieder mal", 0.6),
            ("wie immer", 0.4),
            ("immer noch", 0.4),
            ("immer wieder", 0.4),
            ("seit wochen", 0.5),
            ("seit tagen", 0.4),
            ("seit monaten", 0.5),
            ("verspät*", 0.5),
            ("*verspätung*", 0.5),
            ("zu spät", 0.5),
            ("ausgefallen", 0.4),
            ("fällt aus", 0.5),
            ("fallen aus", 0.5),
            ("ausfall*", 0.4),
            ("*ausfall", 0.4),
            ("gestrichen", 0.4),
            ("störung*", 0.3),
            ("kaputt", 0.3),
            ("defekt", 0.3),
            ("streik*", 0.5),
            ("*streik", 0.5),
            ("gestrandet", 0.6),
            ("überfüllt", 0.5),
            ("keine antwort", 0.5),
            ("niemand", 0.3),
            ("nichts passiert", 0.6),
            ("ignoriert", 0.6),
            ("again", 0.3),
            ("still not", 0.4),
            ("still havent", 0.4),
            ("for weeks", 0.5),
            ("for days", 0.4),
            ("for months", 0.5),
            ("unfortunately", 0.3),
            ("no response", 0.5),
            ("no answer", 0.5),
            ("nobody", 0.3),
            ("no one", 0.3),
            ("ignored", 0.6),
            ("delayed", 0.4),
            ("cancelled", 0.3),
            ("stuck", 0.4),
            ("wartezeit", 0.3),
            ("warten", 0.2),
        ]),
        positive: weighted(&[
            ("danke", 0.3),
            ("vielen dank", 0.4),
            ("zufrieden", 0.5),
            ("super", 0.4),
            ("toll*", 0.4),
            ("prima", 0.4),
            ("klasse", 0.4),
            ("perfekt", 0.5),
            ("freundlich*", 0.4),
            ("hilfreich", 0.4),
            ("gut", 0.3),
            ("lob", 0.5),
            ("freue", 0.4),
            ("freut", 0.4),
            ("glücklich", 0.5),
            ("pünktlich", 0.4),
            ("thanks", 0.3),
            ("thank you", 0.4),
            ("happy", 0.5),
            ("satisfied", 0.5),
            ("great", 0.4),
            ("good", 0.3),
            ("excellent", 0.5),
            ("perfect", 0.5),
            ("helpful", 0.4),
            ("love", 0.4),
            ("awesome", 0.5),
            ("nice", 0.3),
            ("kind", 0.2),
            ("glad", 0.4),
        ]),
        negators: phrases(&[
            "nicht", "kein*", "nie", "niemals", "nix", "nichts", "not", "no", "never", "dont",
            "doesnt", "didnt", "isnt", "wasnt", "arent", "cant", "cannot", "wont", "nothing",
            "hardly", "kaum",
        ]),
        intensifiers: phrases(&[
            "sehr",
            "total",
            "völlig",
            "absolut",
            "extrem",
            "echt",
            "wirklich",
            "so",
            "mega",
            "richtig",
            "komplett",
            "äußerst",
            "really",
            "extremely",
            "absolutely",
            "totally",
            "completely",
            "utterly",
            "very",
            "so",
            "incredibly",
        ]),
        sarcasm: phrases(&[
            "danke für nichts",
            "vielen dank auch",
            "na toll",
            "na super",
            "na prima",
            "na klasse",
            "ganz toll",
            "ganz großes kino",
            "großes kino",
            "gut gemacht",
            "thanks for nothing",
            "great job",
            "well done",
            "just great",
            "oh great",
            "oh wonderful",
            "how wonderful",
            "yeah right",
            "wie immer",
            "as always",
            "as usual",
            "wie gewohnt",
            "danke db",
            "danke bahn",
        ]),
    })
}

fn human_requested(lex: &Lexicon, toks: &[String]) -> bool {
    if any(&lex.not_a_request, toks) {
        return false;
    }
    if any(&lex.human_direct, toks) {
        return true;
    }
    let has_person = any(&lex.person, toks);
    if !has_person {
        return false;
    }
    // "Mitarbeiter!" / "agent" on its own is a request, too.
    let content = toks
        .iter()
        .filter(|t| !normalize::stopwords::is_stopword(t))
        .count();
    any(&lex.contact, toks) || content <= 1
}

fn complaint(lex: &Lexicon, toks: &[String]) -> bool {
    any(&lex.complaint, toks)
}

fn sensitive(lex: &Lexicon, toks: &[String]) -> bool {
    let data = toks.iter().any(|t| t == "daten" || t == "data");
    let erase = toks
        .iter()
        .any(|t| t.starts_with("losch") || t.starts_with("delet") || t.starts_with("eras"));
    if any(&lex.legal, toks)
        || any(&lex.privacy, toks)
        || any(&lex.bereavement, toks)
        || any(&lex.injury, toks)
    {
        return true;
    }
    if data && erase {
        return true;
    }
    if any(&lex.hardship, toks) {
        return true;
    }
    // "Ratenzahlung" alone is a payment question; with a supply cut-off it is hardship.
    let supply = any(&lex.supply, toks);
    (supply && any(&lex.disconnect_verb, toks))
        || (any(&lex.hardship_weak, toks) && supply && any(&lex.disconnect_verb, toks))
}

/// A number of at least 50 followed by a unit of business volume ("40 Standorte", "500 units").
fn big_quantity(lex: &Lexicon, toks: &[String]) -> bool {
    toks.iter().enumerate().any(|(i, t)| {
        let number: Option<u64> = t.parse().ok();
        let big = number.is_some_and(|n| n >= 20)
            || lex
                .sales_many
                .iter()
                .any(|p| p.found_in(std::slice::from_ref(t)));
        big && toks.iter().skip(i + 1).take(3).any(|u| {
            lex.sales_units
                .iter()
                .any(|p| p.found_in(std::slice::from_ref(u)))
        })
    })
}

fn complex_sales(lex: &Lexicon, toks: &[String]) -> bool {
    any(&lex.sales_direct, toks) || big_quantity(lex, toks)
}

/// Score of negative cues minus positive ones (before squashing).
fn sentiment_score(lex: &Lexicon, msg: &Message) -> (f32, f32) {
    let toks = &msg.toks;
    let near = |list: &[Phrase], at: usize, window: usize| -> bool {
        let from = at.saturating_sub(window);
        list.iter()
            .any(|p| p.positions(&toks[from..at]).next().is_some())
    };
    let mut negative = 0.0f32;
    let mut positive = 0.0f32;
    for (phrase, weight) in &lex.negative {
        for at in phrase.positions(toks) {
            // Negation flips single evaluative words ("nicht schlecht"), not phrases ("mal wieder").
            if phrase.0.len() == 1 && near(&lex.negators, at, 2) && *weight < 1.0 {
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
    for (phrase, weight) in &lex.positive {
        for at in phrase.positions(toks) {
            if near(&lex.negators, at, 3) {
                // "nicht zufrieden", "not helpful"
                negative += 0.4 + weight;
            } else {
                positive += weight;
            }
        }
    }
    if any(&lex.sarcasm, toks) {
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
    let mut reasons = Vec::new();
    if human_requested(lex, toks) {
        reasons.push(Reason::HumanRequested);
    }
    if complaint(lex, toks) {
        reasons.push(Reason::Complaint);
    }
    if sensitive(lex, toks) {
        reasons.push(Reason::SensitiveTopic);
    }
    if complex_sales(lex, toks) {
        reasons.push(Reason::ComplexSales);
    }
    let (negative, positive) = sentiment_score(lex, &msg);
    let net = negative - positive;
    if net >= NEGATIVE_THRESHOLD {
        reasons.push(Reason::NegativeSentiment);
    }
    Signals {
        reasons,
        sentiment: (positive - negative).tanh(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(text: &str, r: Reason) -> bool {
        detect(text).reasons.contains(&r)
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
