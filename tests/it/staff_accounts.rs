//! Staff accounts: argon2 passwords with an exponential lock-out, one answer for an unknown
//! login and a wrong password, disabled members refused, every change audited (through the
//! desk and through the real `privdesk staff …`), malformed key files refused clearly.

use privdesk::desk::DeskError;
use privdesk::desk::auth::AuthError;
use privdesk::domain::personal::Secret;
use privdesk::domain::staff::{Lang, Role, Source};
use privdesk::store::{AuditFilter, AuditRecord};

use crate::both_backends;
use crate::support::TestDesk;

const RIGHT: &str = "correct horse battery";
const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGAnmETYIpWbx59Z1EatTYie8l1IqmsrgJlO0/+TPStg tester@laptop";
const FINGERPRINT: &str = "SHA256:O+xLVaDLK6yRvPWOVyLZKLolM98iX6WYc5Rg3GGIPCM";

fn pw(s: &str) -> Secret<String> {
    Secret::new(s.to_owned())
}

async fn staff_audit(td: &TestDesk, action: &str) -> Vec<AuditRecord> {
    let filter = AuditFilter {
        action: Some(action.to_owned()),
        ..AuditFilter::default()
    };
    td.desk.store().audit_records(&filter, 100).await.unwrap()
}

both_backends!(
    five_wrong_passwords_lock_a_member_out,
    |td: TestDesk| async move {
        td.staff("anna", Role::Agent).await;
        td.staff("boris", Role::Agent).await;
        let login = |name: &'static str, p: &'static str| td.desk.login(name, pw(p), Source::Local);
        // Unknown login and wrong password: one answer, word for word.
        let unknown = login("nobody", "whatever it is").await.unwrap_err();
        let wrong = login("boris", "not the password").await.unwrap_err();
        assert!(
            matches!(unknown, DeskError::Auth(AuthError::InvalidCredentials)),
            "{unknown}"
        );
        assert_eq!(unknown.to_string(), wrong.to_string());
        for _ in 0..4 {
            assert!(matches!(
                login("anna", "not the password").await,
                Err(DeskError::Auth(AuthError::InvalidCredentials))
            ));
        }
        let row = td
            .desk
            .store()
            .staff_by_login("anna")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.failed_attempts, row.locked_until),
            (4, None),
            "four attempts are free"
        );
        // The fifth locks for a minute; the message names when it ends, in the desk's zone.
        assert!(matches!(
            login("anna", "not the password").await,
            Err(DeskError::Auth(AuthError::InvalidCredentials))
        ));
        let row = td
            .desk
            .store()
            .staff_by_login("anna")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            row.locked_until,
            Some(td.desk.now() + jiff::SignedDuration::from_mins(1))
        );
        let locked = login("anna", RIGHT).await.unwrap_err();
        match &locked {
            DeskError::Auth(AuthError::LockedOut { until }) => {
                assert_eq!(until, "2026-03-02 10:01 MSK");
            }
            other => panic!("expected a lock-out, got {other}"),
        }
        assert!(
            locked
                .to_string()
                .contains("try again after 2026-03-02 10:01 MSK"),
            "{locked}"
        );
        // Once the minute has passed, another wrong password locks for twice as long.
        td.clock.advance(jiff::SignedDuration::from_secs(61));
        assert!(login("anna", "not the password").await.is_err());
        let row = td
            .desk
            .store()
            .staff_by_login("anna")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.failed_attempts, row.locked_until),
            (6, Some(td.desk.now() + jiff::SignedDuration::from_mins(2)))
        );
        assert!(matches!(
            login("anna", RIGHT).await,
            Err(DeskError::Auth(AuthError::LockedOut { .. }))
        ));
        // An admin's unlock clears it; the right password then works and resets the count.
        td.desk.unlock_staff(&td.shell(), "anna").await.unwrap();
        let anna = login("anna", RIGHT).await.unwrap();
        assert_eq!(anna.login.as_str(), "anna");
        let row = td
            .desk
            .store()
            .staff_by_login("anna")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (row.failed_attempts, row.locked_until, row.last_login_at),
            (0, None, Some(td.desk.now()))
        );
        // Every attempt was recorded, refusals with their reason and never the password.
        let logins = staff_audit(&td, "auth.login").await;
        assert_eq!(logins.len(), 11);
        assert_eq!(
            logins
                .iter()
                .filter(|r| r.draft.detail.contains("locked_out"))
                .count(),
            4
        );
        assert_eq!(logins[0].draft.outcome, "done");
        assert!(
            logins
                .iter()
                .all(|r| !format!("{r:?}").contains("not the password")
                    && !format!("{r:?}").contains(RIGHT))
        );
        assert_eq!(
            staff_audit(&td, "staff.unlock").await[0]
                .draft
                .target
                .as_deref(),
            Some("anna")
        );
        td.finish().await;
    }
);

