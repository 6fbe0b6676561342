//! Reveal with a purpose, check without seeing, supervisor notices, the access report —
//! on both backends (policy §8, §11).

use std::sync::Arc;

use privdesk::desk::Desk;
use privdesk::desk::accounts::{AccountInput, ContactInput};
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::desk::reveal::Target;
use privdesk::domain::account::{AccountFlags, AccountId, AccountKind, ContactId};
use privdesk::domain::personal::{Personal, Secret};
use privdesk::domain::policy::Purpose;
use privdesk::domain::request::{Channel, RequestId, RequestKind};
use privdesk::domain::staff::{Actor, Role};
use privdesk::domain::view::Shown;
use privdesk::store::{AuditFilter, ChangeNotice};

use crate::both_backends;
use crate::support::{Backend, TestDesk};

const PASSPHRASE: &str = "Рыжий кот, 1999";

async fn account(td: &TestDesk, blocked: bool) -> AccountId {
    let hash = privdesk::crypto::hash_password(
        privdesk::domain::normalize::passphrase(PASSPHRASE).as_bytes(),
    )
    .unwrap();
    let input = AccountInput {
        external_id: None,
        kind: AccountKind::Individual,
        name: Personal::from("Семён Ёлкин"),
        email: Some(Personal::from("semen@example.ru")),
        phone: Some(Personal::from("+79161234567")),
        postal_address: Some(Personal::from("г. Тула, ул. Советская, д. 1")),
        tax_id: Some(Personal::from("500100732259")),
        admin_logins: vec![],
        contacts: vec![ContactInput {
            name: Some(Personal::from("Ольга Ёлкина")),
            email: Some(Personal::from("olga@example.ru")),
            phone: Some(Personal::from("+79035550101")),
            passphrase_hash: Some(Personal::new(hash)),
        }],
        flags: AccountFlags {
            blocked,
            ..AccountFlags::default()
        },
        login_history: vec![],
        sessions: vec![],
    };
    td.desk
        .create_accounts(&td.shell(), &[input], "account.import")
        .await
        .unwrap()[0]
}

async fn file(td: &TestDesk, actor: &Actor, account: AccountId, kind: RequestKind) -> RequestId {
    td.desk
        .file_request(
            actor,
            RequestInput {
                kind,
                account,
                requester: RequesterInput::Staff,
                channel: Channel::Internal,
                subject: "Follow-up".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap()
}

fn contact(td: &TestDesk) -> ContactId {
    let _ = td;
    ContactId(1)
}

both_backends!(
    reveals_follow_the_cells_and_are_audited_with_their_purpose,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, sup) = td.staff("sveta", Role::Supervisor).await;
        let (_, oncall) = td.staff("oleg", Role::Oncall).await;
        let a = account(&td, false).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        let case = file(&td, &oncall, a, RequestKind::Compromise).await;
        let c = contact(&td);
        // Agent: email yes; contact channels, postal address, tax id no.
        let v = td
            .desk
            .reveal(&agent, reset, Target::Email, Purpose::IdentifyClient)
            .await
            .unwrap();
        assert!(
            matches!(&v.shown, Shown::Revealed(t) if t.expose().as_str() == "semen@example.ru")
        );
        for t in [
            Target::ContactEmail(c),
            Target::PostalAddress,
            Target::TaxId,
            Target::ContactPassphrase(c),
        ] {
            assert!(
                td.desk
                    .reveal(&agent, reset, t, Purpose::IdentifyClient)
                    .await
                    .is_err(),
                "agent revealed {t:?}"
            );
        }
        // Supervisor: postal address and tax id yes; a passphrase never.
        let v = td
            .desk
            .reveal(&sup, reset, Target::PostalAddress, Purpose::FulfilRequest)
            .await
            .unwrap();
        assert_eq!(v.shown.text(), Some("г. Тула, ул. Советская, д. 1"));
        assert!(
            td.desk
                .reveal(
                    &sup,
                    reset,
                    Target::ContactPassphrase(c),
                    Purpose::FulfilRequest
                )
                .await
                .is_err()
        );
        // On-call: contact channels on a compromise case; not on a reset (not their queue).
        let v = td
            .desk
            .reveal(
                &oncall,
                case,
                Target::ContactPhone(c),
                Purpose::ProtectAccount,
            )
            .await
            .unwrap();
        assert_eq!(v.shown.text(), Some("+79035550101"));
        assert!(
            td.desk
                .reveal(&oncall, reset, Target::Email, Purpose::ProtectAccount)
                .await
                .is_err()
        );
        // Every reveal is on record with its purpose, never its value.
        let records = td
            .desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("field.reveal".into()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .unwrap();
        let done: Vec<_> = records
            .iter()
            .filter(|r| r.draft.outcome == "done")
            .collect();
        assert_eq!(done.len(), 3);
        assert!(
            done.iter().any(|r| r.draft.actor == "anna"
                && r.draft.purpose.as_deref() == Some("identify_client"))
        );
        assert_eq!(
            records
                .iter()
                .filter(|r| r.draft.outcome == "refused")
                .count(),
            6,
            "every refusal is on record, the on-call's on a queue not theirs too"
        );
        for r in &records {
            let line = format!("{:?}", r.draft);
            assert!(
                !line.contains("semen@") && !line.contains("Тула") && !line.contains("+7903"),
                "{line}"
            );
        }
        td.finish().await;
    }
);

both_backends!(
    a_failed_audit_record_reveals_nothing,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let a = account(&td, false).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        crate::reveal::fail_audit_inserts(&td, "field.reveal").await;
        let r = td
            .desk
            .reveal(&agent, reset, Target::Email, Purpose::IdentifyClient)
            .await;
        let err = r.expect_err("a reveal whose audit record failed must show nothing");
        assert!(
            err.to_string()
                .contains("audit record could not be written"),
            "{err}"
        );
        td.finish().await;
    }
);

