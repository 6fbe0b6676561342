//! The desk's hot paths on a demo database of 10,000 and of 1,000,000 requests.
//!
//! ```sh
//! # Once: the million-request database (about two minutes, 1.5 GB), reused afterwards.
//! # The `privdesk` directory layout also serves `PRIVDESK_BENCH_DATA=/var/tmp/privdesk-bench`
//! # for `cargo bench --bench tui`.
//! cargo run --release -- demo --no-tui --accounts 20000 --requests 1000000 \
//!     --data-dir /var/tmp/privdesk-bench/privdesk
//! # Each time:
//! PRIVDESK_BENCH_DB=/var/tmp/privdesk-bench/privdesk cargo bench --bench desk
//! ```
//!
//! The 10,000-request database is built by the benchmark itself the first time (into
//! `target/bench-demo-10k`, or `PRIVDESK_BENCH_DB_10K`). Without `PRIVDESK_BENCH_DB` only the
//! 10,000-request set is measured. A demo on PostgreSQL (`privdesk demo --pg-database URL
//! --pg-key-store URL --data-dir DIR`) is measured with `PRIVDESK_BENCH_PG_DB=URL
//! PRIVDESK_BENCH_PG_KEYS=URL PRIVDESK_BENCH_PG_DIR=DIR` (and `PRIVDESK_BENCH_PG_LABEL` to
//! name the group). Writes (an audited look, a state change) run with the store's
//! `synchronous = FULL`, and leave their audit records and timeline entries behind.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use privdesk::config::{Config, Overrides};
use privdesk::desk::demo::{self, DemoOptions, NoProgress};
use privdesk::desk::requests::{Filter, QueuePage};
use privdesk::desk::{Desk, Keyring};
use privdesk::domain::account::AccountId;
use privdesk::domain::calendar::Calendar;
use privdesk::domain::personal::Secret;
use privdesk::domain::request::{Queue, RequestId};
use privdesk::domain::staff::{Actor, Source};
use privdesk::domain::workflow::{Event, State};

fn base_config() -> Config {
    let home = std::env::temp_dir().join("privdesk-bench-home");
    let env: BTreeMap<String, String> = [("HOME".to_owned(), home.display().to_string())]
        .into_iter()
        .collect();
    Config::load(&Overrides::default(), &env).unwrap()
}

/// Opens (building it the first time) a demo database for the benchmarks.
async fn open(dir: &Path, build: Option<(u32, u32)>, pg: Option<(String, String)>) -> Option<Desk> {
    let base = base_config();
    let calendar = Calendar::embedded().unwrap();
    let mut config = demo::demo_config(&base, dir);
    if let Some((db, keys)) = &pg {
        config.database_url.clone_from(db);
        config.key_store_url.clone_from(keys);
    }
    if pg.is_some() || dir.join("privdesk.db").exists() {
        return Some(Desk::open(&config, calendar).await.unwrap());
    }
    let (accounts, requests) = build?;
    eprintln!(
        "building the {requests}-request benchmark database in {} …",
        dir.display()
    );
    let opts = DemoOptions {
        accounts: Some(accounts),
        requests: Some(requests),
        dir: Some(dir.to_owned()),
        ..DemoOptions::default()
    };
    let d = demo::prepare_demo(&base, calendar, &Actor::shell("bench"), &opts, &NoProgress)
        .await
        .unwrap();
    Some(d.desk)
}

async fn staff(desk: &Desk, login: &str) -> Actor {
    let s = desk
        .login(login, Secret::new("demo".into()), Source::Local)
        .await
        .unwrap();
    Actor::staff(&s, Source::Local)
}

/// An account's email and the first word of its name, decrypted (the demo's own key).
async fn sample_account(desk: &Desk) -> (String, String) {
    for id in 2.. {
        let Some(row) = desk.store().account(AccountId(id)).await.unwrap() else {
            continue;
        };
        let (Some(email), Some(name)) = (&row.email, &row.name) else {
            continue;
        };
        let key = desk.keys().data_key(row.id).await.unwrap();
        let email = Keyring::open_value(&key, row.id, "accounts", "email_ct", id, email).unwrap();
        let name = Keyring::open_value(&key, row.id, "accounts", "name_ct", id, name).unwrap();
        let word = name
            .expose()
            .split_whitespace()
            .find(|w| w.chars().count() > 3)
            .unwrap_or("x")
            .to_owned();
        return (email.expose().clone(), word);
    }
    unreachable!()
}

fn page(queue: Queue, cursor: Option<(jiff::Timestamp, RequestId)>) -> QueuePage {
    QueuePage {
        queue,
        filter: Filter::default(),
        cursor,
        backward: false,
        limit: 50,
    }
}

