//! A smoke test as a person would do it: the real `privdesk serve`, the OpenSSH client in
//! a tmux pane, the pane read with `tmux capture-pane -p`. Under `CI=true` a missing tmux
//! or ssh fails the test; elsewhere it is skipped with a note.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::terminal::{BIN, Desk, Tmux, have};

/// `privdesk serve`, killed if the test ends early.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ssh_command(port: u16, key: &Path, lang: &str) -> String {
    format!(
        "env LANG={lang} ssh -F /dev/null -p {port} -i {} -o IdentitiesOnly=yes \
         -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
         -o SendEnv=LANG agent@127.0.0.1; echo ssh-exit=$?; sleep 600",
        key.display()
    )
}

#[test]
fn the_openssh_client_in_tmux_reaches_the_desk_and_only_the_desk() {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    for tool in ["tmux", "ssh", "ssh-keygen"] {
        if !have(tool) {
            assert!(
                !ci,
                "CI=true but {tool} is missing: install it (.ci/run does)"
            );
            eprintln!("{tool} is missing: skipping the OpenSSH smoke test");
            return;
        }
    }
    let desk = Desk {
        dir: tempfile::tempdir().unwrap(),
    };
    desk.privdesk(&["init"], None);
    desk.privdesk(
        &[
            "staff",
            "add",
            "agent",
            "--role",
            "agent",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    let key = desk.path("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "agent@test", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let pubkey = key.with_extension("pub");
    desk.privdesk(
        &["staff", "add-key", "agent", pubkey.to_str().unwrap()],
        None,
    );

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = Command::new(BIN);
    desk.env(&mut c);
    c.args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut serve = Serve(c.spawn().unwrap());
    let stdout = serve.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut said = String::new();
    while !said.contains("serving staff over SSH") {
        let line = lines
            .next()
            .expect("privdesk serve ended before listening")
            .unwrap();
        said.push_str(&line);
        said.push('\n');
    }
    assert!(said.contains("generated the SSH host key"), "{said}");
    assert!(said.contains("SHA256:"), "{said}");
    std::thread::spawn(move || for _ in lines {});

    let tmux = Tmux::new();
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "en",
        "-x",
        "100",
        "-y",
        "30",
        &ssh_command(port, &key, "en_US.UTF-8"),
    ]);
    let text = tmux.wait("en", "the queues", |t| t.contains("Resets (0)"));
    assert!(text.contains("privdesk · agent (support)"), "{text}");
    // Help, then a lone Esc closes it.
    tmux.keys("en", &["?"]);
    tmux.wait("en", "the help", |t| t.contains("Keys"));
    tmux.keys("en", &["Escape"]);
    tmux.wait("en", "the help to close on Esc", |t| {
        !t.contains("Keys") && t.contains("Resets (0)")
    });
    // A paste into the search box arrives whole.
    tmux.keys("en", &["/"]);
    tmux.wait("en", "the search box", |t| t.contains("Search"));
    tmux.run(&["set-buffer", "lost access"]);
    tmux.run(&["paste-buffer", "-p", "-t", &Tmux::target("en")]);
    tmux.wait("en", "the pasted words", |t| t.contains("lost access"));
    tmux.keys("en", &["Escape"]);
    // (A key within the escape timeout after Esc would make Alt-key, as in any terminal.)
    tmux.wait("en", "the search box to close", |t| !t.contains("Search"));
    // The client's LANG picks Russian for a member without a preference.
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "ru",
        "-x",
        "80",
        "-y",
        "24",
        &ssh_command(port, &key, "ru_RU.UTF-8"),
    ]);
    tmux.wait("ru", "the Russian desk", |t| t.contains("Сбросы"));
    // Quit asks, then ssh exits cleanly with the terminal given back.
    tmux.keys("en", &["q"]);
    tmux.wait("en", "the quit question", |t| t.contains("Quit privdesk?"));
    tmux.keys("en", &["y"]);
    let text = tmux.wait("en", "ssh to exit", |t| t.contains("ssh-exit="));
    assert!(text.contains("ssh-exit=0"), "{text}");
    assert!(
        !text.contains("Resets"),
        "the desk stayed on screen:\n{text}"
    );
    // Nothing but the desk: a command is refused with a message.
    let out = Command::new("ssh")
        .args(["-F", "/dev/null", "-p", &port.to_string(), "-i"])
        .arg(&key)
        .args([
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "BatchMode=yes",
            "agent@127.0.0.1",
            "id",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Commands are not run here"), "{stderr}");
    assert!(out.stdout.is_empty());
    // SIGTERM: the open session is told, and the server exits cleanly.
    let pid = serve.0.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let text = tmux.wait("ru", "the shutdown message", |t| t.contains("ssh-exit="));
    assert!(text.contains("останавливается"), "{text}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = serve.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "privdesk serve did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
}
