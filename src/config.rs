//! Settings: a TOML file, overridden by `PRIVDESK_…` environment variables, overridden by
//! command-line flags. Paths default to the XDG directories of the user running privdesk.
//!
//! The documented example is `assets/privdesk.example.toml`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::domain::deadline::Deadlines;
use crate::domain::staff::Lang;

/// Everything the desk needs to know to start.
#[derive(Clone)]
pub struct Config {
    /// The file the settings came from, if any.
    pub source: Option<PathBuf>,
    pub database_url: String,
    /// Where wrapped keys live: a SQLite file (default: next to the master key) or a
    /// PostgreSQL database of its own.
    pub key_store_url: String,
    pub master_key_file: PathBuf,
    /// The key file was named (flag, environment or file) rather than defaulted: it then
    /// wins over `PRIVDESK_MASTER_KEY` and a systemd credential.
    pub master_key_file_explicit: bool,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
    pub time_zone_name: String,
    pub time_zone: TimeZone,
    pub calendar_file: Option<PathBuf>,
    /// The config file's (or `PRIVDESK_LANG`'s) language: used when nothing closer says.
    pub language: Option<Lang>,
    /// `--lang`: wins over the staff member's preference and the locale.
    pub language_override: Option<Lang>,
    pub deadlines: Deadlines,
    pub session: SessionConfig,
    pub limits: Limits,
    pub log: LogConfig,
    pub ssh: SshConfig,
    /// Key rebinding: action name → keys (`"ctrl-n"`, `"j"`, `"down"`).
    pub keys: BTreeMap<String, Vec<String>>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("source", &self.source)
            .field(
                "database_url",
                &crate::store::redact_url(&self.database_url),
            )
            .field(
                "key_store_url",
                &crate::store::redact_url(&self.key_store_url),
            )
            .field("master_key_file", &self.master_key_file)
            .field("time_zone", &self.time_zone_name)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// Idle time after which the screen locks (OWASP ASVS 4.0 §3.3.2).
    pub idle_lock: SignedDuration,
    /// Idle time after which an SSH connection closes.
    pub idle_disconnect: SignedDuration,
    /// Absolute lifetime of an SSH session.
    pub max_lifetime: SignedDuration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Reveals a staff member may make per hour before being refused (§8, §11).
    pub reveals_per_hour: u32,
    /// Checks of a value allowed per request.
    pub checks_per_request: u32,
    /// How long a revealed value stays on screen.
    pub reveal_ttl: SignedDuration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogConfig {
    pub dir: PathBuf,
    pub filter: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshConfig {
    pub listen: String,
    pub host_key: PathBuf,
    pub password_second_factor: bool,
    pub max_sessions: u32,
    pub max_auth_attempts: u32,
    pub connections_per_minute_per_ip: u32,
    /// Load balancers allowed to pass the client's address by PROXY protocol v2.
    pub proxy_from: Vec<String>,
}

/// The file as written: every key optional; unknown keys are an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    key_store_url: Option<String>,
    master_key_file: Option<PathBuf>,
    time_zone: Option<String>,
    calendar_file: Option<PathBuf>,
    language: Option<Lang>,
    deadlines: Option<Deadlines>,
    session: Option<FileSession>,
    limits: Option<FileLimits>,
    log: Option<FileLog>,
    ssh: Option<FileSsh>,
    keys: Option<BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSession {
    idle_lock: Option<String>,
    idle_disconnect: Option<String>,
    max_lifetime: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLimits {
    reveals_per_hour: Option<u32>,
    checks_per_request: Option<u32>,
    reveal_ttl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    dir: Option<PathBuf>,
    filter: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSsh {
    listen: Option<String>,
    host_key: Option<PathBuf>,
    password_second_factor: Option<bool>,
    max_sessions: Option<u32>,
    max_auth_attempts: Option<u32>,
    connections_per_minute_per_ip: Option<u32>,
    proxy_from: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{file}:{line}: {message}\n  {line_text}")]
    Syntax {
        file: String,
        line: usize,
        line_text: String,
        message: String,
    },
    #[error("cannot read the config file {file}: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("{origin}: {key}: {message}")]
    Value {
        origin: String,
        key: String,
        message: String,
    },
    #[error(
        "cannot find the user's home directory to place privdesk's files; set XDG_DATA_HOME or use --config"
    )]
    NoHome,
}

/// Overrides from the command line (highest precedence).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub database_url: Option<String>,
    pub key_store_url: Option<String>,
    pub master_key_file: Option<PathBuf>,
    pub language: Option<Lang>,
}

/// The environment, passed in so tests never touch the process's own.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// The XDG directories privdesk uses.
#[derive(Clone, Debug)]
pub struct Dirs {
    pub config: PathBuf,
    pub data: PathBuf,
    pub state: PathBuf,
}

impl Dirs {
    pub fn from_env(env: &dyn Env) -> Result<Dirs, ConfigError> {
        let home = env.var("HOME").map(PathBuf::from);
        let xdg = |var: &str, fallback: &str| -> Result<PathBuf, ConfigError> {
            match env.var(var) {
                Some(p) if Path::new(&p).is_absolute() => Ok(PathBuf::from(p).join("privdesk")),
                _ => home
                    .as_ref()
                    .map(|h| h.join(fallback).join("privdesk"))
                    .ok_or(ConfigError::NoHome),
            }
        };
        Ok(Dirs {
            config: xdg("XDG_CONFIG_HOME", ".config")?,
            data: xdg("XDG_DATA_HOME", ".local/share")?,
            state: xdg("XDG_STATE_HOME", ".local/state")?,
        })
    }
}

fn parse_duration(origin: &str, key: &str, text: &str) -> Result<SignedDuration, ConfigError> {
    let span: jiff::Span = text.parse().map_err(|e| ConfigError::Value {
        origin: origin.to_owned(),
        key: key.to_owned(),
        message: format!("{text:?} is not a duration ({e}); write e.g. \"15m\", \"8h\" or \"90s\""),
    })?;
    let d = SignedDuration::try_from(span).map_err(|e| ConfigError::Value {
        origin: origin.to_owned(),
        key: key.to_owned(),
        message: format!("{text:?}: use hours, minutes and seconds only ({e})"),
    })?;
    if d <= SignedDuration::ZERO {
        return Err(ConfigError::Value {
            origin: origin.to_owned(),
            key: key.to_owned(),
            message: "must be longer than zero".to_owned(),
        });
    }
    Ok(d)
}

fn syntax_error(file: &str, text: &str, e: &toml::de::Error) -> ConfigError {
    let offset = e.span().map_or(0, |s| s.start);
    let line = text[..offset.min(text.len())].matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("").trim().to_owned();
    // A wrong value's message names the type, not the key: name it.
    let message = match key_at_line(text, line) {
        Some(key) if !e.message().contains(&key) => format!("{key}: {}", e.message()),
        _ => e.message().to_owned(),
    };
    ConfigError::Syntax {
        file: file.to_owned(),
        line,
        line_text,
        message,
    }
}

/// The line's table and key in a TOML file, as `section.key`, when it assigns one.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (n, l) in text.lines().enumerate() {
        let l = l.trim();
        if let Some(name) = l.strip_prefix('[').and_then(|r| r.split(']').next()) {
            name.trim_matches(['[', ' ']).clone_into(&mut table);
        } else if n + 1 == line {
            let key = l.split('=').next()?.trim().trim_matches('"');
            if key.is_empty() || key.starts_with('#') || !l.contains('=') {
                return None;
            }
            return Some(if table.is_empty() {
                key.to_owned()
            } else {
                format!("{table}.{key}")
            });
        }
    }
    None
}