fn bench_set(c: &mut Criterion, rt: &tokio::runtime::Runtime, label: &str, desk: &Desk) {
    let (sup, agent) =
        rt.block_on(async { (staff(desk, "supervisor").await, staff(desk, "agent").await) });
    let (email, word) = rt.block_on(sample_account(desk));
    let first = rt
        .block_on(desk.list_queue(&sup, &page(Queue::Reset, None)))
        .unwrap();
    let last = first.last().map(|r| (r.due_at, r.id));
    let open_id = first[first.len() / 2].id;
    // A subject request ready to go back and forth: prepared ⇄ awaiting approval.
    let prepared = rt
        .block_on(desk.list_queue(
            &sup,
            &QueuePage {
                filter: Filter {
                    state: Some(State::Prepared),
                    ..Filter::default()
                },
                ..page(Queue::Subject, None)
            },
        ))
        .unwrap();
    let mut g = c.benchmark_group(label);
    g.sample_size(60)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("queue first page", |b| {
        b.to_async(rt).iter(|| async {
            desk.list_queue(&sup, &page(Queue::Reset, None))
                .await
                .unwrap()
        });
    });
    g.bench_function("queue next page", |b| {
        b.to_async(rt).iter(|| async {
            desk.list_queue(&sup, &page(Queue::Reset, last))
                .await
                .unwrap()
        });
    });
    // The store alone (SQL, no decryption, no masking): where a page's time goes.
    let query = privdesk::store::ListQuery::first_page(Queue::Reset, 50);
    g.bench_function("store only: queue first page", |b| {
        b.to_async(rt)
            .iter(|| async { desk.store().list_requests(&query).await.unwrap() });
    });
    g.bench_function("queue badges", |b| {
        b.to_async(rt)
            .iter(|| async { desk.queue_badges(&sup).await.unwrap() });
    });
    g.bench_function("subject search, rare word", |b| {
        b.to_async(rt).iter(|| async {
            desk.search_subjects(&sup, demo::RARE_WORD, 50)
                .await
                .unwrap()
        });
    });
    g.bench_function("subject search, common word", |b| {
        b.to_async(rt).iter(|| async {
            desk.search_subjects(&sup, demo::COMMON_WORD, 50)
                .await
                .unwrap()
        });
    });
    g.bench_function("account by email", |b| {
        b.to_async(rt).iter(|| async {
            assert!(!desk.find_accounts(&agent, &email).await.unwrap().is_empty());
        });
    });
    g.bench_function("account by name word", |b| {
        b.to_async(rt)
            .iter(|| async { desk.find_accounts(&agent, &word).await.unwrap() });
    });
    g.bench_function("open request, audited look", |b| {
        b.to_async(rt)
            .iter(|| async { desk.open_request(&sup, open_id, None).await.unwrap() });
    });
    if let Some(r) = prepared.first() {
        let id = r.id;
        g.bench_function("state change with audit", |b| {
            b.to_async(rt).iter_custom(|iters| {
                let (sup, agent) = (&sup, &agent);
                async move {
                    let (mut state, mut version) = current(desk, id).await;
                    let started = Instant::now();
                    for _ in 0..iters {
                        let (who, event) = if state == State::Prepared {
                            (agent, Event::SubmitForApproval)
                        } else {
                            (sup, Event::SendBack)
                        };
                        let row = desk
                            .apply_event(who, id, version, event, None)
                            .await
                            .unwrap();
                        version = row.version;
                        state = row.state;
                    }
                    started.elapsed()
                }
            });
        });
    }
    g.finish();
}

/// The request's state and version now (a sample continues where the last one stopped).
async fn current(desk: &Desk, id: RequestId) -> (State, i64) {
    let r = desk.store().request(id).await.unwrap().unwrap();
    (r.state, r.version)
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let small: PathBuf = std::env::var_os("PRIVDESK_BENCH_DB_10K").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-demo-10k"),
        PathBuf::from,
    );
    let desk = rt
        .block_on(open(&small, Some((2_000, 10_000)), None))
        .unwrap();
    bench_set(c, &rt, "10k requests", &desk);
    rt.block_on(desk.store().close());
    match std::env::var_os("PRIVDESK_BENCH_DB").map(PathBuf::from) {
        Some(dir) => match rt.block_on(open(&dir, None, None)) {
            Some(desk) => {
                bench_set(c, &rt, "1M requests", &desk);
                rt.block_on(desk.store().close());
            }
            None => eprintln!(
                "PRIVDESK_BENCH_DB={}: no demo database there; build it with `privdesk demo --no-tui --accounts 20000 \
                 --requests 1000000 --data-dir {}`",
                dir.display(),
                dir.display()
            ),
        },
        None => eprintln!(
            "PRIVDESK_BENCH_DB is not set: measuring the 10,000-request set only (see benches/desk.rs)"
        ),
    }
    // PostgreSQL: a demo built with `privdesk demo --pg-database URL --pg-key-store URL
    // --data-dir DIR` (the master key stays in DIR).
    if let (Ok(db), Ok(keys), Some(dir)) = (
        std::env::var("PRIVDESK_BENCH_PG_DB"),
        std::env::var("PRIVDESK_BENCH_PG_KEYS"),
        std::env::var_os("PRIVDESK_BENCH_PG_DIR").map(PathBuf::from),
    ) {
        let label =
            std::env::var("PRIVDESK_BENCH_PG_LABEL").unwrap_or_else(|_| "PostgreSQL".into());
        let desk = rt.block_on(open(&dir, None, Some((db, keys)))).unwrap();
        bench_set(c, &rt, &label, &desk);
        rt.block_on(desk.store().close());
    }
}

criterion_group!(desk_benches, benches);
criterion_main!(desk_benches);