both_backends!(
    disabled_members_are_refused_without_telling_strangers,
    |td: TestDesk| async move {
        let (anna, _) = td.staff("anna", Role::Agent).await;
        let generation = td.desk.staff_generation(&anna).await.unwrap();
        assert!(
            td.desk
                .session_still_valid(&anna, generation)
                .await
                .unwrap()
        );
        td.desk
            .set_disabled(&td.shell(), "anna", true)
            .await
            .unwrap();
        assert!(
            !td.desk
                .session_still_valid(&anna, generation)
                .await
                .unwrap(),
            "live sessions end"
        );
        let right = td
            .desk
            .login("anna", pw(RIGHT), Source::Local)
            .await
            .unwrap_err();
        assert!(
            matches!(right, DeskError::Auth(AuthError::Disabled)),
            "{right}"
        );
        // A wrong password learns nothing: the answer of an unknown login.
        let wrong = td
            .desk
            .login("anna", pw("not the password"), Source::Local)
            .await
            .unwrap_err();
        let unknown = td
            .desk
            .login("nobody", pw("not the password"), Source::Local)
            .await
            .unwrap_err();
        assert_eq!(wrong.to_string(), unknown.to_string());
        td.desk
            .add_staff_key(&td.shell(), "anna", KEY)
            .await
            .unwrap();
        assert!(matches!(
            td.desk.staff_for_key("anna", FINGERPRINT).await,
            Err(DeskError::Auth(AuthError::Disabled))
        ));
        td.desk
            .set_disabled(&td.shell(), "anna", false)
            .await
            .unwrap();
        td.desk
            .login("anna", pw(RIGHT), Source::Local)
            .await
            .unwrap();
        let (staff, _) = td.desk.staff_for_key("anna", FINGERPRINT).await.unwrap();
        assert_eq!(staff.id, anna.id);
        assert!(matches!(
            td.desk.staff_for_key("boris", FINGERPRINT).await,
            Err(DeskError::Auth(AuthError::UnknownKey))
        ));
        td.finish().await;
    }
);

