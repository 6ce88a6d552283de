//! The handoff policy: turns the machine tier's single-message triage plus the conversation's
//! history into the desk's decision, and a handoff's reasons into needs for the router.

use crate::verdict::{Action, Candidate, Reason, Triage};
use playbook::Playbook;
use serde::{Deserialize, Serialize};

use crate::replies;
use crate::routing::{Levels, Rules};
use crate::words::{Locale, Skill};

/// What a handed-off conversation needs from the person who takes it.
// Not `Eq`: the guesses carry `f32` confidences.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Needs {
    pub reasons: Vec<Reason>,
    pub skills: Vec<Skill>,
    pub locale: Locale,
    /// Higher is more urgent; the queue orders by priority, then age.
    pub priority: i32,
    /// Minimum competence levels, from the reasons (see `routing::Rules`).
    #[serde(default)]
    pub levels: Levels,
    /// The machine's best guesses at the handoff, best first, for the agent: where the bot
    /// would have started. Absent from rows stored before guesses were kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guesses: Vec<Guess>,
}

/// One of the machine's guesses at what the customer wants (from [`crate::Candidate`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guess {
    pub intent: String,
    /// 0..1, as the machine tier reported it.
    pub confidence: f32,
}

impl Guess {
    /// The guesses worth showing of a triage's candidates, in their order: those whose
    /// confidence rounds to 0.00 (or is not a number) are dropped.
    pub fn from_candidates(candidates: &[Candidate]) -> Vec<Guess> {
        candidates
            .iter()
            .filter(|c| c.confidence.is_finite() && (c.confidence * 100.0).round() >= 1.0)
            .map(|c| Guess {
                intent: c.intent.clone(),
                confidence: c.confidence.min(1.0),
            })
            .collect()
    }
}

impl Needs {
    /// Needs for these reasons, the intent's skills and the customer's locale.
    pub fn new(
        rules: &Rules,
        reasons: Vec<Reason>,
        intent_skills: &[String],
        locale: &Locale,
    ) -> Self {
        let (levels, skills) = rules.needs_of(&reasons, intent_skills);
        Needs {
            priority: priority(&reasons),
            reasons,
            skills,
            locale: locale.clone(),
            levels,
            guesses: Vec::new(),
        }
    }

    /// These needs with the machine's guesses (see [`Guess::from_candidates`]).
    pub fn with_guesses(mut self, candidates: &[Candidate]) -> Self {
        self.guesses = Guess::from_candidates(candidates);
        self
    }
}

/// One earlier exchange in the conversation, as far as the policy cares.
#[derive(Debug, Clone)]
pub struct Turn {
    pub customer_text: String,
    /// How the bot met that message: `Some(action)`, or `None` when a person had it.
    pub bot_action: Option<Action>,
}

/// The desk's decision on one customer message while the bot has the conversation.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Answer {
        text: String,
        intent: Option<String>,
        article: Option<String>,
    },
    Clarify {
        text: String,
    },
    /// A person must take the conversation. What the bot tells the customer depends on whether
    /// anyone who could take it is online: see [`Decision::reply`].
    Handoff {
        needs: Needs,
    },
}

/// Whether someone who could take a handed-off conversation is online now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staffed {
    Yes,
    /// Nobody who could take it is online: the bot says so honestly instead of "one moment".
    Nobody,
}

impl Decision {
    pub fn action(&self) -> Action {
        match self {
            Decision::Answer { .. } => Action::Answer,
            Decision::Clarify { .. } => Action::Clarify,
            Decision::Handoff { .. } => Action::Handoff,
        }
    }

    /// What the bot tells the customer, in `locale`. `staffed` only matters for a handoff.
    pub fn reply(&self, locale: &str, staffed: Staffed) -> String {
        match self {
            Decision::Answer { text, .. } | Decision::Clarify { text } => text.clone(),
            Decision::Handoff { .. } => match staffed {
                Staffed::Yes => replies::handoff(locale).to_owned(),
                Staffed::Nobody => replies::handoff_nobody_online(locale).to_owned(),
            },
        }
    }
}

/// How similar a new message must be to an earlier one to count as the customer repeating
/// themselves (similarity as reported by the machine tier, 0..1).
pub const REPEAT_SIMILARITY: f32 = 0.8;

/// How many of the bot's latest answers a new message is compared with.
pub const RECENT_ANSWERS: usize = 2;

/// How many of the conversation's latest messages the policy reads: its last exchanges, enough
/// for the bot's last action and its `RECENT_ANSWERS` latest answers in a conversation the bot
/// has. An answer further back than this counts as "much later".
pub const HISTORY_MESSAGES: usize = 16;

