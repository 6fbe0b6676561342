//! Key operations: a master key rotation interrupted half-way and resumed (in the desk and
//! through the real `privdesk keys rotate`), and crypto-shredding: an erased account cannot
//! be read from a copy of the database taken before the erasure, a crash between the
//! erasure and the key's deletion is finished at the next start, and the key store keeps no
//! trace of the deleted key.

use std::process::Command;

use privdesk::crypto::{load_key_file, write_key_file_atomically};
use privdesk::desk::{Desk, DeskError};
use privdesk::domain::calendar::Calendar;
use privdesk::domain::staff::{Actor, Role};
use privdesk::store::keystore::KeyOwner;

use crate::both_backends;
use crate::desk_requests::sample_account;
use crate::support::{Backend, TestDesk};

/// `n` accounts with distinct emails; returns their ids.
async fn accounts(td: &TestDesk, n: usize) -> Vec<privdesk::domain::account::AccountId> {
    let inputs: Vec<_> = (0..n)
        .map(|i| {
            sample_account(
                &format!("ООО «Ромашка {i}»"),
                &format!("info{i}@romashka.ru"),
            )
        })
        .collect();
    td.desk
        .create_accounts(&td.shell(), &inputs, "account.import")
        .await
        .unwrap()
}

/// Every account's name opens through `desk` (its data key unwraps).
async fn names_open(desk: &Desk, agent: &Actor, n: usize) {
    for i in 0..n {
        let hits = desk
            .find_accounts(agent, &format!("info{i}@romashka.ru"))
            .await
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(
            hits[0].name.text(),
            Some(format!("ООО «Ромашка {i}»").as_str())
        );
    }
}

async fn by_master(desk: &Desk) -> Vec<(String, u64)> {
    desk.keys().keystore().count_by_master().await.unwrap()
}

both_backends!(
    a_rotation_interrupted_half_way_resumes,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        accounts(&td, 6).await;
        let keys = td.desk.keys();
        let path = td.config.master_key_file.clone();
        let before_rotation = std::fs::read(&path).unwrap();
        let mut set = load_key_file(&path).unwrap();
        let old = set.primary().id().to_owned();
        let new = set.add_new_primary();
        write_key_file_atomically(&path, &set).unwrap();
        keys.reload_master().unwrap();

        // Stopped after three of the seven keys (six data keys and the index key).
        keys.faults().stop_rotation_after(Some(3));
        let err = keys.rewrap_all(&|_| {}).await.unwrap_err();
        assert!(err.to_string().contains("fault injected"), "{err}");
        let mut split = by_master(&td.desk).await;
        split.sort();
        let mut expected = vec![(new.clone(), 3), (old.clone(), 4)];
        expected.sort();
        assert_eq!(split, expected);
        // Every key still opens with the two-key set, also after a restart (no cached keys).
        assert_eq!(keys.verify_all().await.unwrap(), (7, vec![]));
        let restarted = td.reopen().await.unwrap();
        assert_eq!(restarted.keys().verify_all().await.unwrap(), (7, vec![]));
        names_open(&restarted, &agent, 6).await;
        restarted.store().close().await;

        // Resumed: only what is left is re-wrapped.
        keys.faults().stop_rotation_after(None);
        assert_eq!(keys.rewrap_all(&|_| {}).await.unwrap(), 4);
        assert_eq!(by_master(&td.desk).await, [(new.clone(), 7)]);
        assert_eq!(
            keys.rewrap_all(&|_| {}).await.unwrap(),
            0,
            "nothing left to do"
        );

        // Finished: the old key leaves the file and the new one alone opens everything.
        set.retire_all_but_primary();
        write_key_file_atomically(&path, &set).unwrap();
        let finished = td.reopen().await.unwrap();
        assert_eq!(finished.keys().primary_master_id().unwrap(), new);
        assert_eq!(finished.keys().verify_all().await.unwrap(), (7, vec![]));
        names_open(&finished, &agent, 6).await;
        finished.store().close().await;
        // The old key alone no longer opens this desk.
        let old_file = td.dir.path().join("old.key");
        std::fs::write(&old_file, &before_rotation).unwrap();
        std::fs::set_permissions(
            &old_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let mut config = td.config.clone();
        config.master_key_file = old_file;
        config.master_key_file_explicit = true;
        let err = Desk::open(&config, Calendar::embedded().unwrap())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
        td.finish().await;
    }
);

