//! `tandem triage`: train the machine tier on a playbook and decide each text (arguments, or one
//! per line on stdin). `--json` prints the triage object of docs/cli.md, one per line.
use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Args)]
pub struct TriageArgs {
    /// The playbook (TOML) to train on.
    #[arg(long, env = "TANDEM_PLAYBOOK")]
    pub playbook: PathBuf,
    /// One JSON object per line instead of a readable line.
    #[arg(long, env = "TANDEM_JSON")]
    pub json: bool,
    #[command(flatten)]
    pub encoder: super::encoder_arg::EncoderArgs,
    /// Texts to decide; with none, one text per line is read from stdin.
    pub text: Vec<String>,
}

pub fn run(args: TriageArgs) -> anyhow::Result<()> {
    let playbook = playbook::Playbook::from_file(&args.playbook)?;
    let encoder = args.encoder.load()?;
    let mut progress = super::encoder_arg::progress("playbook examples");
    let (tier, _) = nlu::MachineTier::train_with(&playbook, encoder, &mut progress)
        .with_context(|| format!("cannot train on {}", args.playbook.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut decide = |text: &str| -> anyhow::Result<()> {
        let t = tier.triage(text);
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&t)?)?;
        } else {
            writeln!(out, "{}", human(&t))?;
        }
        Ok(())
    };
    if args.text.is_empty() {
        for line in std::io::stdin().lock().lines() {
            let line = line.context("cannot read stdin")?;
            if !line.trim().is_empty() {
                decide(&line)?;
            }
        }
    } else {
        for text in &args.text {
            decide(text)?;
        }
    }
    Ok(())
}

fn human(t: &nlu::Triage) -> String {
    let action = match t.action {
        nlu::Action::Answer => "answer",
        nlu::Action::Clarify => "clarify",
        nlu::Action::Handoff => "handoff",
    };
    let mut what = match (&t.intent, &t.article) {
        (Some(i), _) => i.clone(),
        (None, Some(a)) => format!("article:{a}"),
        (None, None) => "-".into(),
    };
    if t.action == nlu::Action::Clarify {
        let choices: Vec<&str> = t
            .candidates
            .iter()
            .take(2)
            .map(|c| c.intent.as_str())
            .collect();
        what = choices.join(" | ");
    }
    let reasons: Vec<&str> = t.reasons.iter().map(|r| r.as_str()).collect();
    let reasons = if reasons.is_empty() {
        String::new()
    } else {
        format!(" [{}]", reasons.join(", "))
    };
    format!(
        "{action:<8} {what:<28} conf {:.2}  {}  {}{reasons}",
        t.confidence, t.locale, t.text
    )
}
