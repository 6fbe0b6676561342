//! Every store operation on both backends, natively: staff and their keys, accounts with
//! their indexes and tokens, requests with keyset pages, counts and word search, entries,
//! verification data, erasure bookkeeping, stale writes, all-or-nothing commits, change
//! notices, and the audit chain under concurrent appends (also from two desks at once).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use privdesk::crypto::{IndexKind, TokenScope};
use privdesk::domain::account::{AccountId, ContactId, LoginResult};
use privdesk::domain::personal::Personal;
use privdesk::domain::request::{Channel, Queue, RequestId, RequestKind};
use privdesk::domain::staff::{Actor, Lang, Role, StaffId};
use privdesk::domain::view::EntryKind;
use privdesk::domain::workflow::{Flow, State};
use privdesk::store::{
    AuditDraft, AuditFilter, ChangeNotice, Commit, Cursor, Direction, IdTable, IndexKindTag,
    ListQuery, Mutation, NewAccount, NewContact, NewEntry, NewRequest, NewStaff, NewStaffKey,
    NewVerification, RequestChange, RequesterTag, StaffChange, StoreError,
};

use crate::both_backends;
use crate::desk_requests::sample_account;
use crate::support::{TestDesk, monday_morning};

fn draft(action: &str) -> AuditDraft {
    AuditDraft::new(&Actor::shell("tester"), action, monday_morning())
}

fn commit(mutations: Vec<Mutation>, action: &str) -> Commit {
    Commit {
        mutations,
        audit: vec![draft(action)],
    }
}

fn new_staff(login: &str, role: Role) -> NewStaff {
    NewStaff {
        login: login.to_owned(),
        display_name: format!("{login} display"),
        role,
        lang: Some(Lang::Ru),
        password_hash: "$argon2id$not-a-real-hash".to_owned(),
        demo: false,
    }
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

/// A request with fake sealed bytes: the store neither knows nor checks what they hold.
fn new_request(
    id: RequestId,
    account: AccountId,
    kind: RequestKind,
    due_at: Timestamp,
    tokens: Vec<String>,
) -> NewRequest {
    NewRequest {
        id,
        kind,
        account,
        requester: RequesterTag::Staff,
        requester_contact: None,
        requester_text: None,
        channel: Channel::Email,
        state: Flow::of(kind).initial(),
        assignee: None,
        received_at: monday_morning(),
        due_at,
        subject: Some(vec![0xAB; 24]),
        subject_tokens: tokens,
        filed_by: None,
        prepared_by: None,
        severity: None,
        personal_data_leak: None,
        identity_verified: false,
        by: "tester@cli".to_owned(),
    }
}

async fn one_account(td: &TestDesk, name: &str, email: &str) -> AccountId {
    td.desk
        .create_accounts(
            &td.shell(),
            &[sample_account(name, email)],
            "account.import",
        )
        .await
        .unwrap()[0]
}

both_backends!(meta_ids_and_migrations, |td: TestDesk| async move {
    let store = td.desk.store();
    assert_eq!(
        store.backend(),
        match td.backend {
            crate::support::Backend::Sqlite => privdesk::store::Backend::Sqlite,
            crate::support::Backend::Postgres => privdesk::store::Backend::Postgres,
        }
    );
    // Migrations run again change nothing.
    store.migrate().await.unwrap();
    assert_eq!(
        store.meta("desk_id").await.unwrap().as_deref(),
        Some(td.desk.keys().desk_id())
    );
    assert_eq!(store.meta("no-such-key").await.unwrap(), None);
    store
        .commit(commit(
            vec![Mutation::SetMeta {
                key: "k".into(),
                value: "1".into(),
            }],
            "meta",
        ))
        .await
        .unwrap();
    store
        .commit(commit(
            vec![Mutation::SetMeta {
                key: "k".into(),
                value: "2".into(),
            }],
            "meta",
        ))
        .await
        .unwrap();
    assert_eq!(store.meta("k").await.unwrap().as_deref(), Some("2"));
    // Reserved ids never overlap, also when reserved concurrently.
    let mut tasks = vec![];
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.reserve_ids(IdTable::Entries, 5).await.unwrap()
        }));
    }
    let mut firsts = vec![];
    for t in tasks {
        firsts.push(t.await.unwrap());
    }
    let ids: BTreeSet<i64> = firsts.iter().flat_map(|&f| f..f + 5).collect();
    assert_eq!(ids.len(), 40, "{firsts:?}");
    assert!(store.reserve_ids(IdTable::Entries, 1).await.unwrap() > *ids.last().unwrap());
    td.finish().await;
});

