#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::duration_suboptimal_units
)]

//! The desk's screen efficiency at 100×30, in English: bytes written to the terminal per
//! one-row move and per page move, and keystroke-to-frame time (the App handling a key,
//! fetching a page when it needs one, and drawing the frame).
//!
//! `cargo bench --bench tui` builds a desk of `PRIVDESK_BENCH_REQUESTS` requests (default
//! 2,000) in a temporary directory. With `PRIVDESK_BENCH_DATA=DIR` it opens an existing
//! demo desk instead (DIR is the `XDG_DATA_HOME` the demo was made in; see BENCHMARKS.md),
//! e.g. the 1,000,000-request one.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use privdesk::config::{Config, Overrides};
use privdesk::desk::Desk;
use privdesk::desk::accounts::{AccountInput, ContactInput};
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::{AccountFlags, AccountKind, ContactId};
use privdesk::domain::calendar::Calendar;
use privdesk::domain::personal::{Personal, Secret};
use privdesk::domain::request::{Channel, RequestKind};
use privdesk::domain::staff::{Actor, Lang, Role, Source};
use privdesk::tui::i18n::I18n;
use privdesk::tui::keymap::KeyMap;
use privdesk::tui::theme::Theme;
use privdesk::tui::{App, Input, Settings};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

/// A terminal that counts what it is sent.
#[derive(Clone)]
struct Counter(Arc<AtomicU64>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn settings() -> Settings {
    Settings {
        lang_override: Some(Lang::En),
        locale: None,
        default_lang: None,
        idle_lock: Duration::from_secs(3600),
        source: Source::Local,
        keymap: KeyMap::default(),
        theme: Theme { color: true },
        paste_limit: 20_000,
        reveal_ttl: Duration::from_secs(60),
    }
}

fn env_for(dir: &std::path::Path) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    env.insert("HOME".to_owned(), dir.display().to_string());
    env.insert("XDG_DATA_HOME".to_owned(), dir.display().to_string());
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

async fn build_desk(dir: &std::path::Path, requests: usize) -> (Arc<Desk>, Actor) {
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
    let agent = Actor::staff(&staff, Source::Local);
    let accounts: Vec<AccountInput> = (0..50)
        .map(|i| AccountInput {
            external_id: None,
            kind: if i % 2 == 0 {
                AccountKind::LegalEntity
            } else {
                AccountKind::Individual
            },
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
    for n in 0..requests {
        let account = ids[n % ids.len()];
        let received = desk
            .now()
            .checked_sub(jiff::SignedDuration::from_mins(
                i64::try_from(n).unwrap_or(0),
            ))
            .unwrap_or(desk.now());
        desk.file_request(
            &agent,
            RequestInput {
                kind: RequestKind::PasswordReset,
                account,
                requester: RequesterInput::Contact(ContactId(account.0)),
                channel: Channel::Phone,
                subject: format!("Lost access, case {n}"),
                received_at: received,
            },
        )
        .await
        .expect("request");
    }
    (Arc::new(desk), agent)
}

async fn open_demo(dir: &std::path::Path) -> Arc<Desk> {
    let config = Config::load(&Overrides::default(), &env_for(dir)).expect("config");
    Arc::new(
        Desk::open(&config, Calendar::embedded().expect("calendar"))
            .await
            .expect("open the demo desk"),
    )
}

fn key(code: KeyCode, mods: KeyModifiers) -> Input {
    Input::Key(KeyEvent::new(code, mods))
}

struct Measure {
    bytes: Vec<u64>,
    times: Vec<Duration>,
}

async fn press(
    app: &mut App,
    term: &mut Terminal<CrosstermBackend<Counter>>,
    counter: &Counter,
    input: Input,
    m: &mut Measure,
) {
    let before = counter.0.load(Ordering::Relaxed);
    let t = Instant::now();
    app.on_input(input);
    // The frame is drawn at once; pages fetched ahead of the selection arrive later.
    app.render(term).expect("render");
    m.times.push(t.elapsed());
    app.settle().await;
    app.render(term).expect("render");
    m.bytes.push(counter.0.load(Ordering::Relaxed) - before);
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let tmp = tempfile::tempdir().expect("tempdir");
        let desk = if let Ok(dir) = std::env::var("PRIVDESK_BENCH_DATA") {
            open_demo(std::path::Path::new(&dir)).await
        } else {
            let n = std::env::var("PRIVDESK_BENCH_REQUESTS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(2_000);
            eprintln!("building a desk of {n} requests…");
            build_desk(tmp.path(), n).await.0
        };
        let login = "agent".to_owned();
        let row = desk
            .store()
            .staff_by_login(&login)
            .await
            .expect("staff")
            .expect("an agent");
        let staff = desk
            .login(
                &login,
                Secret::new(
                    if std::env::var("PRIVDESK_BENCH_DATA").is_ok() {
                        "demo"
                    } else {
                        "bench password long"
                    }
                    .to_owned(),
                ),
                Source::Local,
            )
            .await
            .expect("login");
        let _ = row;
        let generation = desk.staff_generation(&staff).await.expect("generation");
        let counter = Counter(Arc::new(AtomicU64::new(0)));
        let backend = CrosstermBackend::new(counter.clone());
        let mut term = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, 100, 30)),
            },
        )
        .expect("terminal");
        let mut app = App::signed_in(
            desk.clone(),
            Arc::new(I18n::new().expect("i18n")),
            settings(),
            staff,
            generation,
        );
        app.settle().await;
        app.render(&mut term).expect("first frame");
        let first = counter.0.load(Ordering::Relaxed);
        let mut rows = Measure {
            bytes: vec![],
            times: vec![],
        };
        for _ in 0..1000 {
            press(
                &mut app,
                &mut term,
                &counter,
                key(KeyCode::Char('j'), KeyModifiers::NONE),
                &mut rows,
            )
            .await;
        }
        let mut pages = Measure {
            bytes: vec![],
            times: vec![],
        };
        press(
            &mut app,
            &mut term,
            &counter,
            key(KeyCode::Char('g'), KeyModifiers::NONE),
            &mut pages,
        )
        .await;
        pages = Measure {
            bytes: vec![],
            times: vec![],
        };
        for _ in 0..60 {
            press(
                &mut app,
                &mut term,
                &counter,
                key(KeyCode::Char('d'), KeyModifiers::CONTROL),
                &mut pages,
            )
            .await;
        }
        let idle_before = counter.0.load(Ordering::Relaxed);
        let drew = app.render(&mut term).expect("idle");
        let idle = counter.0.load(Ordering::Relaxed) - idle_before;
        let mean = |v: &[u64]| v.iter().sum::<u64>() as f64 / v.len().max(1) as f64;
        let max = |v: &[u64]| v.iter().copied().max().unwrap_or(0);
        println!("first frame: {first} bytes");
        println!(
            "one-row move: mean {:.0} bytes, max {} bytes ({} moves)",
            mean(&rows.bytes),
            max(&rows.bytes),
            rows.bytes.len()
        );
        println!(
            "page move:    mean {:.0} bytes, max {} bytes ({} moves)",
            mean(&pages.bytes),
            max(&pages.bytes),
            pages.bytes.len()
        );
        println!("redraw with nothing changed: drew={drew}, {idle} bytes");
        let mut all: Vec<Duration> = rows.times.iter().chain(&pages.times).copied().collect();
        println!(
            "keystroke to frame: p50 {:?}, p99 {:?}, max {:?} ({} keys)",
            percentile(&mut all, 0.5),
            percentile(&mut all, 0.99),
            percentile(&mut all, 1.0),
            all.len()
        );
        desk.store().close().await;
    });
}
