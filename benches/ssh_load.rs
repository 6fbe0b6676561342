//! Load on `privdesk serve`: N concurrent SSH sessions (default 100) at 100×30, each
//! pressing a key 10 times a second (down and up in turn, so every key changes the screen).
//! Reports the keystroke-to-frame latency (from sending the key to the first byte of the
//! frame it caused, as the client sees it) and the server's resident memory per session.
//!
//! `cargo bench --bench ssh_load` builds a desk of 200 requests in a temporary directory,
//! starts the real `privdesk serve` (the release build), and connects with russh clients
//! from this process. `PRIVDESK_BENCH_SESSIONS` and `PRIVDESK_BENCH_SECONDS` (default 30)
//! change the load. Linux only (the server's memory is read from /proc).

// A benchmark, like a test: a failed step is a panic with a message; the statistics are
// floating-point estimates over counts far below 2^52.
#![allow(
    clippy::expect_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)]

use std::collections::BTreeMap;
use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use privdesk::config::{Config, Overrides};
use privdesk::desk::Desk;
use privdesk::desk::accounts::{AccountInput, ContactInput};
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::{AccountFlags, AccountKind, ContactId};
use privdesk::domain::calendar::Calendar;
use privdesk::domain::personal::{Personal, Secret};
use privdesk::domain::request::{Channel, RequestKind};
use privdesk::domain::staff::{Actor, Role, Source};
use russh::client;
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, ChannelReadHalf, ChannelWriteHalf};

const COLS: u32 = 100;
const ROWS: u32 = 30;
const KEYS_PER_SECOND: u64 = 10;

fn env_for(dir: &std::path::Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("HOME".to_owned(), dir.display().to_string());
    env.insert(
        "XDG_DATA_HOME".to_owned(),
        dir.join("data").display().to_string(),
    );
    env.insert(
        "XDG_STATE_HOME".to_owned(),
        dir.join("state").display().to_string(),
    );
    env.insert(
        "XDG_CONFIG_HOME".to_owned(),
        dir.join("config").display().to_string(),
    );
    env
}

