//! Ciphertext at rest (DESIGN.md principle 7): no personal value readable in the SQLite
//! files or any PostgreSQL column, while the desk still reads and finds them; blind indexes
//! and word tokens match after normalisation and miss near misses; a ciphertext moved to
//! another row, column or account does not open; a wrong or missing master key changes
//! nothing.

use privdesk::desk::DeskError;
use privdesk::desk::accounts::{AccountInput, ContactInput};
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::{AccountFlags, AccountId, AccountKind, LoginResult};
use privdesk::domain::personal::Personal;
use privdesk::domain::request::{Channel, RequestId, RequestKind};
use privdesk::domain::staff::{Actor, Role};
use privdesk::domain::view::Shown;

use crate::both_backends;
use crate::support::{Backend, TestDesk};

/// Values planted to be searched for in the bytes at rest. Each is distinctive enough that
/// finding it (or a fragment of it) can only mean it was stored in the clear.
pub const CANARY_NAME: &str = "ООО «Канарейка Певчая»";
pub const CANARY_EMAIL: &str = "kanareika.canary@pevchaya-test.ru";
pub const CANARY_PHONE: &str = "+79035550177";
pub const CANARY_ADDRESS: &str = "г. Канареевск, ул. Соловьиная, д. 42";
/// A valid INN that also reads as a Russian phone number (10 digits starting with 3).
pub const CANARY_TAX_ID: &str = "3906123455";
pub const CANARY_CONTACT: &str = "Семён Канареечкин";
pub const CANARY_CONTACT_EMAIL: &str = "semen.kanareechkin@canary-mail.ru";
pub const CANARY_CONTACT_PHONE: &str = "+79161110022";
pub const CANARY_ADMIN_LOGIN: &str = "kanareika-admin-login";
pub const CANARY_SOURCE: &str = "198.51.100.123";
pub const CANARY_NOTE: &str = "Заметка о клиенте: Канареечкин звонил с нового номера, голос дрожал";
pub const CANARY_REQUESTER: &str = "Caller says he is Ivan Songbirdson from accounting";
pub const CANARY_EN_NAME: &str = "Nightingale Songbird Trading Ltd";
pub const CANARY_EN_EMAIL: &str = "songbird.trading@nightingale-canary.org";

/// Every planted value, plus fragments a partial leak would show.
pub fn canaries() -> Vec<&'static str> {
    vec![
        CANARY_NAME,
        "Канарейка",
        CANARY_EMAIL,
        "pevchaya-test",
        CANARY_PHONE,
        "9035550177",
        CANARY_ADDRESS,
        "Соловьиная",
        CANARY_TAX_ID,
        CANARY_CONTACT,
        "Канареечкин",
        CANARY_CONTACT_EMAIL,
        CANARY_CONTACT_PHONE,
        "9161110022",
        CANARY_ADMIN_LOGIN,
        CANARY_SOURCE,
        CANARY_NOTE,
        "голос дрожал",
        CANARY_REQUESTER,
        "Songbirdson",
        CANARY_EN_NAME,
        "Nightingale",
        CANARY_EN_EMAIL,
    ]
}

/// The forms a value might take in a file: UTF-8, lower-cased, UTF-16 either way round.
pub fn byte_forms(s: &str) -> Vec<Vec<u8>> {
    let mut out = vec![];
    for v in [s.to_owned(), s.to_lowercase(), s.to_uppercase()] {
        out.push(v.as_bytes().to_vec());
        out.push(v.encode_utf16().flat_map(u16::to_le_bytes).collect());
        out.push(v.encode_utf16().flat_map(u16::to_be_bytes).collect());
    }
    out
}

/// Which canaries (in any form) occur in `haystack`.
pub fn found_in(haystack: &[u8]) -> Vec<&'static str> {
    canaries()
        .into_iter()
        .filter(|c| {
            byte_forms(c)
                .iter()
                .any(|form| haystack.windows(form.len()).any(|w| w == form.as_slice()))
        })
        .collect()
}

