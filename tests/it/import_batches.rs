//! `privdesk import accounts` in short transactions: the desk keeps working between the
//! batches, nothing of an unfinished import is visible, and a failure or a crash part-way
//! leaves nothing behind (no account, index, token, contact or data key).

use std::process::Command;
use std::time::Duration;

use privdesk::desk::DeskError;
use privdesk::desk::demo::NoProgress;
use privdesk::desk::import::{BadLine, ImportOptions, ImportReport};
use privdesk::domain::account::AccountId;
use privdesk::domain::staff::{Actor, Role};
use privdesk::store::keystore::KeyOwner;
use privdesk::store::{AuditFilter, StoreError};
use sqlx::Connection as _;

use crate::both_backends;
use crate::import::readme_example;
use crate::support::{Backend, TestDesk};

/// `n` accounts numbered from `from`, each with a name word they share ("Zephyr"), an email,
/// two admin logins and a designated contact.
fn accounts_file(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| {
            format!(
                r#"{{"external_id":"bulk-{i}","kind":"individual","name":"Zephyr Client{i}","email":"client{i}@example.org","admin_logins":["a{i}","b{i}"],"contacts":[{{"name":"Contact{i} Person","email":"contact{i}@example.org"}}]}}"#
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The README example with the first account's email and second contact changed.
fn readme_update() -> String {
    readme_example()
        .replace("Info@Romashka.example", "office@romashka.example")
        .replace("Олег Петров", "Ольга Петрова")
}

fn batches_of(n: u32) -> ImportOptions {
    ImportOptions {
        batch_size: n,
        ..ImportOptions::default()
    }
}

async fn try_import(
    td: &TestDesk,
    text: &str,
    opts: ImportOptions,
) -> Result<ImportReport, DeskError> {
    let mut bad = vec![];
    let r = td
        .desk
        .import_accounts(
            &td.shell(),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Some(text.len() as u64),
            opts,
            &NoProgress,
            &mut |b: &BadLine| bad.push(b.clone()),
        )
        .await;
    assert!(bad.is_empty(), "{bad:?}");
    r
}

const TABLES: [&str; 9] = [
    "accounts",
    "account_index",
    "account_tokens",
    "admin_logins",
    "contacts",
    "import_replacements",
    "import_ranges",
    "imports",
    "audit",
];

/// Row counts of the tables an import writes, read past the desk.
async fn rows(td: &TestDesk) -> Vec<(&'static str, i64)> {
    let mut raw = td.raw(false).await;
    let mut out = vec![];
    for t in TABLES {
        out.push((t, raw.i64(&format!("SELECT count(*) FROM {t}")).await));
    }
    raw.close().await;
    out
}

async fn raw_i64(td: &TestDesk, sql: &str) -> i64 {
    let mut raw = td.raw(false).await;
    let n = raw.i64(sql).await;
    raw.close().await;
    n
}

/// The accounts whose data keys are in the key store.
async fn keyed_accounts(td: &TestDesk) -> Vec<i64> {
    let page = td.desk.keys().keystore().page(None, 100_000).await.unwrap();
    page.iter()
        .filter_map(|k| match k.owner {
            KeyOwner::Account(id) => Some(id),
            KeyOwner::Index(_) => None,
        })
        .collect()
}

async fn found(td: &TestDesk, agent: &Actor, query: &str) -> Vec<AccountId> {
    td.desk
        .find_accounts(agent, query)
        .await
        .unwrap()
        .iter()
        .map(|h| h.id)
        .collect()
}

/// Lock files of imports left beside a SQLite database.
fn lock_files(td: &TestDesk) -> Vec<String> {
    if td.backend != Backend::Sqlite {
        return vec![];
    }
    std::fs::read_dir(td.db_path().parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("-import-"))
        .collect()
}

both_backends!(
    the_desk_writes_and_reads_while_an_import_is_between_batches,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, supervisor) = td.staff("sofia", Role::Supervisor).await;
        let (before, request) = crate::at_rest::account_with_request(&td, &agent).await;
        let first_new = before.0 + 1;
        let pause = td.desk.keys().faults().pause_import_after(2);
        let file = accounts_file(1, 45);
        let importing = try_import(&td, &file, batches_of(10));
        let meanwhile = async {
            pause.reached().await;
            // Two batches are in the database (20 accounts), the import waits.
            assert_eq!(
                raw_i64(
                    &td,
                    "SELECT count(*) FROM accounts WHERE import_pending IS NOT NULL"
                )
                .await,
                20
            );
            if td.backend == Backend::Sqlite {
                // No transaction of the import is open: the write lock is free right now.
                let opts = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(td.db_path())
                    .busy_timeout(Duration::ZERO);
                let mut c = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
                sqlx::raw_sql("BEGIN IMMEDIATE; ROLLBACK;")
                    .execute(&mut c)
                    .await
                    .expect("the write lock is free between batches");
                c.close().await.unwrap();
            }
            // A desk write and an audited look go through.
            td.desk
                .add_staff(
                    &td.shell(),
                    "oleg",
                    "Oleg",
                    Role::Agent,
                    None,
                    privdesk::domain::personal::Secret::new("correct horse battery".into()),
                )
                .await
                .expect("a staff member is added while the import runs");
            td.desk
                .open_request(&supervisor, request, None)
                .await
                .expect("an audited look commits while the import runs");
            // Nothing the import wrote is visible yet: not by email, name word, id, list,
            // count or contact, nor to another import's duplicate check.
            assert!(found(&td, &agent, "client3@example.org").await.is_empty());
            assert!(found(&td, &agent, "contact3@example.org").await.is_empty());
            assert!(found(&td, &agent, "Zephyr").await.is_empty());
            let store = td.desk.store();
            assert!(store.account(AccountId(first_new)).await.unwrap().is_none());
            let ids: Vec<AccountId> = (first_new..first_new + 20).map(AccountId).collect();
            assert!(store.accounts_by_ids(&ids).await.unwrap().is_empty());
            assert_eq!(store.account_count().await.unwrap().total, 1);
            assert!(
                store
                    .contacts(AccountId(first_new))
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert_eq!(
                store.admin_login_count(AccountId(first_new)).await.unwrap(),
                0
            );
            let contact = raw_i64(&td, "SELECT max(id) FROM contacts").await;
            assert!(store.contact(contact).await.unwrap().is_none());
            assert!(
                td.desk
                    .existing_accounts(Some("bulk-3"), Some("client3@example.org"))
                    .await
                    .unwrap()
                    .is_empty()
            );
            // One import at a time: a second one is refused, and says why.
            let err = try_import(&td, &accounts_file(100, 2), ImportOptions::default())
                .await
                .unwrap_err();
            assert!(
                matches!(&err, DeskError::Store(StoreError::Conflict(m)) if m.contains("another import is running")),
                "{err}"
            );
            pause.resume();
        };
        let (report, ()) = tokio::join!(importing, meanwhile);
        let report = report.unwrap();
        assert!(report.imported);
        assert_eq!(report.inserted, 45);
        // Five batches, the final step and a sweep, each short.
        assert_eq!(report.transactions, 7);
        assert!(report.longest_write_seconds > 0.0);
        // Now all of it at once.
        assert_eq!(found(&td, &agent, "Zephyr").await.len(), 45);
        assert_eq!(found(&td, &agent, "client3@example.org").await.len(), 1);
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 46);
        assert_eq!(
            raw_i64(
                &td,
                "SELECT count(*) FROM accounts WHERE import_pending IS NOT NULL"
            )
            .await,
            0
        );
        assert_eq!(
            raw_i64(&td, "SELECT count(*) FROM imports").await
                + raw_i64(&td, "SELECT count(*) FROM import_ranges").await,
            0
        );
        let audit = td
            .desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("account.import".into()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        // The newest: the account the test began with was created with this action too.
        assert_eq!(
            audit[0].draft.detail,
            "lines=45 inserted=45 replaced=0 skipped=0 passphrases=0"
        );
        assert!(lock_files(&td).is_empty());
        td.finish().await;
    }
);

/// Makes inserting an account with an id of at least `from` fail (a database error).
async fn fail_accounts_from(td: &TestDesk, from: i64) {
    let mut raw = td.raw(false).await;
    if raw.is_postgres() {
        raw.exec(&format!(
            "CREATE FUNCTION fail_import() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.id >= {from} THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$"
        ))
        .await;
        raw.exec(
            "CREATE TRIGGER fail_import BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION fail_import()",
        )
        .await;
    } else {
        raw.exec(&format!(
            "CREATE TRIGGER fail_import BEFORE INSERT ON accounts WHEN NEW.id >= {from} \
             BEGIN SELECT RAISE(ABORT, 'injected'); END"
        ))
        .await;
    }
    raw.close().await;
}

async fn stop_failing(td: &TestDesk) {
    let mut raw = td.raw(false).await;
    if raw.is_postgres() {
        raw.exec("DROP TRIGGER fail_import ON accounts").await;
    } else {
        raw.exec("DROP TRIGGER fail_import").await;
    }
    raw.close().await;
}

both_backends!(
    a_failure_after_some_batches_leaves_nothing_behind,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        // Three accounts the import replaces (--update), before it.
        let first = try_import(&td, &readme_example(), ImportOptions::default())
            .await
            .unwrap();
        assert_eq!(first.inserted, 3);
        let digest = privdesk::desk::demo::content_digest(&td.desk)
            .await
            .unwrap();
        let before = rows(&td).await;
        let keys_before = keyed_accounts(&td).await;
        // The replacements and 7 new accounts, then 10, 10, 10, 3: the third batch fails.
        let next = raw_i64(
            &td,
            "SELECT next_id FROM id_counters WHERE name = 'accounts'",
        )
        .await;
        fail_accounts_from(&td, next + 20).await;
        let file = readme_update() + &accounts_file(1, 30);
        let err = try_import(
            &td,
            &file,
            ImportOptions {
                update: true,
                batch_size: 10,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap_err();
        let message = err.to_string();
        assert!(
            message.starts_with("the import stopped and nothing of it was imported (fix the cause"),
            "{message}"
        );
        assert!(message.contains("injected"), "{message}");
        // Every row is as it was (the audit log too: a failed import did not happen), and
        // the keys made for the 17 accounts that had been written, and for the 10 whose batch
        // failed, are destroyed.
        assert_eq!(rows(&td).await, before);
        assert_eq!(keyed_accounts(&td).await, keys_before);
        assert_eq!(
            privdesk::desk::demo::content_digest(&td.desk)
                .await
                .unwrap(),
            digest,
            "a failed import changed the accounts it replaces"
        );
        assert!(found(&td, &agent, "Zephyr").await.is_empty());
        assert_eq!(found(&td, &agent, "info@romashka.example").await.len(), 1);
        assert!(
            found(&td, &agent, "office@romashka.example")
                .await
                .is_empty()
        );
        assert!(lock_files(&td).is_empty());
        // Nothing blocks the next run.
        stop_failing(&td).await;
        let again = try_import(
            &td,
            &file,
            ImportOptions {
                update: true,
                batch_size: 10,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!((again.inserted, again.replaced), (30, 3));
        assert_eq!(found(&td, &agent, "Zephyr").await.len(), 30);
        assert_eq!(found(&td, &agent, "office@romashka.example").await.len(), 1);
        td.finish().await;
    }
);

both_backends!(
    a_crash_part_way_is_removed_at_the_next_start,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        try_import(&td, &readme_example(), ImportOptions::default())
            .await
            .unwrap();
        let before = rows(&td).await;
        let keys_before = keyed_accounts(&td).await;
        td.desk.keys().faults().crash_import_after(Some(2));
        let file = readme_update() + &accounts_file(1, 30);
        let err = try_import(
            &td,
            &file,
            ImportOptions {
                update: true,
                batch_size: 10,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("fault injected"), "{err}");
        td.desk.keys().faults().crash_import_after(None);
        // Left behind: two batches (3 staged replacements, 17 new accounts) and their keys,
        // none of it visible.
        assert_eq!(
            raw_i64(
                &td,
                "SELECT count(*) FROM accounts WHERE import_pending IS NOT NULL"
            )
            .await,
            17
        );
        assert_eq!(
            raw_i64(&td, "SELECT count(*) FROM import_replacements").await,
            3
        );
        assert_eq!(keyed_accounts(&td).await.len(), keys_before.len() + 17);
        assert!(found(&td, &agent, "Zephyr").await.is_empty());
        assert!(
            found(&td, &agent, "office@romashka.example")
                .await
                .is_empty()
        );
        assert_eq!(found(&td, &agent, "Олег").await.len(), 1);
        assert!(found(&td, &agent, "Ольга").await.is_empty());
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 3);
        // The next start removes it all.
        let restarted = td.reopen().await.unwrap();
        restarted.store().close().await;
        assert_eq!(rows(&td).await, before);
        assert_eq!(keyed_accounts(&td).await, keys_before);
        assert!(lock_files(&td).is_empty());
        let again = try_import(
            &td,
            &file,
            ImportOptions {
                update: true,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap();
        assert_eq!((again.inserted, again.replaced), (30, 3));
        td.finish().await;
    }
);

both_backends!(
    replaced_rows_are_swept_after_the_final_step_even_after_a_crash,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        try_import(&td, &readme_example(), ImportOptions::default())
            .await
            .unwrap();
        let account = found(&td, &agent, "info@romashka.example").await[0];
        let old_contacts = td.desk.store().contacts(account).await.unwrap();
        assert_eq!(old_contacts.len(), 2);
        td.desk.keys().faults().crash_import_before_sweep(true);
        let err = try_import(
            &td,
            &(readme_update() + &accounts_file(1, 5)),
            ImportOptions {
                update: true,
                ..ImportOptions::default()
            },
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("before its sweep"), "{err}");
        // Its new accounts are in the desk, though still marked.
        assert_eq!(found(&td, &agent, "Zephyr").await.len(), 5);
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 8);
        assert_eq!(
            raw_i64(
                &td,
                "SELECT count(*) FROM accounts WHERE import_pending IS NOT NULL"
            )
            .await,
            5
        );
        td.desk.keys().faults().crash_import_before_sweep(false);
        // The final step committed: the new values are the account's, the old ones are
        // found no more, although their rows are still there.
        assert_eq!(
            found(&td, &agent, "office@romashka.example").await,
            [account]
        );
        assert!(found(&td, &agent, "info@romashka.example").await.is_empty());
        assert_eq!(found(&td, &agent, "Ольга").await, [account]);
        assert!(found(&td, &agent, "Олег").await.is_empty());
        let store = td.desk.store();
        let contacts = store.contacts(account).await.unwrap();
        assert_eq!(contacts.len(), 2);
        assert!(
            contacts
                .iter()
                .all(|c| !old_contacts.iter().any(|o| o.id == c.id))
        );
        let former = store.contact(old_contacts[1].id.0).await.unwrap().unwrap();
        assert!(!former.active && former.name.is_none() && former.email.is_none());
        assert_eq!(store.admin_login_count(account).await.unwrap(), 2);
        let superseded = "SELECT count(*) FROM account_index i JOIN accounts a ON a.id = i.account_id \
                          WHERE i.gen <> a.gen";
        assert!(raw_i64(&td, superseded).await > 0);
        assert_eq!(raw_i64(&td, "SELECT count(*) FROM imports").await, 1);
        // The next start sweeps them.
        let restarted = td.reopen().await.unwrap();
        restarted.store().close().await;
        assert_eq!(raw_i64(&td, superseded).await, 0);
        assert_eq!(found(&td, &agent, "Zephyr").await.len(), 5);
        for sql in [
            "SELECT count(*) FROM accounts WHERE import_pending IS NOT NULL",
            "SELECT count(*) FROM account_tokens t JOIN accounts a ON a.id = t.account_id WHERE t.gen <> a.gen",
            "SELECT count(*) FROM admin_logins l JOIN accounts a ON a.id = l.account_id WHERE l.gen <> a.gen",
            "SELECT count(*) FROM contacts c JOIN accounts a ON a.id = c.account_id \
             WHERE c.gen <> a.gen AND (c.active OR c.name_ct IS NOT NULL)",
            "SELECT count(*) FROM import_replacements",
            "SELECT count(*) FROM imports",
        ] {
            assert_eq!(raw_i64(&td, sql).await, 0, "{sql}");
        }
        assert_eq!(
            found(&td, &agent, "office@romashka.example").await,
            [account]
        );
        assert_eq!(td.desk.store().contacts(account).await.unwrap(), contacts);
        td.finish().await;
    }
);

both_backends!(
    an_account_erased_while_its_replacement_waits_undoes_the_import,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        try_import(&td, &readme_example(), ImportOptions::default())
            .await
            .unwrap();
        let account = found(&td, &agent, "info@romashka.example").await[0];
        let pause = td.desk.keys().faults().pause_import_after(1);
        let file = readme_update() + &accounts_file(1, 20);
        let importing = try_import(
            &td,
            &file,
            ImportOptions {
                update: true,
                batch_size: 10,
                ..ImportOptions::default()
            },
        );
        let meanwhile = async {
            pause.reached().await;
            td.desk
                .erase_account(&td.shell(), account, vec![], "deletion request")
                .await
                .unwrap();
            pause.resume();
        };
        let (result, ()) = tokio::join!(importing, meanwhile);
        let err = result.unwrap_err();
        assert!(
            err.to_string()
                .contains("an account it replaces was erased while it ran"),
            "{err}"
        );
        assert!(found(&td, &agent, "Zephyr").await.is_empty());
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 3);
        assert!(
            td.desk
                .store()
                .account(account)
                .await
                .unwrap()
                .unwrap()
                .flags
                .erased
        );
        for t in ["import_replacements", "imports", "import_ranges"] {
            assert_eq!(
                raw_i64(&td, &format!("SELECT count(*) FROM {t}")).await,
                0,
                "{t}"
            );
        }
        assert_eq!(
            raw_i64(&td, "SELECT count(*) FROM accounts").await,
            3,
            "the new accounts of the undone import are gone"
        );
        td.finish().await;
    }
);

fn privdesk(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_privdesk"));
    c.env_clear()
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("TMPDIR", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn a_killed_import_process_is_cleaned_up_by_the_next_command() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    assert!(privdesk(h).arg("init").output().unwrap().status.success());
    let file = h.join("clients.jsonl");
    std::fs::write(&file, accounts_file(1, 5)).unwrap();
    // The process dies after its second batch of two accounts.
    let out = privdesk(h)
        .env("PRIVDESK_FAULT_IMPORT_CRASH_AFTER", "2")
        .args(["import", "accounts", "--batch-size", "2"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("fault injected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = h.join("data/privdesk");
    let db = format!("sqlite://{}", data.join("privdesk.db").display());
    let count = |sql: &str| -> i64 {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
                .fetch_one(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
            n
        })
    };
    assert_eq!(count("SELECT count(*) FROM accounts"), 4);
    // Any next command starts by removing it.
    let out = privdesk(h).args(["staff", "list"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count("SELECT count(*) FROM accounts"), 0);
    assert_eq!(count("SELECT count(*) FROM imports"), 0);
    let keys = format!("sqlite://{}", data.join("keys.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let account_keys: i64 = rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&keys).await.unwrap();
        let n = sqlx::query_scalar("SELECT count(*) FROM wrapped_keys WHERE kind = 'account'")
            .fetch_one(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
        n
    });
    assert_eq!(account_keys, 0);
    let left: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("-import-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // And the import runs again, in full.
    let out = privdesk(h)
        .args(["import", "accounts", "--batch-size", "2"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Imported 5 accounts from 5 lines: 5 new, 0 replaced."),
        "{stdout}"
    );
    assert!(
        stdout.contains("written in 5 transactions, none holding the write lock longer than"),
        "{stdout}"
    );
}
