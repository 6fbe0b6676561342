//! The audit chain against someone with write access to the database: an edited field, a
//! deleted record, two records' contents swapped, records cut from the end together with
//! the head (caught by a checkpoint kept off-host). And the rule that an action and its
//! audit record commit together or not at all, with the audit insert made to fail.

use privdesk::desk::DeskError;
use privdesk::domain::personal::Secret;
use privdesk::domain::staff::Role;
use privdesk::domain::workflow::Event;
use privdesk::store::{AuditHead, CheckpointMismatch, StoreError};

use crate::both_backends;
use crate::support::{Backend, Raw, TestDesk};

/// A desk with some history: staff, an account, a request worked a little.
async fn history(td: &TestDesk) -> AuditHead {
    let (_, agent) = td.staff("anna", Role::Agent).await;
    let (_, id) = crate::at_rest::account_with_request(td, &agent).await;
    let r = td.desk.take(&agent, id, 1).await.unwrap();
    td.desk
        .apply_event(
            &agent,
            id,
            r.version,
            Event::BeginVerification,
            Some("called back"),
        )
        .await
        .unwrap();
    td.desk.open_request(&agent, id, None).await.unwrap();
    let head = td.desk.store().audit_head().await.unwrap();
    assert!(head.seq >= 7, "{head:?}");
    assert!(
        td.desk
            .store()
            .verify_audit_against(Some(&head))
            .await
            .unwrap()
            .is_intact()
    );
    head
}

async fn first_bad(td: &TestDesk) -> Option<i64> {
    td.desk
        .store()
        .verify_audit()
        .await
        .unwrap()
        .first_bad
        .map(|(seq, _)| seq)
}

both_backends!(an_edited_field_is_found, |td: TestDesk| async move {
    history(&td).await;
    let mut raw = td.raw(false).await;
    // Any field of a record: here the fields a look showed, then the actor.
    raw.exec("UPDATE audit SET fields = 'email:clear' WHERE seq = 5")
        .await;
    assert_eq!(first_bad(&td).await, Some(5));
    let report = td.desk.store().verify_audit().await.unwrap();
    assert!(report.first_bad.unwrap().1.contains("edited"));
    raw.exec("UPDATE audit SET actor = 'mallory', fields = (SELECT fields FROM audit WHERE seq = 4) WHERE seq = 3").await;
    assert_eq!(first_bad(&td).await, Some(3));
    raw.close().await;
    td.finish().await;
});

both_backends!(a_deleted_record_is_found, |td: TestDesk| async move {
    history(&td).await;
    let mut raw = td.raw(false).await;
    raw.exec("DELETE FROM audit WHERE seq = 4").await;
    let report = td.desk.store().verify_audit().await.unwrap();
    let (seq, why) = report.first_bad.unwrap();
    assert_eq!(seq, 4);
    assert!(why.contains("missing"), "{why}");
    raw.close().await;
    td.finish().await;
});

both_backends!(
    the_last_record_deleted_is_found_by_the_head,
    |td: TestDesk| async move {
        let head = history(&td).await;
        let mut raw = td.raw(false).await;
        raw.exec(&format!("DELETE FROM audit WHERE seq = {}", head.seq))
            .await;
        assert_eq!(first_bad(&td).await, Some(head.seq));
        raw.close().await;
        td.finish().await;
    }
);

/// Swaps every column but the sequence number between two records: a reordering.
async fn swap(raw: &mut Raw, a: i64, b: i64) {
    let cols = "at, actor, source, action, account_id, request_id, target, fields, purpose, outcome, detail, prev_hash, hash";
    raw.exec("CREATE TEMP TABLE swap AS SELECT * FROM audit")
        .await;
    raw.exec(&format!(
        "UPDATE audit SET ({cols}) = (SELECT {cols} FROM swap s WHERE s.seq = {a} + {b} - audit.seq) WHERE seq IN ({a}, {b})"
    ))
    .await;
    raw.exec("DROP TABLE swap").await;
}

both_backends!(swapped_records_are_found, |td: TestDesk| async move {
    history(&td).await;
    let before = td
        .desk
        .store()
        .audit_records(&privdesk::store::AuditFilter::default(), 100)
        .await
        .unwrap();
    let mut raw = td.raw(false).await;
    swap(&mut raw, 3, 6).await;
    let after = td
        .desk
        .store()
        .audit_records(&privdesk::store::AuditFilter::default(), 100)
        .await
        .unwrap();
    let find = |v: &[privdesk::store::AuditRecord], seq: i64| {
        v.iter().find(|r| r.seq == seq).unwrap().draft.clone()
    };
    assert_eq!(find(&after, 3), find(&before, 6), "the swap happened");
    assert_eq!(first_bad(&td).await, Some(3));
    raw.close().await;
    td.finish().await;
});