pub fn canary_account() -> AccountInput {
    let t = crate::support::monday_morning();
    AccountInput {
        external_id: Some(Personal::from("ext-kanareika-001")),
        kind: AccountKind::LegalEntity,
        name: Personal::from(CANARY_NAME),
        email: Some(Personal::from(CANARY_EMAIL)),
        phone: Some(Personal::from(CANARY_PHONE)),
        postal_address: Some(Personal::from(CANARY_ADDRESS)),
        tax_id: Some(Personal::from(CANARY_TAX_ID)),
        admin_logins: vec![
            Personal::from(CANARY_ADMIN_LOGIN),
            Personal::from("second-admin"),
        ],
        contacts: vec![ContactInput {
            name: Some(Personal::from(CANARY_CONTACT)),
            email: Some(Personal::from(CANARY_CONTACT_EMAIL)),
            phone: Some(Personal::from(CANARY_CONTACT_PHONE)),
            passphrase_hash: None,
        }],
        flags: AccountFlags::default(),
        login_history: vec![(t, Personal::from(CANARY_SOURCE), LoginResult::Success)],
        sessions: vec![(t, Personal::from(CANARY_SOURCE))],
    }
}

pub fn english_account() -> AccountInput {
    AccountInput {
        external_id: None,
        kind: AccountKind::LegalEntity,
        name: Personal::from(CANARY_EN_NAME),
        email: Some(Personal::from(CANARY_EN_EMAIL)),
        phone: None,
        postal_address: None,
        tax_id: None,
        admin_logins: vec![],
        contacts: vec![ContactInput {
            name: Some(Personal::from("Mary Wren")),
            email: Some(Personal::from("mary.wren@example.org")),
            phone: None,
            passphrase_hash: None,
        }],
        flags: AccountFlags::default(),
        login_history: vec![],
        sessions: vec![],
    }
}

/// A sample account and a password-reset request filed by `agent` for its designated
/// contact (any number of them per desk).
pub async fn account_with_request(td: &TestDesk, agent: &Actor) -> (AccountId, RequestId) {
    let sample = crate::desk_requests::sample_account("ООО «Ромашка»", "info@romashka.ru");
    let account = td
        .desk
        .create_accounts(&td.shell(), &[sample], "account.import")
        .await
        .unwrap()[0];
    let contact = td.desk.store().contacts(account).await.unwrap()[0].id;
    let input = RequestInput {
        kind: RequestKind::PasswordReset,
        account,
        requester: RequesterInput::Contact(contact),
        channel: Channel::Phone,
        subject: "Lost access after a phone change".to_owned(),
        received_at: td.desk.now(),
    };
    (account, td.desk.file_request(agent, input).await.unwrap())
}

