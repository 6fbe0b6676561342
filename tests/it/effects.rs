//! What workflow steps do to the account: containment locks it and ends its sessions, an
//! executed blocking blocks it, an executed deletion erases it and destroys its key.

use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::AccountId;
use privdesk::domain::request::{Channel, RequestId, RequestKind};
use privdesk::domain::staff::{Actor, Role};
use privdesk::domain::workflow::{Event, Severity};

use crate::both_backends;
use crate::desk_requests::sample_account;
use crate::support::TestDesk;

async fn file(td: &TestDesk, actor: &Actor, account: AccountId, kind: RequestKind) -> RequestId {
    td.desk
        .file_request(
            actor,
            RequestInput {
                kind,
                account,
                requester: RequesterInput::Staff,
                channel: Channel::Internal,
                subject: "Handled as asked".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap()
}

async fn step(td: &TestDesk, actor: &Actor, id: RequestId, event: Event) {
    let version = td.desk.store().request(id).await.unwrap().unwrap().version;
    td.desk
        .apply_event(actor, id, version, event, None)
        .await
        .unwrap();
}

both_backends!(steps_act_on_the_account, |td: TestDesk| async move {
    let (_, agent) = td.staff("anna", Role::Agent).await;
    let (_, sup) = td.staff("sveta", Role::Supervisor).await;
    let (_, oncall) = td.staff("oleg", Role::Oncall).await;
    let mut input = sample_account("ООО «Вектор»", "info@vector.example");
    input.sessions = vec![(
        td.desk.now(),
        privdesk::domain::personal::Personal::from("198.51.100.7"),
    )];
    let a = td
        .desk
        .create_accounts(&td.shell(), &[input], "account.import")
        .await
        .unwrap()[0];
    // Containment locks the account and ends its sessions.
    let case = file(&td, &oncall, a, RequestKind::Compromise).await;
    step(
        &td,
        &oncall,
        case,
        Event::Triage {
            severity: Severity::new(1).unwrap(),
            personal_data_leak: false,
        },
    )
    .await;
    step(&td, &oncall, case, Event::Contain).await;
    let row = td.desk.store().account(a).await.unwrap().unwrap();
    assert!(row.flags.locked);
    assert!(td.desk.store().client_sessions(a).await.unwrap().is_empty());
    // An executed blocking blocks it.
    let block = file(&td, &agent, a, RequestKind::SubjectBlocking).await;
    for (who, e) in [
        (&agent, Event::VerifyIdentity),
        (&agent, Event::Prepare),
        (&agent, Event::SubmitForApproval),
        (&sup, Event::Approve),
        (&agent, Event::Execute),
    ] {
        step(&td, who, block, e).await;
    }
    assert!(
        td.desk
            .store()
            .account(a)
            .await
            .unwrap()
            .unwrap()
            .flags
            .blocked
    );
    // An executed deletion erases it and destroys its key.
    let delete = file(&td, &agent, a, RequestKind::SubjectDeletion).await;
    for (who, e) in [
        (&agent, Event::VerifyIdentity),
        (&agent, Event::Prepare),
        (&agent, Event::SubmitForApproval),
        (&sup, Event::Approve),
        (&agent, Event::Execute),
    ] {
        step(&td, who, delete, e).await;
    }
    let row = td.desk.store().account(a).await.unwrap().unwrap();
    assert!(row.flags.erased && row.name.is_none() && row.email.is_none());
    assert!(
        td.desk
            .keys()
            .keystore()
            .get(privdesk::store::keystore::KeyOwner::Account(a.0))
            .await
            .unwrap()
            .is_none()
    );
    assert!(td.desk.store().doomed_keys().await.unwrap().is_empty());
    // The request goes on to its end; its account shows as erased.
    step(&td, &agent, delete, Event::NotifyClient).await;
    let view = td.desk.open_request(&agent, delete, None).await.unwrap();
    assert!(view.account.unwrap().flags.erased);
    td.finish().await;
});

both_backends!(
    a_leak_sets_the_regulator_deadlines,
    |td: TestDesk| async move {
        let (_, oncall) = td.staff("oleg", Role::Oncall).await;
        let a = td
            .desk
            .create_accounts(
                &td.shell(),
                &[sample_account("Ирина Ёлкина", "irina@example.org")],
                "account.import",
            )
            .await
            .unwrap()[0];
        let rules = td.desk.rules();
        let low = Severity::new(4).unwrap();
        let mut dues = vec![];
        for leak in [false, true] {
            let case = file(&td, &oncall, a, RequestKind::Compromise).await;
            step(
                &td,
                &oncall,
                case,
                Event::Triage {
                    severity: low,
                    personal_data_leak: leak,
                },
            )
            .await;
            let row = td.desk.store().request(case).await.unwrap().unwrap();
            let view = td.desk.open_request(&oncall, case, None).await.unwrap();
            let leak_deadlines = rules
                .deadlines
                .leak(row.received_at, &rules.calendar, &rules.tz)
                .unwrap();
            if leak {
                // Due when the regulator must be told (24 h), not in three working days.
                assert_eq!(row.due_at, leak_deadlines.notice);
                assert_eq!(view.leak_deadlines, Some(leak_deadlines));
            } else {
                assert!(row.due_at > leak_deadlines.notice);
                assert_eq!(view.leak_deadlines, None);
            }
            dues.push(row.due_at);
        }
        assert!(dues[1] < dues[0]);
        td.finish().await;
    }
);
