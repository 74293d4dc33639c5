//! `--config FILE`: a TOML file for everything the flags set (one key per flag, `listen`,
//! `auth_key`, `max_connections`, ...). Flags beat environment variables beat the file beat the
//! defaults: the command line is parsed once (flags and environment), then each file key whose
//! flag neither set is added as that flag, and the command line is parsed again.
//! `--print-config` shows the outcome, secrets masked, each value with where it came from.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::Path;

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Command};

/// Settings whose values are never printed.
pub const SECRETS: &[&str] = &["auth_key", "api_key"];

/// Arguments that are about the run, not settings: not accepted in the file, not printed.
const NOT_SETTINGS: &[&str] = &["config", "print_config", "help", "version"];

/// The command line with the file's settings merged in, and the ids the file set.
pub struct Merged {
    pub matches: ArgMatches,
    pub from_file: BTreeSet<String>,
}

/// Parses `argv` against `cmd`, merging the file named by `--config` (or `CHINWAG_CONFIG`).
pub fn parse(cmd: Command, argv: Vec<OsString>) -> Result<Merged, clap::Error> {
    let cmd = cmd.args_override_self(true);
    let first = cmd.clone().try_get_matches_from(&argv)?;
    let Some(file) = first.get_one::<std::path::PathBuf>("config").cloned() else {
        return Ok(Merged {
            matches: first,
            from_file: BTreeSet::new(),
        });
    };
    let (extra, from_file) = file_args(&cmd, &first, &file)
        .map_err(|e| cmd.clone().error(clap::error::ErrorKind::InvalidValue, e))?;
    let mut merged = Vec::with_capacity(argv.len() + extra.len());
    let mut argv = argv.into_iter();
    merged.extend(argv.next());
    merged.extend(extra);
    merged.extend(argv);
    Ok(Merged {
        matches: cmd.try_get_matches_from(merged)?,
        from_file,
    })
}

/// The file's settings as flags, leaving out those the command line or environment set.
fn file_args(
    cmd: &Command,
    first: &ArgMatches,
    file: &Path,
) -> Result<(Vec<OsString>, BTreeSet<String>), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the config file {}: {e}", file.display()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("{}: not valid TOML: {e}", file.display()))?;
    let mut out = Vec::new();
    let mut from_file = BTreeSet::new();
    for (key, value) in &table {
        let id = key.replace('-', "_");
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_id() == id.as_str() && a.get_long().is_some())
            .filter(|_| !NOT_SETTINGS.contains(&id.as_str()))
            .ok_or_else(|| format!("{}: unknown setting {key:?}", file.display()))?;
        if matches!(
            first.value_source(&id),
            Some(ValueSource::CommandLine | ValueSource::EnvVariable)
        ) {
            continue;
        }
        let long = format!("--{}", arg.get_long().unwrap_or_default());
        let is_flag = matches!(arg.get_action(), ArgAction::SetTrue);
        let values: Vec<&toml::Value> = match value {
            toml::Value::Array(items) => items.iter().collect(),
            v => vec![v],
        };
        for v in values {
            let text = match v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) if is_flag => {
                    if *b {
                        out.push(OsString::from(&long));
                    }
                    continue;
                }
                toml::Value::Boolean(b) => b.to_string(),
                _ => {
                    return Err(format!(
                        "{}: {key} must be a string, number, boolean or a list of them",
                        file.display()
                    ))
                }
            };
            if is_flag {
                return Err(format!("{}: {key} must be true or false", file.display()));
            }
            out.push(OsString::from(format!("{long}={text}")));
        }
        from_file.insert(id);
    }
    Ok((out, from_file))
}

/// The effective configuration as TOML (a valid config file), secrets masked, each line saying
/// where its value came from.
pub fn render(cmd: &Command, merged: &Merged) -> String {
    let mut out = String::from("# chinwag-server: the effective configuration (secrets masked)\n");
    for arg in cmd.get_arguments() {
        let id = arg.get_id().as_str();
        if NOT_SETTINGS.contains(&id) || arg.get_long().is_none() {
            continue;
        }
        let source = if merged.from_file.contains(id) {
            "config file"
        } else {
            match merged.matches.value_source(id) {
                Some(ValueSource::CommandLine) => "command line",
                Some(ValueSource::EnvVariable) => "environment",
                Some(ValueSource::DefaultValue) => "default",
                _ => {
                    out.push_str(&format!("# {id}: not set\n"));
                    continue;
                }
            }
        };
        let raw: Vec<String> = merged
            .matches
            .get_raw(id)
            .map(|vs| vs.map(|v| v.to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        let value = if SECRETS.contains(&id) {
            "\"********\"".to_string()
        } else if matches!(arg.get_action(), ArgAction::SetTrue) {
            raw.first().cloned().unwrap_or_else(|| "false".into())
        } else if matches!(arg.get_action(), ArgAction::Append) {
            let items: Vec<String> = raw.iter().map(|v| toml_value(v)).collect();
            format!("[{}]", items.join(", "))
        } else {
            raw.first().map(|v| toml_value(v)).unwrap_or_default()
        };
        out.push_str(&format!("{id} = {value}   # {source}\n"));
    }
    out
}

/// A number stays a number; everything else is a quoted string.
fn toml_value(raw: &str) -> String {
    if raw.parse::<i64>().is_ok() {
        raw.to_string()
    } else {
        toml::Value::String(raw.to_string()).to_string()
    }
}
