//! Canary values planted in every wrapper, view, input and error, formatted every way the
//! code can (`{:?}`, `{:#?}`, `{}`, `to_string()`), must never show; and a traced run of the
//! desk (in a process of its own, since a tracing subscriber is process-global) and of the
//! real binary must leave no canary in the log files.

use std::path::Path;
use std::process::Command;

use privdesk::domain::personal::{Personal, Secret};
use privdesk::domain::policy::FieldContext;
use privdesk::domain::staff::{Role, Source};
use privdesk::domain::text::sanitize_line;
use privdesk::domain::view::Viewer;

use crate::at_rest::{
    CANARY_CONTACT, CANARY_EMAIL, CANARY_NAME, CANARY_NOTE, CANARY_PHONE, CANARY_REQUESTER,
    canary_account, found_in, plant,
};
use crate::support::{Backend, TestDesk};

const CANARY_PASSWORD: &str = "kanareika-parol-ochen-sekretny";

/// Every way a value can be formatted.
fn formats<T: std::fmt::Debug>(v: &T) -> Vec<String> {
    vec![format!("{v:?}"), format!("{v:#?}")]
}

fn formats_all<T: std::fmt::Debug + std::fmt::Display>(v: &T) -> Vec<String> {
    let mut out = formats(v);
    out.push(format!("{v}"));
    out.push(v.to_string());
    out.push(format!("{v:>80}"));
    out
}