both_backends!(every_staff_change_is_audited, |td: TestDesk| async move {
    let shell = td.shell();
    let desk = &td.desk;
    let (anna, _) = td.staff("anna", Role::Agent).await;
    let generation = desk.staff_generation(&anna).await.unwrap();
    desk.set_role(&shell, "anna", Role::Supervisor)
        .await
        .unwrap();
    assert!(
        !desk.session_still_valid(&anna, generation).await.unwrap(),
        "a new role ends live sessions"
    );
    desk.set_lang(&shell, "anna", Some(Lang::En)).await.unwrap();
    desk.set_password(&shell, "anna", pw("a brand new passphrase"))
        .await
        .unwrap();
    assert!(desk.login("anna", pw(RIGHT), Source::Local).await.is_err());
    desk.login("anna", pw("a brand new passphrase"), Source::Local)
        .await
        .unwrap();
    desk.set_disabled(&shell, "anna", true).await.unwrap();
    desk.set_disabled(&shell, "anna", false).await.unwrap();
    desk.unlock_staff(&shell, "anna").await.unwrap();
    let key = desk.add_staff_key(&shell, "anna", KEY).await.unwrap();
    assert_eq!(
        (key.fingerprint.as_str(), key.comment.as_str()),
        (FINGERPRINT, "tester@laptop")
    );
    assert_eq!(desk.staff_keys(&shell, "anna").await.unwrap().len(), 1);
    desk.remove_staff_key(&shell, "anna", FINGERPRINT)
        .await
        .unwrap();
    assert!(desk.staff_keys(&shell, "anna").await.unwrap().is_empty());
    let row = desk.store().staff_by_login("anna").await.unwrap().unwrap();
    assert_eq!(
        (row.role, row.lang, row.disabled),
        (Role::Supervisor, Some(Lang::En), false)
    );

    let expected = [
        ("staff.add", "role=agent"),
        ("staff.set_role", "role=supervisor"),
        ("staff.set_lang", "lang=en"),
        ("staff.passwd", ""),
        ("staff.disable", ""),
        ("staff.enable", ""),
        ("staff.unlock", ""),
        ("staff.add_key", FINGERPRINT),
        ("staff.remove_key", FINGERPRINT),
    ];
    let mut records = staff_audit(&td, "staff").await;
    records.reverse();
    let got: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r.draft.action.as_str(), r.draft.detail.as_str()))
        .collect();
    assert_eq!(got, expected);
    for r in &records {
        assert_eq!(
            (
                r.draft.actor.as_str(),
                r.draft.source.as_str(),
                r.draft.target.as_deref()
            ),
            ("tester@cli", "cli", Some("anna"))
        );
        let text = format!("{r:?}");
        assert!(
            !text.contains("brand new") && !text.contains(RIGHT) && !text.contains("argon2"),
            "{text}"
        );
    }

    // Bad input: clear errors; each refusal recorded as one, with no password in it.
    let head = desk.store().audit_head().await.unwrap();
    let err = desk
        .set_role(&shell, "nobody", Role::Admin)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DeskError::NotFound { id, .. } if id == "nobody"),
        "{err}"
    );
    let err = desk
        .add_staff(&shell, "Bad Login", "x", Role::Agent, None, pw(RIGHT))
        .await
        .unwrap_err();
    assert!(matches!(err, DeskError::Invalid(_)), "{err}");
    let err = desk
        .add_staff(&shell, "carol", "Carol", Role::Agent, None, pw("short"))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("12 characters") && !err.to_string().contains("short"),
        "{err}"
    );
    let err = desk
        .add_staff(&shell, "anna", "Anna again", Role::Agent, None, pw(RIGHT))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    let refused = desk
        .store()
        .audit_records(
            &AuditFilter {
                after_seq: Some(head.seq),
                ..AuditFilter::default()
            },
            10,
        )
        .await
        .unwrap();
    let seen: Vec<(&str, &str, &str)> = refused
        .iter()
        .map(|r| {
            (
                r.draft.action.as_str(),
                r.draft.target.as_deref().unwrap_or(""),
                r.draft.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("staff.set_role", "nobody", "refused"),
            ("staff.add", "(not a login)", "refused"),
            ("staff.add", "carol", "refused"),
            ("staff.add", "anna", "refused"),
        ]
    );
    for r in &refused {
        let line = format!("{:?}", r.draft);
        assert!(!line.contains("short") && !line.contains(RIGHT), "{line}");
    }
    // Only an admin (or the shell) manages staff.
    let (_, agent) = td.staff("boris", Role::Agent).await;
    assert!(matches!(
        desk.set_role(&agent, "anna", Role::Admin).await,
        Err(DeskError::Denied(_))
    ));
    let (_, admin) = td.staff("root", Role::Admin).await;
    desk.set_lang(&admin, "anna", None).await.unwrap();
    let last = &staff_audit(&td, "staff.set_lang").await[0];
    assert_eq!(
        (last.draft.actor.as_str(), last.draft.source.as_str()),
        ("root", "local")
    );
    td.finish().await;
});