/// The canary accounts, a request on the first with a note and a requester's description,
/// all written through the desk. Returns the accounts and the request.
pub async fn plant(td: &TestDesk, agent: &Actor) -> (AccountId, AccountId, RequestId) {
    let ids = td
        .desk
        .create_accounts(
            &td.shell(),
            &[canary_account(), english_account()],
            "account.import",
        )
        .await
        .unwrap();
    let id = td
        .desk
        .file_request(
            agent,
            RequestInput {
                kind: RequestKind::SubjectReport,
                account: ids[0],
                requester: RequesterInput::Other(Personal::from(CANARY_REQUESTER)),
                channel: Channel::Phone,
                subject: "Wants to know what data we hold".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap();
    td.desk.add_note(agent, id, CANARY_NOTE).await.unwrap();
    (ids[0], ids[1], id)
}

/// The bytes of the database and key store at rest: SQLite files (WAL and journals
/// included), or every PostgreSQL row of every table as text.
pub async fn bytes_at_rest(td: &TestDesk) -> Vec<(String, Vec<u8>)> {
    match td.backend {
        Backend::Sqlite => {
            let mut out = vec![];
            for base in [td.db_path(), td.keys_path()] {
                for suffix in ["", "-wal", "-journal", "-shm"] {
                    let path = std::path::PathBuf::from(format!("{}{suffix}", base.display()));
                    if let Ok(bytes) = std::fs::read(&path) {
                        out.push((path.display().to_string(), bytes));
                    }
                }
            }
            out
        }
        Backend::Postgres => {
            let mut out = vec![];
            for keys in [false, true] {
                let mut raw = td.raw(keys).await;
                out.push((
                    format!("postgres (key store: {keys})"),
                    raw.dump().await.into_bytes(),
                ));
                raw.close().await;
            }
            out
        }
    }
}

/// PostgreSQL prints bytea as hex: a plaintext value in a bytea column shows as its hex.
fn hex_forms_found(dump: &[u8]) -> Vec<&'static str> {
    let text = String::from_utf8_lossy(dump);
    canaries()
        .into_iter()
        .filter(|c| text.contains(&hex::encode(c.as_bytes())))
        .collect()
}

both_backends!(
    no_personal_value_at_rest_yet_the_desk_reads_and_finds_them,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, supervisor) = td.staff("sofia", Role::Supervisor).await;
        let (first, second, id) = plant(&td, &agent).await;
        td.desk.take(&agent, id, 1).await.unwrap();

        let files = bytes_at_rest(&td).await;
        assert!(
            files.iter().any(|(_, b)| b.len() > 4096),
            "nothing was read"
        );
        for (name, bytes) in &files {
            let found = found_in(bytes);
            assert!(
                found.is_empty(),
                "{name} holds personal values in the clear: {found:?}"
            );
            let hex = hex_forms_found(bytes);
            assert!(
                hex.is_empty(),
                "{name} holds personal values as plain bytes: {hex:?}"
            );
        }
        if td.backend == Backend::Sqlite {
            // The WAL was read too, with the sealed writes in it (nothing checkpointed yet).
            assert!(
                files
                    .iter()
                    .any(|(n, b)| n.ends_with("-wal") && !b.is_empty()),
                "{:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            );
        }

        // The desk still reads them, as the access table allows.
        let view = td.desk.open_request(&supervisor, id, None).await.unwrap();
        let account = view.account.as_ref().unwrap();
        assert_eq!(account.name.shown.text(), Some(CANARY_NAME));
        assert!(matches!(account.email.shown, Shown::Masked(_)));
        assert!(matches!(account.tax_id.shown, Shown::Masked(_)));
        assert_eq!(account.contacts[0].name.shown.text(), Some(CANARY_CONTACT));
        let note_found = view
            .entries
            .as_ref()
            .unwrap()
            .iter()
            .any(|e| e.body.expose().iter().any(|l| l.as_str() == CANARY_NOTE));
        assert!(note_found, "the note did not open");
        assert_eq!(
            view.requester.as_ref().unwrap().shown.text(),
            Some(CANARY_REQUESTER)
        );
        let history = account.login_history.as_ref().unwrap();
        assert_eq!(history[0].source.text(), Some(CANARY_SOURCE));

        // And finds them: blind indexes and word tokens.
        let find = |q: &'static str| {
            let desk = &td.desk;
            let agent = &agent;
            async move {
                desk.find_accounts(agent, q)
                    .await
                    .unwrap()
                    .iter()
                    .map(|h| h.id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(find(CANARY_EMAIL).await, [first]);
        assert_eq!(find(CANARY_PHONE).await, [first]);
        assert_eq!(find(CANARY_CONTACT_EMAIL).await, [first]);
        assert_eq!(find(CANARY_CONTACT_PHONE).await, [first]);
        assert_eq!(
            find(CANARY_TAX_ID).await,
            [first],
            "a tax id that also reads as a phone number"
        );
        assert_eq!(find("канарейка").await, [first]);
        assert_eq!(find("семен").await, [first], "contact names, ё folded");
        assert_eq!(find("nightingale songbird").await, [second]);
        assert_eq!(find(CANARY_EN_EMAIL).await, [second]);
        let hit = &td.desk.find_accounts(&agent, "Канарейка").await.unwrap()[0];
        assert_eq!(hit.name.text(), Some(CANARY_NAME));
        td.finish().await;
    }
);

both_backends!(
    blind_indexes_match_after_normalisation_and_miss_near_misses,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let ids = td
            .desk
            .create_accounts(
                &td.shell(),
                &[
                    crate::desk_requests::sample_account("ООО «Ромашка»", "info@romashka.ru"),
                    {
                        let mut a = english_account();
                        a.name = Personal::from("Семён Петрович Ёлкин");
                        a.contacts[0].name = Some(Personal::from("John O'Brien-Smith"));
                        a
                    },
                ],
                "account.import",
            )
            .await
            .unwrap();
        let (romashka, yolkin) = (ids[0], ids[1]);
        let find = |q: &'static str| {
            let desk = &td.desk;
            let agent = &agent;
            async move {
                desk.find_accounts(agent, q)
                    .await
                    .unwrap()
                    .iter()
                    .map(|h| h.id)
                    .collect::<Vec<_>>()
            }
        };
        for q in [" Info@Romashka.RU ", "INFO@ROMASHKA.RU", "info@romashka.ru"] {
            assert_eq!(find(q).await, [romashka], "{q:?}");
        }
        for q in [
            "8 (916) 123-45-67",
            "+7 916 123 45 67",
            "79161234567",
            "916-123-45-67",
            "+7(916)1234567",
        ] {
            assert_eq!(find(q).await, [romashka], "{q:?}");
        }
        assert_eq!(find("7707 083 893").await, [romashka], "tax id with spaces");
        for near in [
            "info@romashka.com",
            "inf0@romashka.ru",
            "info@romashka.ru.ru",
            "info.@romashka.ru",
            "8 (916) 123-45-68",
            "8 (916) 123-45-6",
            "+1 916 123 45 67",
            "7707083894",
            "ромашки",
            "romashka",
            "рома",
            "ооо ромашка ltd",
        ] {
            assert!(find(near).await.is_empty(), "{near:?} matched");
        }
        // Words: Russian with ё/е and case folded, English, contact names, any word order.
        for q in ["Ромашка", "РОМАШКА", "ооо", "ромашка ооо"] {
            assert_eq!(find(q).await, [romashka], "{q:?}");
        }
        for q in [
            "семен",
            "Семён",
            "СЕМЕН",
            "елкин",
            "Ёлкин петрович",
            "Петрович Семен Елкин",
        ] {
            assert_eq!(find(q).await, [yolkin], "{q:?}");
        }
        for q in ["john", "O'Brien", "brien smith", "SMITH"] {
            assert_eq!(find(q).await, [yolkin], "{q:?}");
        }
        for q in ["семена", "семё", "johnny", "obrien"] {
            assert!(find(q).await.is_empty(), "{q:?} matched");
        }
        td.finish().await;
    }
);