both_backends!(
    the_reveal_limit_refuses_and_tells_supervisors,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, sup) = td.staff("sveta", Role::Supervisor).await;
        let a = account(&td, false).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        let desk = limited(&td, 2, 3);
        let mut notices = desk.subscribe();
        for _ in 0..2 {
            desk.reveal(&agent, reset, Target::Email, Purpose::IdentifyClient)
                .await
                .unwrap();
        }
        let err = desk
            .reveal(&agent, reset, Target::Phone, Purpose::IdentifyClient)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("limit of 2 reveals an hour"),
            "{err}"
        );
        // Pushing again adds no second open notice; every refusal is in the audit log.
        assert!(
            desk.reveal(&agent, reset, Target::Phone, Purpose::IdentifyClient)
                .await
                .is_err()
        );
        let refused = desk
            .store()
            .audit_count(&AuditFilter {
                action: Some("field.reveal".into()),
                outcome: Some("refused".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(refused, 2);
        let open = desk.notices(&sup, true, 10).await.unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].kind, "reveal_limit");
        assert_eq!(open[0].staff.as_deref(), Some("anna"));
        let mut saw_notice = false;
        while let Ok(n) = notices.try_recv() {
            saw_notice |= n == ChangeNotice::Notices;
        }
        assert!(saw_notice, "supervisor screens are told");
        // An hour later the limit is fresh.
        td.clock.advance(jiff::SignedDuration::from_mins(61));
        desk.reveal(&agent, reset, Target::Phone, Purpose::IdentifyClient)
            .await
            .unwrap();
        // Acknowledging is the supervisor's, audited; twice is refused.
        assert!(desk.acknowledge_notice(&agent, open[0].id).await.is_err());
        desk.acknowledge_notice(&sup, open[0].id).await.unwrap();
        assert!(desk.acknowledge_notice(&sup, open[0].id).await.is_err());
        assert!(desk.notices(&sup, true, 10).await.unwrap().is_empty());
        let acks = desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("notice.ack".into()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(acks.len(), 1);
        assert_eq!(acks[0].draft.actor, "sveta");
        td.finish().await;
    }
);

