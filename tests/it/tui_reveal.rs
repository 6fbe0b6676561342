//! Reveal and check on screen, as each role: the same request before and after a reveal,
//! the reveal hidden again, notices in supervisor sessions, the audit viewer.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::KeyCode;
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::ContactId;
use privdesk::domain::request::{Channel, RequestKind};
use privdesk::domain::staff::{Lang, Role};

use crate::both_backends;
use crate::desk_requests::account_and_reset;
use crate::support::TestDesk;
use crate::tui::{Ui, code, key};

const EMAIL: &str = "info@romashka.ru";
const ADDRESS: &str = "г. Москва, ул. Ленина, д. 5";
const CONTACT_EMAIL: &str = "anna@example.org";

both_backends!(
    the_same_request_before_and_after_a_reveal_as_each_role,
    |td: TestDesk| async move {
        let (agent_s, agent) = td.staff("agent", Role::Agent).await;
        let (oncall_s, oncall) = td.staff("oncall", Role::Oncall).await;
        let (sup_s, _) = td.staff("supervisor", Role::Supervisor).await;
        let (auditor_s, _) = td.staff("auditor", Role::Auditor).await;
        let (admin_s, _) = td.staff("admin", Role::Admin).await;
        let (account, _) = account_and_reset(&td, &agent).await;
        td.desk
            .file_request(
                &oncall,
                RequestInput {
                    kind: RequestKind::Compromise,
                    account,
                    requester: RequesterInput::Contact(ContactId(1)),
                    channel: Channel::Phone,
                    subject: "Unknown logins at night".to_owned(),
                    received_at: td.desk.now(),
                },
            )
            .await
            .unwrap();
        let desk = Arc::new(td.reopen().await.unwrap());
        for (staff, value) in [(agent_s, EMAIL), (sup_s, EMAIL), (oncall_s, CONTACT_EMAIL)] {
            let role = staff.role;
            let mut ui = Ui::signed_in(desk.clone(), staff, Some(Lang::En), 110, 34).await;
            ui.press(code(KeyCode::Enter)).await;
            let before = ui.text();
            assert!(
                !before.contains(value),
                "{role} sees {value} before revealing:\n{before}"
            );
            assert!(!before.contains(ADDRESS), "{role}:\n{before}");
            insta::assert_snapshot!(format!("reveal_before_{role}"), before);
            ui.press(key('v')).await;
            // The oncall engineer may reveal the contact's channels: pick that row.
            if role == Role::Oncall {
                let text = ui.text();
                let row = text
                    .lines()
                    .position(|l| l.contains("contact 1: email"))
                    .unwrap();
                let first = text
                    .lines()
                    .position(|l| l.contains("Email") || l.contains("contact 1"))
                    .unwrap();
                for _ in first..row {
                    ui.press(key('j')).await;
                }
            }
            ui.press(code(KeyCode::Enter)).await;
            assert!(ui.text().contains("Why do you need it?"), "{}", ui.text());
            ui.press(code(KeyCode::Enter)).await;
            let after = ui.text();
            assert!(
                after.contains(value),
                "{role} does not see the revealed {value}:\n{after}"
            );
            assert!(after.contains("(revealed)"), "{after}");
            insta::assert_snapshot!(format!("reveal_after_{role}"), after);
            // Leaving the request hides it again.
            ui.press(code(KeyCode::Esc)).await;
            ui.press(code(KeyCode::Enter)).await;
            assert!(
                !ui.text().contains(value),
                "{role}: still revealed after leaving:\n{}",
                ui.text()
            );
        }
        for staff in [auditor_s, admin_s] {
            let role = staff.role;
            let mut ui = Ui::signed_in(desk.clone(), staff, Some(Lang::En), 110, 34).await;
            ui.press(code(KeyCode::Enter)).await;
            let text = ui.text();
            for v in [EMAIL, ADDRESS, CONTACT_EMAIL, "Ромашка", "Анна"] {
                assert!(!text.contains(v), "{role} sees {v}:\n{text}");
            }
            insta::assert_snapshot!(format!("reveal_screen_{role}"), text);
        }
        td.finish().await;
    }
);

both_backends!(
    a_reveal_hides_again_after_its_time,
    |td: TestDesk| async move {
        let (agent_s, agent) = td.staff("agent", Role::Agent).await;
        account_and_reset(&td, &agent).await;
        let desk = Arc::new(td.reopen().await.unwrap());
        let generation = desk.staff_generation(&agent_s).await.unwrap();
        let mut settings = crate::tui::settings(Some(Lang::En));
        settings.reveal_ttl = Duration::from_millis(200);
        let app = privdesk::tui::App::signed_in(
            desk,
            Arc::new(privdesk::tui::i18n::I18n::new().unwrap()),
            settings,
            agent_s,
            generation,
        );
        let mut ui = Ui {
            app,
            term: ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 30)).unwrap(),
        };
        ui.app.settle().await;
        ui.press(code(KeyCode::Enter)).await;
        ui.press(key('v')).await;
        ui.press(code(KeyCode::Enter)).await;
        ui.press(code(KeyCode::Enter)).await;
        assert!(ui.text().contains(EMAIL));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while ui.text().contains(EMAIL) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never hidden:\n{}",
                ui.text()
            );
            ui.app.on_tick();
            ui.draw();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(ui.text().contains("i***@r***.ru"));
        td.finish().await;
    }
);