/// Runs the real binary against the test desk's configuration.
fn privdesk(td: &TestDesk, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_privdesk"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in &td.env {
        c.env(k, v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

both_backends!(the_cli_rotates_resumably, |td: TestDesk| async move {
    let (_, agent) = td.staff("anna", Role::Agent).await;
    accounts(&td, 4).await;
    let out = privdesk(
        &td,
        &["keys", "rotate"],
        &[("PRIVDESK_FAULT_ROTATE_AFTER", "2")],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("new master key"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("run `privdesk keys rotate` again to resume"),
        "{}",
        text(&out.stderr)
    );
    let out = privdesk(&td, &["keys", "verify"], &[]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = text(&out.stdout);
    assert!(
        report.contains("5 keys checked, 0 failed") && report.matches("master key ").count() == 2,
        "{report}"
    );
    let out = privdesk(&td, &["keys", "rotate"], &[]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let done = text(&out.stdout);
    assert!(
        done.contains("resuming")
            && done.contains("re-wrapped 3 keys")
            && done.contains("rotation complete"),
        "{done}"
    );
    let out = privdesk(&td, &["keys", "verify"], &[]);
    let report = text(&out.stdout);
    assert!(
        out.status.success() && report.contains("5 keys checked, 0 failed"),
        "{report}"
    );
    assert_eq!(report.matches("master key ").count(), 1, "{report}");
    let out = privdesk(&td, &["audit", "log", "--action", "keys"], &[]);
    let log = text(&out.stdout);
    for action in [
        "keys.rotate.begin",
        "keys.rotate.rewrap",
        "keys.rotate.finish",
        "keys.verify",
    ] {
        assert!(log.contains(action), "{action} missing from\n{log}");
    }
    // The desk opens with the rotated key file and reads every account.
    let desk = td.reopen().await.unwrap();
    names_open(&desk, &agent, 4).await;
    desk.store().close().await;
    td.finish().await;
});

/// Whether `needle` (or any 16-byte piece of it) occurs in `haystack`.
fn holds_trace_of(haystack: &[u8], needle: &[u8]) -> bool {
    needle
        .windows(16)
        .any(|piece| haystack.windows(16).any(|w| w == piece))
}

/// The file PostgreSQL keeps the key store's table in (VACUUM FULL writes a new one).
async fn filenode(td: &TestDesk) -> i64 {
    let mut raw = td.raw(true).await;
    let n = raw
        .i64("SELECT CAST(pg_relation_filenode('wrapped_keys') AS BIGINT)")
        .await;
    raw.close().await;
    n
}

fn key_store_files(td: &TestDesk) -> Vec<u8> {
    let mut all = vec![];
    for suffix in ["", "-journal", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", td.keys_path().display())) {
            all.extend(b);
        }
    }
    all
}

both_backends!(
    an_erased_account_stays_unreadable_in_an_older_copy,
    |mut td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, supervisor) = td.staff("sofia", Role::Supervisor).await;
        let (doomed, doomed_request) = crate::at_rest::account_with_request(&td, &agent).await;
        let (kept, kept_request) = crate::at_rest::account_with_request(&td, &agent).await;
        let wrapped = td
            .desk
            .keys()
            .keystore()
            .get(KeyOwner::Account(doomed.0))
            .await
            .unwrap()
            .unwrap()
            .blob;
        let filenode_before = if td.backend == Backend::Postgres {
            filenode(&td).await
        } else {
            0
        };
        if td.backend == Backend::Sqlite {
            assert!(
                holds_trace_of(&key_store_files(&td), &wrapped),
                "the scan cannot see the key it looks for"
            );
        }
        let copy = td.copy_database().await;

        td.desk
            .erase_account(&td.shell(), doomed, vec![], "deletion request")
            .await
            .unwrap();
        assert!(
            td.desk
                .keys()
                .keystore()
                .get(KeyOwner::Account(doomed.0))
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            td.desk
                .keys()
                .keystore()
                .get(KeyOwner::Account(kept.0))
                .await
                .unwrap()
                .is_some()
        );
        assert!(td.desk.store().doomed_keys().await.unwrap().is_empty());
        match td.backend {
            Backend::Sqlite => {
                assert!(
                    !holds_trace_of(&key_store_files(&td), &wrapped),
                    "the key store's files still hold the deleted key"
                );
                assert!(
                    !std::path::Path::new(&format!("{}-wal", td.keys_path().display())).exists(),
                    "the key store keeps no WAL"
                );
            }
            Backend::Postgres => {
                // VACUUM FULL rewrote the table into a new file, without the dead row.
                assert_ne!(filenode(&td).await, filenode_before);
                let mut raw = td.raw(true).await;
                let dump = raw.dump().await;
                raw.close().await;
                assert!(
                    !dump.contains(&hex::encode(&wrapped[..16])),
                    "the key store still shows the key"
                );
            }
        }

        // The copy taken before the erasure, opened with today's key store.
        let old = Desk::open(
            &td.config_with_database(&copy),
            Calendar::embedded().unwrap(),
        )
        .await
        .unwrap()
        .with_clock(td.clock.clone());
        assert!(
            !old.store()
                .account(doomed)
                .await
                .unwrap()
                .unwrap()
                .flags
                .erased,
            "the copy predates the erasure"
        );
        let err = old
            .open_request(&supervisor, doomed_request, None)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DeskError::KeyDestroyed(a) if a == doomed),
            "{err}"
        );
        let view = old
            .open_request(&supervisor, kept_request, None)
            .await
            .unwrap();
        assert_eq!(
            view.account.unwrap().name.shown.text(),
            Some("ООО «Ромашка»")
        );
        // Lists show the erased account without a name rather than fail.
        let hits = old.find_accounts(&agent, "info@romashka.ru").await.unwrap();
        let names: Vec<(_, Option<&str>)> = hits.iter().map(|h| (h.id, h.name.text())).collect();
        assert_eq!(names, [(doomed, None), (kept, Some("ООО «Ромашка»"))]);
        old.store().close().await;
        td.finish().await;
    }
);

