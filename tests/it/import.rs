//! `privdesk import accounts`: the README's example, bad lines by line and field,
//! `--skip-bad`, `--update`, duplicates, nothing readable at rest, nothing personal logged.

use std::process::{Command, Stdio};

use privdesk::desk::demo::NoProgress;
use privdesk::desk::import::{BadLine, ImportOptions, ImportReport};
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::desk::reveal::Target;
use privdesk::domain::account::ContactId;
use privdesk::domain::personal::Secret;
use privdesk::domain::request::{Channel, RequestKind};
use privdesk::domain::staff::Role;
use privdesk::store::AuditFilter;

use crate::both_backends;
use crate::support::{Backend, TestDesk};

/// The example of the README's "Importing client accounts" section.
pub fn readme_example() -> String {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("## Importing client accounts")
        .nth(1)
        .expect("the README has the import section");
    let block = section
        .split("```jsonl\n")
        .nth(1)
        .expect("the section has a jsonl example");
    block.split("```").next().unwrap().to_owned()
}

/// Every personal value of the example, as written and as normalised.
fn example_values() -> Vec<&'static str> {
    vec![
        "Ромашка",
        "Info@Romashka.example",
        "info@romashka.example",
        "anna.smirnova@romashka.example",
        "Анна Смирнова",
        "Смирнова",
        "Олег Петров",
        "+74951234567",
        "+79161234567",
        "+79037654321",
        "9161234567",
        "7794580730",
        "508193036418",
        "Мясницкая",
        "Иванов Иван",
        "ivan.ivanov@example.com",
        "+79161112233",
        "Northwind",
        "olivia.smith@northwind.example",
        "Olivia Smith",
        "+447700900123",
        "синий трактор",
        "Зелёный чай",
        "crm-10001",
        "petrova",
    ]
}

async fn import(td: &TestDesk, text: &str, opts: ImportOptions) -> (ImportReport, Vec<BadLine>) {
    let mut bad = vec![];
    let report = td
        .desk
        .import_accounts(
            &td.shell(),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Some(text.len() as u64),
            opts,
            &NoProgress,
            &mut |b: &BadLine| bad.push(b.clone()),
        )
        .await
        .unwrap();
    (report, bad)
}

both_backends!(
    the_readme_example_imports_normalised_and_hashed,
    |td: TestDesk| async move {
        let (report, bad) = import(&td, &readme_example(), ImportOptions::default()).await;
        assert!(bad.is_empty(), "{bad:?}");
        assert!(report.imported);
        assert_eq!(
            (
                report.lines,
                report.inserted,
                report.replaced,
                report.passphrases
            ),
            (3, 3, 0, 2)
        );
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 3);
        let (_, agent) = td.staff("anna", Role::Agent).await;
        // Found by the normalised email and phone, whatever their spelling.
        let hits = td
            .desk
            .find_accounts(&agent, "INFO@romashka.EXAMPLE")
            .await
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].name.text(), Some("ООО «Ромашка»"));
        assert_eq!(
            td.desk
                .find_accounts(&agent, "+7 916 111 22 33")
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            td.desk
                .find_accounts(&agent, "7794580730")
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            td.desk
                .find_accounts(&agent, "Northwind")
                .await
                .unwrap()
                .len(),
            1
        );
        // The passphrase is a hash of the normalised phrase: case and spacing do not matter.
        let account = hits[0].id;
        let contact = td.desk.store().contacts(account).await.unwrap()[0].id;
        let id = td
            .desk
            .file_request(
                &agent,
                RequestInput {
                    kind: RequestKind::PasswordReset,
                    account,
                    requester: RequesterInput::Contact(ContactId(contact.0)),
                    channel: Channel::Phone,
                    subject: "Lost access after a phone change".into(),
                    received_at: td.desk.now(),
                },
            )
            .await
            .unwrap();
        let ok = td
            .desk
            .check(
                &agent,
                id,
                Target::ContactPassphrase(contact),
                Secret::new("  СИНИЙ   Трактор ".into()),
            )
            .await;
        assert!(ok.unwrap());
        let no = td
            .desk
            .check(
                &agent,
                id,
                Target::ContactPassphrase(contact),
                Secret::new("красный трактор".into()),
            )
            .await;
        assert!(!no.unwrap());
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
        assert_eq!(audit.len(), 1);
        assert_eq!(
            audit[0].draft.detail,
            "lines=3 inserted=3 replaced=0 skipped=0 passphrases=2"
        );
        td.finish().await;
    }
);