/// A desk with an agent (whose key is `key`) and 200 requests in its queue.
async fn build_desk(dir: &std::path::Path, key: &PrivateKey) {
    let config = Config::load(&Overrides::default(), &env_for(dir)).expect("config");
    let shell = Actor::shell("bench");
    let desk = Desk::init(
        &config,
        Calendar::embedded().expect("calendar"),
        &shell,
        false,
    )
    .await
    .expect("init")
    .desk;
    let staff = desk
        .add_staff(
            &shell,
            "agent",
            "Bench Agent",
            Role::Agent,
            None,
            Secret::new("bench password long".to_owned()),
        )
        .await
        .expect("staff");
    let line = key.public_key().to_openssh().expect("public key");
    desk.add_staff_key(&shell, "agent", &line)
        .await
        .expect("key");
    let agent = Actor::staff(&staff, Source::Local);
    let accounts: Vec<AccountInput> = (0..20)
        .map(|i| AccountInput {
            external_id: None,
            kind: AccountKind::LegalEntity,
            name: Personal::from(format!("ООО «Клиент {i}»")),
            email: Some(Personal::from(format!("client{i}@example.ru"))),
            phone: None,
            postal_address: None,
            tax_id: None,
            admin_logins: vec![],
            contacts: vec![ContactInput {
                name: Some(Personal::from("Анна")),
                email: None,
                phone: None,
                passphrase_hash: None,
            }],
            flags: AccountFlags::default(),
            login_history: vec![],
            sessions: vec![],
        })
        .collect();
    let ids = desk
        .create_accounts(&shell, &accounts, "account.import")
        .await
        .expect("accounts");
    for n in 0..200 {
        let account = ids[n % ids.len()];
        desk.file_request(
            &agent,
            RequestInput {
                kind: RequestKind::PasswordReset,
                account,
                requester: RequesterInput::Contact(ContactId(account.0)),
                channel: Channel::Phone,
                subject: format!("Lost access, case {n}"),
                received_at: desk.now(),
            },
        )
        .await
        .expect("request");
    }
    desk.store().close().await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

struct Client;

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        _key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

struct Session {
    _handle: client::Handle<Client>,
    read: ChannelReadHalf,
    write: ChannelWriteHalf<client::Msg>,
}

async fn open(port: u16, key: Arc<PrivateKey>) -> Session {
    let config = Arc::new(client::Config {
        nodelay: true,
        ..client::Config::default()
    });
    let mut h = client::connect(config, ("127.0.0.1", port), Client)
        .await
        .expect("connect");
    let ok = h
        .authenticate_publickey("agent", PrivateKeyWithHashAlg::new(key, None))
        .await
        .expect("auth")
        .success();
    assert!(ok, "the agent's key was refused");
    let channel = h.channel_open_session().await.expect("channel");
    let (mut read, write) = channel.split();
    write
        .request_pty(false, "xterm-256color", COLS, ROWS, 0, 0, &[])
        .await
        .expect("pty");
    write.request_shell(false).await.expect("shell");
    // The first full screen: the queue with its rows.
    let mut screen = vt100::Parser::new(
        std::num::NonZeroU16::new(ROWS as u16).expect("rows"),
        std::num::NonZeroU16::new(COLS as u16).expect("cols"),
        0,
    );
    let deadline = Instant::now() + Duration::from_mins(1);
    while !screen.screen().contents().contains("#2 ") {
        assert!(
            Instant::now() < deadline,
            "no queue on screen:\n{}",
            screen.screen().contents()
        );
        match tokio::time::timeout(Duration::from_mins(1), read.wait()).await {
            Ok(Some(ChannelMsg::Data { data })) => screen.process(&data),
            Ok(Some(_)) => {}
            _ => panic!("the session ended before its first screen"),
        }
    }
    Session {
        _handle: h,
        read,
        write,
    }
}

/// Presses down and up in turn for `run`, one key every 100 ms; returns each key's latency.
async fn load(mut s: Session, run: Duration, offset: Duration) -> (Vec<Duration>, u64) {
    tokio::time::sleep(offset).await;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / KEYS_PER_SECOND));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = Instant::now() + run;
    let mut latencies = Vec::new();
    let mut bytes = 0_u64;
    let mut down = true;
    while Instant::now() < end {
        tick.tick().await;
        // Whatever came unasked (a clock tick) is not an answer to the next key.
        while let Ok(Some(m)) = tokio::time::timeout(Duration::ZERO, s.read.wait()).await {
            if let ChannelMsg::Data { data } = m {
                bytes += data.len() as u64;
            }
        }
        let key: &[u8] = if down { b"j" } else { b"k" };
        down = !down;
        let sent = Instant::now();
        s.write.data_bytes(key.to_vec()).await.expect("send a key");
        loop {
            match tokio::time::timeout(Duration::from_secs(10), s.read.wait()).await {
                Ok(Some(ChannelMsg::Data { data })) => {
                    latencies.push(sent.elapsed());
                    bytes += data.len() as u64;
                    break;
                }
                Ok(Some(_)) => {}
                Ok(None) => panic!("a session ended under load"),
                Err(elapsed) => panic!("no frame within 10 s of a key ({elapsed})"),
            }
        }
    }
    (latencies, bytes)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let sessions: usize = std::env::var("PRIVDESK_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let seconds: u64 = std::env::var("PRIVDESK_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tmp = tempfile::tempdir().expect("tempdir");
        let key = Arc::new(PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).expect("key"));
        eprintln!("building a desk of 200 requests…");
        build_desk(tmp.path(), &key).await;
        let config_dir = tmp.path().join("config/privdesk");
        std::fs::create_dir_all(&config_dir).expect("config dir");
        std::fs::write(
            config_dir.join("config.toml"),
            format!(
                "[ssh]\nmax_sessions = {}\nconnections_per_minute_per_ip = 100000\n[log]\nfilter = \"warn\"\n",
                sessions + 10
            ),
        )
        .expect("config");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
            l.local_addr().expect("addr").port()
        };
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_privdesk"));
        cmd.envs(env_for(tmp.path()))
            .env_remove("PRIVDESK_DATABASE_URL")
            .env_remove("PRIVDESK_KEY_STORE_URL")
            .env_remove("PRIVDESK_CONFIG")
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut server = cmd.spawn().expect("privdesk serve");
        let pid = server.id();
        let mut lines = std::io::BufReader::new(server.stdout.take().expect("stdout")).lines();
        loop {
            let line = lines.next().expect("privdesk serve ended").expect("stdout");
            if line.contains("serving staff over SSH") {
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        // One session first, so the baseline includes what the first session warms up.
        let warm = open(port, key.clone()).await;
        drop(warm);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let base = rss_kib(pid);
        eprintln!("server RSS before the sessions: {base} KiB; opening {sessions} sessions…");
        let started = Instant::now();
        let mut opened = Vec::new();
        for chunk in 0..sessions.div_ceil(10) {
            let batch = (chunk * 10..((chunk + 1) * 10).min(sessions)).map(|_| open(port, key.clone()));
            opened.extend(futures::future::join_all(batch).await);
        }
        eprintln!("{sessions} sessions open in {:.1} s", started.elapsed().as_secs_f64());
        let idle_rss = rss_kib(pid);
        eprintln!("pressing {KEYS_PER_SECOND} keys a second in each for {seconds} s…");
        let run = Duration::from_secs(seconds);
        let step = Duration::from_millis(1000 / KEYS_PER_SECOND) / u32::try_from(sessions.max(1)).unwrap_or(1);
        let tasks: Vec<_> = opened
            .into_iter()
            .enumerate()
            .map(|(i, s)| tokio::spawn(load(s, run, step * u32::try_from(i).unwrap_or(0))))
            .collect();
        let sampler = tokio::spawn(async move {
            let mut peak = 0;
            let end = Instant::now() + run;
            while Instant::now() < end {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            peak
        });
        let mut all = Vec::new();
        let mut bytes = 0;
        for t in tasks {
            let (l, b) = t.await.expect("a session task");
            all.extend(l);
            bytes += b;
        }
        let peak = sampler.await.expect("sampler");
        all.sort();
        let keys = all.len();
        let per_session = |rss: u64| (rss.saturating_sub(base)) as f64 / sessions as f64 / 1024.0;
        println!("## SSH load: {sessions} sessions at {COLS}×{ROWS}, {KEYS_PER_SECOND} keys/s each, {seconds} s");
        println!();
        println!("| measure | value |");
        println!("|---|---|");
        println!("| keys answered | {keys} ({:.0}/s) |", keys as f64 / seconds as f64);
        println!("| keystroke-to-frame p50 | {} |", ms(percentile(&all, 0.50)));
        println!("| keystroke-to-frame p99 | {} |", ms(percentile(&all, 0.99)));
        println!("| keystroke-to-frame max | {} |", ms(*all.last().unwrap_or(&Duration::ZERO)));
        println!("| bytes per key (frame) | {:.0} |", bytes as f64 / keys.max(1) as f64);
        println!("| server RSS: start (after one session) | {:.1} MiB |", base as f64 / 1024.0);
        println!("| server RSS: {sessions} sessions idle | {:.1} MiB ({:.2} MiB per session) |", idle_rss as f64 / 1024.0, per_session(idle_rss));
        println!("| server RSS: {sessions} sessions under load, peak | {:.1} MiB ({:.2} MiB per session) |", peak as f64 / 1024.0, per_session(peak));
        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
        let _ = server.wait();
    });
}
