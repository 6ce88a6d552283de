//! The configuration file of `tandem serve` (`--config FILE`, env `TANDEM_CONFIG`).
//!
//! Settings come in four layers, each overriding the one before: the built-in defaults, the
//! config file, the `TANDEM_*` environment variables, then the command-line flags. The file is a
//! flat TOML table whose keys are `serve`'s long flags (`bind = "0.0.0.0:8080"`, with `-` or
//! `_`). Its values become the flags' defaults before the command line is parsed, so clap itself
//! applies the environment and the flags on top, and every setting is read in this one place.
//! An unknown key or a value of the wrong type stops the start with a message that names it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// The long flag that names the file, and its environment variable.
const FLAG: &str = "--config";
pub const ENV: &str = "TANDEM_CONFIG";
const SUBCOMMAND: &str = "serve";

/// `cmd` with the config file's values as `serve`'s defaults, when `args` run `serve` with a
/// config file (`--config FILE`, or `TANDEM_CONFIG` as `env` returns it).
pub fn with_file(
    cmd: clap::Command,
    args: &[OsString],
    env: Option<OsString>,
) -> anyhow::Result<clap::Command> {
    if args.get(1).and_then(|a| a.to_str()) != Some(SUBCOMMAND) {
        return Ok(cmd);
    }
    let Some(path) = named_file(&args[2..]).or(env.map(PathBuf::from)) else {
        return Ok(cmd);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    apply(cmd, &text, &path)
}

/// The file a `--config FILE` or `--config=FILE` among `args` names.
fn named_file(args: &[OsString]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let arg = arg.to_str()?;
        if arg == FLAG {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    None
}

/// Sets each key of the TOML `text` as the default of `serve`'s flag of that name.
fn apply(cmd: clap::Command, text: &str, path: &Path) -> anyhow::Result<clap::Command> {
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", path.display()))?;
    let serve = cmd
        .find_subcommand(SUBCOMMAND)
        .context("the serve command is missing")?;
    let known: Vec<String> = serve
        .get_arguments()
        .filter(|a| a.get_long().is_some() && a.get_id() != "config")
        .map(|a| a.get_id().to_string())
        .collect();
    let mut defaults = Vec::new();
    for (key, value) in table {
        let id = key.replace('-', "_");
        if !known.contains(&id) {
            bail!(
                "{}: unknown setting {key:?}; the settings are serve's flags: {}",
                path.display(),
                known.join(", ")
            );
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    toml::Value::String(s) => Ok(s),
                    other => bail!("{}: {key} must list strings, got {other}", path.display()),
                })
                .collect::<anyhow::Result<Vec<_>>>()?
                .join(","),
            other => bail!(
                "{}: {key} must be a string, a whole number, true/false or a list of strings, got {other}",
                path.display()
            ),
        };
        defaults.push((id, value));
    }
    Ok(cmd.mut_subcommand(SUBCOMMAND, |mut serve| {
        for (id, value) in defaults {
            serve = serve.mut_arg(id, |a| a.default_value(value));
        }
        serve
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(clap::Subcommand, Debug)]
    enum Sub {
        Serve(super::super::serve::ServeArgs),
    }

    fn parse(file: &str, args: &[&str]) -> anyhow::Result<super::super::serve::ServeArgs> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let cmd = apply(Cli::command(), file, Path::new("tandem.toml"))?;
        let matches = cmd.try_get_matches_from(&args)?;
        let Sub::Serve(serve) = Cli::from_arg_matches(&matches)?.command;
        Ok(serve)
    }

    #[test]
    fn the_example_file_sets_every_value_it_names() {
        let serve = parse(
            include_str!("../../../../docs/tandem.example.toml"),
            &["tandem", "serve"],
        )
        .expect("the example is a valid config file");
        assert_eq!(serve.bind, "0.0.0.0:8080");
        assert_eq!(serve.data_dir, PathBuf::from("/var/lib/tandem"));
        assert!(serve.secure_cookies);
        assert_eq!(serve.first_response_timeout_secs, 120);
        assert_eq!(serve.encoder.encoder_budget_ms, 100);
        assert_eq!(serve.trusted_proxies.as_deref(), Some("10.0.0.1,10.0.0.2"));
    }

    #[test]
    fn a_flag_overrides_the_file_and_the_file_overrides_the_default() {
        let file = "bind = \"0.0.0.0:9000\"\nrate-limits = false\n";
        let from_file = parse(file, &["tandem", "serve"]).expect("parses");
        assert_eq!(from_file.bind, "0.0.0.0:9000");
        assert!(!from_file.rate_limits);
        let flagged =
            parse(file, &["tandem", "serve", "--bind", "127.0.0.1:7000"]).expect("parses");
        assert_eq!(flagged.bind, "127.0.0.1:7000");
        let default = parse("", &["tandem", "serve"]).expect("parses");
        assert_eq!(default.bind, "127.0.0.1:8080");
    }

    #[test]
    fn an_unknown_key_or_a_wrong_type_is_refused_with_its_name() {
        let err = parse("bnd = \"x\"", &["tandem", "serve"]).expect_err("unknown key");
        assert!(err.to_string().contains("unknown setting \"bnd\""), "{err}");
        let err = parse("bind = 1.5", &["tandem", "serve"]).expect_err("a float");
        assert!(err.to_string().contains("bind must be"), "{err}");
        let err = parse(
            "first-response-timeout-secs = \"soon\"",
            &["tandem", "serve"],
        )
        .expect_err("not a number");
        assert!(err.to_string().contains("soon"), "{err}");
    }

    #[test]
    fn the_file_is_found_after_serve_in_either_spelling() {
        let args = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            named_file(&args(&["--bind", "x", "--config", "a.toml"])),
            Some(PathBuf::from("a.toml"))
        );
        assert_eq!(
            named_file(&args(&["--config=b.toml"])),
            Some(PathBuf::from("b.toml"))
        );
        assert_eq!(named_file(&args(&["--bind", "x"])), None);
    }
}