both_backends!(
    malformed_key_files_are_refused_clearly,
    |td: TestDesk| async move {
        td.staff("anna", Role::Agent).await;
        let shell = td.shell();
        let cases: [(&str, &str); 8] = [
            ("", "holds no public key"),
            ("# only a comment\n\n", "holds no public key"),
            ("not a key\n", "not an OpenSSH public key"),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                "private key",
            ),
            (
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGAnmETY tester@laptop",
                "not an OpenSSH public key",
            ),
            ("ssh-ed25519", "not an OpenSSH public key"),
            (
                "ssh-frobnicate AAAAC3NzaC1lZDI1NTE5AAAAIGAnmETYIpWbx59Z1EatTYie8l1IqmsrgJlO0/+TPStg x",
                "not an OpenSSH public key",
            ),
            (
                "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIGAnmETYIpWbx59Z1EatTYie8l1IqmsrgJlO0/+TPStg mismatched",
                "not an OpenSSH public key",
            ),
        ];
        for (text, says) in cases {
            let err = td
                .desk
                .add_staff_key(&shell, "anna", text)
                .await
                .unwrap_err();
            assert!(matches!(err, DeskError::Invalid(_)), "{text:?}: {err}");
            assert!(err.to_string().contains(says), "{text:?}: {err}");
        }
        assert!(td.desk.staff_keys(&shell, "anna").await.unwrap().is_empty());
        // Each attempt is on record as refused, none as a key added.
        let attempts = staff_audit(&td, "staff.add_key").await;
        assert_eq!(attempts.len(), 8);
        assert!(attempts.iter().all(|r| r.draft.outcome == "refused"));
        // A key belongs to one member only.
        td.desk.add_staff_key(&shell, "anna", KEY).await.unwrap();
        td.staff("boris", Role::Agent).await;
        let err = td
            .desk
            .add_staff_key(&shell, "boris", KEY)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already registered"), "{err}");
        let err = td
            .desk
            .add_staff_key(&shell, "nobody", KEY)
            .await
            .unwrap_err();
        assert!(matches!(err, DeskError::NotFound { .. }), "{err}");
        let err = td
            .desk
            .remove_staff_key(&shell, "boris", FINGERPRINT)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        td.finish().await;
    }
);

fn run(td: &TestDesk, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_privdesk"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in &td.env {
        c.env(k, v);
    }
    c.args(args)
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
}