both_backends!(
    a_check_tells_match_only_and_notices_reach_supervisors,
    |td: TestDesk| async move {
        let (agent_s, agent) = td.staff("agent", Role::Agent).await;
        let (sup_s, _) = td.staff("supervisor", Role::Supervisor).await;
        account_and_reset(&td, &agent).await;
        let mut rules = td.desk.rules().clone();
        rules.limits.reveals_per_hour = 1;
        let desk = Arc::new(privdesk::desk::Desk::new(
            td.desk.store().clone(),
            td.desk.keys().clone(),
            rules,
            td.clock.clone(),
        ));
        let mut ui = Ui::signed_in(desk.clone(), agent_s, Some(Lang::En), 100, 30).await;
        ui.press(code(KeyCode::Enter)).await;
        // Check the email the caller says.
        ui.press(key('x')).await;
        ui.press(code(KeyCode::Enter)).await;
        ui.press(privdesk::tui::Input::Paste(" INFO@romashka.RU".to_owned()))
            .await;
        ui.press(code(KeyCode::Enter)).await;
        assert!(ui.text().contains("✓ It matches."), "{}", ui.text());
        assert!(
            !ui.text().contains("INFO@romashka"),
            "the typed value stays off the screen"
        );
        // Two reveals where one an hour is allowed: the second is refused.
        for _ in 0..2 {
            ui.press(key('v')).await;
            ui.press(code(KeyCode::Enter)).await;
            ui.press(code(KeyCode::Enter)).await;
        }
        assert!(
            ui.text().contains("limit of 1 reveals an hour"),
            "{}",
            ui.text()
        );
        // The supervisor's session shows the notice and acknowledges it.
        let mut sup = Ui::signed_in(desk.clone(), sup_s, Some(Lang::En), 100, 30).await;
        assert!(
            sup.text().contains("1 notice for supervisors"),
            "{}",
            sup.text()
        );
        sup.press(key('!')).await;
        assert!(
            sup.text().contains("agent reached the hourly reveal limit"),
            "{}",
            sup.text()
        );
        sup.press(code(KeyCode::Enter)).await;
        sup.press(key('y')).await;
        assert!(sup.text().contains("Acknowledged."), "{}", sup.text());
        assert!(
            !sup.text().contains("notice for supervisors"),
            "{}",
            sup.text()
        );
        // The audit viewer, filtered to reveals, shows purposes and field names only.
        sup.press(key('L')).await;
        sup.press(key('f')).await;
        sup.press(privdesk::tui::Input::Paste(
            "action=field.reveal".to_owned(),
        ))
        .await;
        sup.press(code(KeyCode::Enter)).await;
        let text = sup.text();
        assert!(
            text.contains("field.reveal")
                && text.contains("identify_client")
                && !text.contains(EMAIL),
            "{text}"
        );
        // And the access report of the account.
        sup.press(key('a')).await;
        sup.press(privdesk::tui::Input::Paste("A1".to_owned()))
            .await;
        sup.press(code(KeyCode::Enter)).await;
        let text = sup.text();
        assert!(
            text.contains("Access to the personal data of A1") && text.contains("field.check"),
            "{text}"
        );
        td.finish().await;
    }
);

both_backends!(
    an_open_access_report_records_its_reading_once,
    |td: TestDesk| async move {
        let (_, agent) = td.staff("agent", Role::Agent).await;
        let (auditor_s, _) = td.staff("auditor", Role::Auditor).await;
        let (account, _) = account_and_reset(&td, &agent).await;
        let desk = Arc::new(td.reopen().await.unwrap());
        let mut ui = Ui::signed_in(desk.clone(), auditor_s, Some(Lang::En), 100, 30).await;
        ui.press(key('a')).await;
        ui.press(privdesk::tui::Input::Paste(account.to_string()))
            .await;
        ui.press(code(KeyCode::Enter)).await;
        assert!(
            ui.text()
                .contains(&format!("Access to the personal data of {account}")),
            "{}",
            ui.text()
        );
        let reads = || async {
            desk.store()
                .audit_count(&privdesk::store::AuditFilter {
                    action: Some("audit.access_report".to_owned()),
                    ..privdesk::store::AuditFilter::default()
                })
                .await
                .unwrap()
        };
        // The record of the reading changes the log, which refreshes the open report; the
        // refresh must not record (and refresh) again. Work elsewhere refreshes it too.
        for round in 0..6 {
            if round == 3 {
                desk.open_request(&agent, privdesk::domain::request::RequestId(1), None)
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            ui.app.on_tick();
            ui.app.drain_notices();
            ui.app.settle().await;
            ui.draw();
        }
        assert_eq!(reads().await, 1);
        // Leaving and opening it again is a new reading.
        ui.press(code(KeyCode::Esc)).await;
        ui.press(key('a')).await;
        ui.press(privdesk::tui::Input::Paste(account.to_string()))
            .await;
        ui.press(code(KeyCode::Enter)).await;
        assert_eq!(reads().await, 2);
        td.finish().await;
    }
);
