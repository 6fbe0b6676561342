//! The desk's first operations on both backends: file, open (one audited look), events,
//! take / assign / release, notes, stale writes.

use privdesk::desk::accounts::{AccountInput, ContactInput};
use privdesk::desk::requests::{Filter, QueuePage, RequestInput, RequesterInput};
use privdesk::domain::account::{AccountFlags, AccountKind, ContactId};
use privdesk::domain::personal::Personal;
use privdesk::domain::request::{Channel, Queue, RequestKind};
use privdesk::domain::staff::Role;
use privdesk::domain::view::{Shown, ViewMode};
use privdesk::domain::workflow::{Event, State};
use privdesk::store::AuditFilter;

use crate::both_backends;
use crate::support::TestDesk;

pub fn sample_account(name: &str, email: &str) -> AccountInput {
    AccountInput {
        external_id: Some(Personal::from(format!("ext-{email}"))),
        kind: AccountKind::LegalEntity,
        name: Personal::from(name),
        email: Some(Personal::from(email)),
        phone: Some(Personal::from("+79161234567")),
        postal_address: Some(Personal::from("г. Москва, ул. Ленина, д. 5")),
        tax_id: Some(Personal::from("7707083893")),
        admin_logins: vec![Personal::from("admin1")],
        contacts: vec![ContactInput {
            name: Some(Personal::from("Анна Смирнова")),
            email: Some(Personal::from("anna@example.org")),
            phone: None,
            passphrase_hash: None,
        }],
        flags: AccountFlags::default(),
        login_history: vec![],
        sessions: vec![],
    }
}