/// Decides what the desk does with a customer message. `rules` are the playbook's routing rules,
/// built once for the desk (`Rules::from_playbook`); `similarity` compares two texts (0..1).
pub fn decide(
    rules: &Rules,
    triage: &Triage,
    history: &[Turn],
    playbook: &Playbook,
    locale: &Locale,
    similarity: impl Fn(&str, &str) -> f32,
) -> Decision {
    let mut reasons = triage.reasons.clone();
    let mut action = triage.action;

    // Conversation level: the bot could not help twice in a row ...
    let last_bot = history.iter().rev().find_map(|t| t.bot_action);
    let failed_before = matches!(last_bot, Some(Action::Clarify));
    let failing_now = action == Action::Clarify;
    // ... or the customer says again what the bot already answered.
    // Only the most recent answers count: a question asked again much later is a new one.
    let repeats = action != Action::Handoff
        && history
            .iter()
            .rev()
            .filter(|t| t.bot_action == Some(Action::Answer))
            .take(RECENT_ANSWERS)
            .any(|t| similarity(&t.customer_text, &triage.text) >= REPEAT_SIMILARITY);
    if (failed_before && failing_now) || repeats {
        reasons.push(Reason::RepeatedFailure);
        action = Action::Handoff;
    }

    match action {
        Action::Handoff => {
            // `low_confidence` is the fallback explanation: when a sharper reason is known
            // (the customer asked for a person, complained, ...), it would only mislead.
            if reasons.iter().any(|r| *r != Reason::LowConfidence) {
                reasons.retain(|r| *r != Reason::LowConfidence);
            }
            if reasons.is_empty() {
                reasons.push(Reason::LowConfidence);
            }
            reasons.sort();
            reasons.dedup();
            let skills = triage
                .intent
                .as_deref()
                .and_then(|id| playbook.intent(id))
                .map(|i| i.skills.clone())
                .unwrap_or_default();
            let needs =
                Needs::new(rules, reasons, &skills, locale).with_guesses(&triage.candidates);
            Decision::Handoff { needs }
        }
        Action::Clarify => Decision::Clarify {
            text: replies::clarify(locale).to_owned(),
        },
        Action::Answer => {
            let answer = triage
                .intent
                .as_deref()
                .and_then(|id| playbook.intent(id))
                .and_then(|i| i.answer_in(locale, &playbook.desk.locales))
                .map(str::to_owned)
                .or_else(|| {
                    let article = playbook.article(triage.article.as_deref()?)?;
                    Some(replies::article(locale, &article.title, &article.body))
                });
            match answer {
                Some(text) => Decision::Answer {
                    text,
                    intent: triage.intent.clone(),
                    article: triage.article.clone(),
                },
                // An intent without an answer text in any locale: a person must answer it.
                None => Decision::Handoff {
                    needs: Needs::new(
                        rules,
                        vec![Reason::IntentRequiresHuman],
                        triage
                            .intent
                            .as_deref()
                            .and_then(|id| playbook.intent(id))
                            .map(|i| i.skills.as_slice())
                            .unwrap_or_default(),
                        locale,
                    )
                    .with_guesses(&triage.candidates),
                },
            }
        }
    }
}

