//! Subject search on screen: how many matched, and saying so when more match than shown.

use std::sync::Arc;

use crossterm::event::KeyCode;
use privdesk::desk::requests::{RequestInput, RequesterInput};
use privdesk::domain::account::ContactId;
use privdesk::domain::request::{Channel, RequestKind};
use privdesk::domain::staff::{Lang, Role};
use privdesk::tui::Input;

use crate::both_backends;
use crate::desk_requests::account_and_reset;
use crate::support::TestDesk;
use crate::tui::{Ui, code, key};

async fn search(ui: &mut Ui, words: &str) -> String {
    ui.press(key('/')).await;
    ui.press(Input::Paste(words.to_owned())).await;
    ui.press(code(KeyCode::Enter)).await;
    ui.text()
}

both_backends!(
    a_search_says_when_more_match_than_it_shows,
    |td: TestDesk| async move {
        let (agent_s, agent) = td.staff("agent", Role::Agent).await;
        let (account, _) = account_and_reset(&td, &agent).await;
        let shown = privdesk::tui::state::SEARCH_LIMIT;
        for i in 0..=shown {
            td.desk
                .file_request(
                    &agent,
                    RequestInput {
                        kind: RequestKind::PasswordReset,
                        account,
                        requester: RequesterInput::Contact(ContactId(1)),
                        channel: Channel::Email,
                        subject: if i < shown {
                            format!("Forgot the password, call {i}")
                        } else {
                            "The password again".to_owned()
                        },
                        received_at: td.desk.now(),
                    },
                )
                .await
                .unwrap();
        }
        let desk = Arc::new(td.reopen().await.unwrap());
        let mut ui = Ui::signed_in(desk, agent_s, Some(Lang::En), 100, 30).await;
        // 200 match "forgot": all shown, the count exact.
        let text = search(&mut ui, "forgot").await;
        assert!(
            text.contains(&format!("Requests matching “forgot”: {shown}")),
            "{text}"
        );
        ui.press(code(KeyCode::Esc)).await;
        // 201 match "password": the newest 200, and a hint.
        let text = search(&mut ui, "password").await;
        assert!(
            text.contains(&format!(
                "Requests matching “password”: the newest {shown} (add a word to narrow)"
            )),
            "{text}"
        );
        td.finish().await;
    }
);
