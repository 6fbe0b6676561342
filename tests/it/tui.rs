//! The desk's screens, headless: a TestBackend, the App driven by key events, waiting on
//! the desk's answers (never on sleeps), snapshots of what each role sees.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use privdesk::desk::Desk;
use privdesk::domain::staff::{Lang, Role, Source, Staff};
use privdesk::tui::i18n::I18n;
use privdesk::tui::keymap::KeyMap;
use privdesk::tui::theme::Theme;
use privdesk::tui::{App, Input, Settings};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::desk_requests::account_and_reset;
use crate::support::{Backend, TestDesk};

pub fn settings(lang: Option<Lang>) -> Settings {
    Settings {
        lang_override: lang,
        locale: None,
        default_lang: None,
        idle_lock: Duration::from_mins(15),
        source: Source::Local,
        keymap: KeyMap::default(),
        theme: Theme { color: false },
        paste_limit: 20_000,
        reveal_ttl: Duration::from_mins(1),
    }
}

pub fn key(c: char) -> Input {
    Input::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: KeyCode) -> Input {
    Input::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// The screen as text, one line per row.
pub fn screen(term: &Terminal<TestBackend>) -> String {
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

pub struct Ui {
    pub app: App,
    pub term: Terminal<TestBackend>,
}

impl Ui {
    pub async fn signed_in(
        desk: Arc<Desk>,
        staff: Staff,
        lang: Option<Lang>,
        w: u16,
        h: u16,
    ) -> Ui {
        let generation = desk.staff_generation(&staff).await.unwrap();
        let mut app = App::signed_in(
            desk,
            Arc::new(I18n::new().unwrap()),
            settings(lang),
            staff,
            generation,
        );
        app.settle().await;
        let term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let mut ui = Ui { app, term };
        ui.draw();
        ui
    }

    pub fn draw(&mut self) {
        self.app.render(&mut self.term).unwrap();
    }

    pub async fn press(&mut self, input: Input) {
        self.app.on_input(input);
        self.app.settle().await;
        self.draw();
    }

    pub fn text(&self) -> String {
        screen(&self.term)
    }
}

async fn desk_with_requests(
    td: &TestDesk,
) -> (Arc<Desk>, Vec<(Staff, privdesk::domain::staff::Actor)>) {
    let mut staff = vec![];
    for (login, role) in [
        ("agent", Role::Agent),
        ("oncall", Role::Oncall),
        ("supervisor", Role::Supervisor),
        ("auditor", Role::Auditor),
        ("admin", Role::Admin),
    ] {
        staff.push(td.staff(login, role).await);
    }
    account_and_reset(td, &staff[0].1).await;
    let desk = Arc::new(td.reopen().await.unwrap());
    (desk, staff)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_lands_on_its_own_first_screen() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (desk, staff) = desk_with_requests(&td).await;
    for (s, _) in &staff {
        let ui = Ui::signed_in(desk.clone(), s.clone(), Some(Lang::En), 100, 30).await;
        insta::assert_snapshot!(format!("main_{}", s.role), ui.text());
    }
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_as_each_role_sees_it() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (desk, staff) = desk_with_requests(&td).await;
    for (s, _) in &staff {
        let mut ui = Ui::signed_in(desk.clone(), s.clone(), Some(Lang::En), 100, 30).await;
        ui.press(code(KeyCode::Enter)).await;
        let text = ui.text();
        assert!(
            !text.contains("info@romashka.ru"),
            "{} sees the email in clear:\n{text}",
            s.role
        );
        insta::assert_snapshot!(format!("detail_{}", s.role), text);
    }
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_a_request_by_keyboard() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (desk, staff) = desk_with_requests(&td).await;
    let agent = staff[0].0.clone();
    let mut ui = Ui::signed_in(desk.clone(), agent, Some(Lang::En), 80, 24).await;
    ui.press(code(KeyCode::Enter)).await;
    ui.press(key('t')).await;
    assert!(ui.text().contains("Taken."), "{}", ui.text());
    // A note, typed with hostile text: saved, shown neutralised.
    ui.press(key('n')).await;
    ui.press(Input::Paste(
        "call back \u{1b}]0;owned\u{7} \u{202e}evil".to_owned(),
    ))
    .await;
    ui.press(code(KeyCode::Enter)).await;
    let text = ui.text();
    assert!(text.contains("Note saved."), "{text}");
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "{text:?}"
    );
    assert!(!text.contains('\u{202e}'));
    // The next step: begin verification, confirmed.
    ui.press(key('e')).await;
    assert!(
        ui.text().contains("Begin verifying the requester"),
        "{}",
        ui.text()
    );
    ui.press(code(KeyCode::Enter)).await;
    ui.press(key('y')).await;
    assert!(ui.text().contains("verifying"), "{}", ui.text());
    insta::assert_snapshot!("detail_after_work_80x24", ui.text());
    // Back to the queue; quit asks first.
    ui.press(code(KeyCode::Esc)).await;
    ui.press(key('q')).await;
    assert!(ui.text().contains("Quit privdesk?"));
    ui.press(key('n')).await;
    assert!(!ui.app.is_quitting());
    ui.press(key('q')).await;
    ui.press(key('y')).await;
    assert!(ui.app.is_quitting());
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_small_windows_and_russian() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (desk, staff) = desk_with_requests(&td).await;
    let agent = staff[0].0.clone();
    let mut ui = Ui::signed_in(desk.clone(), agent.clone(), Some(Lang::En), 80, 24).await;
    ui.press(key('?')).await;
    let text = ui.text();
    assert!(
        text.contains("Keys") && text.contains("search") && text.contains("find account"),
        "{text}"
    );
    for _ in 0..10 {
        ui.press(key('j')).await;
    }
    assert!(ui.text().contains("Ctrl-d"), "{}", ui.text());
    ui.press(code(KeyCode::Esc)).await;
    assert!(!ui.text().contains("Keys"));
    let mut tiny = Ui::signed_in(desk.clone(), agent.clone(), Some(Lang::En), 30, 8).await;
    tiny.draw();
    assert!(tiny.text().contains("too small"), "{}", tiny.text());
    let ru = Ui::signed_in(desk.clone(), agent, Some(Lang::Ru), 80, 24).await;
    insta::assert_snapshot!("main_agent_ru_80x24", ru.text());
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_changed_draws_nothing() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (desk, staff) = desk_with_requests(&td).await;
    let mut ui = Ui::signed_in(desk, staff[0].0.clone(), Some(Lang::En), 80, 24).await;
    assert!(
        !ui.app.render(&mut ui.term).unwrap(),
        "a redraw with nothing changed"
    );
    ui.press(key('j')).await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_of_the_login_help_popups_and_lock() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (desk, staff) = desk_with_requests(&td).await;
    // The login screen, with a wrong password.
    let mut login = Ui {
        app: App::new(
            desk.clone(),
            Arc::new(I18n::new().unwrap()),
            settings(Some(Lang::En)),
        ),
        term: Terminal::new(TestBackend::new(80, 24)).unwrap(),
    };
    login.draw();
    insta::assert_snapshot!("login_80x24", login.text());
    for c in "agent".chars() {
        login.press(key(c)).await;
    }
    login.press(code(KeyCode::Enter)).await;
    for c in "wrong".chars() {
        login.press(key(c)).await;
    }
    login.press(code(KeyCode::Enter)).await;
    let text = login.text();
    assert!(
        text.contains("Wrong login or password.") && !text.contains("wrong"),
        "{text}"
    );
    insta::assert_snapshot!("login_refused_80x24", text);
    // Help, a choice, a confirmation, on a request.
    let mut ui = Ui::signed_in(desk.clone(), staff[0].0.clone(), Some(Lang::En), 80, 24).await;
    ui.press(code(KeyCode::Enter)).await;
    ui.press(key('?')).await;
    insta::assert_snapshot!("help_detail_80x24", ui.text());
    ui.press(code(KeyCode::Esc)).await;
    ui.press(key('e')).await;
    insta::assert_snapshot!("choice_events_80x24", ui.text());
    ui.press(code(KeyCode::Enter)).await;
    insta::assert_snapshot!("confirm_event_80x24", ui.text());
    ui.press(key('n')).await;
    // The idle lock hides the work.
    let generation = desk.staff_generation(&staff[0].0).await.unwrap();
    let mut s = settings(Some(Lang::Ru));
    s.idle_lock = Duration::ZERO;
    let mut locked = Ui {
        app: App::signed_in(
            desk.clone(),
            Arc::new(I18n::new().unwrap()),
            s,
            staff[0].0.clone(),
            generation,
        ),
        term: Terminal::new(TestBackend::new(80, 24)).unwrap(),
    };
    locked.app.settle().await;
    locked.app.on_tick();
    locked.draw();
    insta::assert_snapshot!("lock_ru_80x24", locked.text());
    td.finish().await;
}

/// The demo desk as of Monday morning (its clock stopped there): three queues with open and
/// overdue requests, accounts to find, hostile text.
async fn demo_desk(home: &std::path::Path) -> Arc<Desk> {
    let d = crate::demo::demo(
        home,
        privdesk::desk::demo::DemoOptions {
            accounts: Some(200),
            requests: Some(500),
            ..privdesk::desk::demo::DemoOptions::default()
        },
    )
    .await;
    let clock = Arc::new(privdesk::desk::ManualClock::new(
        crate::support::monday_morning(),
    ));
    Arc::new(d.desk.with_clock(clock))
}

async fn demo_login(desk: &Desk, login: &str) -> Staff {
    desk.login(
        login,
        privdesk::domain::personal::Secret::new("demo".into()),
        Source::Local,
    )
    .await
    .unwrap()
}

/// The tab row: every queue's tab with its counts.
fn tabs_row(ui: &Ui) -> String {
    ui.text().lines().nth(1).unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_supervisors_tabs_keep_their_counts_when_narrow() {
    let home = tempfile::tempdir().unwrap();
    let desk = demo_desk(home.path()).await;
    let sup = demo_login(&desk, "supervisor").await;
    for (lang, name) in [(Lang::En, "en"), (Lang::Ru, "ru")] {
        for width in [60, 70, 80, 100, 120] {
            let ui = Ui::signed_in(desk.clone(), sup.clone(), Some(lang), width, 24).await;
            let tabs = tabs_row(&ui);
            assert_eq!(
                tabs.matches(" (").count(),
                3,
                "{name} at {width} columns: {tabs}"
            );
            assert!(tabs.trim_end().ends_with(')'), "{name} at {width}: {tabs}");
            if width == 80 {
                let snap = if lang == Lang::En {
                    "main_supervisor_80x24".to_owned()
                } else {
                    format!("main_supervisor_{name}_80x24")
                };
                insta::assert_snapshot!(snap, ui.text());
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_of_searches_filters_notes_and_small_windows() {
    let home = tempfile::tempdir().unwrap();
    let desk = demo_desk(home.path()).await;
    let agent = demo_login(&desk, "agent").await;
    let mut ui = Ui::signed_in(desk.clone(), agent.clone(), Some(Lang::En), 80, 24).await;
    // Subject search.
    ui.press(key('/')).await;
    ui.press(Input::Paste("password".to_owned())).await;
    ui.press(code(KeyCode::Enter)).await;
    let text = ui.text();
    assert!(
        text.contains(" Esc back "),
        "results say how to leave them:\n{text}"
    );
    insta::assert_snapshot!("subject_search_80x24", text);
    ui.press(code(KeyCode::Esc)).await;
    // Account search by a word of an account's name.
    ui.press(key('a')).await;
    ui.press(Input::Paste("Осипов".to_owned())).await;
    ui.press(code(KeyCode::Enter)).await;
    insta::assert_snapshot!("account_search_80x24", ui.text());
    ui.press(code(KeyCode::Esc)).await;
    // The state filter.
    ui.press(key('f')).await;
    insta::assert_snapshot!("filter_state_80x24", ui.text());
    ui.press(code(KeyCode::Esc)).await;
    // A note being typed on a request.
    ui.press(code(KeyCode::Enter)).await;
    ui.press(key('n')).await;
    ui.press(Input::Paste(
        "Перезвонил клиенту, ждём письмо от администратора".to_owned(),
    ))
    .await;
    let text = ui.text();
    assert!(text.contains(" Enter OK "), "{text}");
    // Client text behind it wraps between words.
    assert!(text.contains("  администратора."), "{text}");
    insta::assert_snapshot!("note_input_80x24", text);
    // A window too small to draw.
    let mut tiny = Ui::signed_in(desk.clone(), agent, Some(Lang::En), 50, 12).await;
    tiny.draw();
    assert!(tiny.text().contains("(now 50×12)"), "{}", tiny.text());
    insta::assert_snapshot!("too_small_50x12", tiny.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_of_the_supervisors_notices() {
    let home = tempfile::tempdir().unwrap();
    let demo = demo_desk(home.path()).await;
    // One reveal and one check an hour: the agent goes past both.
    let mut rules = demo.rules().clone();
    rules.limits.reveals_per_hour = 1;
    rules.limits.checks_per_request = 1;
    let desk = Arc::new(Desk::new(
        demo.store().clone(),
        demo.keys().clone(),
        rules,
        demo.clock().clone(),
    ));
    let agent = demo_login(&desk, "agent").await;
    let mut ui = Ui::signed_in(desk.clone(), agent, Some(Lang::En), 80, 24).await;
    ui.press(code(KeyCode::Enter)).await;
    for _ in 0..2 {
        ui.press(key('v')).await;
        ui.press(code(KeyCode::Enter)).await;
        ui.press(code(KeyCode::Enter)).await;
    }
    for _ in 0..2 {
        ui.press(key('x')).await;
        ui.press(code(KeyCode::Enter)).await;
        ui.press(Input::Paste("someone@example.org".to_owned()))
            .await;
        ui.press(code(KeyCode::Enter)).await;
    }
    let sup = demo_login(&desk, "supervisor").await;
    let mut ui = Ui::signed_in(desk.clone(), sup.clone(), Some(Lang::En), 80, 24).await;
    assert!(ui.text().contains("2 notices"), "{}", ui.text());
    ui.press(key('!')).await;
    insta::assert_snapshot!("notices_80x24", ui.text());
    let mut ui = Ui::signed_in(desk, sup, Some(Lang::Ru), 80, 24).await;
    ui.press(key('!')).await;
    insta::assert_snapshot!("notices_ru_80x24", ui.text());
}
