//! The real binary in a real terminal, as a newcomer would use it: the README's demo
//! command in tmux, log in, open requests, take one, quit; a supervisor reveals a field
//! with a purpose; `privdesk audit access` then lists that reveal and the agent's looks.
//! Emoji in client text leave nothing behind when an overlay covers them and goes.

use crate::terminal::{Desk, Tmux, tools_or_skip};

fn login(tmux: &Tmux, session: &str, who: &str) {
    tmux.wait(session, "the login screen", |t| t.contains("Sign in"));
    tmux.keys(session, &[who, "Enter"]);
    tmux.keys(session, &["demo", "Enter"]);
    tmux.wait(session, "the queues", |t| t.contains("Resets ("));
}

/// The values on the `Email` lines of the request's fields (left pane).
fn email_lines(pane: &str) -> Vec<String> {
    pane.lines()
        .filter_map(|l| l.split('│').nth(1))
        .filter(|cell| cell.trim_start().starts_with("Email"))
        .map(|cell| {
            cell.trim_start()
                .trim_start_matches("Email")
                .trim()
                .to_owned()
        })
        .collect()
}

#[test]
fn a_newcomer_works_the_demo_and_the_audit_log_accounts_for_it() {
    if !tools_or_skip(&["tmux"]) {
        return;
    }
    let desk = Desk {
        dir: tempfile::tempdir().unwrap(),
    };
    let tmux = Tmux::new();
    let home = desk.dir.path().display().to_string();
    let demo = format!(
        "env HOME={home} XDG_DATA_HOME={home}/data XDG_STATE_HOME={home}/state XDG_CONFIG_HOME={home}/config \
         LANG=C.UTF-8 {} demo --accounts 40 --requests 120; echo demo-exit=$?; sleep 600",
        crate::terminal::BIN
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "agent",
        "-x",
        "100",
        "-y",
        "30",
        &demo,
    ]);
    login(&tmux, "agent", "agent");
    // Open the first five requests: no full email on any of them.
    for n in 0..5 {
        tmux.keys("agent", &["Enter"]);
        let pane = tmux.wait("agent", "a request", |t| {
            t.contains("Kind") && t.contains("Timeline")
        });
        for value in email_lines(&pane) {
            assert!(
                value.contains('*') || value.starts_with('—'),
                "request {n} shows an email in clear: {value}\n{pane}"
            );
        }
        tmux.keys("agent", &["Escape"]);
        tmux.wait("agent", "the queue again", |t| t.contains("all open"));
        tmux.keys("agent", &["j"]);
    }
    // Take the first request, go back, quit.
    tmux.keys("agent", &["g", "Enter"]);
    tmux.wait("agent", "the request", |t| t.contains("Kind"));
    tmux.keys("agent", &["t"]);
    tmux.wait("agent", "the take", |t| t.contains("Taken."));
    tmux.keys("agent", &["Escape"]);
    tmux.wait("agent", "the queue", |t| t.contains("all open"));
    tmux.keys("agent", &["q"]);
    tmux.wait("agent", "the quit question", |t| {
        t.contains("Quit privdesk?")
    });
    tmux.keys("agent", &["y"]);
    tmux.wait("agent", "the end", |t| t.contains("demo-exit=0"));

    // A supervisor reveals the first request's email with a purpose.
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "sup",
        "-x",
        "100",
        "-y",
        "30",
        &demo,
    ]);
    login(&tmux, "sup", "supervisor");
    tmux.keys("sup", &["Enter"]);
    tmux.wait("sup", "the request", |t| t.contains("Kind"));
    tmux.keys("sup", &["v"]);
    tmux.wait("sup", "the fields to reveal", |t| {
        t.contains("Reveal which field?")
    });
    tmux.keys("sup", &["Enter"]);
    tmux.wait("sup", "the purposes", |t| t.contains("Why do you need it?"));
    tmux.keys("sup", &["Enter"]);
    let pane = tmux.wait("sup", "the revealed field", |t| t.contains("(revealed)"));
    // The first field the supervisor may reveal (the email, or the phone when there is none).
    let revealed = pane
        .lines()
        .filter_map(|l| l.split('│').nth(1))
        .find(|cell| cell.contains("(revealed)"))
        .and_then(|cell| cell.split_whitespace().nth(1).map(str::to_owned))
        .unwrap_or_else(|| panic!("no revealed line:\n{pane}"));
    assert!(!revealed.contains('*'), "{revealed}");
    let account = pane
        .lines()
        .filter_map(|l| l.split('│').nth(1))
        .find_map(|cell| {
            cell.trim_start()
                .strip_prefix("Account ")
                .and_then(|r| r.split_whitespace().next())
        })
        .unwrap_or_else(|| panic!("no account line:\n{pane}"))
        .to_owned();
    tmux.keys("sup", &["q"]);
    tmux.wait("sup", "the quit question", |t| t.contains("Quit privdesk?"));
    tmux.keys("sup", &["y"]);
    tmux.wait("sup", "the end", |t| t.contains("demo-exit=0"));

    // The access report of that account lists the reveal, its purpose, and the agent's looks.
    let d = desk.dir.path().join("data/privdesk/demo");
    let report = desk.privdesk(
        &[
            "--database-url",
            &format!("sqlite://{}", d.join("privdesk.db").display()),
            "--key-store-url",
            &format!("sqlite://{}", d.join("keys.db").display()),
            "--master-key-file",
            d.join("master.key").to_str().unwrap(),
            "audit",
            "access",
            &account,
        ],
        None,
    );
    assert!(
        report.lines().any(|l| l.contains("supervisor")
            && l.contains("field.reveal")
            && l.contains("purpose=identify_client")),
        "{report}"
    );
    assert!(
        report
            .lines()
            .any(|l| l.contains("agent") && l.contains("request.open")),
        "{report}"
    );
    assert!(
        !report.contains(&revealed),
        "the report names fields, never values:\n{report}"
    );
}