/// One line per kind of problem, and the field it must be reported under.
fn bad_file() -> (String, Vec<(u64, &'static str)>) {
    let good = r#"{"kind":"individual","name":"Пётр Первый","email":"peter@example.org"}"#;
    let lines: Vec<(String, &'static str)> = vec![
        (good.to_owned(), ""),
        (r#"{"kind":"individual","name":"Bad Json","email":"x@example.org""#.to_owned(), "JSON"),
        ("[1, 2]".to_owned(), "JSON object"),
        (r#"{"name":"No Kind"}"#.to_owned(), "field `kind`"),
        (r#"{"kind":"company","name":"Wrong Kind"}"#.to_owned(), "field `kind`"),
        (r#"{"kind":"individual"}"#.to_owned(), "field `name`"),
        (r#"{"kind":"individual","name":"Bad Email","email":"secret.value-at-example.org"}"#.to_owned(), "field `email`"),
        (r#"{"kind":"individual","name":"Bad Phone","phone":"12-34"}"#.to_owned(), "field `phone`"),
        (r#"{"kind":"legal_entity","name":"Bad Inn","tax_id":"7794580731"}"#.to_owned(), "field `tax_id`"),
        (r#"{"kind":"individual","name":"Typo","emial":"t@example.org"}"#.to_owned(), "`emial`"),
        (r#"{"kind":"individual","name":"No Channel","contacts":[{"name":"Someone"}]}"#.to_owned(), "field `contacts[0]`"),
        (r#"{"kind":"individual","name":"Bad Contact","contacts":[{"name":"A","email":"a@example.org"},{"name":"B","phone":"x"}]}"#.to_owned(), "field `contacts[1].phone`"),
        (r#"{"kind":"individual","name":"Login","admin_logins":["ok", 5]}"#.to_owned(), "field `admin_logins[1]`"),
        (r#"{"kind":"individual","name":"Same Email","email":"PETER@example.org"}"#.to_owned(), "field `email`: the same email as line 1"),
        (r#"{"kind":"individual","name":"Control\u001b[31m"}"#.to_owned(), "field `name`"),
        (format!(r#"{{"kind":"individual","name":"{}"}}"#, "x".repeat(1024 * 1024 + 10)), "longer than 1 MiB"),
    ];
    let text = lines
        .iter()
        .map(|(l, _)| l.as_str())
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    let expect = lines
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, (_, f))| (i as u64 + 1, *f))
        .collect();
    (text, expect)
}

both_backends!(
    each_bad_line_is_reported_by_line_and_field_and_nothing_is_imported,
    |td: TestDesk| async move {
        let (text, expect) = bad_file();
        let mut bytes = text.into_bytes();
        // And a line that is not UTF-8 at all.
        bytes.extend_from_slice(b"{\"kind\":\"individual\",\"name\":\"\xff\xfe\"}\n");
        let mut bad = vec![];
        let report = td
            .desk
            .import_accounts(
                &td.shell(),
                Box::new(std::io::Cursor::new(bytes)),
                None,
                ImportOptions::default(),
                &NoProgress,
                &mut |b: &BadLine| bad.push(b.clone()),
            )
            .await
            .unwrap();
        assert!(!report.imported);
        assert_eq!(
            td.desk.store().account_count().await.unwrap().total,
            0,
            "a bad line must import nothing"
        );
        let messages: Vec<String> = bad.iter().map(ToString::to_string).collect();
        for (line, field) in &expect {
            let m = messages
                .iter()
                .find(|m| m.starts_with(&format!("line {line}: ")))
                .unwrap_or_else(|| panic!("line {line} not reported: {messages:#?}"));
            assert!(m.contains(field), "line {line} should name {field}: {m}");
        }
        let utf8 = messages
            .iter()
            .find(|m| m.starts_with(&format!("line {}: ", expect.len() + 2)))
            .unwrap();
        assert!(utf8.contains("UTF-8"), "{utf8}");
        assert_eq!(report.bad, expect.len() as u64 + 1);
        let all = messages.join("\n");
        for secret in [
            "secret.value",
            "Пётр",
            "peter@",
            "12-34",
            "7794580731",
            "Bad Email",
            "xxxxxxxx",
        ] {
            assert!(
                !all.contains(secret),
                "a value reached an error: {secret}\n{all}"
            );
        }
        let refused = td
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
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].draft.outcome, "refused");
        td.finish().await;
    }
);

both_backends!(
    skip_bad_imports_the_good_lines_and_reports_every_skipped_one,
    |td: TestDesk| async move {
        let (text, expect) = bad_file();
        let (report, bad) = import(
            &td,
            &text,
            ImportOptions {
                skip_bad: true,
                ..ImportOptions::default()
            },
        )
        .await;
        assert!(report.imported);
        assert_eq!(report.inserted, 1);
        assert_eq!(bad.len(), expect.len());
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 1);
        td.finish().await;
    }
);

both_backends!(
    a_duplicate_without_update_changes_nothing_and_update_replaces,
    |td: TestDesk| async move {
        let example = readme_example();
        import(&td, &example, ImportOptions::default()).await;
        let before = privdesk::desk::demo::content_digest(&td.desk)
            .await
            .unwrap();
        let (report, bad) = import(&td, &example, ImportOptions::default()).await;
        assert!(!report.imported);
        assert_eq!(bad.len(), 3);
        assert!(
            bad[0].to_string().contains(
                "field `external_id`: account A1 already has this external_id: pass --update"
            ),
            "{}",
            bad[0]
        );
        assert!(bad[0].to_string().contains("field `email`"), "{}", bad[0]);
        assert_eq!(
            privdesk::desk::demo::content_digest(&td.desk)
                .await
                .unwrap(),
            before,
            "a refused import changed accounts"
        );
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 3);
        // --update: the first line with a new email and contacts, the second unchanged, a new one.
        let mut lines: Vec<String> = example.lines().map(str::to_owned).collect();
        lines[0] = lines[0]
            .replace("Info@Romashka.example", "office@romashka.example")
            .replace("Олег Петров", "Ольга Петрова");
        lines.push(r#"{"external_id":"crm-10004","kind":"individual","name":"New Client","phone":"+1 (202) 555-0142"}"#.into());
        let (report, bad) = import(
            &td,
            &lines.join("\n"),
            ImportOptions {
                update: true,
                ..ImportOptions::default()
            },
        )
        .await;
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!((report.inserted, report.replaced), (1, 3));
        assert_eq!(td.desk.store().account_count().await.unwrap().total, 4);
        let (_, agent) = td.staff("anna", Role::Agent).await;
        assert!(
            td.desk
                .find_accounts(&agent, "info@romashka.example")
                .await
                .unwrap()
                .is_empty()
        );
        let hits = td
            .desk
            .find_accounts(&agent, "office@romashka.example")
            .await
            .unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].id.0, 1, "the account was replaced, not added");
        assert_eq!(
            td.desk.find_accounts(&agent, "Ольга").await.unwrap().len(),
            1
        );
        assert!(
            td.desk
                .find_accounts(&agent, "Олег")
                .await
                .unwrap()
                .is_empty()
        );
        // Two lines of one file claiming the same account, and a line matching two accounts.
        let twice = format!(
            "{}\n{}\n",
            r#"{"external_id":"crm-10002","kind":"individual","name":"A"}"#,
            r#"{"kind":"individual","name":"B","email":"ivan.ivanov@example.com"}"#
        );
        let (report, bad) = import(
            &td,
            &twice,
            ImportOptions {
                update: true,
                ..ImportOptions::default()
            },
        )
        .await;
        assert!(!report.imported);
        assert!(
            bad[0]
                .to_string()
                .starts_with("line 2: field `email`: replaces the same account (A2) as line 1"),
            "{}",
            bad[0]
        );
        let both = r#"{"external_id":"crm-10002","kind":"individual","name":"A","email":"office@northwind.example"}"#;
        let (_, bad) = import(
            &td,
            both,
            ImportOptions {
                update: true,
                ..ImportOptions::default()
            },
        )
        .await;
        assert!(
            bad[0]
                .to_string()
                .contains("matches account A2 by external_id and account A3 by email"),
            "{}",
            bad[0]
        );
        td.finish().await;
    }
);

both_backends!(
    no_imported_value_is_readable_in_the_database,
    |td: TestDesk| async move {
        let (report, _) = import(&td, &readme_example(), ImportOptions::default()).await;
        assert!(report.imported);
        let mut haystacks: Vec<(String, Vec<u8>)> = vec![];
        match td.backend {
            Backend::Sqlite => {
                for base in [td.db_path(), td.keys_path()] {
                    for suffix in ["", "-wal", "-shm", "-journal"] {
                        let p = std::path::PathBuf::from(format!("{}{suffix}", base.display()));
                        if let Ok(b) = std::fs::read(&p) {
                            haystacks.push((p.display().to_string(), b));
                        }
                    }
                }
            }
            Backend::Postgres => {
                for keys in [false, true] {
                    let mut raw = td.raw(keys).await;
                    haystacks.push((
                        format!("postgres keys={keys}"),
                        raw.dump().await.into_bytes(),
                    ));
                    raw.close().await;
                }
            }
        }
        assert!(!haystacks.is_empty());
        for (name, bytes) in &haystacks {
            let text = String::from_utf8_lossy(bytes);
            for v in example_values() {
                assert!(!text.contains(v), "{name} holds {v:?} readable");
                assert!(
                    !text.contains(&hex::encode(v.as_bytes())),
                    "{name} holds {v:?} as hex"
                );
            }
        }
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
        .env("PRIVDESK_LOG", "trace")
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

/// Everything the log directory holds, as text.
pub fn logs(home: &std::path::Path) -> String {
    let dir = home.join("state/privdesk/logs");
    let mut out = String::new();
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
    }
    out
}

#[test]
fn the_real_binary_imports_reports_and_logs_no_personal_value() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    assert!(privdesk(h).arg("init").output().unwrap().status.success());
    let file = h.join("clients.jsonl");
    std::fs::write(&file, readme_example()).unwrap();
    let out = privdesk(h)
        .args(["import", "accounts"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Imported 3 accounts from 3 lines: 3 new, 0 replaced."),
        "{stdout}"
    );
    // Again from standard input: every line is a duplicate, reported, exit code 1.
    let mut child = privdesk(h)
        .args(["import", "accounts", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        readme_example().as_bytes(),
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 1: field `external_id`: account A1 already has this external_id"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing was imported: 3 of 3 lines are bad"),
        "{stderr}"
    );
    let (bad, _) = bad_file();
    std::fs::write(&file, bad).unwrap();
    let out = privdesk(h)
        .args(["import", "accounts", "--skip-bad"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("privdesk: skipped line 7: field `email`"),
        "{stderr}"
    );
    let log = logs(h);
    assert!(log.contains("account import done"), "{log}");
    for v in example_values()
        .into_iter()
        .chain(["secret.value", "Пётр", "peter@example.org"])
    {
        assert!(!log.contains(v), "the log holds {v:?}");
        assert!(!stderr.contains(v), "stderr holds {v:?}");
    }
}