both_backends!(
    checks_normalise_miss_near_misses_and_are_limited,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, sup) = td.staff("sveta", Role::Supervisor).await;
        let a = account(&td, false).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        let c = contact(&td);
        let desk = limited(&td, 30, 8);
        let check = |t: Target, v: &str| {
            let desk = desk.clone();
            let agent = agent.clone();
            let v = v.to_owned();
            async move { desk.check(&agent, reset, t, Secret::new(v)).await }
        };
        assert!(check(Target::Email, "  Semen@EXAMPLE.ru ").await.unwrap());
        assert!(!check(Target::Email, "semen@example.com").await.unwrap());
        assert!(check(Target::Phone, "8 (916) 123-45-67").await.unwrap());
        assert!(!check(Target::Phone, "+7 916 123-45-68").await.unwrap());
        assert!(
            check(Target::ContactEmail(c), "OLGA@example.ru")
                .await
                .unwrap()
        );
        assert!(
            check(Target::ContactPassphrase(c), "  рыжий КОТ,   1999 ")
                .await
                .unwrap()
        );
        assert!(
            !check(Target::ContactPassphrase(c), "рыжий кот 1999")
                .await
                .unwrap()
        );
        assert!(
            check(Target::Email, "not an email").await.is_err(),
            "a malformed value is not a check"
        );
        let malformed = desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("field.check".into()),
                    outcome: Some("refused".into()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(malformed.len(), 1, "the refusal is recorded");
        assert_eq!(malformed[0].draft.detail, "malformed_input");
        assert!(
            !check(Target::Phone, "+7 903 555-01-01").await.unwrap(),
            "the contact's phone is not the account's"
        );
        // The eighth check on this request is the last; the ninth is refused with a notice.
        let err = check(Target::Email, "semen@example.ru").await.unwrap_err();
        assert!(err.to_string().contains("limit of 8 checks"), "{err}");
        let open = desk.notices(&sup, true, 10).await.unwrap();
        assert_eq!(open.iter().filter(|n| n.kind == "check_limit").count(), 1);
        let checks = desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("field.check".into()),
                    outcome: Some("done".into()),
                    ..AuditFilter::default()
                },
                100,
            )
            .await
            .unwrap();
        assert_eq!(checks.len(), 8);
        assert!(
            checks.iter().any(|r| r.draft.detail == "match")
                && checks.iter().any(|r| r.draft.detail == "no_match")
        );
        td.finish().await;
    }
);

both_backends!(
    a_blocked_account_allows_no_reveal_and_checks_only_in_its_subject_request,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let a = account(&td, true).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        let unblock = file(&td, &agent, a, RequestKind::SubjectUnblocking).await;
        assert!(
            td.desk
                .reveal(&agent, reset, Target::Email, Purpose::IdentifyClient)
                .await
                .is_err()
        );
        assert!(
            td.desk
                .reveal(&agent, unblock, Target::Email, Purpose::FulfilRequest)
                .await
                .is_err()
        );
        assert!(
            td.desk
                .check(
                    &agent,
                    reset,
                    Target::Email,
                    Secret::new("semen@example.ru".into())
                )
                .await
                .is_err()
        );
        assert!(
            td.desk
                .check(
                    &agent,
                    unblock,
                    Target::Email,
                    Secret::new("semen@example.ru".into())
                )
                .await
                .unwrap()
        );
        td.finish().await;
    }
);

both_backends!(
    the_access_report_lists_looks_reveals_and_checks,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (_, sup) = td.staff("sveta", Role::Supervisor).await;
        let (_, auditor) = td.staff("dpo", Role::Auditor).await;
        let a = account(&td, false).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        td.desk.open_request(&agent, reset, None).await.unwrap();
        td.desk
            .reveal(&sup, reset, Target::Email, Purpose::ServiceMessage)
            .await
            .unwrap();
        td.desk
            .check(
                &agent,
                reset,
                Target::Phone,
                Secret::new("+79161234567".into()),
            )
            .await
            .unwrap();
        assert!(
            td.desk.access_report(&agent, a, true).await.is_err(),
            "agents do not read the audit log"
        );
        let report = td.desk.access_report(&auditor, a, true).await.unwrap();
        let actions: Vec<(&str, &str)> = report
            .iter()
            .map(|r| (r.draft.actor.as_str(), r.draft.action.as_str()))
            .collect();
        assert_eq!(
            actions,
            [
                ("anna", "request.open"),
                ("sveta", "field.reveal"),
                ("anna", "field.check")
            ]
        );
        assert_eq!(report[1].draft.purpose.as_deref(), Some("service_message"));
        assert!(report[0].draft.fields.contains("email:masked"));
        td.finish().await;
    }
);

/// The same desk with other limits (reveals an hour, checks a request).
fn limited(td: &TestDesk, reveals: u32, checks: u32) -> Arc<Desk> {
    let mut rules = td.desk.rules().clone();
    rules.limits.reveals_per_hour = reveals;
    rules.limits.checks_per_request = checks;
    Arc::new(Desk::new(
        td.desk.store().clone(),
        td.desk.keys().clone(),
        rules,
        td.clock.clone(),
    ))
}