both_backends!(staff_rows_keys_and_conflicts, |td: TestDesk| async move {
    let store = td.desk.store();
    let out = store
        .commit(commit(
            vec![
                Mutation::InsertStaff(new_staff("anna", Role::Agent)),
                Mutation::InsertStaff(new_staff("boris", Role::Oncall)),
            ],
            "staff.add",
        ))
        .await
        .unwrap();
    assert_eq!(out.staff_ids.len(), 2);
    assert_eq!(out.audit_seqs.len(), 1);
    let anna = store.staff_by_login("anna").await.unwrap().unwrap();
    assert_eq!(anna.id, out.staff_ids[0]);
    assert_eq!(
        (anna.role, anna.lang, anna.display_name.as_str()),
        (Role::Agent, Some(Lang::Ru), "anna display")
    );
    assert_eq!(
        (
            anna.failed_attempts,
            anna.locked_until,
            anna.disabled,
            anna.generation,
            anna.key_count
        ),
        (0, None, false, 0, 0)
    );
    assert_eq!(store.staff_by_id(anna.id).await.unwrap().unwrap(), anna);
    assert!(store.staff_by_login("nobody").await.unwrap().is_none());
    assert!(store.staff_by_id(StaffId(987_654)).await.unwrap().is_none());
    let logins: Vec<String> = store
        .list_staff()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.login)
        .collect();
    assert_eq!(logins, ["anna", "boris"]);

    // A duplicate login is a conflict naming it, and nothing of that commit stays: not the
    // other staff member, not its audit record.
    let head = store.audit_head().await.unwrap();
    let err = store
        .commit(commit(
            vec![
                Mutation::InsertStaff(new_staff("carol", Role::Agent)),
                Mutation::InsertStaff(new_staff("anna", Role::Admin)),
            ],
            "staff.add",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("anna")),
        "{err}"
    );
    assert!(store.staff_by_login("carol").await.unwrap().is_none());
    assert_eq!(store.audit_head().await.unwrap(), head);

    let until = monday_morning() + hours(1);
    let change = StaffChange {
        role: Some(Role::Supervisor),
        lang: Some(None),
        password_hash: Some("$argon2id$other".into()),
        disabled: Some(true),
        failed_attempts: Some(3),
        locked_until: Some(Some(until)),
        last_login_at: Some(monday_morning()),
        bump_generation: true,
        expected_failed_attempts: None,
    };
    store
        .commit(commit(
            vec![Mutation::UpdateStaff {
                id: anna.id,
                change,
            }],
            "staff.update",
        ))
        .await
        .unwrap();
    let a = store.staff_by_id(anna.id).await.unwrap().unwrap();
    assert_eq!(
        (a.role, a.lang, a.password_hash.as_str(), a.disabled),
        (Role::Supervisor, None, "$argon2id$other", true)
    );
    assert_eq!(
        (
            a.failed_attempts,
            a.locked_until,
            a.last_login_at,
            a.generation
        ),
        (3, Some(until), Some(monday_morning()), 1)
    );
    // A failed-login count written as compare-and-set: refused as stale when the count
    // moved (another attempt counted first), applied when it did not.
    let count = |expected: u32| StaffChange {
        failed_attempts: Some(expected + 1),
        expected_failed_attempts: Some(expected),
        ..StaffChange::default()
    };
    let err = store
        .commit(commit(
            vec![Mutation::UpdateStaff {
                id: anna.id,
                change: count(2),
            }],
            "auth.login",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Stale { version: 3, .. }), "{err}");
    assert_eq!(
        store
            .staff_by_id(anna.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        3
    );
    store
        .commit(commit(
            vec![Mutation::UpdateStaff {
                id: anna.id,
                change: count(3),
            }],
            "auth.login",
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .staff_by_id(anna.id)
            .await
            .unwrap()
            .unwrap()
            .failed_attempts,
        4
    );
    let clear = StaffChange {
        locked_until: Some(None),
        ..StaffChange::default()
    };
    store
        .commit(commit(
            vec![Mutation::UpdateStaff {
                id: anna.id,
                change: clear,
            }],
            "staff.unlock",
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .staff_by_id(anna.id)
            .await
            .unwrap()
            .unwrap()
            .locked_until,
        None
    );
    let err = store
        .commit(commit(
            vec![Mutation::UpdateStaff {
                id: StaffId(987_654),
                change: StaffChange::default(),
            }],
            "staff.update",
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }), "{err}");

    let key = |staff: StaffId| NewStaffKey {
        staff,
        algorithm: "ssh-ed25519".into(),
        public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq7".into(),
        fingerprint: "SHA256:test-fingerprint".into(),
        comment: "laptop".into(),
    };
    let out = store
        .commit(commit(
            vec![Mutation::AddStaffKey(key(anna.id))],
            "staff.add_key",
        ))
        .await
        .unwrap();
    assert_eq!(out.key_ids.len(), 1);
    let keys = store.staff_keys(anna.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        (
            keys[0].id,
            keys[0].comment.as_str(),
            keys[0].algorithm.as_str()
        ),
        (out.key_ids[0], "laptop", "ssh-ed25519")
    );
    let by_fp = store
        .staff_keys_by_fingerprint("SHA256:test-fingerprint")
        .await
        .unwrap();
    assert_eq!(by_fp.len(), 1);
    assert_eq!(by_fp[0].staff_id, anna.id);
    assert!(
        store
            .staff_keys_by_fingerprint("SHA256:other")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.staff_by_id(anna.id).await.unwrap().unwrap().key_count,
        1
    );
    // A key is registered once per member (the desk refuses sharing it between real
    // staff; see staff_accounts::a_key_is_one_persons).
    let err = store
        .commit(commit(
            vec![Mutation::AddStaffKey(key(anna.id))],
            "staff.add_key",
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Conflict(m) if m.contains("SHA256:test-fingerprint")),
        "{err}"
    );
    let boris = store.staff_by_login("boris").await.unwrap().unwrap();
    store
        .commit(commit(
            vec![Mutation::AddStaffKey(key(boris.id))],
            "staff.add_key",
        ))
        .await
        .unwrap();
    assert_eq!(
        store
            .staff_keys_by_fingerprint("SHA256:test-fingerprint")
            .await
            .unwrap()
            .len(),
        2
    );
    store
        .commit(commit(
            vec![Mutation::RemoveStaffKey {
                staff: boris.id,
                fingerprint: "SHA256:test-fingerprint".into(),
            }],
            "staff.remove_key",
        ))
        .await
        .unwrap();
    // Removing a key ends live sessions (the generation moves) and removes only it.
    let remove = Mutation::RemoveStaffKey {
        staff: anna.id,
        fingerprint: "SHA256:test-fingerprint".into(),
    };
    store
        .commit(commit(vec![remove], "staff.remove_key"))
        .await
        .unwrap();
    let a = store.staff_by_id(anna.id).await.unwrap().unwrap();
    assert_eq!((a.key_count, a.generation), (0, 2));
    assert!(store.staff_keys(anna.id).await.unwrap().is_empty());
    let again = Mutation::RemoveStaffKey {
        staff: anna.id,
        fingerprint: "SHA256:test-fingerprint".into(),
    };
    assert!(matches!(
        store.commit(commit(vec![again], "staff.remove_key")).await,
        Err(StoreError::NotFound { .. })
    ));
    td.finish().await;
});

both_backends!(
    accounts_indexes_tokens_flags_and_erasure,
    |td: TestDesk| async move {
        let desk = &td.desk;
        let store = desk.store();
        let t0 = monday_morning();
        let mut first = sample_account("ООО «Ромашка»", "info@romashka.ru");
        first.admin_logins.push(Personal::from("admin2"));
        first.login_history = vec![
            (t0, Personal::from("10.0.0.1"), LoginResult::Success),
            (
                t0 + hours(1),
                Personal::from("10.0.0.2"),
                LoginResult::WrongPassword,
            ),
        ];
        first.sessions = vec![(t0, Personal::from("10.0.0.1"))];
        let sealed = desk
            .seal_accounts(&[first, sample_account("ИП Семёнов", "ip@semenov.ru")])
            .await
            .unwrap();
        let (a, b) = (sealed[0].id, sealed[1].id);
        assert_eq!(b.0, a.0 + 1);
        store
            .commit(commit(
                sealed
                    .into_iter()
                    .map(|s| Mutation::InsertAccount(Box::new(s)))
                    .collect(),
                "account.import",
            ))
            .await
            .unwrap();

        let row = store.account(a).await.unwrap().unwrap();
        assert!(
            row.name.is_some()
                && row.email.is_some()
                && row.postal_address.is_some()
                && row.tax_id.is_some()
        );
        assert_eq!(
            (row.version, row.admin_login_count, row.flags.locked),
            (1, 2, false)
        );
        assert!(store.account(AccountId(987_654)).await.unwrap().is_none());
        let ids: Vec<AccountId> = store
            .accounts_by_ids(&[b, a, AccountId(987_654)])
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, [a, b]);
        assert!(store.accounts_by_ids(&[]).await.unwrap().is_empty());
        let contacts = store.contacts(a).await.unwrap();
        assert_eq!(contacts.len(), 1);
        assert!(contacts[0].has_email && !contacts[0].has_phone && contacts[0].active);
        assert_eq!(
            store.contact(contacts[0].id.0).await.unwrap().unwrap(),
            contacts[0]
        );
        let history = store.login_history(a, 10).await.unwrap();
        assert_eq!(
            history.iter().map(|h| h.result).collect::<Vec<_>>(),
            [LoginResult::WrongPassword, LoginResult::Success],
            "newest first"
        );
        assert_eq!(store.login_history(a, 1).await.unwrap().len(), 1);
        assert_eq!(store.client_sessions(a).await.unwrap().len(), 1);
        assert_eq!(store.admin_login_count(a).await.unwrap(), 2);

        let keys = desk.keys();
        let email = keys.blind(IndexKind::Email, "info@romashka.ru");
        assert_eq!(
            store
                .accounts_by_index(IndexKindTag::Email, &email)
                .await
                .unwrap(),
            [a]
        );
        // The same value under another kind is another index.
        assert!(
            store
                .accounts_by_index(IndexKindTag::ContactEmail, &email)
                .await
                .unwrap()
                .is_empty()
        );
        let contact = keys.blind(IndexKind::ContactEmail, "anna@example.org");
        assert_eq!(
            store
                .accounts_by_index(IndexKindTag::ContactEmail, &contact)
                .await
                .unwrap(),
            [a, b]
        );
        let name = |q: &str| keys.tokens(TokenScope::AccountName, q);
        assert_eq!(
            store
                .accounts_by_tokens(&name("ромашка"), 10)
                .await
                .unwrap(),
            [a]
        );
        assert_eq!(
            store
                .accounts_by_tokens(&name("ООО Ромашка"), 10)
                .await
                .unwrap(),
            [a]
        );
        assert_eq!(
            store
                .accounts_by_tokens(&name("семенов"), 10)
                .await
                .unwrap(),
            [b]
        );
        assert!(
            store
                .accounts_by_tokens(&name("ромашка семенов"), 10)
                .await
                .unwrap()
                .is_empty(),
            "every word must match"
        );
        assert!(store.accounts_by_tokens(&[], 10).await.unwrap().is_empty());
        let counts = store.account_count().await.unwrap();
        assert_eq!(
            (counts.total, counts.locked, counts.blocked, counts.erased),
            (2, 0, 0, 0)
        );

        let lock = Mutation::SetAccountFlags {
            id: a,
            locked: Some(true),
            blocked: None,
        };
        store
            .commit(commit(vec![lock], "account.lock"))
            .await
            .unwrap();
        let row = store.account(a).await.unwrap().unwrap();
        assert!(row.flags.locked && !row.flags.blocked);
        assert_eq!(row.version, 2);
        let unknown = Mutation::SetAccountFlags {
            id: AccountId(987_654),
            locked: Some(true),
            blocked: None,
        };
        assert!(matches!(
            store.commit(commit(vec![unknown], "account.lock")).await,
            Err(StoreError::NotFound { .. })
        ));
        store
            .commit(commit(
                vec![Mutation::EndClientSessions { account: a }],
                "account.end_sessions",
            ))
            .await
            .unwrap();
        assert!(store.client_sessions(a).await.unwrap().is_empty());
        assert_eq!(
            store.login_history(a, 10).await.unwrap().len(),
            2,
            "history outlives sessions"
        );
        assert_eq!(store.account_count().await.unwrap().locked, 1);

        // Replacing an account's sealed values replaces its indexes, tokens and contacts; the
        // former contact stays as a row (requests may name it) without its values.
        let contact_id = ContactId(store.reserve_ids(IdTable::Contacts, 1).await.unwrap());
        let login_id = store.reserve_ids(IdTable::AdminLogins, 1).await.unwrap();
        let replacement = NewAccount {
            id: a,
            kind: privdesk::domain::account::AccountKind::LegalEntity,
            flags: privdesk::domain::account::AccountFlags::default(),
            name: Some(vec![1; 40]),
            email: Some(vec![2; 40]),
            phone: None,
            postal_address: None,
            tax_id: None,
            indexes: vec![(IndexKindTag::Email, vec![7; 32])],
            tokens: vec!["feedface".into()],
            admin_logins: vec![(login_id, vec![3; 40])],
            contacts: vec![NewContact {
                id: contact_id,
                name: Some(vec![4; 40]),
                email: None,
                phone: Some(vec![5; 40]),
                passphrase: None,
                has_email: false,
                has_phone: true,
            }],
            login_history: vec![],
            sessions: vec![],
        };
        store
            .commit(commit(
                vec![Mutation::ReplaceAccount(Box::new(replacement.clone()))],
                "account.update",
            ))
            .await
            .unwrap();
        let row = store.account(a).await.unwrap().unwrap();
        assert_eq!(
            (row.email, row.phone, row.admin_login_count),
            (Some(vec![2; 40]), None, 1)
        );
        assert!(
            store
                .accounts_by_index(IndexKindTag::Email, &email)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .accounts_by_index(IndexKindTag::Email, &[7; 32])
                .await
                .unwrap(),
            [a]
        );
        assert!(
            store
                .accounts_by_tokens(&name("ромашка"), 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store
                .accounts_by_tokens(&["feedface".to_owned()], 10)
                .await
                .unwrap(),
            [a]
        );
        assert_eq!(
            store
                .contacts(a)
                .await
                .unwrap()
                .iter()
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            [contact_id]
        );
        let former = store.contact(contacts[0].id.0).await.unwrap().unwrap();
        assert!(!former.active && former.name.is_none() && former.email.is_none());
        assert_eq!(
            store.login_history(a, 10).await.unwrap().len(),
            2,
            "a replacement keeps the history"
        );
        let ghost = NewAccount {
            id: AccountId(987_654),
            ..replacement.clone()
        };
        assert!(matches!(
            store
                .commit(commit(
                    vec![Mutation::ReplaceAccount(Box::new(ghost))],
                    "account.update"
                ))
                .await,
            Err(StoreError::NotFound { .. })
        ));

        // Erasure: a tombstone without values, indexes, tokens, contacts' values, history or
        // sessions, and the account's key doomed in the same transaction.
        store
            .commit(commit(
                vec![Mutation::EraseAccount { id: a }],
                "account.erase",
            ))
            .await
            .unwrap();
        let row = store.account(a).await.unwrap().unwrap();
        assert!(row.flags.erased && row.erased_at.is_some());
        assert!(
            row.name.is_none()
                && row.email.is_none()
                && row.phone.is_none()
                && row.postal_address.is_none()
                && row.tax_id.is_none()
        );
        assert!(store.contacts(a).await.unwrap().is_empty());
        assert!(
            store
                .contact(contact_id.0)
                .await
                .unwrap()
                .unwrap()
                .name
                .is_none()
        );
        assert!(
            store
                .accounts_by_index(IndexKindTag::Email, &[7; 32])
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            store
                .accounts_by_tokens(&["feedface".to_owned()], 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.login_history(a, 10).await.unwrap().is_empty());
        assert_eq!(store.admin_login_count(a).await.unwrap(), 0);
        assert_eq!(store.account_count().await.unwrap().erased, 1);
        assert_eq!(store.doomed_keys().await.unwrap(), [a]);
        store.forget_doomed(a).await.unwrap();
        assert!(store.doomed_keys().await.unwrap().is_empty());
        // A tombstone cannot be given values again.
        assert!(matches!(
            store
                .commit(commit(
                    vec![Mutation::ReplaceAccount(Box::new(replacement))],
                    "account.update"
                ))
                .await,
            Err(StoreError::NotFound { .. })
        ));
        // The other account is untouched.
        assert_eq!(
            store
                .accounts_by_tokens(&name("семенов"), 10)
                .await
                .unwrap(),
            [b]
        );
        td.finish().await;
    }
);

both_backends!(keyset_pages_filters_and_counts, |td: TestDesk| async move {
    let store = td.desk.store();
    let account = one_account(&td, "ООО «Ромашка»", "info@romashka.ru").await;
    let base = monday_morning();
    let (_, anna) = td.staff("anna", Role::Agent).await;
    let anna_id = anna.staff_id().unwrap();
    // Due times out of id order, with ties, so the (due, id) order matters.
    let due_hours = [3, 1, 2, 1, 5, 4, 1, 6, 2];
    let first = store.reserve_ids(IdTable::Requests, 10).await.unwrap();
    let mut mutations = vec![];
    let mut expected = vec![];
    for (i, h) in due_hours.iter().enumerate() {
        let id = RequestId(first + i64::try_from(i).unwrap());
        let mut r = new_request(
            id,
            account,
            RequestKind::PasswordReset,
            base + hours(*h),
            vec![],
        );
        r.filed_by = (i % 3 == 0).then_some(anna_id);
        mutations.push(Mutation::InsertRequest(Box::new(r)));
        expected.push((base + hours(*h), id));
    }
    let compromise = RequestId(first + 9);
    mutations.push(Mutation::InsertRequest(Box::new(new_request(
        compromise,
        account,
        RequestKind::Compromise,
        base + hours(1),
        vec![],
    ))));
    let out = store
        .commit(commit(mutations, "request.file"))
        .await
        .unwrap();
    assert_eq!(out.requests.len(), 10);
    expected.sort();
    let order: Vec<RequestId> = expected.iter().map(|(_, id)| *id).collect();

    let page = |cursor: Option<Cursor>, direction: Direction, limit: u32| ListQuery {
        cursor,
        direction,
        ..ListQuery::first_page(Queue::Reset, limit)
    };
    // Forward, three at a time, from the start.
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let rows = store
            .list_requests(&page(cursor, Direction::Forward, 3))
            .await
            .unwrap();
        let Some(last) = rows.last() else { break };
        cursor = Some(Cursor {
            due_at: last.due_at,
            id: last.id,
        });
        seen.extend(rows.iter().map(|r| r.id));
    }
    assert_eq!(seen, order);
    // Backward from the end gives the same rows in reverse.
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let rows = store
            .list_requests(&page(cursor, Direction::Backward, 4))
            .await
            .unwrap();
        let Some(last) = rows.last() else { break };
        cursor = Some(Cursor {
            due_at: last.due_at,
            id: last.id,
        });
        seen.extend(rows.iter().map(|r| r.id));
    }
    seen.reverse();
    assert_eq!(seen, order);

    // Filters: assignee, unassigned, state, overdue, filer.
    let v = store.request(order[0]).await.unwrap().unwrap().version;
    let assign = Mutation::UpdateRequest {
        id: order[0],
        expected_version: v,
        change: RequestChange {
            assignee: Some(Some(anna_id)),
            ..RequestChange::default()
        },
        by: "anna".into(),
    };
    let done = Mutation::UpdateRequest {
        id: order[1],
        expected_version: 1,
        change: RequestChange {
            state: Some(State::Done),
            ..RequestChange::default()
        },
        by: "anna".into(),
    };
    store
        .commit(commit(vec![assign, done], "request.update"))
        .await
        .unwrap();
    let q = ListQuery {
        assignee: Some(anna_id),
        ..ListQuery::first_page(Queue::Reset, 50)
    };
    assert_eq!(
        store
            .list_requests(&q)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [order[0]]
    );
    let q = ListQuery {
        unassigned: true,
        ..ListQuery::first_page(Queue::Reset, 50)
    };
    assert_eq!(
        store.list_requests(&q).await.unwrap().len(),
        7,
        "one assigned, one closed"
    );
    let q = ListQuery {
        state: Some(State::Done),
        ..ListQuery::first_page(Queue::Reset, 50)
    };
    assert_eq!(
        store
            .list_requests(&q)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [order[1]]
    );
    let q = ListQuery {
        due_before: Some(base + hours(2)),
        ..ListQuery::first_page(Queue::Reset, 50)
    };
    assert_eq!(
        store.list_requests(&q).await.unwrap().len(),
        2,
        "three due at +1h, one of them closed"
    );
    let q = ListQuery {
        filed_by: Some(anna_id),
        ..ListQuery::first_page(Queue::Reset, 50)
    };
    assert_eq!(
        store.list_requests(&q).await.unwrap().len(),
        2,
        "three filed, one of them closed"
    );
    let compromise_rows = store
        .list_requests(&ListQuery::first_page(Queue::Compromise, 50))
        .await
        .unwrap();
    assert_eq!(
        compromise_rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        [compromise]
    );
    let all: Vec<RequestId> = store
        .requests_of_account(account)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(all, (first..first + 10).map(RequestId).collect::<Vec<_>>());

    // Counts: open per queue; overdue = due before now, counted across hour buckets and
    // exactly within the current hour.
    let expect = |now: Timestamp, rows: &[(Timestamp, bool)]| -> (u64, u64) {
        let open = rows.iter().filter(|(_, o)| *o).count() as u64;
        let overdue = rows.iter().filter(|(d, o)| *o && *d < now).count() as u64;
        (open, overdue)
    };
    let mut reset_rows: Vec<(Timestamp, bool)> = expected
        .iter()
        .map(|(d, id)| (*d, *id != order[1]))
        .collect();
    for now in [
        base,
        base + hours(1),
        base + SignedDuration::from_mins(150),
        base + hours(7),
    ] {
        let counts = store.queue_counts(now).await.unwrap();
        let reset = counts.iter().find(|c| c.queue == Queue::Reset).unwrap();
        assert_eq!(
            (reset.open, reset.overdue),
            expect(now, &reset_rows),
            "at {now}"
        );
        let comp = counts
            .iter()
            .find(|c| c.queue == Queue::Compromise)
            .unwrap();
        assert_eq!(
            (comp.open, comp.overdue),
            (1, u64::from(now > base + hours(1)))
        );
        let subject = counts.iter().find(|c| c.queue == Queue::Subject).unwrap();
        assert_eq!((subject.open, subject.overdue), (0, 0));
    }
    // A new due time moves the request between buckets.
    let id = order[8];
    let v = store.request(id).await.unwrap().unwrap().version;
    let later = Mutation::UpdateRequest {
        id,
        expected_version: v,
        change: RequestChange {
            due_at: Some(base + hours(30)),
            ..RequestChange::default()
        },
        by: "anna".into(),
    };
    store
        .commit(commit(vec![later], "request.extend"))
        .await
        .unwrap();
    reset_rows
        .iter_mut()
        .find(|(d, _)| *d == base + hours(6))
        .unwrap()
        .0 = base + hours(30);
    let now = base + hours(7);
    let counts = store.queue_counts(now).await.unwrap();
    let reset = counts.iter().find(|c| c.queue == Queue::Reset).unwrap();
    assert_eq!((reset.open, reset.overdue), expect(now, &reset_rows));
    td.finish().await;
});