/// Where a key is set in a TOML file, as `file:line`, or the file alone if not found.
fn key_origin(origin: &str, text: Option<&str>, key: &str) -> String {
    let line = text.and_then(|text| {
        (1..=text.lines().count()).find(|&n| key_at_line(text, n).as_deref() == Some(key))
    });
    match line {
        Some(n) => format!("{origin}:{n}"),
        None => origin.to_owned(),
    }
}

impl Config {
    /// Loads the configuration: the file (`--config`, `PRIVDESK_CONFIG`, or
    /// `$XDG_CONFIG_HOME/privdesk/config.toml` if it exists), then the environment, then flags.
    pub fn load(overrides: &Overrides, env: &dyn Env) -> Result<Config, ConfigError> {
        let dirs = Dirs::from_env(env)?;
        let explicit = overrides
            .config_file
            .clone()
            .or_else(|| env.var("PRIVDESK_CONFIG").map(PathBuf::from));
        let default_file = dirs.config.join("config.toml");
        let path = match explicit {
            Some(p) => Some(p),
            None => default_file.exists().then_some(default_file),
        };
        let (file, source, text) = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|error| ConfigError::Read {
                    file: p.display().to_string(),
                    error,
                })?;
                (
                    Self::parse_file(&p.display().to_string(), &text)?,
                    Some(p.clone()),
                    Some(text),
                )
            }
            None => (FileConfig::default(), None, None),
        };
        Self::resolve(file, (source, text.as_deref()), &dirs, overrides, env)
    }

    /// Parses a config file's text (exposed for tests and `privdesk config check`).
    fn parse_file(origin: &str, text: &str) -> Result<FileConfig, ConfigError> {
        toml::from_str(text).map_err(|e| syntax_error(origin, text, &e))
    }

    fn resolve(
        file: FileConfig,
        (source, text): (Option<PathBuf>, Option<&str>),
        dirs: &Dirs,
        o: &Overrides,
        env: &dyn Env,
    ) -> Result<Config, ConfigError> {
        let origin = source
            .as_ref()
            .map_or_else(|| "defaults".to_owned(), |p| p.display().to_string());
        let at = |key: &str| key_origin(&origin, text, key);
        let env_origin = |name: &str| format!("environment variable {name}");
        let database_url = o
            .database_url
            .clone()
            .or_else(|| env.var("PRIVDESK_DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", dirs.data.join("privdesk.db").display()));
        let explicit_key_file = o
            .master_key_file
            .clone()
            .or_else(|| env.var("PRIVDESK_MASTER_KEY_FILE").map(PathBuf::from))
            .or(file.master_key_file);
        let master_key_file_explicit = explicit_key_file.is_some();
        let master_key_file = explicit_key_file.unwrap_or_else(|| dirs.data.join("master.key"));
        let key_store_url = o
            .key_store_url
            .clone()
            .or_else(|| env.var("PRIVDESK_KEY_STORE_URL"))
            .or(file.key_store_url)
            .unwrap_or_else(|| {
                let dir = master_key_file
                    .parent()
                    .map_or_else(|| dirs.data.clone(), Path::to_path_buf);
                format!("sqlite://{}", dir.join("keys.db").display())
            });
        let (tz_name, tz_origin) = match env.var("PRIVDESK_TIME_ZONE") {
            Some(v) => (v, env_origin("PRIVDESK_TIME_ZONE")),
            None => (
                file.time_zone
                    .unwrap_or_else(|| crate::domain::calendar::DEFAULT_ZONE.to_owned()),
                at("time_zone"),
            ),
        };
        let time_zone = TimeZone::get(&tz_name).map_err(|_| ConfigError::Value {
            origin: tz_origin,
            key: "time_zone".to_owned(),
            message: format!(
                "unknown time zone {tz_name:?}; use an IANA name such as \"Europe/Moscow\""
            ),
        })?;
        let language = match env.var("PRIVDESK_LANG") {
            Some(v) => Some(v.parse::<Lang>().map_err(|e| ConfigError::Value {
                origin: env_origin("PRIVDESK_LANG"),
                key: "language".to_owned(),
                message: e.to_string(),
            })?),
            None => file.language,
        };
        let s = file.session.unwrap_or_default();
        let session = SessionConfig {
            idle_lock: s
                .idle_lock
                .map(|v| parse_duration(&at("session.idle_lock"), "session.idle_lock", &v))
                .transpose()?
                .unwrap_or(SignedDuration::from_mins(15)),
            idle_disconnect: s
                .idle_disconnect
                .map(|v| {
                    parse_duration(
                        &at("session.idle_disconnect"),
                        "session.idle_disconnect",
                        &v,
                    )
                })
                .transpose()?
                .unwrap_or(SignedDuration::from_hours(1)),
            max_lifetime: s
                .max_lifetime
                .map(|v| parse_duration(&at("session.max_lifetime"), "session.max_lifetime", &v))
                .transpose()?
                .unwrap_or(SignedDuration::from_hours(12)),
        };
        let l = file.limits.unwrap_or_default();
        let limits = Limits {
            reveals_per_hour: l.reveals_per_hour.unwrap_or(30),
            checks_per_request: l.checks_per_request.unwrap_or(5),
            reveal_ttl: l
                .reveal_ttl
                .map(|v| parse_duration(&at("limits.reveal_ttl"), "limits.reveal_ttl", &v))
                .transpose()?
                .unwrap_or(SignedDuration::from_secs(60)),
        };
        let fl = file.log.unwrap_or_default();
        let log = LogConfig {
            dir: fl.dir.unwrap_or_else(|| dirs.state.join("logs")),
            filter: env
                .var("PRIVDESK_LOG")
                .or(fl.filter)
                .unwrap_or_else(|| "info".to_owned()),
        };
        let fs = file.ssh.unwrap_or_default();
        let ssh = SshConfig {
            listen: fs.listen.unwrap_or_else(|| "127.0.0.1:2222".to_owned()),
            host_key: fs
                .host_key
                .unwrap_or_else(|| dirs.data.join("ssh_host_ed25519_key")),
            password_second_factor: fs.password_second_factor.unwrap_or(false),
            max_sessions: fs.max_sessions.unwrap_or(200),
            max_auth_attempts: fs.max_auth_attempts.unwrap_or(6),
            connections_per_minute_per_ip: fs.connections_per_minute_per_ip.unwrap_or(30),
            proxy_from: fs.proxy_from.unwrap_or_default(),
        };
        Ok(Config {
            source,
            database_url,
            key_store_url,
            master_key_file,
            master_key_file_explicit,
            data_dir: dirs.data.clone(),
            state_dir: dirs.state.clone(),
            time_zone_name: tz_name,
            time_zone,
            calendar_file: file.calendar_file,
            language,
            language_override: o.language,
            deadlines: file.deadlines.unwrap_or_default(),
            session,
            limits,
            log,
            ssh,
            keys: file.keys.unwrap_or_default(),
        })
    }

    /// Checks a config file's text without loading anything else (used by tests).
    pub fn check_text(origin: &str, text: &str) -> Result<(), ConfigError> {
        let file = Self::parse_file(origin, text)?;
        let env: BTreeMap<String, String> =
            BTreeMap::from([("HOME".to_owned(), "/nonexistent".to_owned())]);
        let dirs = Dirs::from_env(&env)?;
        Self::resolve(
            file,
            (Some(PathBuf::from(origin)), Some(text)),
            &dirs,
            &Overrides::default(),
            &env,
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_live_in_the_xdg_directories() {
        let e = env(&[("HOME", "/home/u")]);
        let c = Config::load(&Overrides::default(), &e).unwrap();
        assert_eq!(
            c.database_url,
            "sqlite:///home/u/.local/share/privdesk/privdesk.db"
        );
        assert_eq!(
            c.master_key_file,
            PathBuf::from("/home/u/.local/share/privdesk/master.key")
        );
        assert_eq!(
            c.key_store_url,
            "sqlite:///home/u/.local/share/privdesk/keys.db"
        );
        assert_eq!(
            c.log.dir,
            PathBuf::from("/home/u/.local/state/privdesk/logs")
        );
        assert_eq!(c.time_zone_name, "Europe/Moscow");
        assert_eq!(c.session.idle_lock, SignedDuration::from_mins(15));
        assert_eq!(c.ssh.listen, "127.0.0.1:2222");
        let e = env(&[("HOME", "/home/u"), ("XDG_DATA_HOME", "/data")]);
        let c = Config::load(&Overrides::default(), &e).unwrap();
        assert_eq!(c.database_url, "sqlite:///data/privdesk/privdesk.db");
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(
            &file,
            "database_url = \"sqlite:///from-file.db\"\ntime_zone = \"Asia/Yekaterinburg\"\n",
        )
        .unwrap();
        let o = Overrides {
            config_file: Some(file.clone()),
            ..Overrides::default()
        };
        let c = Config::load(&o, &env(&[("HOME", "/h")])).unwrap();
        assert_eq!(c.database_url, "sqlite:///from-file.db");
        assert_eq!(c.time_zone_name, "Asia/Yekaterinburg");
        let e = env(&[("HOME", "/h"), ("PRIVDESK_DATABASE_URL", "postgres:///env")]);
        assert_eq!(
            Config::load(&o, &e).unwrap().database_url,
            "postgres:///env"
        );
        let o2 = Overrides {
            database_url: Some("sqlite:///flag.db".into()),
            ..o
        };
        assert_eq!(
            Config::load(&o2, &e).unwrap().database_url,
            "sqlite:///flag.db"
        );
    }

    #[test]
    fn bad_files_name_the_file_line_and_key() {
        let err = Config::check_text(
            "desk.toml",
            "time_zone = \"Europe/Moscow\"\ndatabse_url = \"x\"\n",
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("desk.toml:2:"), "{text}");
        assert!(text.contains("databse_url"), "{text}");

        let err = Config::check_text("desk.toml", "[session]\nidle_lock = 15\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("desk.toml:2"), "{err}");
        assert!(err.contains("idle_lock"), "{err}");

        let err = Config::check_text("desk.toml", "[session]\nidle_lock = \"soon\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("desk.toml:2: session.idle_lock:"), "{err}");

        let err = Config::check_text(
            "desk.toml",
            "language = \"ru\"\ntime_zone = \"Mars/Olympus\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("desk.toml:2: time_zone:") && err.contains("IANA"),
            "{err}"
        );

        // A value of the wrong type names its key, not only the line.
        let err = Config::check_text("desk.toml", "[limits]\n\nreveals_per_hour = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("desk.toml:3: limits.reveals_per_hour:"),
            "{err}"
        );

        let err = Config::check_text("desk.toml", "[deadlines]\nsubject_report = \"ten days\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("desk.toml:2"), "{err}");

        let err = Config::check_text("desk.toml", "database_url = \n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("desk.toml:1"), "{err}");
    }

    #[test]
    fn the_example_config_is_valid() {
        let text = include_str!("../assets/privdesk.example.toml");
        Config::check_text("privdesk.example.toml", text).unwrap();
    }

    #[test]
    fn debug_hides_database_passwords() {
        let e = env(&[
            ("HOME", "/h"),
            ("PRIVDESK_DATABASE_URL", "postgres://u:hunter2@db/x"),
        ]);
        let c = Config::load(&Overrides::default(), &e).unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
