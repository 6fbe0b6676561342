//! `privdesk demo`: its own desk, staff logins that work only there, the counts, every
//! state reached, hostile text, reproducibility, and nothing personal in the log.

use std::collections::BTreeSet;

use privdesk::config::{Config, Overrides};
use privdesk::desk::Keyring;
use privdesk::desk::demo::{self, DemoDesk, DemoOptions, NoProgress};
use privdesk::domain::account::AccountId;
use privdesk::domain::calendar::{Calendar, Urgency};
use privdesk::domain::personal::Secret;
use privdesk::domain::request::RequestKind;
use privdesk::domain::staff::{Actor, Role, Source};
use privdesk::domain::workflow::Flow;

use crate::support::{Backend, TestDesk, monday_morning};

pub fn config(home: &std::path::Path) -> Config {
    let env: std::collections::BTreeMap<String, String> = [
        ("HOME", home.display().to_string()),
        ("XDG_DATA_HOME", home.join("data").display().to_string()),
        ("XDG_STATE_HOME", home.join("state").display().to_string()),
        ("XDG_CONFIG_HOME", home.join("config").display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Config::load(&Overrides::default(), &env).unwrap()
}

pub async fn demo(home: &std::path::Path, opts: DemoOptions) -> DemoDesk {
    let opts = DemoOptions {
        now: Some(monday_morning()),
        ..opts
    };
    demo::prepare_demo(
        &config(home),
        Calendar::embedded().unwrap(),
        &Actor::shell("tester"),
        &opts,
        &NoProgress,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_staff_log_in_only_in_the_demo_database() {
    let home = tempfile::tempdir().unwrap();
    let d = demo(
        home.path(),
        DemoOptions {
            accounts: Some(40),
            requests: Some(100),
            ..DemoOptions::default()
        },
    )
    .await;
    assert!(d.created);
    assert_eq!(d.dir, home.path().join("data/privdesk/demo"));
    for name in ["master.key", "keys.db", "privdesk.db"] {
        assert!(d.dir.join(name).exists(), "{name}");
    }
    assert!(
        !home.path().join("data/privdesk/privdesk.db").exists(),
        "the production database was touched"
    );
    let logins: Vec<&str> = d
        .holdings
        .staff
        .iter()
        .map(|(l, _, _)| l.as_str())
        .collect();
    for role in Role::ALL {
        assert!(logins.contains(&role.as_str()));
        let s = d
            .desk
            .login(role.as_str(), Secret::new("demo".into()), Source::Local)
            .await
            .unwrap();
        assert_eq!(s.role, role);
    }
    // The same demo login added to a production desk does not log in there.
    let prod = TestDesk::new(Backend::Sqlite).await;
    prod.desk
        .add_demo_staff(&prod.shell(), Role::Supervisor)
        .await
        .unwrap();
    let err = prod
        .desk
        .login("supervisor", Secret::new("demo".into()), Source::Local)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("demo logins work only in a demo database"),
        "{err}"
    );
    // A directory holding a database that is not a demo is refused, untouched.
    let prod_dir = prod.db_path().parent().unwrap().to_owned();
    let before = std::fs::read(prod.db_path()).unwrap();
    let opts = DemoOptions {
        dir: Some(prod_dir),
        fresh: true,
        ..DemoOptions::default()
    };
    let err = demo::prepare_demo(
        &config(home.path()),
        Calendar::embedded().unwrap(),
        &Actor::shell("t"),
        &opts,
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not a demo"), "{err}");
    assert_eq!(std::fs::read(prod.db_path()).unwrap(), before);
    // Reused, not rebuilt; other parameters need --fresh.
    d.desk.store().close().await;
    let again = demo(home.path(), DemoOptions::default()).await;
    assert!(!again.created);
    assert_eq!(again.params.accounts, 40);
    again.desk.store().close().await;
    let opts = DemoOptions {
        seed: Some(9),
        ..DemoOptions::default()
    };
    let err = demo::prepare_demo(
        &config(home.path()),
        Calendar::embedded().unwrap(),
        &Actor::shell("t"),
        &opts,
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("--fresh"), "{err}");
    prod.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_demo_holds_what_it_promises() {
    let home = tempfile::tempdir().unwrap();
    let d = demo(home.path(), DemoOptions::default()).await;
    let a = d.holdings.accounts;
    assert_eq!(a.total, 200);
    assert!(a.locked > 0 && a.blocked > 0 && a.erased > 0, "{a:?}");
    let stats = d.holdings.stats.clone().unwrap();
    assert_eq!(stats.requests, 500);
    // Every state of every kind.
    for kind in RequestKind::ALL {
        let states = stats
            .states
            .get(kind.as_str())
            .unwrap_or_else(|| panic!("no {kind:?}"));
        for s in Flow::of(kind).states() {
            assert!(
                states.get(s.as_str()).is_some_and(|n| *n > 0),
                "{kind:?} never in {s}"
            );
        }
    }
    let store = d.desk.store();
    let (_, overdue): (u64, u64) = d
        .holdings
        .queues
        .iter()
        .fold((0, 0), |(o, v), q| (o + q.open, v + q.overdue));
    assert!(overdue > 0);
    let supervisor = d
        .desk
        .login("supervisor", Secret::new("demo".into()), Source::Local)
        .await
        .unwrap();
    let actor = Actor::staff(&supervisor, Source::Local);
    // Walk every request: ids grow with the time of receipt, some are assigned, some due
    // within a working day, and the hostile texts are there, stored as written.
    let mut rows = vec![];
    for id in 1..=200 {
        rows.extend(store.requests_of_account(AccountId(id)).await.unwrap());
    }
    assert_eq!(rows.len(), 500);
    rows.sort_by_key(|r| r.id);
    assert!(
        rows.windows(2)
            .all(|w| w[0].received_at <= w[1].received_at),
        "ids must grow with receipt"
    );
    assert!(
        rows.iter()
            .any(|r| r.assignee.is_some() && !r.state.is_terminal())
    );
    let rules = d.desk.rules();
    let soon = rows
        .iter()
        .filter(|r| !r.state.is_terminal())
        .filter(|r| {
            rules
                .calendar
                .urgency(monday_morning(), r.due_at, &rules.tz)
                .ok()
                == Some(Urgency::DueSoon)
        })
        .count();
    assert!(soon > 0, "nothing due within a working day");
    let mut bodies = String::new();
    let mut hostile = None;
    for r in rows.iter().filter(|r| !r.account_erased) {
        let key = d.desk.keys().data_key(r.account).await.unwrap();
        for e in store.entries(r.id).await.unwrap() {
            let b =
                Keyring::open_value(&key, r.account, "request_entries", "body_ct", e.id, &e.body)
                    .unwrap();
            if b.expose().contains('\u{1b}') && !r.state.is_terminal() {
                hostile = Some(r.id);
            }
            bodies.push_str(b.expose());
            bodies.push('\n');
        }
    }
    for needle in [
        "\u{1b}[31",
        "\u{1b}]0;",
        "\u{1b}]52;c;",
        "\u{1b}]8;;",
        "\u{202e}",
        "\u{200b}",
        "🙏",
        "\u{1b}[2K",
    ] {
        assert!(bodies.contains(needle), "no hostile text {needle:?}");
    }
    assert!(
        bodies.lines().any(|l| l.len() >= 10 * 1024),
        "no 10 KB line"
    );
    // A staff member opens a request with hostile text: the view is inert.
    let view = d
        .desk
        .open_request(&actor, hostile.unwrap(), None)
        .await
        .unwrap();
    let shown: Vec<String> = view
        .entries
        .unwrap()
        .iter()
        .flat_map(|e| {
            e.body
                .expose()
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!shown.is_empty());
    for line in &shown {
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{line:?}"
        );
    }
    // Accounts: individuals and legal entities, a single admin login, phone-only contacts.
    let accounts = store
        .accounts_by_ids(&(1..=200).map(AccountId).collect::<Vec<_>>())
        .await
        .unwrap();
    let kinds: BTreeSet<&str> = accounts.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds.len(), 2);
    assert!(
        accounts
            .iter()
            .any(|a| a.admin_login_count == 1 && a.kind.as_str() == "legal_entity")
    );
    let mut phone_only = false;
    for a in accounts.iter().filter(|a| !a.flags.erased) {
        phone_only |= store
            .contacts(a.id)
            .await
            .unwrap()
            .iter()
            .any(|c| c.has_phone && !c.has_email);
    }
    assert!(phone_only);
    // Erased through crypto-shredding: no key, no values.
    let erased = accounts.iter().find(|a| a.flags.erased).unwrap();
    assert!(erased.name.is_none());
    assert!(d.desk.keys().data_key(erased.id).await.is_err());
    d.desk.store().close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_data() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let opts = |seed| DemoOptions {
        seed: Some(seed),
        accounts: Some(50),
        requests: Some(150),
        ..DemoOptions::default()
    };
    let da = demo(a.path(), opts(7)).await;
    let db = demo(b.path(), opts(7)).await;
    let dc = demo(c.path(), opts(8)).await;
    let (x, y, z) = (
        demo::content_digest(&da.desk).await.unwrap(),
        demo::content_digest(&db.desk).await.unwrap(),
        demo::content_digest(&dc.desk).await.unwrap(),
    );
    assert_eq!(x, y, "the same seed gave different data");
    assert_ne!(x, z, "another seed gave the same data");
    // Ciphertexts differ (random nonces): the sameness is of the content.
    let ra = da
        .desk
        .store()
        .account(AccountId(1))
        .await
        .unwrap()
        .unwrap();
    let rb = db
        .desk
        .store()
        .account(AccountId(1))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(ra.name, rb.name);
}

#[test]
fn the_real_binary_prints_the_demo_and_logs_no_personal_value() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_privdesk"))
            .env_clear()
            .env("HOME", h)
            .env("XDG_DATA_HOME", h.join("data"))
            .env("XDG_STATE_HOME", h.join("state"))
            .env("XDG_CONFIG_HOME", h.join("config"))
            .env("PRIVDESK_LOG", "trace")
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(args)
            .output()
            .unwrap()
    };
    let key = h.join("me.pub");
    std::fs::write(&key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq7Dp2tIYbB8b2QH0mFfN4Eh3Sl3bW3d0yJ3oO0nRr6 me@laptop\n").unwrap();
    let out = run(&[
        "demo",
        "--no-tui",
        "--accounts",
        "60",
        "--requests",
        "150",
        "--ssh-key",
        key.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("password \"demo\""), "{stdout}");
    for role in Role::ALL {
        assert!(
            stdout.contains(&format!("  {:<12} {role}", role.as_str())),
            "{stdout}"
        );
    }
    assert!(stdout.contains("Client accounts: 60"), "{stdout}");
    assert!(stdout.contains("Requests: 150"), "{stdout}");
    assert!(
        stdout.contains("SSH key SHA256:")
            && stdout.contains("registered for: agent, oncall, supervisor, auditor, admin"),
        "every demo login gets the key:\n{stdout}"
    );
    let out = run(&["demo"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(reused;"));
    let log = crate::import::logs(h);
    assert!(log.contains("generating demo data"), "{log}");
    // Names, companies, streets and e-mail domains of the demo lists must not be in the log.
    let lists = [
        include_str!("../../assets/demo/ru_last.txt"),
        include_str!("../../assets/demo/en_last.txt"),
        include_str!("../../assets/demo/companies_ru.txt"),
        include_str!("../../assets/demo/companies_en.txt"),
        include_str!("../../assets/demo/streets_ru.txt"),
    ];
    for word in lists
        .iter()
        .flat_map(|l| l.lines())
        .map(str::trim)
        .filter(|w| w.chars().count() >= 5)
    {
        assert!(!log.contains(word), "the log holds {word:?}");
    }
    for domain in [
        "@example.com",
        "@example.org",
        "@mail.example",
        "@пример.испытание",
        "203.0.113.",
        "+7 9",
        "+79",
    ] {
        assert!(!log.contains(domain), "the log holds {domain:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_demo_on_postgresql_holds_the_same_data_as_on_sqlite() {
    let Some(admin) = crate::support::pg_admin_url() else {
        eprintln!("PRIVDESK_TEST_PG_URL is not set: skipping the PostgreSQL demo");
        return;
    };
    let suffix = format!(
        "{}_{}",
        std::process::id(),
        privdesk::crypto::random_token(6)
            .to_lowercase()
            .replace(['-', '_'], "x")
    );
    let names = [
        format!("privdesk_demo_{suffix}"),
        format!("privdesk_demok_{suffix}"),
    ];
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    for n in &names {
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {n}")))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let (pg_home, lite_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let opts = DemoOptions {
        seed: Some(3),
        accounts: Some(40),
        requests: Some(120),
        ..DemoOptions::default()
    };
    let pg = demo(
        pg_home.path(),
        DemoOptions {
            postgres: Some((
                crate::support::pg_url(&admin, &names[0]),
                crate::support::pg_url(&admin, &names[1]),
            )),
            ..opts.clone()
        },
    )
    .await;
    let lite = demo(lite_home.path(), opts).await;
    assert_eq!(pg.holdings.accounts, lite.holdings.accounts);
    assert_eq!(
        demo::content_digest(&pg.desk).await.unwrap(),
        demo::content_digest(&lite.desk).await.unwrap(),
        "the same seed gave other data on PostgreSQL"
    );
    let s = pg
        .desk
        .login("agent", Secret::new("demo".into()), Source::Local)
        .await
        .unwrap();
    let found = pg
        .desk
        .search_subjects(&Actor::staff(&s, Source::Local), "password", 10)
        .await
        .unwrap();
    assert!(!found.is_empty());
    pg.desk.store().close().await;
    lite.desk.store().close().await;
    for n in &names {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {n} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
}
