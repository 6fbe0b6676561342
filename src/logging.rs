//! Logs go to a rotating file in the state directory, never to the terminal the UI owns.
//!
//! Spans and events carry ids (request, account, staff login), never a personal value:
//! personal values live in `Personal` wrappers whose formatting is redacted, so even a
//! careless `?value` in a log line prints a placeholder.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Keeps the background writer alive; dropping it flushes the log.
pub struct LogGuard {
    _guard: WorkerGuard,
    /// The directory holding `privdesk.log.YYYY-MM-DD` files.
    pub dir: PathBuf,
}

/// Starts logging to `dir/privdesk.log.YYYY-MM-DD` (daily rotation, 14 files kept).
/// `filter` is an `EnvFilter` directive such as `info` or `privdesk=debug,sqlx=warn`.
pub fn init(dir: &Path, filter: &str) -> anyhow::Result<LogGuard> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the log directory {}", dir.display()))?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("privdesk.log")
        .max_log_files(14)
        .build(dir)
        .with_context(|| format!("cannot open a log file in {}", dir.display()))?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_new(filter)
        .with_context(|| format!("bad log filter {filter:?}: use e.g. info or privdesk=debug"))?;
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer)
        .with_target(true)
        .finish();
    // russh and some other crates log through `log`; bridge them. Ignore "already set":
    // a test process may initialise logging more than once.
    let _ = tracing_log::LogTracer::init();
    let _ = tracing::subscriber::set_global_default(subscriber);
    Ok(LogGuard {
        _guard: guard,
        dir: dir.to_owned(),
    })
}