both_backends!(
    truncation_after_a_checkpoint_is_found,
    |td: TestDesk| async move {
        let checkpoint = history(&td).await;
        let line = checkpoint.to_line();
        let parsed = AuditHead::parse_line(&line).unwrap();
        // More history after the checkpoint, then the tail cut off together with the head.
        let (_, boris) = td.staff("boris", Role::Agent).await;
        crate::at_rest::account_with_request(&td, &boris).await;
        let store = td.desk.store();
        assert!(
            store
                .verify_audit_against(Some(&parsed))
                .await
                .unwrap()
                .is_intact()
        );
        let keep = checkpoint.seq - 3;
        let mut raw = td.raw(false).await;
        raw.exec(&format!("DELETE FROM audit WHERE seq > {keep}"))
            .await;
        raw.exec(&format!(
            "UPDATE audit_head SET seq = {keep}, hash = (SELECT hash FROM audit WHERE seq = {keep})"
        ))
        .await;
        raw.close().await;
        // The chain alone looks whole: only the checkpoint shows what is gone.
        let verdict = store.verify_audit_against(None).await.unwrap();
        assert!(verdict.is_intact(), "{verdict:?}");
        let verdict = store.verify_audit_against(Some(&parsed)).await.unwrap();
        assert!(verdict.chain.is_intact());
        assert_eq!(
            verdict.checkpoint,
            Some(CheckpointMismatch::Truncated {
                checkpoint: checkpoint.seq,
                chain_end: keep
            })
        );
        assert!(!verdict.is_intact());
        // New records appended after the cut reach the checkpoint's sequence again, but not
        // its hash: the chain was rewritten.
        for _ in 0..5 {
            td.desk
                .commit(vec![], td.desk.audit(&td.shell(), "filler"))
                .await
                .unwrap();
        }
        let verdict = store.verify_audit_against(Some(&parsed)).await.unwrap();
        assert!(verdict.chain.is_intact());
        assert_eq!(
            verdict.checkpoint,
            Some(CheckpointMismatch::Rewritten {
                seq: checkpoint.seq
            })
        );
        assert!(
            verdict
                .checkpoint
                .unwrap()
                .to_string()
                .contains("REWRITTEN")
        );
        // A checkpoint of the empty chain matches only the genesis hash.
        assert!(
            store
                .verify_audit_against(Some(&AuditHead::genesis()))
                .await
                .unwrap()
                .is_intact()
        );
        let bogus = AuditHead {
            seq: 0,
            hash: vec![1; 32],
        };
        assert!(
            !store
                .verify_audit_against(Some(&bogus))
                .await
                .unwrap()
                .is_intact()
        );
        td.finish().await;
    }
);

/// Makes every insert into the audit table fail, as a full disk or a broken audit would.
async fn break_audit(td: &TestDesk) {
    let mut raw = td.raw(false).await;
    match td.backend {
        Backend::Sqlite => {
            raw.exec("CREATE TRIGGER audit_fail BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'injected'); END;").await;
        }
        Backend::Postgres => {
            raw.exec(
                "CREATE FUNCTION audit_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$",
            )
            .await;
            raw.exec("CREATE TRIGGER audit_fail BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_fail()").await;
        }
    }
    raw.close().await;
}

fn audit_failed<T: std::fmt::Debug>(r: Result<T, DeskError>) {
    match r {
        Err(DeskError::Store(StoreError::AuditFailed(m))) => assert!(m.contains("injected"), "{m}"),
        other => panic!("expected AuditFailed, got {other:?}"),
    }
}