/// Opens the request as a supervisor (who sees every field but login history masked) and
/// returns the error, which must be `Undecryptable` naming `column`, never a wrong value.
async fn expect_undecryptable(
    td: &TestDesk,
    actor: &Actor,
    id: RequestId,
    account: AccountId,
    column: &str,
) {
    let err = td.desk.open_request(actor, id, None).await.unwrap_err();
    match &err {
        DeskError::Undecryptable { account: a, what } => {
            assert_eq!((*a, *what), (account, column), "{err}");
        }
        other => panic!("expected Undecryptable for {column}, got {other}"),
    }
    let text = err.to_string();
    assert!(
        found_in(text.as_bytes()).is_empty() && !text.contains("Ромашка"),
        "{text}"
    );
}

both_backends!(
    ciphertexts_moved_elsewhere_do_not_open,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, supervisor) = td.staff("sofia", Role::Supervisor).await;
        let mut accounts = vec![];
        let mut requests = vec![];
        for i in 0..5 {
            let (a, r) = crate::at_rest::account_with_request(&td, &agent).await;
            td.desk
                .add_note(&agent, r, &format!("note {i} one"))
                .await
                .unwrap();
            td.desk
                .add_note(&agent, r, &format!("note {i} two"))
                .await
                .unwrap();
            accounts.push(a);
            requests.push(r);
        }
        for r in &requests {
            td.desk.open_request(&supervisor, *r, None).await.unwrap();
        }
        let mut raw = td.raw(false).await;
        let a = |i: usize| accounts[i].0;
        // Another column of the same row: the email where the phone was.
        raw.exec(&format!(
            "UPDATE accounts SET phone_ct = email_ct WHERE id = {}",
            a(0)
        ))
        .await;
        // Another account: account 2's name on account 1.
        raw.exec(&format!("UPDATE accounts SET name_ct = (SELECT name_ct FROM accounts WHERE id = {}) WHERE id = {}", a(2), a(1))).await;
        // Another row of the same table and account: one note's body on the other note.
        let entries = raw.i64s(&format!("SELECT id FROM request_entries WHERE request_id = {} AND kind = 'note' ORDER BY id", requests[2].0)).await;
        raw.exec(&format!("UPDATE request_entries SET body_ct = (SELECT body_ct FROM request_entries WHERE id = {}) WHERE id = {}", entries[0], entries[1])).await;
        // Another table: the account's name as its contact's name.
        raw.exec(&format!("UPDATE contacts SET name_ct = (SELECT name_ct FROM accounts WHERE id = {0}) WHERE account_id = {0}", a(3))).await;
        // The same column of another account's request: a subject moved across accounts.
        raw.exec(&format!("UPDATE requests SET subject_ct = (SELECT subject_ct FROM requests WHERE id = {}) WHERE id = {}", requests[0].0, requests[4].0)).await;
        raw.close().await;

        expect_undecryptable(&td, &supervisor, requests[0], accounts[0], "phone_ct").await;
        expect_undecryptable(&td, &supervisor, requests[1], accounts[1], "name_ct").await;
        expect_undecryptable(&td, &supervisor, requests[2], accounts[2], "body_ct").await;
        expect_undecryptable(&td, &supervisor, requests[3], accounts[3], "name_ct").await;
        expect_undecryptable(&td, &supervisor, requests[4], accounts[4], "subject_ct").await;
        // Lists and searches refuse too, rather than show another account's name.
        let err = td.desk.find_accounts(&agent, "ромашка").await.unwrap_err();
        assert!(
            matches!(
                err,
                DeskError::Undecryptable {
                    what: "name_ct",
                    ..
                }
            ),
            "{err}"
        );
        td.finish().await;
    }
);