both_backends!(
    a_crash_between_erasure_and_key_deletion_is_finished_at_the_next_start,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (doomed, _) = crate::at_rest::account_with_request(&td, &agent).await;
        td.desk
            .keys()
            .faults()
            .crash_erasure_before_key_deletion(true);
        let err = td
            .desk
            .erase_account(&td.shell(), doomed, vec![], "deletion request")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("fault injected"), "{err}");
        // The erasure committed (tombstone, doom mark, audit record); the key is still there.
        let store = td.desk.store();
        assert!(store.account(doomed).await.unwrap().unwrap().flags.erased);
        assert_eq!(store.doomed_keys().await.unwrap(), [doomed]);
        assert!(
            td.desk
                .keys()
                .keystore()
                .get(KeyOwner::Account(doomed.0))
                .await
                .unwrap()
                .is_some()
        );
        let erasures = store
            .audit_records(
                &privdesk::store::AuditFilter {
                    action: Some("account.erase".into()),
                    ..Default::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(erasures.len(), 1);
        // The next start deletes the doomed key.
        let restarted = td.reopen().await.unwrap();
        assert!(
            restarted
                .keys()
                .keystore()
                .get(KeyOwner::Account(doomed.0))
                .await
                .unwrap()
                .is_none()
        );
        assert!(restarted.store().doomed_keys().await.unwrap().is_empty());
        assert_eq!(restarted.destroy_doomed_keys().await.unwrap(), 0);
        restarted.store().close().await;
        td.finish().await;
    }
);