fn assert_clean(what: &str, outputs: &[String]) {
    for out in outputs {
        let found = found_in(out.as_bytes());
        assert!(found.is_empty(), "{what} shows {found:?} in:\n{out}");
        assert!(
            !out.contains(CANARY_PASSWORD),
            "{what} shows the password in:\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_wrapper_view_input_or_error_prints_a_canary() {
    let td = TestDesk::new(Backend::Sqlite).await;
    // The wrappers themselves.
    assert_clean("Personal", &formats_all(&Personal::from(CANARY_EMAIL)));
    assert_clean(
        "Personal<SafeText>",
        &formats_all(&Personal::new(sanitize_line(CANARY_NAME))),
    );
    assert_clean(
        "Secret",
        &formats_all(&Secret::new(CANARY_PASSWORD.to_owned())),
    );
    // SafeText is what a screen draws: its Display is the text by design, its Debug is not.
    assert_clean("SafeText", &formats(&sanitize_line(CANARY_NAME)));
    assert_eq!(sanitize_line(CANARY_NAME).to_string(), CANARY_NAME);
    // Inputs.
    let input = canary_account();
    assert_clean("AccountInput", &formats(&input));
    assert_clean("ContactInput", &formats(&input.contacts[0]));
    let request = privdesk::desk::requests::RequestInput {
        kind: privdesk::domain::request::RequestKind::SubjectReport,
        account: privdesk::domain::account::AccountId(1),
        requester: privdesk::desk::requests::RequesterInput::Other(Personal::from(
            CANARY_REQUESTER,
        )),
        channel: privdesk::domain::request::Channel::Email,
        subject: "Wants a report".into(),
        received_at: td.desk.now(),
    };
    assert_clean("RequestInput", &formats(&request));

    // Views, as the desk builds them for every role that sees the most.
    let (_, agent) = td.staff("anna", Role::Agent).await;
    let (_, supervisor) = td.staff("sofia", Role::Supervisor).await;
    let (_, oncall) = td.staff("oleg", Role::Oncall).await;
    let (account, _, id) = plant(&td, &agent).await;
    let view = td.desk.open_request(&supervisor, id, None).await.unwrap();
    assert_eq!(
        view.account.as_ref().unwrap().name.shown.text(),
        Some(CANARY_NAME),
        "the view does hold the values"
    );
    assert_clean("RequestView", &formats(&view));
    assert_clean("AccountView", &formats(view.account.as_ref().unwrap()));
    assert_clean("EntryView", &formats(view.entries.as_ref().unwrap()));
    assert_clean("FieldView", &formats(&view.account.as_ref().unwrap().name));
    assert_clean(
        "Shown",
        &formats(&view.account.as_ref().unwrap().name.shown),
    );
    let page = privdesk::desk::requests::QueuePage {
        queue: privdesk::domain::request::Queue::Subject,
        filter: privdesk::desk::requests::Filter::default(),
        cursor: None,
        backward: false,
        limit: 10,
    };
    assert_clean(
        "ListRow",
        &formats(&td.desk.list_queue(&supervisor, &page).await.unwrap()),
    );
    for q in [CANARY_EMAIL, CANARY_PHONE, "канарейка", "семен"] {
        assert_clean(
            "AccountHit",
            &formats(&td.desk.find_accounts(&agent, q).await.unwrap()),
        );
    }
    // The decrypted account itself, and views built from it for every role.
    let row = td.desk.store().account(account).await.unwrap().unwrap();
    assert_clean("AccountRow", &formats(&row));
    let full = privdesk::domain::account::Account {
        id: account,
        kind: input.kind,
        flags: input.flags,
        name: Some(input.name.clone()),
        email: input.email.clone(),
        phone: input.phone.clone(),
        postal_address: input.postal_address.clone(),
        tax_id: input.tax_id.clone(),
        admin_login_count: 2,
        contacts: vec![privdesk::domain::account::DesignatedContact {
            id: privdesk::domain::account::ContactId(1),
            name: Some(Personal::from(CANARY_CONTACT)),
            email: Some(Personal::from(CANARY_EMAIL)),
            phone: Some(Personal::from(CANARY_PHONE)),
            has_passphrase: true,
            has_email: true,
            has_phone: true,
        }],
        login_history: vec![],
        sessions: vec![],
    };
    assert_clean("Account", &formats(&full));
    for role in Role::ALL {
        let viewer = Viewer::new(
            role,
            FieldContext {
                on_own_queue: true,
                that_case: true,
                ..FieldContext::default()
            },
        );
        assert_clean("AccountView", &formats(&viewer.account(&full)));
        if let Some(v) = viewer.revealed(
            privdesk::domain::policy::Field::Email,
            &Personal::from(CANARY_EMAIL),
        ) {
            assert_clean("revealed FieldView", &formats(&v));
        }
    }

    // Errors raised by canary input, as text and as Debug.
    let mut errors: Vec<Box<dyn std::error::Error>> = vec![];
    let normalize = privdesk::domain::normalize::email(&format!("{CANARY_EMAIL} {CANARY_EMAIL}"));
    errors.push(Box::new(normalize.unwrap_err()));
    errors.push(Box::new(
        privdesk::domain::normalize::phone(CANARY_NAME).unwrap_err(),
    ));
    errors.push(Box::new(
        privdesk::domain::normalize::phone(&format!("{CANARY_PHONE}999")).unwrap_err(),
    ));
    errors.push(Box::new(
        privdesk::domain::normalize::tax_id("3906123454").unwrap_err(),
    ));
    for subject in [
        format!("Mail {CANARY_EMAIL}"),
        format!("Call {CANARY_PHONE}"),
        "Канарейка wants a report".to_owned(),
    ] {
        let input = privdesk::desk::requests::RequestInput {
            subject,
            account,
            ..request.clone()
        };
        errors.push(Box::new(
            td.desk.file_request(&agent, input).await.unwrap_err(),
        ));
    }
    errors.push(Box::new(
        td.desk
            .add_note(&agent, id, &CANARY_NOTE.repeat(400))
            .await
            .unwrap_err(),
    ));
    errors.push(Box::new(
        td.desk
            .login(
                "anna",
                Secret::new(CANARY_PASSWORD.to_owned()),
                Source::Local,
            )
            .await
            .unwrap_err(),
    ));
    errors.push(Box::new(
        td.desk
            .add_staff(
                &td.shell(),
                "kanareika",
                "x",
                Role::Agent,
                None,
                Secret::new("kanareika".into()),
            )
            .await
            .unwrap_err(),
    ));
    errors.push(Box::new(
        td.desk.open_request(&oncall, id, None).await.unwrap_err(),
    ));
    let key = td.desk.keys().data_key(account).await.unwrap();
    let sealed = privdesk::desk::Keyring::seal_value(
        &key,
        account,
        "accounts",
        "email_ct",
        account.0,
        CANARY_EMAIL,
    );
    let moved = privdesk::desk::Keyring::open_value(
        &key, account, "accounts", "phone_ct", account.0, &sealed,
    );
    errors.push(Box::new(moved.unwrap_err()));
    let aad = privdesk::crypto::Aad {
        account_id: account.0,
        table: "accounts",
        column: "phone_ct",
        row_id: account.0,
    };
    errors.push(Box::new(
        privdesk::crypto::open_str(&key, &aad, &sealed).unwrap_err(),
    ));
    for e in &errors {
        assert_clean(
            "error",
            &[e.to_string(), format!("{e:?}"), format!("{e:#?}")],
        );
    }
    // Key material neither.
    let stored = td
        .desk
        .keys()
        .keystore()
        .get(privdesk::store::keystore::KeyOwner::Account(account.0))
        .await
        .unwrap()
        .unwrap();
    let blob_hex = hex::encode(&stored.blob);
    for out in formats(&stored)
        .into_iter()
        .chain(formats(&*key))
        .chain(formats(td.desk.keys().as_ref()))
    {
        assert!(
            !out.contains(&blob_hex[..16]) && !out.contains(&format!("{:?}", &stored.blob[..4])),
            "{out}"
        );
    }
    td.finish().await;
}

/// The desk's operations with every canary, traced at the most verbose level into
/// `PRIVDESK_CANARY_LOG_DIR`. Run by `logs_hold_no_canaries` in a process of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by canaries::logs_hold_no_canaries in a child process: logging is process-global"]
async fn traced_desk_run() {
    let dir = std::env::var("PRIVDESK_CANARY_LOG_DIR").expect("set by the parent test");
    let guard = privdesk::logging::init(Path::new(&dir), "trace").unwrap();
    let mut backends = vec![Backend::Sqlite];
    if crate::support::pg_admin_url().is_some() {
        backends.push(Backend::Postgres);
    }
    for backend in backends {
        let td = TestDesk::new(backend).await;
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, supervisor) = td.staff("sofia", Role::Supervisor).await;
        let (account, _, id) = plant(&td, &agent).await;
        for q in [
            CANARY_EMAIL,
            CANARY_PHONE,
            "канарейка",
            "семен",
            "nightingale",
        ] {
            td.desk.find_accounts(&agent, q).await.unwrap();
        }
        let r = td.desk.take(&agent, id, 1).await.unwrap();
        td.desk.open_request(&supervisor, id, None).await.unwrap();
        let input = privdesk::desk::requests::RequestInput {
            kind: privdesk::domain::request::RequestKind::SubjectReport,
            account,
            requester: privdesk::desk::requests::RequesterInput::Other(Personal::from(
                CANARY_REQUESTER,
            )),
            channel: privdesk::domain::request::Channel::Email,
            subject: format!("Mail {CANARY_EMAIL}"),
            received_at: td.desk.now(),
        };
        assert!(td.desk.file_request(&agent, input).await.is_err());
        let _ = td
            .desk
            .take(&supervisor, id, r.version - 1)
            .await
            .unwrap_err();
        let _ = td
            .desk
            .login(
                "anna",
                Secret::new(CANARY_PASSWORD.to_owned()),
                Source::Local,
            )
            .await;
        let _ = td
            .desk
            .login(
                CANARY_EMAIL,
                Secret::new(CANARY_PASSWORD.to_owned()),
                Source::Local,
            )
            .await;
        td.desk
            .erase_account(&td.shell(), account, vec![], "deletion")
            .await
            .unwrap();
        let reopened = td.reopen().await.unwrap();
        reopened.store().close().await;
        td.finish().await;
    }
    tracing::info!("traced run finished");
    drop(guard);
}

fn log_bytes(dir: &Path) -> Vec<u8> {
    let mut all = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        all.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    all
}

#[test]
fn logs_hold_no_canaries() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "canaries::traced_desk_run",
            "--ignored",
            "--test-threads=1",
        ])
        .env("PRIVDESK_CANARY_LOG_DIR", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let logs = log_bytes(dir.path());
    let text = String::from_utf8_lossy(&logs);
    assert!(
        text.contains("traced run finished") && text.contains("TRACE"),
        "the run was not traced:\n{text}"
    );
    let found = found_in(&logs);
    assert!(found.is_empty(), "the log holds {found:?}");
    assert!(!text.contains(CANARY_PASSWORD));

    // The real binary, traced: a staff password typed on standard input stays out of it.
    let home = tempfile::tempdir().unwrap();
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write as _;
        let mut c = Command::new(env!("CARGO_BIN_EXE_privdesk"));
        c.env_clear()
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("PRIVDESK_LOG", "trace")
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    assert!(run(&["init"], "").status.success());
    let password = format!("{CANARY_PASSWORD}\n");
    for args in [
        &[
            "staff",
            "add",
            "anna",
            "--role",
            "agent",
            "--password-stdin",
        ][..],
        &["staff", "passwd", "anna", "--password-stdin"][..],
        &[
            "staff",
            "add",
            "kanareika.canary@pevchaya-test.ru",
            "--role",
            "agent",
            "--password-stdin",
        ][..],
    ] {
        let out = run(args, &password);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains(CANARY_PASSWORD), "{err}");
    }
    assert!(run(&["audit", "verify"], "").status.success());
    let logs = log_bytes(&home.path().join("state/privdesk/logs"));
    let text = String::from_utf8_lossy(&logs);
    assert!(
        text.contains("TRACE") || text.contains("DEBUG"),
        "the binary did not trace:\n{text}"
    );
    assert!(
        !text.contains(CANARY_PASSWORD),
        "the log holds the password"
    );
}
