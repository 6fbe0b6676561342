//! Progress bars on standard error, only when it is a terminal (never in logs or pipes).

use std::io::IsTerminal as _;
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

use crate::desk::demo::Progress;

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One bar per stage, drawn on standard error when it is a terminal; silent otherwise.
pub struct TermProgress {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl TermProgress {
    pub fn new() -> TermProgress {
        TermProgress {
            bar: Mutex::new(None),
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Clears the last bar.
    pub fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(bar) = b.take()
        {
            bar.finish_and_clear();
        }
    }
}

impl Default for TermProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for TermProgress {
    fn stage(&self, name: &str, total: u64) {
        if !self.enabled {
            return;
        }
        let style = ProgressStyle::with_template(
            "{prefix:>22} [{bar:30}] {human_pos}/{human_len} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = ProgressBar::new(total)
            .with_style(style)
            .with_prefix(name.to_owned());
        if let Ok(mut b) = self.bar.lock()
            && let Some(old) = b.replace(bar)
        {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(b) = self.bar.lock()
            && let Some(bar) = b.as_ref()
        {
            bar.inc(n);
        }
    }
}