/// Makes the insertion of audit records of `action` fail, with a test-only trigger.
pub async fn fail_audit_inserts(td: &TestDesk, action: &str) {
    use sqlx::Connection as _;
    match td.backend {
        Backend::Sqlite => {
            let url = format!("sqlite://{}", td.db_path().display());
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let sql = format!(
                "CREATE TRIGGER fail_audit BEFORE INSERT ON audit WHEN NEW.action = '{action}' \
                 BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END;"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&td.pg_url(false).unwrap())
                .await
                .unwrap();
            let f = format!(
                "CREATE FUNCTION fail_audit() RETURNS trigger AS $$ BEGIN IF NEW.action = '{action}' THEN \
                 RAISE EXCEPTION 'injected audit failure'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            );
            sqlx::query(sqlx::AssertSqlSafe(f))
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("CREATE TRIGGER fail_audit BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION fail_audit()")
                .execute(&mut c)
                .await
                .unwrap();
            c.close().await.unwrap();
        }
    }
}

both_backends!(
    a_contact_check_compares_with_that_contact_only,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let mut input = AccountInput {
            external_id: None,
            kind: AccountKind::LegalEntity,
            name: Personal::from("ООО «Вектор»"),
            email: Some(Personal::from("info@vector.example")),
            phone: None,
            postal_address: None,
            tax_id: None,
            admin_logins: vec![],
            contacts: vec![],
            flags: AccountFlags::default(),
            login_history: vec![],
            sessions: vec![],
        };
        for (name, email, phone) in [
            ("Ольга", "olga@vector.example", "+79035550101"),
            ("Пётр", "petr@vector.example", "+79035550202"),
        ] {
            input.contacts.push(ContactInput {
                name: Some(Personal::from(name)),
                email: Some(Personal::from(email)),
                phone: Some(Personal::from(phone)),
                passphrase_hash: None,
            });
        }
        let a = td
            .desk
            .create_accounts(&td.shell(), &[input], "account.import")
            .await
            .unwrap()[0];
        let contacts = td.desk.store().contacts(a).await.unwrap();
        let (olga, petr) = (contacts[0].id, contacts[1].id);
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        let desk = limited(&td, 30, 30);
        let check = |t: Target, v: &str| {
            let desk = desk.clone();
            let agent = agent.clone();
            let v = v.to_owned();
            async move { desk.check(&agent, reset, t, Secret::new(v)).await.unwrap() }
        };
        assert!(check(Target::ContactEmail(olga), "OLGA@vector.example").await);
        assert!(
            !check(Target::ContactEmail(olga), "petr@vector.example").await,
            "another contact's address is not this contact's"
        );
        assert!(check(Target::ContactEmail(petr), "petr@vector.example").await);
        assert!(check(Target::ContactPhone(petr), "8 903 555-02-02").await);
        assert!(!check(Target::ContactPhone(olga), "8 903 555-02-02").await);
        td.finish().await;
    }
);

both_backends!(
    limits_hold_against_sessions_at_the_same_moment,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let a = account(&td, false).await;
        let reset = file(&td, &agent, a, RequestKind::PasswordReset).await;
        let desk = limited(&td, 3, 2);
        let mut tasks = vec![];
        for _ in 0..8 {
            let (desk, agent) = (desk.clone(), agent.clone());
            tasks.push(tokio::spawn(async move {
                desk.reveal(&agent, reset, Target::Email, Purpose::IdentifyClient)
                    .await
                    .is_ok()
            }));
        }
        for _ in 0..6 {
            let (desk, agent) = (desk.clone(), agent.clone());
            tasks.push(tokio::spawn(async move {
                desk.check(
                    &agent,
                    reset,
                    Target::Email,
                    Secret::new("semen@example.ru".to_owned()),
                )
                .await
                .is_ok()
            }));
        }
        let mut ok = vec![];
        for t in tasks {
            ok.push(t.await.unwrap());
        }
        assert_eq!(ok[..8].iter().filter(|o| **o).count(), 3, "reveals");
        assert_eq!(ok[8..].iter().filter(|o| **o).count(), 2, "checks");
        for (action, allowed) in [("field.reveal", 3), ("field.check", 2)] {
            let done = desk
                .store()
                .audit_count(&AuditFilter {
                    action: Some(action.into()),
                    outcome: Some("done".into()),
                    ..AuditFilter::default()
                })
                .await
                .unwrap();
            assert_eq!(done, allowed, "{action}");
        }
        td.finish().await;
    }
);