both_backends!(
    subject_word_search_finds_the_same_on_both,
    |td: TestDesk| async move {
        let store = td.desk.store();
        let keys = td.desk.keys();
        let account = one_account(&td, "ООО «Ромашка»", "info@romashka.ru").await;
        let subjects = [
            (
                RequestKind::PasswordReset,
                "Lost access after a phone change",
            ),
            (
                RequestKind::PasswordReset,
                "Phone stolen, wants a new password",
            ),
            (RequestKind::Compromise, "Phone lost, strange logins"),
            (RequestKind::SubjectReport, "Семён просит отчёт о данных"),
        ];
        let first = store.reserve_ids(IdTable::Requests, 4).await.unwrap();
        let mutations = subjects
            .iter()
            .enumerate()
            .map(|(i, (kind, s))| {
                let id = RequestId(first + i64::try_from(i).unwrap());
                Mutation::InsertRequest(Box::new(new_request(
                    id,
                    account,
                    *kind,
                    monday_morning() + hours(5),
                    keys.tokens(TokenScope::Subject, s),
                )))
            })
            .collect();
        store
            .commit(commit(mutations, "request.file"))
            .await
            .unwrap();
        let r = |i: i64| RequestId(first + i);
        let search = |q: &str, queues: Vec<Queue>, limit: u32| {
            let tokens = keys.tokens(TokenScope::Subject, q);
            async move {
                store
                    .search_subjects(&tokens, &queues, limit)
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| row.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            search("phone", vec![Queue::Reset], 10).await,
            [r(1), r(0)],
            "newest first"
        );
        assert_eq!(
            search("PHONE", vec![Queue::Reset, Queue::Compromise], 10).await,
            [r(2), r(1), r(0)]
        );
        assert_eq!(
            search("lost phone", Queue::ALL.to_vec(), 10).await,
            [r(2), r(0)],
            "every word"
        );
        assert_eq!(
            search("phone", Queue::ALL.to_vec(), 1).await,
            [r(2)],
            "limit"
        );
        assert_eq!(
            search("семен отчет", vec![Queue::Subject], 10).await,
            [r(3)],
            "ё folded to е"
        );
        assert!(
            search("phones", Queue::ALL.to_vec(), 10).await.is_empty(),
            "exact words only"
        );
        assert!(search("phone", vec![], 10).await.is_empty());
        assert!(
            store
                .search_subjects(&[], &Queue::ALL, 10)
                .await
                .unwrap()
                .is_empty()
        );
        // An erased account's requests leave the word index.
        store
            .commit(commit(
                vec![Mutation::EraseAccount { id: account }],
                "account.erase",
            ))
            .await
            .unwrap();
        assert!(search("phone", Queue::ALL.to_vec(), 10).await.is_empty());
        td.finish().await;
    }
);

both_backends!(
    entries_verification_stale_writes_and_atomic_commits,
    |td: TestDesk| async move {
        let store = td.desk.store();
        let account = one_account(&td, "ООО «Ромашка»", "info@romashka.ru").await;
        let id = RequestId(store.reserve_ids(IdTable::Requests, 1).await.unwrap());
        let r = new_request(
            id,
            account,
            RequestKind::Compromise,
            monday_morning() + hours(4),
            vec![],
        );
        store
            .commit(commit(
                vec![Mutation::InsertRequest(Box::new(r))],
                "request.file",
            ))
            .await
            .unwrap();
        let entry = |eid: i64, minutes: i64| NewEntry {
            id: eid,
            request: id,
            account,
            at: monday_morning() + SignedDuration::from_mins(minutes),
            kind: EntryKind::Note,
            author: "anna".into(),
            body: vec![u8::try_from(eid % 256).unwrap(); 30],
        };
        let e = store.reserve_ids(IdTable::Entries, 3).await.unwrap();
        store
            .commit(commit(
                vec![
                    Mutation::InsertEntry(entry(e + 1, 5)),
                    Mutation::InsertEntry(entry(e, 10)),
                ],
                "request.note",
            ))
            .await
            .unwrap();
        let entries = store.entries(id).await.unwrap();
        assert_eq!(
            entries.iter().map(|x| x.id).collect::<Vec<_>>(),
            [e + 1, e],
            "in time order"
        );
        assert_eq!(
            (
                entries[0].kind,
                entries[0].author.as_str(),
                entries[0].account
            ),
            (EntryKind::Note, "anna", account)
        );
        let v = store.reserve_ids(IdTable::Verification, 1).await.unwrap();
        let item = NewVerification {
            id: v,
            request: id,
            account,
            label: "last invoice".into(),
            value: vec![9; 30],
            value_index: vec![8; 32],
        };
        store
            .commit(commit(
                vec![Mutation::InsertVerification(item)],
                "request.verification",
            ))
            .await
            .unwrap();
        let items = store.verification_items(id).await.unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(
            (items[0].label.as_str(), items[0].value_index.as_slice()),
            ("last invoice", &[8_u8; 32][..])
        );

        // A stale write is refused naming who changed the request, and the whole commit with it
        // (the entry before it, its audit record, the change counter) is rolled back.
        let change = RequestChange {
            state: Some(State::Triaged),
            severity: Some(2),
            personal_data_leak: Some(true),
            ..RequestChange::default()
        };
        let ok = Mutation::UpdateRequest {
            id,
            expected_version: 1,
            change: change.clone(),
            by: "oleg".into(),
        };
        let out = store
            .commit(commit(vec![ok], "request.event.triage"))
            .await
            .unwrap();
        let row = &out.requests[0];
        assert_eq!(
            (
                row.version,
                row.state,
                row.severity,
                row.personal_data_leak,
                row.updated_by.as_str()
            ),
            (2, State::Triaged, Some(2), Some(true), "oleg")
        );
        let head = store.audit_head().await.unwrap();
        let counter = store.change_counter().await.unwrap();
        let stale = Mutation::UpdateRequest {
            id,
            expected_version: 1,
            change,
            by: "anna".into(),
        };
        let err = store
            .commit(commit(
                vec![Mutation::InsertEntry(entry(e + 2, 20)), stale],
                "request.event.triage",
            ))
            .await
            .unwrap_err();
        match &err {
            StoreError::Stale {
                changed_by,
                version,
                ..
            } => assert_eq!((changed_by.as_str(), *version), ("oleg", 2)),
            other => panic!("expected a stale write, got {other}"),
        }
        assert!(
            err.to_string().contains("oleg") && err.to_string().contains("nothing was overwritten"),
            "{err}"
        );
        assert_eq!(store.entries(id).await.unwrap().len(), 2);
        assert_eq!(store.audit_head().await.unwrap(), head);
        assert_eq!(store.change_counter().await.unwrap(), counter);
        assert_eq!(store.request(id).await.unwrap().unwrap().version, 2);
        let ghost = Mutation::UpdateRequest {
            id: RequestId(987_654),
            expected_version: 1,
            change: RequestChange::default(),
            by: "anna".into(),
        };
        assert!(matches!(
            store.commit(commit(vec![ghost], "request.update")).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(store.request(RequestId(987_654)).await.unwrap().is_none());

        // Purging the case's verification data removes only that.
        store
            .commit(commit(
                vec![Mutation::PurgeVerification { request: id }],
                "request.purge",
            ))
            .await
            .unwrap();
        assert!(store.verification_items(id).await.unwrap().is_empty());
        assert_eq!(store.entries(id).await.unwrap().len(), 2);
        // The bulk path has the same semantics.
        let bulk = store
            .commit_bulk(commit(
                vec![Mutation::InsertEntry(entry(e + 2, 30))],
                "request.note",
            ))
            .await
            .unwrap();
        assert_eq!(bulk.audit_seqs.len(), 1);
        assert_eq!(store.entries(id).await.unwrap().len(), 3);
        td.finish().await;
    }
);

both_backends!(
    concurrent_takes_leave_one_winner,
    |td: TestDesk| async move {
        let (_, anna) = td.staff("anna", Role::Agent).await;
        let (_, boris) = td.staff("boris", Role::Agent).await;
        let (_, id) = crate::at_rest::account_with_request(&td, &anna).await;
        let desk = Arc::new(td.reopen().await.unwrap());
        let (d1, d2) = (desk.clone(), desk.clone());
        let (a, b) = tokio::join!(
            tokio::spawn(async move { d1.take(&anna, id, 1).await }),
            tokio::spawn(async move { d2.take(&boris, id, 1).await })
        );
        let results = [a.unwrap(), b.unwrap()];
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        let loser = results.iter().find_map(|r| r.as_ref().err()).unwrap();
        assert!(loser.is_stale(), "{loser}");
        let row = td.desk.store().request(id).await.unwrap().unwrap();
        assert_eq!(row.version, 2);
        desk.store().close().await;
        td.finish().await;
    }
);

both_backends!(audit_records_filters, |td: TestDesk| async move {
    let store = td.desk.store();
    let t = monday_morning();
    let mk = |actor: &str,
              action: &str,
              account: Option<i64>,
              request: Option<i64>,
              purpose: Option<&str>,
              minutes: i64| AuditDraft {
        at: t + SignedDuration::from_mins(minutes),
        actor: actor.into(),
        source: "local".into(),
        action: action.into(),
        account: account.map(AccountId),
        request: request.map(RequestId),
        target: None,
        fields: "email:masked".into(),
        purpose: purpose.map(str::to_owned),
        outcome: "done".into(),
        detail: String::new(),
    };
    let before = store.audit_head().await.unwrap().seq;
    let drafts = vec![
        mk("anna", "request.open", Some(1), Some(10), None, 1),
        mk("anna", "request.take", Some(1), Some(10), None, 2),
        mk("boris", "requestx.other", Some(2), Some(11), None, 3),
        mk(
            "boris",
            "field.reveal",
            Some(2),
            Some(11),
            Some("identify_client"),
            4,
        ),
        mk("carol", "staff.add", None, None, None, 5),
    ];
    let out = store
        .commit(Commit {
            mutations: vec![],
            audit: drafts,
        })
        .await
        .unwrap();
    assert_eq!(
        out.audit_seqs,
        (before + 1..=before + 5).collect::<Vec<_>>(),
        "one commit, consecutive records"
    );
    let seqs = |f: AuditFilter, limit: u32| async move {
        store
            .audit_records(&f, limit)
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq - before)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        seqs(
            AuditFilter {
                actor: Some("anna".into()),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [2, 1],
        "newest first"
    );
    assert_eq!(
        seqs(
            AuditFilter {
                account: Some(AccountId(2)),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [4, 3]
    );
    assert_eq!(
        seqs(
            AuditFilter {
                request: Some(RequestId(10)),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [2, 1]
    );
    assert_eq!(
        seqs(
            AuditFilter {
                action: Some("request".into()),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [2, 1],
        "a dotted prefix, not any prefix"
    );
    assert_eq!(
        seqs(
            AuditFilter {
                action: Some("request.take".into()),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [2]
    );
    assert_eq!(
        seqs(
            AuditFilter {
                action: Some("re%".into()),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        Vec::<i64>::new(),
        "no wildcards"
    );
    assert_eq!(
        seqs(
            AuditFilter {
                purpose: Some("identify_client".into()),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [4]
    );
    let window = AuditFilter {
        since: Some(t + SignedDuration::from_mins(2)),
        until: Some(t + SignedDuration::from_mins(4)),
        ..AuditFilter::default()
    };
    assert_eq!(seqs(window, 10).await, [3, 2]);
    assert_eq!(
        seqs(
            AuditFilter {
                before_seq: Some(before + 3),
                actor: Some("anna".into()),
                ..AuditFilter::default()
            },
            10
        )
        .await,
        [2, 1]
    );
    assert_eq!(
        seqs(
            AuditFilter {
                after_seq: Some(before + 2),
                ..AuditFilter::default()
            },
            2
        )
        .await,
        [3, 4],
        "oldest first after a sequence"
    );
    assert_eq!(seqs(AuditFilter::default(), 2).await, [5, 4]);
    let rec = &store
        .audit_records(
            &AuditFilter {
                after_seq: Some(before + 3),
                ..AuditFilter::default()
            },
            1,
        )
        .await
        .unwrap()[0];
    assert_eq!(
        rec.draft,
        mk(
            "boris",
            "field.reveal",
            Some(2),
            Some(11),
            Some("identify_client"),
            4
        ),
        "stored as drafted"
    );
    assert!(store.verify_audit().await.unwrap().is_intact());
    td.finish().await;
});

/// Waits for a notice matching `want`, up to `limit`.
async fn notice(
    rx: &mut tokio::sync::broadcast::Receiver<ChangeNotice>,
    limit: Duration,
    want: impl Fn(&ChangeNotice) -> bool,
) -> bool {
    tokio::time::timeout(limit, async {
        loop {
            match rx.recv().await {
                Ok(n) if want(&n) => return true,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false)
}

both_backends!(
    change_notices_reach_this_process_and_others,
    |td: TestDesk| async move {
        let store = td.desk.store();
        let mut rx = store.subscribe();
        let (_, anna) = td.staff("anna", Role::Agent).await;
        let counter = store.change_counter().await.unwrap();
        let (_, id) = crate::at_rest::account_with_request(&td, &anna).await;
        assert!(
            notice(
                &mut rx,
                Duration::from_secs(1),
                |n| matches!(n, ChangeNotice::Requests(ids) if ids.contains(&id))
            )
            .await
        );
        assert!(
            store.change_counter().await.unwrap() > counter,
            "every commit moves the counter"
        );
        // Another desk on the same database (another process, or another host on PostgreSQL)
        // hears of changes it did not make within a second or so.
        let other = td.reopen().await.unwrap();
        let mut other_rx = other.store().subscribe();
        other.store().watch_changes();
        let heard = tokio::time::timeout(Duration::from_secs(10), async {
            let mut version = 1;
            loop {
                let row = td.desk.take(&anna, id, version).await.unwrap();
                version = row.version;
                if notice(&mut other_rx, Duration::from_millis(600), |n| {
                    *n == ChangeNotice::Everything
                })
                .await
                {
                    return;
                }
            }
        })
        .await;
        assert!(heard.is_ok(), "the other desk never heard of the change");
        other.store().close().await;
        td.finish().await;
    }
);

both_backends!(
    concurrent_appends_keep_one_chain,
    |td: TestDesk| async move {
        let before = td.desk.store().audit_head().await.unwrap().seq;
        // A second desk on the same database: another process on SQLite, another host on
        // PostgreSQL. Appends from both must interleave into one chain.
        let other = Arc::new(td.reopen().await.unwrap());
        let here = Arc::new(td.reopen().await.unwrap());
        let mut tasks = vec![];
        for task in 0..6 {
            let desk = if task < 4 {
                here.clone()
            } else {
                other.clone()
            };
            tasks.push(tokio::spawn(async move {
                let mut seqs = vec![];
                for i in 0..40 {
                    let draft = AuditDraft::new(
                        &Actor::shell(format!("t{task}")),
                        "test.append",
                        monday_morning(),
                    )
                    .detail(format!("{i}"));
                    seqs.extend(
                        desk.store()
                            .commit(Commit::audit_only(draft))
                            .await
                            .unwrap()
                            .audit_seqs,
                    );
                }
                seqs
            }));
        }
        let mut all = vec![];
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all.sort_unstable();
        assert_eq!(
            all,
            (before + 1..=before + 240).collect::<Vec<_>>(),
            "every append got its own sequence number"
        );
        let report = td.desk.store().verify_audit().await.unwrap();
        assert!(report.is_intact(), "{report:?}");
        assert_eq!(report.records, u64::try_from(before + 240).unwrap());
        let stored: Vec<i64> = td
            .desk
            .store()
            .audit_records(
                &AuditFilter {
                    after_seq: Some(0),
                    ..AuditFilter::default()
                },
                10_000,
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.seq)
            .collect();
        assert_eq!(stored, (1..=before + 240).collect::<Vec<_>>(), "contiguous");
        assert_eq!(other.store().verify_audit().await.unwrap(), report);
        other.store().close().await;
        here.store().close().await;
        td.finish().await;
    }
);