both_backends!(
    no_action_without_its_audit_record,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, boris) = td.staff("boris", Role::Agent).await;
        let (account, id) = crate::at_rest::account_with_request(&td, &agent).await;
        let store = td.desk.store();
        let before = store.request(id).await.unwrap().unwrap();
        let entries = store.entries(id).await.unwrap().len();
        let head = store.audit_head().await.unwrap();
        let counter = store.change_counter().await.unwrap();
        break_audit(&td).await;

        audit_failed(td.desk.take(&agent, id, before.version).await);
        audit_failed(td.desk.assign(&agent, id, before.version, "boris").await);
        audit_failed(
            td.desk
                .apply_event(
                    &agent,
                    id,
                    before.version,
                    Event::BeginVerification,
                    Some("note with it"),
                )
                .await,
        );
        audit_failed(td.desk.add_note(&agent, id, "a note").await);
        audit_failed(td.desk.open_request(&agent, id, None).await);
        let shell = td.shell();
        audit_failed(
            td.desk
                .add_staff(
                    &shell,
                    "carol",
                    "Carol",
                    Role::Agent,
                    None,
                    Secret::new("correct horse battery".to_owned()),
                )
                .await,
        );
        audit_failed(td.desk.set_role(&shell, "boris", Role::Supervisor).await);
        audit_failed(td.desk.erase_account(&shell, account, vec![], "test").await);
        let _ = boris;

        // Nothing of any of them happened.
        let after = store.request(id).await.unwrap().unwrap();
        assert_eq!(after, before);
        assert_eq!(store.entries(id).await.unwrap().len(), entries);
        assert!(store.staff_by_login("carol").await.unwrap().is_none());
        assert_eq!(
            store.staff_by_login("boris").await.unwrap().unwrap().role,
            Role::Agent
        );
        let row = store.account(account).await.unwrap().unwrap();
        assert!(!row.flags.erased && row.name.is_some());
        assert!(store.doomed_keys().await.unwrap().is_empty());
        assert!(
            td.desk
                .keys()
                .keystore()
                .get(privdesk::store::keystore::KeyOwner::Account(account.0))
                .await
                .unwrap()
                .is_some(),
            "the key survives a failed erasure"
        );
        assert_eq!(store.audit_head().await.unwrap(), head);
        assert_eq!(store.change_counter().await.unwrap(), counter);

        // With the audit working again, the same actions go through.
        let mut raw = td.raw(false).await;
        raw.exec(if raw.is_postgres() {
            "DROP TRIGGER audit_fail ON audit"
        } else {
            "DROP TRIGGER audit_fail"
        })
        .await;
        raw.close().await;
        let r = td.desk.take(&agent, id, before.version).await.unwrap();
        assert_eq!(r.assignee_login.as_deref(), Some("anna"));
        assert!(store.verify_audit().await.unwrap().is_intact());
        td.finish().await;
    }
);

both_backends!(
    verifying_a_live_chain_never_cries_wolf,
    |td: TestDesk| async move {
        // `privdesk audit verify` and the audit screen check the chain while the desk works:
        // records appended meanwhile must not look like a truncation.
        let other = std::sync::Arc::new(td.reopen().await.unwrap());
        let writer = other.clone();
        let appends = tokio::spawn(async move {
            for i in 0..150 {
                let draft = writer
                    .audit(
                        &privdesk::domain::staff::Actor::shell("busy"),
                        "test.append",
                    )
                    .detail(format!("{i}"));
                writer
                    .store()
                    .commit(privdesk::store::Commit::audit_only(draft))
                    .await
                    .unwrap();
            }
        });
        let mut checks = 0;
        while !appends.is_finished() {
            let report = td.desk.store().verify_audit().await.unwrap();
            assert!(report.is_intact(), "after {checks} checks: {report:?}");
            checks += 1;
        }
        appends.await.unwrap();
        assert!(checks > 0);
        assert!(td.desk.store().verify_audit().await.unwrap().is_intact());
        other.store().close().await;
        td.finish().await;
    }
);

both_backends!(
    a_check_resumed_from_an_intact_report_sees_what_follows,
    |td: TestDesk| async move {
        history(&td).await;
        let store = td.desk.store();
        let intact = store.verify_audit().await.unwrap();
        assert!(intact.is_intact());
        // Nothing new: the same report.
        assert_eq!(store.verify_audit_after(&intact).await.unwrap(), intact);
        // Records appended since are counted and checked.
        let (_, agent) = td.staff("boris", Role::Agent).await;
        td.desk
            .open_request(&agent, privdesk::domain::request::RequestId(1), None)
            .await
            .unwrap();
        let later = store.verify_audit_after(&intact).await.unwrap();
        assert!(later.is_intact());
        assert_eq!(later, store.verify_audit().await.unwrap());
        assert!(later.records > intact.records);
        // An appended record edited is found by the resumed check.
        let mut raw = td.raw(false).await;
        raw.exec(&format!(
            "UPDATE audit SET actor = 'mallory' WHERE seq = {}",
            intact.head.seq + 1
        ))
        .await;
        let (seq, why) = store
            .verify_audit_after(&intact)
            .await
            .unwrap()
            .first_bad
            .unwrap();
        assert_eq!(seq, intact.head.seq + 1);
        assert!(why.contains("edited"), "{why}");
        // Records cut from the end back past the intact report, with the head moved back.
        raw.exec(&format!(
            "DELETE FROM audit WHERE seq > {}",
            intact.head.seq - 2
        ))
        .await;
        raw.exec(&format!(
        "UPDATE audit_head SET seq = {0}, hash = (SELECT hash FROM audit WHERE seq = {0}) WHERE id = 1",
        intact.head.seq - 2
    ))
    .await;
        let cut = store.verify_audit_after(&intact).await.unwrap();
        assert!(!cut.is_intact(), "{cut:?}");
        raw.close().await;
        td.finish().await;
    }
);
