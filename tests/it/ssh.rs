//! `privdesk serve` end to end: a russh client logs in by key, the screen is rebuilt with
//! vt100, and everything that is not the desk is refused. The OpenSSH client against the
//! real binary is in `ssh/openssh.rs`.

mod client;
mod openssh;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::ContactId;
use privdesk::domain::personal::Secret;
use privdesk::domain::request::{Channel, RequestKind};
use privdesk::domain::staff::{Actor, Role, Source};
use privdesk::ssh::QUEUE_CAP;
use privdesk::store::{AuditFilter, audit::AuditRecord};
use russh::keys::HashAlg;
use russh::{ChannelMsg, MethodKind, client as rc};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::both_backends;
use crate::desk_requests::account_and_reset;
use crate::support::{Backend, TestDesk};
use client::{
    Client, Pausable, Term, TestServer, WAIT, client_config, eventually, login, login_on, member,
    try_login,
};

/// Two password-reset requests filed by `agent`.
async fn two_resets(td: &TestDesk, agent: &Actor) {
    let (account, _) = account_and_reset(td, agent).await;
    td.desk
        .file_request(
            agent,
            RequestInput {
                kind: RequestKind::PasswordReset,
                account,
                requester: RequesterInput::Contact(ContactId(1)),
                channel: Channel::Email,
                subject: "Second request about access".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap();
}

async fn records(td: &TestDesk, action: &str) -> Vec<AuditRecord> {
    td.desk
        .store()
        .audit_records(
            &AuditFilter {
                action: Some(action.to_owned()),
                ..AuditFilter::default()
            },
            50,
        )
        .await
        .unwrap()
}

async fn server(td: &TestDesk) -> TestServer {
    let desk = Arc::new(td.reopen().await.unwrap());
    TestServer::start(desk, &td.config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_by_key_see_the_queues_move_open_resize_and_quit() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, agent, key) = member(&td, "agent", Role::Agent).await;
    two_resets(&td, &agent).await;
    let srv = server(&td).await;
    let h = login(srv.addr, "agent", &key).await;
    let term = Term::open(&h, 100, 30).await;
    let text = term
        .wait_for("both requests and the count", |t| {
            t.contains("#1") && t.contains("#2") && t.contains("Resets (2)")
        })
        .await;
    assert!(text.contains("privdesk · agent"), "{text}");
    assert!(term.alternate_screen());
    // Down, open: the second request.
    term.keys(b"j").await;
    term.keys(b"\r").await;
    term.wait_text("#2 · Password reset").await;
    // A lone Esc (held for the escape timeout, then a key): back to the queue.
    term.keys(b"\x1b").await;
    term.wait_for("the queue again", |t| {
        !t.contains("#2 · Password reset") && t.contains("Resets ·")
    })
    .await;
    // An arrow split across two packets still moves.
    term.keys(b"\x1b[").await;
    term.keys(b"A").await;
    term.keys(b"\r").await;
    term.wait_text("#1 · Password reset").await;
    term.keys(b"\x1b").await;
    term.wait_text("Resets ·").await;
    // A smaller window: the desk redraws to it.
    term.resize(80, 24).await;
    term.wait_for("the footer on the 24th row", |_| {
        term.row(23).contains("Enter open") && term.row(0).contains("privdesk · agent")
    })
    .await;
    // Quit asks first; then the channel closes and the terminal is given back.
    term.keys(b"q").await;
    term.wait_text("Quit privdesk?").await;
    term.keys(b"y").await;
    term.wait_closed().await;
    assert_eq!(term.exit_status(), Some(0));
    assert!(!term.alternate_screen(), "the alternate screen was left");
    eventually("the logout record", WAIT, || async {
        !records(&td, "ssh.logout").await.is_empty()
    })
    .await;
    let login = &records(&td, "ssh.login").await[0].draft;
    assert_eq!(login.actor, "agent");
    assert!(
        login.source.starts_with("ssh 127.0.0.1:"),
        "{}",
        login.source
    );
    assert!(login.detail.starts_with("key=SHA256:"), "{}", login.detail);
    let logout = &records(&td, "ssh.logout").await[0].draft;
    assert!(
        logout.detail.starts_with("duration=") && logout.detail.ends_with("reason=quit"),
        "{}",
        logout.detail
    );
    assert_eq!(logout.source, login.source);
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_keys_other_members_keys_disabled_and_locked_staff_are_refused() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, agent_key) = member(&td, "agent", Role::Agent).await;
    let (_, _, gone_key) = member(&td, "gone", Role::Agent).await;
    let (_, _, locked_key) = member(&td, "locked", Role::Agent).await;
    td.desk
        .set_disabled(&td.shell(), "gone", true)
        .await
        .unwrap();
    for _ in 0..5 {
        let r = td
            .desk
            .login("locked", Secret::new("wrong".to_owned()), Source::Local)
            .await;
        assert!(r.is_err());
    }
    let srv = server(&td).await;
    let stranger = client::new_key();
    let attempts = [
        ("agent", &stranger, "an unregistered key"),
        ("agent", &gone_key, "another member's key"),
        ("nobody", &agent_key, "an unknown login"),
        ("gone", &gone_key, "a disabled member"),
        ("locked", &locked_key, "a locked-out member"),
    ];
    let results = futures::future::join_all(
        attempts
            .iter()
            .map(|(login, key, _)| try_login(srv.addr, login, key)),
    )
    .await;
    for ((_, _, what), r) in attempts.iter().zip(results) {
        assert!(r.is_none(), "{what} was let in");
    }
    assert!(try_login(srv.addr, "agent", &agent_key).await.is_some());
    assert!(records(&td, "ssh.login").await.is_empty());
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_attempts_per_connection_are_limited() {
    let mut td = TestDesk::new(Backend::Sqlite).await;
    td.config.ssh.max_auth_attempts = 3;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    let srv = server(&td).await;
    let mut h = rc::connect(client_config(), srv.addr, Client)
        .await
        .unwrap();
    for _ in 0..3 {
        assert!(!login_on(&mut h, "agent", &client::new_key()).await);
    }
    // Even the right key is refused on this connection now.
    let refused = h
        .authenticate_publickey(
            "agent",
            russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None),
        )
        .await;
    assert!(
        refused.as_ref().map_or(true, |r| !r.success()),
        "a fourth attempt was let in"
    );
    // Within the limit, the right key still opens the desk.
    let mut h = rc::connect(client_config(), srv.addr, Client)
        .await
        .unwrap();
    for _ in 0..2 {
        assert!(!login_on(&mut h, "agent", &client::new_key()).await);
    }
    assert!(login_on(&mut h, "agent", &key).await);
    srv.stop().await;
    td.finish().await;
}

/// Opens a session channel, lets `ask` make a request on it, and collects what comes back
/// until the channel closes: (stderr, exit status, whether the request failed).
async fn refused<F, Fut>(
    addr: SocketAddr,
    key: &russh::keys::PrivateKey,
    ask: F,
) -> (String, Option<u32>, bool)
where
    F: FnOnce(russh::ChannelWriteHalf<rc::Msg>) -> Fut,
    Fut: std::future::Future<Output = russh::ChannelWriteHalf<rc::Msg>>,
{
    let h = login(addr, "agent", key).await;
    let channel = h.channel_open_session().await.unwrap();
    let (mut read, write) = channel.split();
    let _write = ask(write).await;
    let (mut stderr, mut exit, mut failed) = (Vec::new(), None, false);
    tokio::time::timeout(WAIT, async {
        while let Some(msg) = read.wait().await {
            match msg {
                ChannelMsg::ExtendedData { data, .. } => stderr.extend_from_slice(&data),
                ChannelMsg::Data { data } => panic!("the desk answered: {data:?}"),
                ChannelMsg::ExitStatus { exit_status } => exit = Some(exit_status),
                ChannelMsg::Failure => failed = true,
                ChannelMsg::Close => break,
                _ => {}
            }
        }
    })
    .await
    .expect("the server closes a refused channel");
    (String::from_utf8_lossy(&stderr).into_owned(), exit, failed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_file_transfer_forwarding_and_shells_without_a_pty_are_refused() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    let srv = server(&td).await;

    let (stderr, exit, _) = refused(srv.addr, &key, |w| async move {
        w.exec(true, "cat /etc/passwd").await.unwrap();
        w
    })
    .await;
    assert!(stderr.contains("Commands are not run here"), "{stderr}");
    assert_eq!(exit, Some(1));

    let (stderr, _, failed) = refused(srv.addr, &key, |w| async move {
        w.request_subsystem(true, "sftp").await.unwrap();
        w
    })
    .await;
    assert!(failed, "the sftp subsystem was granted");
    assert!(stderr.contains("File transfer"), "{stderr}");

    let (stderr, exit, _) = refused(srv.addr, &key, |w| async move {
        w.request_shell(true).await.unwrap();
        w
    })
    .await;
    assert!(stderr.contains("only the interactive desk"), "{stderr}");
    assert_eq!(exit, Some(1));

    let h = login(srv.addr, "agent", &key).await;
    assert!(
        h.channel_open_direct_tcpip("127.0.0.1", 22, "127.0.0.1", 40000)
            .await
            .is_err(),
        "local port forwarding was granted"
    );
    assert!(
        h.tcpip_forward("127.0.0.1", 0).await.is_err(),
        "remote port forwarding was granted"
    );
    // One desk per connection: a second session channel is refused.
    let desk_term = Term::open(&h, 80, 24).await;
    desk_term.wait_text("Resets").await;
    assert!(h.channel_open_session().await.is_err());
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_removing_the_key_or_changing_the_role_ends_live_sessions() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let mut terms = vec![];
    let srv_keys = [
        member(&td, "ann", Role::Agent).await.2,
        member(&td, "bob", Role::Agent).await.2,
        member(&td, "cat", Role::Agent).await.2,
        member(&td, "dan", Role::Agent).await.2,
    ];
    let srv = server(&td).await;
    let mut handles = vec![];
    for (login_name, key) in ["ann", "bob", "cat", "dan"].iter().zip(&srv_keys) {
        let h = login(srv.addr, login_name, key).await;
        let t = Term::open(&h, 100, 30).await;
        t.wait_text("Resets").await;
        terms.push(t);
        handles.push(h);
    }
    let shell = td.shell();
    td.desk.set_disabled(&shell, "ann", true).await.unwrap();
    let bob_fp = srv_keys[1]
        .public_key()
        .fingerprint(HashAlg::Sha256)
        .to_string();
    td.desk
        .remove_staff_key(&shell, "bob", &bob_fp)
        .await
        .unwrap();
    td.desk.set_role(&shell, "cat", Role::Oncall).await.unwrap();
    for t in &terms[..3] {
        t.wait_closed().await;
        let text = t.text();
        assert!(text.contains("Your session has ended"), "{text}");
    }
    // The others go on.
    terms[3].keys(b"?").await;
    terms[3].wait_text("Keys").await;
    assert!(!terms[3].is_closed());
    assert!(try_login(srv.addr, "ann", &srv_keys[0]).await.is_none());
    eventually("three logouts", WAIT, || async {
        records(&td, "ssh.logout")
            .await
            .iter()
            .filter(|r| r.draft.detail.ends_with("reason=revoked"))
            .count()
            == 3
    })
    .await;
    srv.stop().await;
    td.finish().await;
}

both_backends!(
    a_change_in_one_session_appears_in_another_on_another_host,
    |td: TestDesk| async move {
        let (_, anna, anna_key) = member(&td, "anna", Role::Agent).await;
        let (_, _, boris_key) = member(&td, "boris", Role::Agent).await;
        account_and_reset(&td, &anna).await;
        // Two `privdesk serve` hosts on one database.
        let desk1 = Arc::new(td.reopen().await.unwrap());
        let desk2 = Arc::new(td.reopen().await.unwrap());
        desk1.store().watch_changes();
        desk2.store().watch_changes();
        let host1 = TestServer::start(desk1, &td.config).await;
        let host2 = TestServer::start(desk2, &td.config).await;
        let ha = login(host1.addr, "anna", &anna_key).await;
        let hb = login(host2.addr, "boris", &boris_key).await;
        let a = Term::open(&ha, 100, 30).await;
        let b = Term::open(&hb, 100, 30).await;
        a.wait_text("#1").await;
        let before = b.wait_text("#1").await;
        assert!(!before.contains("anna"), "{before}");
        a.keys(b"\r").await;
        a.wait_text("#1 · Password reset").await;
        a.keys(b"t").await;
        a.wait_text("Taken.").await;
        let taken = std::time::Instant::now();
        let text = b
            .wait_for("anna as the assignee", |t| {
                t.lines().any(|l| l.contains("#1") && l.contains("anna"))
            })
            .await;
        assert!(text.contains("received"), "{text}");
        // Within a second, with room for a loaded test machine.
        let took = taken.elapsed();
        eprintln!("the change reached the other host in {took:?}");
        assert!(took < Duration::from_secs(3), "the change took {took:?}");
        host1.stop().await;
        host2.stop().await;
        td.finish().await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_slows_only_itself_and_costs_a_bounded_queue() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, agent, slow_key) = member(&td, "slow", Role::Agent).await;
    let (_, _, fast_key) = member(&td, "fast", Role::Agent).await;
    two_resets(&td, &agent).await;
    let srv = server(&td).await;

    // The slow client grants the server a small window and then stops reading its socket.
    let stream = Pausable::connect(srv.addr).await;
    let pause = stream.control.clone();
    let config = Arc::new(rc::Config {
        window_size: 16 * 1024,
        inactivity_timeout: Some(Duration::from_mins(1)),
        ..rc::Config::default()
    });
    let mut hs = rc::connect_stream(config, stream, Client).await.unwrap();
    assert!(login_on(&mut hs, "slow", &slow_key).await);
    let slow = Term::open(&hs, 100, 30).await;
    slow.wait_text("#2").await;
    let hf = login(srv.addr, "fast", &fast_key).await;
    let fast = Term::open(&hf, 100, 30).await;
    fast.wait_text("#2").await;

    pause.pause();
    // The help overlay on and off, 300 times: far more than the window and the queue hold.
    for _ in 0..300 {
        slow.keys(b"?").await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let stats = || {
        srv.monitor
            .sessions()
            .into_iter()
            .find(|s| s.login == "slow")
            .unwrap()
            .output
    };
    eventually("frames dropped for the slow session", WAIT, || async {
        stats().dropped_frames > 0
    })
    .await;
    // Meanwhile the other session answers at once.
    for (key, shown) in [(b"?", true), (b"?", false)] {
        let started = std::time::Instant::now();
        fast.keys(key).await;
        fast.wait_for("the help toggled", |t| t.contains("Keys") == shown)
            .await;
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the fast session waited {:?}",
            started.elapsed()
        );
    }
    let s = stats();
    assert!(
        s.peak_queued <= QUEUE_CAP,
        "the slow session queued {} bytes (cap {QUEUE_CAP})",
        s.peak_queued
    );
    // Reading again: once what was in flight arrived, the screen is repainted whole, and
    // shows what the other session shows (help off after an even count; same queue).
    pause.resume();
    eventually("a full repaint", WAIT, || async { stats().repaints >= 1 }).await;
    let rows =
        |t: &str| -> Vec<String> { t.lines().skip(1).map(|l| l.trim_end().to_owned()).collect() };
    let expected = rows(&fast.text());
    slow.wait_for("the same screen as the other session", |t| {
        rows(t) == expected
    })
    .await;
    slow.keys(b"?").await;
    slow.wait_text("Keys").await;
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_can_be_asked_after_the_key() {
    let mut td = TestDesk::new(Backend::Sqlite).await;
    td.config.ssh.password_second_factor = true;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    let srv = server(&td).await;
    // The password alone opens nothing.
    let mut h = rc::connect(client_config(), srv.addr, Client)
        .await
        .unwrap();
    let r = h
        .authenticate_keyboard_interactive_start("agent", None)
        .await
        .unwrap();
    assert!(
        matches!(r, rc::KeyboardInteractiveAuthResponse::Failure { .. }),
        "{r:?}"
    );
    // The key is accepted in part; then the password.
    let mut h = rc::connect(client_config(), srv.addr, Client)
        .await
        .unwrap();
    let r = h
        .authenticate_publickey(
            "agent",
            russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key.clone()), None),
        )
        .await
        .unwrap();
    match r {
        russh::client::AuthResult::Failure {
            remaining_methods,
            partial_success,
        } => {
            assert!(partial_success);
            assert!(remaining_methods.contains(&MethodKind::KeyboardInteractive));
        }
        russh::client::AuthResult::Success => panic!("the key alone was enough"),
    }
    for (password, ok) in [("wrong", false), ("correct horse battery", true)] {
        let r = h
            .authenticate_keyboard_interactive_start("agent", None)
            .await
            .unwrap();
        let rc::KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } = r else {
            panic!("no password prompt: {r:?}");
        };
        assert_eq!(prompts.len(), 1);
        assert!(!prompts[0].echo);
        let r = h
            .authenticate_keyboard_interactive_respond(vec![password.to_owned()])
            .await
            .unwrap();
        assert_eq!(
            matches!(r, rc::KeyboardInteractiveAuthResponse::Success),
            ok,
            "{password}: {r:?}"
        );
    }
    let t = Term::open(&h, 100, 30).await;
    t.wait_text("Resets").await;
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_clients_lang_picks_the_language_unless_the_member_has_one() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    let (_, _, en_key) = member(&td, "english", Role::Agent).await;
    td.desk
        .set_lang(
            &td.shell(),
            "english",
            Some(privdesk::domain::staff::Lang::En),
        )
        .await
        .unwrap();
    let srv = server(&td).await;
    let h = login(srv.addr, "agent", &key).await;
    let t = Term::open_with_env(&h, 100, 30, &[("LANG", "ru_RU.UTF-8")]).await;
    t.wait_text("Сбросы").await;
    let h = login(srv.addr, "english", &en_key).await;
    let t = Term::open_with_env(&h, 100, 30, &[("LANG", "ru_RU.UTF-8")]).await;
    let text = t.wait_text("Resets").await;
    assert!(!text.contains("Сбросы"), "{text}");
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_limit_is_enforced_with_a_message() {
    let mut td = TestDesk::new(Backend::Sqlite).await;
    td.config.ssh.max_sessions = 1;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    let srv = server(&td).await;
    let h1 = login(srv.addr, "agent", &key).await;
    let first = Term::open(&h1, 100, 30).await;
    first.wait_text("Resets").await;
    let h2 = login(srv.addr, "agent", &key).await;
    let second = Term::open(&h2, 100, 30).await;
    second.wait_closed().await;
    assert!(
        second
            .stderr()
            .contains("All 1 sessions of this desk are in use"),
        "{}",
        second.stderr()
    );
    assert_eq!(second.exit_status(), Some(1));
    // The first ends; a new one fits again.
    first.keys(b"qy").await;
    first.wait_closed().await;
    eventually("the slot to be free", WAIT, || async {
        srv.monitor.count() == 0
    })
    .await;
    let h3 = login(srv.addr, "agent", &key).await;
    let third = Term::open(&h3, 100, 30).await;
    third.wait_text("Resets").await;
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_address_comes_by_proxy_protocol_from_balancers_only() {
    let mut td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    // A server that trusts no balancer ignores a header it was sent.
    let plain = server(&td).await;
    td.config.ssh.proxy_from = vec!["127.0.0.1".to_owned()];
    let behind = server(&td).await;
    let claimed: SocketAddr = "203.0.113.7:5555".parse().unwrap();

    let mut tcp = tokio::net::TcpStream::connect(behind.addr).await.unwrap();
    tcp.write_all(&privdesk::ssh::proxy::header_for(claimed, behind.addr).unwrap())
        .await
        .unwrap();
    let mut h = rc::connect_stream(client_config(), tcp, Client)
        .await
        .unwrap();
    assert!(login_on(&mut h, "agent", &key).await);
    let t = Term::open(&h, 100, 30).await;
    t.wait_text("Resets").await;
    t.keys(b"qy").await;
    t.wait_closed().await;
    eventually("the login record", WAIT, || async {
        !records(&td, "ssh.login").await.is_empty()
    })
    .await;
    assert_eq!(
        records(&td, "ssh.login").await[0].draft.source,
        "ssh 203.0.113.7:5555"
    );
    // From a balancer, the header is required.
    assert!(
        rc::connect(client_config(), behind.addr, Client)
            .await
            .is_err(),
        "a balancer's connection without a header was served"
    );
    // From anyone else, a header is not believed.
    let mut tcp = tokio::net::TcpStream::connect(plain.addr).await.unwrap();
    tcp.write_all(
        &privdesk::ssh::proxy::header_for("198.51.100.9:1".parse().unwrap(), plain.addr).unwrap(),
    )
    .await
    .unwrap();
    if let Ok(mut h) = rc::connect_stream(client_config(), tcp, Client).await
        && login_on(&mut h, "agent", &key).await
    {
        let t = Term::open(&h, 100, 30).await;
        t.wait_text("Resets").await;
    }
    let sources: Vec<String> = records(&td, "ssh.login")
        .await
        .into_iter()
        .map(|r| r.draft.source)
        .collect();
    assert!(
        !sources.iter().any(|s| s.contains("198.51.100.9")),
        "{sources:?}"
    );
    plain.stop().await;
    behind.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_limited_before_the_handshake() {
    let mut td = TestDesk::new(Backend::Sqlite).await;
    td.config.ssh.connections_per_minute_per_ip = 2;
    let srv = server(&td).await;
    let banner = |addr| async move {
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut buf = vec![0_u8; 128];
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert!(banner(srv.addr).await.starts_with("SSH-2.0-privdesk"));
    assert!(banner(srv.addr).await.starts_with("SSH-2.0-privdesk"));
    let third = banner(srv.addr).await;
    assert!(third.contains("too many connections"), "{third:?}");
    srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_long_sessions_are_closed_with_a_message() {
    let mut td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    td.config.session.idle_disconnect = SignedDuration::from_secs(2);
    let idle_srv = server(&td).await;
    td.config.session.idle_disconnect = SignedDuration::from_hours(1);
    td.config.session.max_lifetime = SignedDuration::from_secs(3);
    let short_srv = server(&td).await;
    let hi = login(idle_srv.addr, "agent", &key).await;
    let hs = login(short_srv.addr, "agent", &key).await;
    let idle = Term::open(&hi, 100, 30).await;
    let short = Term::open(&hs, 100, 30).await;
    idle.wait_closed().await;
    assert!(
        idle.text().contains("without a key pressed"),
        "{}",
        idle.text()
    );
    // Keys do not extend a session's lifetime.
    for _ in 0..10 {
        if short.is_closed() {
            break;
        }
        short.keys(b"j").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    short.wait_closed().await;
    assert!(short.text().contains("longest allowed"), "{}", short.text());
    eventually("both logouts", WAIT, || async {
        let r = records(&td, "ssh.logout").await;
        r.iter().any(|r| r.draft.detail.ends_with("reason=idle"))
            && r.iter()
                .any(|r| r.draft.detail.ends_with("reason=lifetime"))
    })
    .await;
    idle_srv.stop().await;
    short_srv.stop().await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_tells_every_session_and_records_their_logouts() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, k1) = member(&td, "ann", Role::Agent).await;
    let (_, _, k2) = member(&td, "bob", Role::Supervisor).await;
    let srv = server(&td).await;
    let h1 = login(srv.addr, "ann", &k1).await;
    let h2 = login(srv.addr, "bob", &k2).await;
    let t1 = Term::open(&h1, 100, 30).await;
    let t2 = Term::open(&h2, 100, 30).await;
    t1.wait_text("Resets").await;
    t2.wait_text("Resets").await;
    srv.stop().await;
    for t in [&t1, &t2] {
        t.wait_closed().await;
        assert!(t.text().contains("shutting down"), "{}", t.text());
    }
    let logouts = records(&td, "ssh.logout").await;
    assert_eq!(
        logouts
            .iter()
            .filter(|r| r.draft.detail.ends_with("reason=shutdown"))
            .count(),
        2
    );
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_session_ends_alone() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, _, key) = member(&td, "agent", Role::Agent).await;
    let desk = Arc::new(td.reopen().await.unwrap());
    let srv = TestServer::start_with(desk, &td.config, |env| {
        assert!(env.no_color.as_deref() != Some("panic"), "a test panic");
    })
    .await;
    let h = login(srv.addr, "agent", &key).await;
    let good = Term::open(&h, 100, 30).await;
    good.wait_text("Resets").await;
    let hp = login(srv.addr, "agent", &key).await;
    let bad = Term::open_with_env(&hp, 100, 30, &[("NO_COLOR", "panic")]).await;
    eventually("the panicking connection to end", WAIT, || async {
        hp.is_closed()
    })
    .await;
    assert!(!bad.text().contains("Resets"));
    // The server and the other session go on.
    good.keys(b"?").await;
    good.wait_text("Keys").await;
    let h3 = login(srv.addr, "agent", &key).await;
    let t3 = Term::open(&h3, 100, 30).await;
    t3.wait_text("Resets").await;
    srv.stop().await;
    td.finish().await;
}