/// An account with one designated contact, and a password-reset request filed by `agent`.
pub async fn account_and_reset(
    td: &TestDesk,
    agent: &privdesk::domain::staff::Actor,
) -> (
    privdesk::domain::account::AccountId,
    privdesk::domain::request::RequestId,
) {
    let ids = td
        .desk
        .create_accounts(
            &td.shell(),
            &[sample_account("ООО «Ромашка»", "info@romashka.ru")],
            "account.import",
        )
        .await
        .unwrap();
    let contact = ContactId(1);
    let id = td
        .desk
        .file_request(
            agent,
            RequestInput {
                kind: RequestKind::PasswordReset,
                account: ids[0],
                requester: RequesterInput::Contact(contact),
                channel: Channel::Phone,
                subject: "Lost access after a phone change".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap();
    (ids[0], id)
}

both_backends!(
    filing_and_opening_is_audited_once_per_look,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (account, id) = account_and_reset(&td, &agent).await;
        let view = td.desk.open_request(&agent, id, None).await.unwrap();
        assert_eq!(view.mode, ViewMode::Full);
        assert_eq!(view.state, State::Received);
        let a = view.account.as_ref().unwrap();
        assert_eq!(a.name.shown.text(), Some("ООО «Ромашка»"));
        assert_eq!(a.email.shown.text(), Some("i***@r***.ru"));
        assert!(matches!(a.postal_address.shown, Shown::Hidden));
        let looks = td
            .desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("request.open".into()),
                    account: Some(account),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(looks.len(), 1);
        assert!(
            looks[0].draft.fields.contains("email:masked"),
            "{}",
            looks[0].draft.fields
        );
        assert!(!looks[0].draft.fields.contains("info@"));
        // A live refresh that shows nothing new is not recorded again.
        let shown = view.shown_fields();
        td.desk
            .open_request(&agent, id, Some(&shown))
            .await
            .unwrap();
        let looks2 = td
            .desk
            .store()
            .audit_records(
                &AuditFilter {
                    action: Some("request.open".into()),
                    ..AuditFilter::default()
                },
                10,
            )
            .await
            .unwrap();
        assert_eq!(looks2.len(), 1);
        td.finish().await;
    }
);

both_backends!(queues_follow_the_access_table, |td: TestDesk| async move {
    let (_, agent) = td.staff("anna", Role::Agent).await;
    let (_, oncall) = td.staff("oleg", Role::Oncall).await;
    let (_, auditor) = td.staff("dpo", Role::Auditor).await;
    let (_, id) = account_and_reset(&td, &agent).await;
    assert_eq!(
        td.desk.queues_for(&agent),
        vec![Queue::Reset, Queue::Subject]
    );
    assert_eq!(td.desk.queues_for(&oncall), vec![Queue::Compromise]);
    assert!(td.desk.queues_for(&auditor).is_empty());
    let page = QueuePage {
        queue: Queue::Reset,
        filter: Filter::default(),
        cursor: None,
        backward: false,
        limit: 50,
    };
    let rows = td.desk.list_queue(&agent, &page).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert!(td.desk.list_queue(&oncall, &page).await.is_err());
    assert!(td.desk.open_request(&oncall, id, None).await.is_err());
    assert!(td.desk.open_request(&auditor, id, None).await.is_err());
    let badges = td.desk.queue_badges(&agent).await.unwrap();
    assert_eq!(
        badges
            .iter()
            .find(|b| b.queue == Queue::Reset)
            .map(|b| b.open),
        Some(1)
    );
    td.finish().await;
});

both_backends!(events_take_and_stale_writes, |td: TestDesk| async move {
    let (_, agent) = td.staff("anna", Role::Agent).await;
    let (_, agent2) = td.staff("boris", Role::Agent).await;
    let (_, id) = account_and_reset(&td, &agent).await;
    let r = td.desk.take(&agent, id, 1).await.unwrap();
    assert_eq!(r.assignee_login.as_deref(), Some("anna"));
    // Boris still holds version 1: refused, naming who changed it.
    let err = td.desk.take(&agent2, id, 1).await.unwrap_err();
    assert!(err.is_stale(), "{err}");
    assert!(err.to_string().contains("anna"), "{err}");
    let r = td
        .desk
        .apply_event(
            &agent,
            id,
            r.version,
            Event::BeginVerification,
            Some("called back"),
        )
        .await
        .unwrap();
    assert_eq!(r.state, State::Verifying);
    let r = td
        .desk
        .apply_event(&agent, id, r.version, Event::Verify, None)
        .await
        .unwrap();
    assert_eq!(r.state, State::Verified);
    assert!(r.identity_verified);
    let bad = td
        .desk
        .apply_event(&agent, id, r.version, Event::Redeem, None)
        .await;
    assert!(bad.is_err());
    let r = td
        .desk
        .assign(&agent, id, r.version, "boris")
        .await
        .unwrap();
    assert_eq!(r.assignee_login.as_deref(), Some("boris"));
    let r = td.desk.release(&agent2, id, r.version).await.unwrap();
    assert_eq!(r.assignee_login, None);
    td.desk
        .add_note(&agent, id, "Client confirmed by callback")
        .await
        .unwrap();
    let view = td.desk.open_request(&agent, id, None).await.unwrap();
    let entries = view.entries.unwrap();
    assert!(entries.iter().any(|e| {
        e.body
            .expose()
            .iter()
            .any(|l| l.as_str() == "Client confirmed by callback")
    }));
    td.finish().await;
});

both_backends!(
    subjects_with_personal_data_are_refused,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("anna", Role::Agent).await;
        let (account, _) = account_and_reset(&td, &agent).await;
        for subject in [
            "Write to info@romashka.ru",
            "Call +7 916 123-45-67",
            "Ромашка asks for a reset",
            "",
        ] {
            let r = td
                .desk
                .file_request(
                    &agent,
                    RequestInput {
                        kind: RequestKind::SubjectReport,
                        account,
                        requester: RequesterInput::Other(Personal::from("caller")),
                        channel: Channel::Email,
                        subject: subject.to_owned(),
                        received_at: td.desk.now(),
                    },
                )
                .await;
            assert!(r.is_err(), "{subject:?} was accepted");
        }
        td.finish().await;
    }
);