both_backends!(
    a_wrong_or_missing_master_key_changes_nothing,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        crate::at_rest::account_with_request(&td, &agent).await;
        let before = bytes_at_rest(&td).await;
        let other_dir = tempfile::tempdir().unwrap();
        let other_key = other_dir.path().join("other.key");
        privdesk::crypto::create_key_file(&other_key).unwrap();
        let calendar = || privdesk::domain::calendar::Calendar::embedded().unwrap();
        let with_key = |path: &std::path::Path| {
            let mut c = td.config.clone();
            c.master_key_file = path.to_owned();
            c.master_key_file_explicit = true;
            c
        };
        let wrong = with_key(&other_key);
        let err = privdesk::desk::Desk::open(&wrong, calendar())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
        let err = privdesk::desk::Desk::init(&wrong, calendar(), &td.shell(), false)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("does not open"), "{err}");
        let missing = with_key(&other_dir.path().join("missing.key"));
        let err = privdesk::desk::Desk::open(&missing, calendar())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("missing.key"), "{err}");
        assert!(!other_dir.path().join("missing.key").exists());
        if td.backend == Backend::Sqlite {
            // A key store that is not there is not created empty.
            let mut c = td.config.clone();
            let ghost = other_dir.path().join("keys.db");
            c.key_store_url = format!("sqlite://{}", ghost.display());
            let err = privdesk::desk::Desk::open(&c, calendar())
                .await
                .unwrap_err();
            assert!(err.to_string().contains("does not exist"), "{err}");
            assert!(!ghost.exists());
        }
        assert_eq!(
            bytes_at_rest(&td).await,
            before,
            "a refused start wrote something"
        );
        // The right key still opens the desk and its data.
        let desk = td.reopen().await.unwrap();
        assert_eq!(
            desk.find_accounts(&agent, "info@romashka.ru")
                .await
                .unwrap()
                .len(),
            1
        );
        desk.store().close().await;
        td.finish().await;
    }
);
