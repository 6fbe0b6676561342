//! The real binary: exit codes and messages on good and bad input.

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::process::Command;

fn privdesk(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_privdesk"));
    c.env_clear()
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn calendar_prints_a_year_and_a_due_date() {
    let home = tempfile::tempdir().unwrap();
    let out = privdesk(home.path())
        .args(["calendar", "2026"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2026-01-01"), "{text}");
    let out = privdesk(home.path())
        .args(["calendar", "due", "2026-01-05", "10"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("2026-01-23 23:59:59"));
    let out = privdesk(home.path())
        .args(["calendar", "2031"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not cover 2031"));
}

#[test]
fn bad_usage_exits_2_and_a_bad_config_names_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let out = privdesk(home.path())
        .args(["no-such-command"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Bad usage found after parsing exits 2 as well, saying what was expected.
    for (args, says) in [
        (
            &["calendar", "due", "2026-13-01", "5"][..],
            "invalid receipt time",
        ),
        (&["calendar", "due", "2026-01-01", "0"][..], "at least 1"),
        (
            &["calendar", "due", "2026-01-01", "soon"][..],
            "working days",
        ),
    ] {
        let out = privdesk(home.path()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let cfg = home.path().join("bad.toml");
    std::fs::write(
        &cfg,
        "time_zone = \"Europe/Moscow\"\n[session]\nidle_lok = \"5m\"\n",
    )
    .unwrap();
    let out = privdesk(home.path())
        .arg("--config")
        .arg(&cfg)
        .args(["calendar", "2026"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:3") && err.contains("idle_lok"),
        "{err}"
    );
}

#[test]
fn init_staff_and_audit_from_the_shell() {
    let home = tempfile::tempdir().unwrap();
    let ok = |args: &[&str], stdin: &str| {
        let mut c = privdesk(home.path());
        c.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let out = ok(&["init"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = home.path().join("data/privdesk/master.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = ok(
        &[
            "staff",
            "add",
            "anna",
            "--role",
            "agent",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ok(
        &[
            "staff",
            "add",
            "anna",
            "--role",
            "agent",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = ok(
        &["staff", "add", "bob", "--role", "agent", "--password-stdin"],
        "short\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("12 characters"));
    let out = ok(&["staff", "set-role", "nobody", "admin"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
    let bad_key = home.path().join("bad.pub");
    std::fs::write(&bad_key, "not a key\n").unwrap();
    let out = ok(&["staff", "add-key", "anna", bad_key.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OpenSSH public key"));
    let out = ok(&["audit", "verify"], "");
    assert!(out.status.success());
    let out = ok(&["audit", "log", "--action", "staff"], "");
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        log.contains("staff.add") && log.contains("target=anna") && log.contains("@cli"),
        "{log}"
    );
    // A wrong master key: refused, nothing written.
    let keys_db = format!(
        "sqlite://{}",
        home.path().join("data/privdesk/keys.db").display()
    );
    let other_home = tempfile::tempdir().unwrap();
    assert!(
        privdesk(other_home.path())
            .arg("init")
            .output()
            .unwrap()
            .status
            .success()
    );
    let other = other_home.path().join("data/privdesk/master.key");
    let db = home.path().join("data/privdesk/privdesk.db");
    let before = std::fs::read(&db).unwrap();
    for args in [&["staff", "list"][..], &["init"][..]] {
        let out = privdesk(home.path())
            .arg("--master-key-file")
            .arg(&other)
            .arg("--key-store-url")
            .arg(&keys_db)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("does not open"), "{err}");
    }
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "a wrong key changed the database"
    );
    // A missing key file for an initialised key store: refused, no new key made.
    std::fs::rename(&key, home.path().join("moved.key")).unwrap();
    let out = privdesk(home.path()).arg("init").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("restore the key file"));
    assert!(!key.exists());
}

#[test]
fn what_a_new_user_tripped_over_is_answered_clearly() {
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        let mut c = privdesk(home.path());
        c.args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };
    // Another engine's URL is refused, and nothing is created for it.
    let out = run(&["--database-url", "mysql://db/x", "init"], "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("mysql:// is not a database"),
        "{}",
        text(&out)
    );
    assert!(!home.path().join("data/privdesk/master.key").exists());
    assert!(run(&["init"], "").status.success());
    assert!(
        run(
            &[
                "staff",
                "add",
                "anna",
                "--role",
                "agent",
                "--password-stdin"
            ],
            "a long enough password\n"
        )
        .status
        .success()
    );
    // A member's language can be set and cleared.
    let out = run(&["staff", "set-lang", "anna", "ru"], "");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        run(&["staff", "set-lang", "anna", "none"], "")
            .status
            .success()
    );
    let out = run(&["staff", "set-lang", "anna", "de"], "");
    assert_eq!(out.status.code(), Some(2), "bad usage");
    assert!(text(&out).contains("expected en or ru"), "{}", text(&out));
    // The audit log takes plain days, and says when nothing matches.
    let out = run(
        &["audit", "log", "--since", "2020-01-01", "--action", "staff"],
        "",
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("staff.set_lang"), "{}", text(&out));
    let out = run(&["audit", "log", "--actor", "nobody"], "");
    assert!(
        text(&out).contains("No audit record matches."),
        "{}",
        text(&out)
    );
    // An access report of an account that does not exist is an error, not "0 entries".
    let out = run(&["audit", "access", "A999"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("account A999 does not exist"),
        "{}",
        text(&out)
    );
    // The desk's screens need a terminal, and say so.
    let out = run(&[], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("draws the desk in a terminal"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_keymap_lists_actions_and_refuses_a_taken_key() {
    let home = tempfile::tempdir().unwrap();
    let out = privdesk(home.path()).arg("keymap").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("The queues:") && text.contains("take"),
        "{text}"
    );
    let cfg = home.path().join("keys.toml");
    std::fs::write(&cfg, "[keys]\ntake = [\"j\"]\n").unwrap();
    let out = privdesk(home.path())
        .arg("--config")
        .arg(&cfg)
        .arg("keymap")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("keys.toml") && err.contains("j is already down"),
        "{err}"
    );
}
