//! Driving the real binary in a real terminal: a temporary desk (its own XDG directories)
//! and a tmux server of the test's own, read with `tmux capture-pane -p`. Under `CI=true`
//! a missing tool fails the test; elsewhere the test is skipped with a note.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the tools a terminal test needs are here; under `CI=true` their absence fails.
pub fn tools_or_skip(tools: &[&str]) -> bool {
    for tool in tools {
        if !have(tool) {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but {tool} is missing: the terminal tests must run in CI"
            );
            eprintln!("{tool} is not installed: skipping");
            return false;
        }
    }
    true
}

pub const BIN: &str = env!("CARGO_BIN_EXE_privdesk");

pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// A temporary desk: its own XDG directories, never the user's.
pub struct Desk {
    pub dir: tempfile::TempDir,
}

impl Desk {
    pub fn env(&self, c: &mut Command) {
        let d = self.dir.path();
        c.env("HOME", d)
            .env("XDG_DATA_HOME", d.join("data"))
            .env("XDG_STATE_HOME", d.join("state"))
            .env("XDG_CONFIG_HOME", d.join("config"))
            .env_remove("PRIVDESK_DATABASE_URL")
            .env_remove("PRIVDESK_KEY_STORE_URL")
            .env_remove("PRIVDESK_CONFIG")
            .env_remove("PRIVDESK_LANG");
    }

    pub fn privdesk(&self, args: &[&str], stdin: Option<&str>) -> String {
        let mut c = Command::new(BIN);
        self.env(&mut c);
        c.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "privdesk {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A tmux server of the test's own (its socket name is unique), killed at the end.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn new() -> Tmux {
        Tmux {
            socket: format!(
                "privdesk-it-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ),
        }
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .arg("-u")
            .args(args)
            .env("LANG", "C.UTF-8")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A session's pane: `=NAME:` names the session exactly (a bare name may match a
    /// window of another session by prefix).
    pub fn target(session: &str) -> String {
        format!("={session}:")
    }

    pub fn pane(&self, session: &str) -> String {
        self.run(&["capture-pane", "-p", "-t", &Self::target(session)])
    }

    pub fn wait(&self, target: &str, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.pane(target);
            if cond(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {what}; the pane shows:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Like [`Tmux::wait`], then until two captures 100 ms apart agree: tmux may show a frame
    /// it has read only in part, and a test that compares whole panes needs all of it.
    pub fn wait_settled(&self, target: &str, what: &str, cond: impl Fn(&str) -> bool) -> String {
        let mut text = self.wait(target, what, &cond);
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let again = self.wait(target, what, &cond);
            if again == text {
                return text;
            }
            text = again;
        }
    }

    /// Has the program draw its current screen from scratch and returns that pane: a resize
    /// makes ratatui clear the terminal and write every cell, so what was left behind by
    /// earlier frames is gone. Compared with the pane before, it shows whether the frames
    /// drawn as diffs left anything behind. The window is widened by one column and restored;
    /// `drawn(pane, width)` tells when the program has drawn at that width (tmux reflows the
    /// old text first).
    pub fn redrawn_from_scratch(
        &self,
        session: &str,
        width: u16,
        drawn: impl Fn(&str, u16) -> bool,
    ) -> String {
        let target = Self::target(session);
        for w in [width + 1, width] {
            self.run(&["resize-window", "-t", &target, "-x", &w.to_string()]);
            self.wait_settled(session, &format!("a frame {w} columns wide"), |t| {
                drawn(t, w)
            });
        }
        self.pane(session)
    }

    pub fn keys(&self, session: &str, keys: &[&str]) {
        let target = Self::target(session);
        let mut args = vec!["send-keys", "-t", &target];
        args.extend_from_slice(keys);
        self.run(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let socket = self.run(&["display-message", "-p", "#{socket_path}"]);
        self.run(&["kill-server"]);
        // The server may leave its socket file behind.
        let socket = socket.trim();
        if !socket.is_empty() {
            let _ = std::fs::remove_file(socket);
        }
    }
}