/// Whether the pane is a frame drawn `width` columns wide: some line is a box's top border
/// from the first column to the last (tmux's reflow of an older frame cuts or pads it).
fn frame_of_width(pane: &str, width: u16) -> bool {
    pane.lines()
        .any(|l| l.starts_with('┌') && l.ends_with('┐') && l.chars().count() == usize::from(width))
}

/// Everything but the title line, whose clock may tick between two captures.
fn below_title(pane: &str) -> Vec<&str> {
    pane.lines().skip(1).collect()
}

#[test]
fn emoji_leave_no_stray_glyphs_when_an_overlay_comes_and_goes() {
    if !tools_or_skip(&["tmux"]) {
        return;
    }
    let desk = Desk {
        dir: tempfile::tempdir().unwrap(),
    };
    let tmux = Tmux::new();
    let home = desk.dir.path().display().to_string();
    // The full demo: a note on an open reset request holds a flag, a skin tone, a ZWJ family
    // and VS16, widths that tmux (per code point) and ratatui (per cluster) disagree on.
    let demo = format!(
        "env HOME={home} XDG_DATA_HOME={home}/data XDG_STATE_HOME={home}/state XDG_CONFIG_HOME={home}/config \
         LANG=C.UTF-8 {} demo; echo demo-exit=$?; sleep 600",
        crate::terminal::BIN
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "emoji",
        "-x",
        "100",
        "-y",
        "30",
        &demo,
    ]);
    login(&tmux, "emoji", "agent");
    let note = "Спасибо за помощь!";
    let mut detail = None;
    for _ in 0..40 {
        tmux.keys("emoji", &["Enter"]);
        let pane = tmux.wait_settled("emoji", "a request", |t| {
            t.contains("Kind") && t.contains("Timeline")
        });
        if pane.contains(note) {
            detail = Some(pane);
            break;
        }
        tmux.keys("emoji", &["Escape"]);
        tmux.wait("emoji", "the queue again", |t| t.contains("all open"));
        tmux.keys("emoji", &["j"]);
    }
    let detail = detail.expect("no open reset request shows the emoji note");
    let line = detail
        .lines()
        .find(|l| l.contains(note))
        .unwrap()
        .to_owned();
    // The note as the sanitizer gives it: members of the family, no skin tone, no VS16, the
    // flag spelled out.
    assert!(
        line.contains("Спасибо за помощь! 🙏🔐👍 👨👩👧 [RU] ❤"),
        "{line}"
    );
    assert!(line.trim_end().ends_with('│'), "{line}");

    // Help over the note, then gone again: each frame is as if drawn from scratch.
    tmux.keys("emoji", &["?"]);
    let help = tmux.wait_settled("emoji", "the help overlay", |t| t.contains("┌ Keys"));
    let fresh = tmux.redrawn_from_scratch("emoji", 100, frame_of_width);
    assert!(
        below_title(&help) == below_title(&fresh),
        "the help overlay left glyphs of the text below it:\n{help}\nfrom scratch:\n{fresh}"
    );
    tmux.keys("emoji", &["Escape"]);
    let back = tmux.wait_settled("emoji", "the request again", |t| {
        !t.contains("┌ Keys") && t.contains(note)
    });
    assert!(
        below_title(&back) == below_title(&detail),
        "closing the overlay left glyphs behind:\n{back}\nbefore:\n{detail}"
    );
    let fresh = tmux.redrawn_from_scratch("emoji", 100, frame_of_width);
    assert!(
        below_title(&back) == below_title(&fresh),
        "the request left glyphs behind:\n{back}\nfrom scratch:\n{fresh}"
    );

    tmux.keys("emoji", &["q"]);
    tmux.wait("emoji", "the quit question", |t| {
        t.contains("Quit privdesk?")
    });
    tmux.keys("emoji", &["y"]);
    tmux.wait("emoji", "the end", |t| t.contains("demo-exit=0"));
}