/// Urgency of a handoff: people in distress and legal matters first, then anger, then the rest.
pub fn priority(reasons: &[Reason]) -> i32 {
    reasons
        .iter()
        .map(|r| match r {
            Reason::SensitiveTopic => 3,
            Reason::Complaint | Reason::NegativeSentiment | Reason::RepeatedFailure => 2,
            Reason::HumanRequested | Reason::ComplexSales => 1,
            Reason::IntentRequiresHuman | Reason::LowConfidence => 0,
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::decide`] with the playbook's own rules.
    fn decide(
        triage: &Triage,
        history: &[Turn],
        playbook: &Playbook,
        locale: &str,
        similarity: impl Fn(&str, &str) -> f32,
    ) -> Decision {
        let rules = Rules::from_playbook(playbook);
        super::decide(
            &rules,
            triage,
            history,
            playbook,
            &Locale::trusted(locale.into()),
            similarity,
        )
    }

    fn triage(text: &str, action: Action, intent: Option<&str>, reasons: Vec<Reason>) -> Triage {
        Triage {
            text: text.into(),
            intent: intent.map(str::to_owned),
            confidence: 0.9,
            action,
            reasons,
            locale: "de".into(),
            article: None,
            sentiment: 0.0,
            // The machine's guesses as it reports them: the intent first, when it has one.
            candidates: intent
                .map(|i| {
                    vec![Candidate {
                        intent: i.to_owned(),
                        confidence: 0.9,
                    }]
                })
                .unwrap_or_default(),
        }
    }

    fn cand(intent: &str, confidence: f32) -> Candidate {
        Candidate {
            intent: intent.into(),
            confidence,
        }
    }

    fn never_similar(_: &str, _: &str) -> f32 {
        0.0
    }

    #[test]
    fn a_handoff_reply_says_honestly_when_nobody_is_online() {
        let d = Decision::Handoff {
            needs: Needs::default(),
        };
        assert_eq!(d.reply("de", Staffed::Yes), replies::handoff("de"));
        assert_eq!(
            d.reply("en", Staffed::Nobody),
            replies::handoff_nobody_online("en")
        );
        assert_ne!(d.reply("de", Staffed::Yes), d.reply("de", Staffed::Nobody));
        let clarify = Decision::Clarify { text: "?".into() };
        assert_eq!(clarify.reply("de", Staffed::Nobody), "?");
    }

    #[test]
    fn answers_with_the_intent_text_in_the_customer_locale() {
        let p = Playbook::demo();
        let t = triage(
            "Where is my parcel?",
            Action::Answer,
            Some("order_status"),
            vec![],
        );
        let d = decide(&t, &[], &p, "en", never_similar);
        assert!(matches!(&d, Decision::Answer { text, .. } if text.contains("tracking")));
    }

    #[test]
    fn handoff_carries_reasons_skills_and_priority() {
        let p = Playbook::demo();
        let t = triage(
            "Angebot für 500 Stück",
            Action::Handoff,
            Some("bulk_order_quote"),
            vec![Reason::IntentRequiresHuman, Reason::ComplexSales],
        );
        let Decision::Handoff { needs, .. } = decide(&t, &[], &p, "de", never_similar) else {
            panic!("expected a handoff");
        };
        assert_eq!(needs.skills, vec!["sales".to_string()]);
        assert_eq!(
            needs.reasons,
            vec![Reason::ComplexSales, Reason::IntentRequiresHuman]
        );
        assert_eq!(needs.priority, 1);
        assert_eq!(
            needs.guesses,
            vec![Guess {
                intent: "bulk_order_quote".into(),
                confidence: 0.9
            }]
        );
    }

    #[test]
    fn handoff_carries_the_machines_guesses_best_first_without_the_negligible() {
        let p = Playbook::demo();
        let mut t = triage(
            "Ich will sofort einen Menschen sprechen, wo bleibt mein Paket",
            Action::Handoff,
            None,
            vec![Reason::HumanRequested],
        );
        t.candidates = vec![
            cand("order_status", 0.31),
            cand("delivery_time", 0.12),
            // Rounds to 0.00: not worth an agent's glance.
            cand("voucher", 0.004),
        ];
        let Decision::Handoff { needs, .. } = decide(&t, &[], &p, "de", never_similar) else {
            panic!("expected a handoff");
        };
        let shown: Vec<(&str, f32)> = needs
            .guesses
            .iter()
            .map(|g| (g.intent.as_str(), g.confidence))
            .collect();
        assert_eq!(shown, vec![("order_status", 0.31), ("delivery_time", 0.12)]);
        // The guesses travel with the stored needs, and needs stored before them still load.
        let json = serde_json::to_string(&needs).expect("json");
        assert!(json.contains("\"guesses\""), "{json}");
        let back: Needs = serde_json::from_str(&json).expect("needs");
        assert_eq!(back, needs);
        let old: Needs = serde_json::from_str(
            r#"{"reasons":["human_requested"],"skills":[],"locale":"de","priority":1}"#,
        )
        .expect("needs from before guesses");
        assert!(old.guesses.is_empty());
        // Without guesses the field is left out, as before.
        let none = serde_json::to_string(&old).expect("json");
        assert!(!none.contains("guesses"), "{none}");
    }

    #[test]
    fn an_intent_without_an_answer_hands_off_with_its_guesses() {
        let mut p = Playbook::demo();
        let order = p
            .intents
            .iter_mut()
            .find(|i| i.id == "order_status")
            .expect("order_status");
        order.answer.clear();
        let t = triage(
            "Wo ist mein Paket?",
            Action::Answer,
            Some("order_status"),
            vec![],
        );
        let Decision::Handoff { needs, .. } = decide(&t, &[], &p, "de", never_similar) else {
            panic!("expected a handoff");
        };
        assert_eq!(needs.reasons, vec![Reason::IntentRequiresHuman]);
        assert_eq!(
            needs.guesses.first().map(|g| g.intent.as_str()),
            Some("order_status")
        );
    }

    #[test]
    fn second_clarify_in_a_row_is_a_repeated_failure() {
        let p = Playbook::demo();
        let history = [Turn {
            customer_text: "hm".into(),
            bot_action: Some(Action::Clarify),
        }];
        let t = triage("hmm?", Action::Clarify, None, vec![]);
        let Decision::Handoff { needs, .. } = decide(&t, &history, &p, "de", never_similar) else {
            panic!("expected a handoff");
        };
        assert_eq!(needs.reasons, vec![Reason::RepeatedFailure]);
        // A first clarify is just a clarify.
        assert!(matches!(
            decide(&t, &[], &p, "de", never_similar),
            Decision::Clarify { .. }
        ));
    }

    #[test]
    fn repeating_an_answered_question_is_a_repeated_failure() {
        let p = Playbook::demo();
        let history = [Turn {
            customer_text: "Wo ist mein Paket?".into(),
            bot_action: Some(Action::Answer),
        }];
        let t = triage(
            "Wo ist mein Paket??",
            Action::Answer,
            Some("order_status"),
            vec![],
        );
        let d = decide(&t, &history, &p, "de", |_, _| 0.95);
        assert!(
            matches!(&d, Decision::Handoff { needs, .. } if needs.reasons == vec![Reason::RepeatedFailure])
        );
    }
}