both_backends!(
    the_staff_commands_are_audited_as_the_shell_user,
    |td: TestDesk| async move {
        let key_file = td.dir.path().join("anna.pub");
        std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
        let key_path = key_file.to_str().unwrap();
        let steps: [(&[&str], &str); 6] = [
            (
                &[
                    "staff",
                    "add",
                    "anna",
                    "--role",
                    "agent",
                    "--password-stdin",
                ],
                "a long enough password\n",
            ),
            (&["staff", "set-role", "anna", "oncall"], ""),
            (
                &["staff", "passwd", "anna", "--password-stdin"],
                "another long password\n",
            ),
            (&["staff", "disable", "anna"], ""),
            (&["staff", "add-key", "anna", key_path], ""),
            (&["staff", "remove-key", "anna", FINGERPRINT], ""),
        ];
        for (args, stdin) in steps {
            let out = run(&td, args, stdin);
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let out = run(&td, &["audit", "log", "--action", "staff"], "");
        let log = String::from_utf8_lossy(&out.stdout);
        for action in [
            "staff.add ",
            "staff.set_role",
            "staff.passwd",
            "staff.disable",
            "staff.add_key",
            "staff.remove_key",
        ] {
            let line = log
                .lines()
                .find(|l| l.contains(action))
                .unwrap_or_else(|| panic!("{action} missing:\n{log}"));
            assert!(
                line.contains("@cli") && line.contains(" cli ") && line.contains("target=anna"),
                "{line}"
            );
        }
        assert!(
            !log.contains("long enough") && !log.contains("another long"),
            "{log}"
        );
        // Malformed key files and bad input: exit 1 with a message saying what is wrong.
        let big = td.dir.path().join("big.pub");
        std::fs::write(&big, vec![b'A'; 70 * 1024]).unwrap();
        let private = td.dir.path().join("id_ed25519");
        std::fs::write(
            &private,
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
        )
        .unwrap();
        let missing = td.dir.path().join("missing.pub");
        let cases: [(Vec<&str>, &str); 5] = [
            (
                vec!["staff", "add-key", "anna", big.to_str().unwrap()],
                "too large",
            ),
            (
                vec!["staff", "add-key", "anna", private.to_str().unwrap()],
                "private key",
            ),
            (
                vec!["staff", "add-key", "anna", missing.to_str().unwrap()],
                "cannot read the key file",
            ),
            (vec!["staff", "add-key", "nobody", key_path], "nobody"),
            (
                vec!["staff", "remove-key", "anna", "SHA256:nope"],
                "does not exist",
            ),
        ];
        for (args, says) in cases {
            let out = run(&td, &args, "");
            assert_eq!(out.status.code(), Some(1), "{args:?}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains(says), "{args:?}: {err}");
        }
        // The refused attempts are on record too.
        let out = run(
            &td,
            &[
                "audit",
                "log",
                "--action",
                "staff.add_key",
                "--outcome",
                "refused",
            ],
            "",
        );
        let log = String::from_utf8_lossy(&out.stdout);
        for target in ["target=anna", "target=nobody"] {
            assert!(
                log.lines()
                    .any(|l| l.contains(target) && l.contains("refused")),
                "{target}:\n{log}"
            );
        }
        let out = run(&td, &["staff", "set-role", "anna", "root"], "");
        assert_eq!(out.status.code(), Some(2), "an unknown role is bad usage");
        let out = run(&td, &["staff", "set-lang", "anna", "fr"], "");
        assert_eq!(
            out.status.code(),
            Some(2),
            "an unknown language is bad usage"
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("none"));
        td.finish().await;
    }
);

both_backends!(
    parallel_guesses_all_count_towards_the_lock_out,
    |td: TestDesk| async move {
        td.staff("anna", Role::Agent).await;
        let desk = std::sync::Arc::new(td.reopen().await.unwrap());
        let mut tasks = vec![];
        for _ in 0..6 {
            let desk = desk.clone();
            tasks.push(tokio::spawn(async move {
                desk.login("anna", pw("not the password"), Source::Local)
                    .await
            }));
        }
        for t in tasks {
            assert!(t.await.unwrap().is_err());
        }
        let row = td
            .desk
            .store()
            .staff_by_login("anna")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.failed_attempts, 6, "guesses made at once were lost");
        assert!(row.locked_until.is_some());
        desk.store().close().await;
        td.finish().await;
    }
);

both_backends!(a_key_is_one_persons, |td: TestDesk| async move {
    td.staff("anna", Role::Agent).await;
    td.staff("boris", Role::Agent).await;
    let shell = td.shell();
    td.desk.add_staff_key(&shell, "anna", KEY).await.unwrap();
    let again = td
        .desk
        .add_staff_key(&shell, "anna", KEY)
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("already registered for anna"),
        "{again}"
    );
    // A real desk refuses to give the same key to a second person.
    let shared = td
        .desk
        .add_staff_key(&shell, "boris", KEY)
        .await
        .unwrap_err();
    assert!(
        shared.to_string().contains("already registered for anna")
            && shared.to_string().contains("key of their own"),
        "{shared}"
    );
    let fp = privdesk::desk::staff::parse_public_key(KEY)
        .unwrap()
        .fingerprint;
    assert!(td.desk.staff_for_key("boris", &fp).await.is_err());
    assert!(td.desk.staff_for_key("anna", &fp).await.is_ok());
    td.finish().await;
});
