//! Faults under the desk's screens: a store that goes away (injected on SQLite, a killed
//! PostgreSQL connection), stale writes, the idle lock, changes made elsewhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use crossterm::event::KeyCode;
use jiff::Timestamp;
use privdesk::desk::Desk;
use privdesk::domain::account::AccountId;
use privdesk::domain::request::{Queue, RequestId};
use privdesk::domain::staff::{Lang, Role, StaffId};
use privdesk::store::*;
use tokio::sync::broadcast;

use crate::desk_requests::account_and_reset;
use crate::support::{Backend, TestDesk};
use crate::tui::{Ui, code, key};

/// A store that fails every call with "unavailable" while `down` is set.
struct Faulty {
    inner: DynStore,
    down: Arc<AtomicBool>,
    /// The import's final step commits, but its answer is lost (a connection dropped).
    lose_finish: Arc<AtomicBool>,
}

macro_rules! pass {
    ($self:ident, $call:expr) => {{
        if $self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("injected fault".into()));
        }
        $call.await
    }};
}

#[async_trait]
impl Store for Faulty {
    fn backend(&self) -> privdesk::store::Backend {
        self.inner.backend()
    }
    async fn migrate(&self) -> Result<()> {
        pass!(self, self.inner.migrate())
    }
    async fn meta(&self, key: &str) -> Result<Option<String>> {
        pass!(self, self.inner.meta(key))
    }
    async fn reserve_ids(&self, table: IdTable, n: u32) -> Result<i64> {
        pass!(self, self.inner.reserve_ids(table, n))
    }
    async fn staff_by_login(&self, login: &str) -> Result<Option<StaffRow>> {
        pass!(self, self.inner.staff_by_login(login))
    }
    async fn staff_by_id(&self, id: StaffId) -> Result<Option<StaffRow>> {
        pass!(self, self.inner.staff_by_id(id))
    }
    async fn list_staff(&self) -> Result<Vec<StaffRow>> {
        pass!(self, self.inner.list_staff())
    }
    async fn staff_keys(&self, id: StaffId) -> Result<Vec<StaffKeyRow>> {
        pass!(self, self.inner.staff_keys(id))
    }
    async fn staff_keys_by_fingerprint(&self, f: &str) -> Result<Vec<StaffKeyRow>> {
        pass!(self, self.inner.staff_keys_by_fingerprint(f))
    }
    async fn account(&self, id: AccountId) -> Result<Option<AccountRow>> {
        pass!(self, self.inner.account(id))
    }
    async fn accounts_by_ids(&self, ids: &[AccountId]) -> Result<Vec<AccountRow>> {
        pass!(self, self.inner.accounts_by_ids(ids))
    }
    async fn contacts(&self, a: AccountId) -> Result<Vec<ContactRow>> {
        pass!(self, self.inner.contacts(a))
    }
    async fn contact(&self, id: i64) -> Result<Option<ContactRow>> {
        pass!(self, self.inner.contact(id))
    }
    async fn login_history(&self, a: AccountId, limit: u32) -> Result<Vec<LoginRow>> {
        pass!(self, self.inner.login_history(a, limit))
    }
    async fn client_sessions(&self, a: AccountId) -> Result<Vec<SessionRow>> {
        pass!(self, self.inner.client_sessions(a))
    }
    async fn admin_login_count(&self, a: AccountId) -> Result<u32> {
        pass!(self, self.inner.admin_login_count(a))
    }
    async fn accounts_by_index(&self, kind: IndexKindTag, hash: &[u8]) -> Result<Vec<AccountId>> {
        pass!(self, self.inner.accounts_by_index(kind, hash))
    }
    async fn accounts_by_tokens(&self, tokens: &[String], limit: u32) -> Result<Vec<AccountId>> {
        pass!(self, self.inner.accounts_by_tokens(tokens, limit))
    }
    async fn account_count(&self) -> Result<AccountCounts> {
        pass!(self, self.inner.account_count())
    }
    async fn request(&self, id: RequestId) -> Result<Option<RequestRow>> {
        pass!(self, self.inner.request(id))
    }
    async fn list_requests(&self, q: &ListQuery) -> Result<Vec<QueueRow>> {
        pass!(self, self.inner.list_requests(q))
    }
    async fn queue_counts(&self, now: Timestamp) -> Result<Vec<QueueCount>> {
        pass!(self, self.inner.queue_counts(now))
    }
    async fn search_subjects(
        &self,
        tokens: &[String],
        queues: &[Queue],
        limit: u32,
    ) -> Result<Vec<QueueRow>> {
        pass!(self, self.inner.search_subjects(tokens, queues, limit))
    }
    async fn requests_of_account(&self, a: AccountId) -> Result<Vec<RequestRow>> {
        pass!(self, self.inner.requests_of_account(a))
    }
    async fn entries(&self, r: RequestId) -> Result<Vec<EntryRow>> {
        pass!(self, self.inner.entries(r))
    }
    async fn verification_items(&self, r: RequestId) -> Result<Vec<VerificationRow>> {
        pass!(self, self.inner.verification_items(r))
    }
    async fn commit(&self, c: Commit) -> Result<CommitOutcome> {
        pass!(self, self.inner.commit(c))
    }
    async fn audit_head(&self) -> Result<AuditHead> {
        pass!(self, self.inner.audit_head())
    }
    async fn audit_records(&self, f: &AuditFilter, limit: u32) -> Result<Vec<AuditRecord>> {
        pass!(self, self.inner.audit_records(f, limit))
    }
    async fn verify_audit(&self) -> Result<ChainReport> {
        pass!(self, self.inner.verify_audit())
    }
    async fn verify_audit_after(&self, intact: &ChainReport) -> Result<ChainReport> {
        pass!(self, self.inner.verify_audit_after(intact))
    }
    async fn audit_count(&self, f: &AuditFilter) -> Result<u64> {
        pass!(self, self.inner.audit_count(f))
    }
    async fn notices(&self, open_only: bool, limit: u32) -> Result<Vec<NoticeRow>> {
        pass!(self, self.inner.notices(open_only, limit))
    }
    async fn doomed_keys(&self) -> Result<Vec<AccountId>> {
        pass!(self, self.inner.doomed_keys())
    }
    async fn forget_doomed(&self, a: AccountId) -> Result<()> {
        pass!(self, self.inner.forget_doomed(a))
    }
    async fn change_counter(&self) -> Result<i64> {
        pass!(self, self.inner.change_counter())
    }
    fn subscribe(&self) -> broadcast::Receiver<ChangeNotice> {
        self.inner.subscribe()
    }
    fn watch_changes(&self) {
        self.inner.watch_changes();
    }
    async fn begin_import(&self, now: Timestamp) -> Result<ImportClaim> {
        pass!(self, self.inner.begin_import(now))
    }
    async fn abandoned_imports(&self) -> Result<Vec<(ImportClaim, ImportStage)>> {
        pass!(self, self.inner.abandoned_imports())
    }
    async fn reserve_import_accounts(&self, import: i64, n: u32) -> Result<i64> {
        pass!(self, self.inner.reserve_import_accounts(import, n))
    }
    async fn write_import_batch(
        &self,
        import: i64,
        new: &[NewAccount],
        replacing: &[NewAccount],
    ) -> Result<Duration> {
        pass!(self, self.inner.write_import_batch(import, new, replacing))
    }
    async fn finish_import(
        &self,
        import: i64,
        counts: ImportCounts,
        audit: Vec<AuditDraft>,
    ) -> Result<Duration> {
        let done = pass!(self, self.inner.finish_import(import, counts, audit))?;
        if self.lose_finish.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "injected fault: the answer was lost".into(),
            ));
        }
        Ok(done)
    }
    async fn sweep_import(&self, import: i64, limit: u32) -> Result<(bool, Duration)> {
        pass!(self, self.inner.sweep_import(import, limit))
    }
    async fn discard_import(&self, import: i64, limit: u32) -> Result<(u64, Duration)> {
        pass!(self, self.inner.discard_import(import, limit))
    }
    async fn import_ranges(&self, import: i64) -> Result<Vec<(i64, i64)>> {
        pass!(self, self.inner.import_ranges(import))
    }
    async fn forget_import(&self, import: i64) -> Result<()> {
        pass!(self, self.inner.forget_import(import))
    }
    async fn close(&self) {
        self.inner.close().await;
    }
}

/// Polls `cond` for up to five seconds, ticking the App's timers.
async fn wait_for(ui: &mut Ui, what: &str, cond: impl Fn(&Ui) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        ui.app.on_tick();
        ui.app.drain_notices();
        ui.app.settle().await;
        ui.draw();
        if cond(ui) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}:\n{}",
            ui.text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_raises_a_banner_loses_nothing_and_recovers() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (agent, actor) = td.staff("anna", Role::Agent).await;
    let (_, id) = account_and_reset(&td, &actor).await;
    let down = Arc::new(AtomicBool::new(false));
    let faulty: DynStore = Arc::new(Faulty {
        inner: td.desk.store().clone(),
        down: down.clone(),
        lose_finish: Arc::default(),
    });
    let desk = Arc::new(Desk::new(
        faulty,
        td.desk.keys().clone(),
        td.desk.rules().clone(),
        td.clock.clone(),
    ));
    let mut ui = Ui::signed_in(desk, agent, Some(Lang::En), 80, 24).await;
    ui.press(code(KeyCode::Enter)).await;
    assert!(ui.text().contains(&id.to_string()));
    down.store(true, Ordering::SeqCst);
    // Typing a note while the database is away: the text stays in the popup.
    ui.press(key('n')).await;
    for c in "callback at 5".chars() {
        ui.press(key(c)).await;
    }
    ui.press(code(KeyCode::Enter)).await;
    let text = ui.text();
    assert!(ui.app.banner().is_some(), "{text}");
    assert!(text.contains("cannot be reached"), "{text}");
    assert!(
        text.contains("callback at 5"),
        "the typed note was lost:\n{text}"
    );
    down.store(false, Ordering::SeqCst);
    wait_for(&mut ui, "the banner to go", |ui| ui.app.banner().is_none()).await;
    // The note can now be saved, exactly as typed.
    ui.press(code(KeyCode::Enter)).await;
    assert!(ui.text().contains("Note saved."), "{}", ui.text());
    let view = td.desk.open_request(&actor, id, None).await.unwrap();
    assert!(view.entries.unwrap().iter().any(|e| {
        e.body
            .expose()
            .iter()
            .any(|l| l.as_str() == "callback at 5")
    }));
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_postgresql_connection_is_survived() {
    if crate::support::pg_admin_url().is_none() {
        eprintln!("PRIVDESK_TEST_PG_URL is not set: skipping the PostgreSQL run");
        return;
    }
    let td = TestDesk::new(Backend::Postgres).await;
    let (agent, actor) = td.staff("anna", Role::Agent).await;
    account_and_reset(&td, &actor).await;
    let desk = Arc::new(td.reopen().await.unwrap());
    let mut ui = Ui::signed_in(desk, agent, Some(Lang::En), 80, 24).await;
    let url = td.pg_url(false).unwrap();
    let name = url
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let mut admin =
        <sqlx::PgConnection as sqlx::Connection>::connect(&crate::support::pg_admin_url().unwrap())
            .await
            .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!killed.is_empty());
    // The next refresh may meet a dead connection; the desk retries and recovers.
    ui.press(privdesk::tui::Input::Key(crossterm::event::KeyEvent::new(
        KeyCode::Char('r'),
        crossterm::event::KeyModifiers::CONTROL,
    )))
    .await;
    wait_for(&mut ui, "the queue back without a banner", |ui| {
        ui.app.banner().is_none() && ui.text().contains("#1")
    })
    .await;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_write_names_who_changed_it_and_shows_the_new_state() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (anna, actor) = td.staff("anna", Role::Agent).await;
    let (_, boris) = td.staff("boris", Role::Agent).await;
    let (_, id) = account_and_reset(&td, &actor).await;
    let desk = Arc::new(td.reopen().await.unwrap());
    let mut ui = Ui::signed_in(desk, anna, Some(Lang::En), 100, 30).await;
    ui.press(code(KeyCode::Enter)).await;
    // Boris takes it after Anna's screen loaded version 1.
    td.desk.take(&boris, id, 1).await.unwrap();
    ui.press(key('t')).await;
    let text = ui.text();
    assert!(text.contains("changed by boris"), "{text}");
    assert!(
        text.contains("Assignee         boris"),
        "the new state is shown:\n{text}"
    );
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_elsewhere_shows_without_a_keypress_and_keeps_the_selection() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (anna, actor) = td.staff("anna", Role::Agent).await;
    let (_, boris) = td.staff("boris", Role::Agent).await;
    let (account, first) = account_and_reset(&td, &actor).await;
    let _report = td
        .desk
        .file_request(
            &actor,
            privdesk::desk::requests::RequestInput {
                kind: privdesk::domain::request::RequestKind::SubjectReport,
                account,
                requester: privdesk::desk::requests::RequesterInput::Contact(
                    privdesk::domain::account::ContactId(1),
                ),
                channel: privdesk::domain::request::Channel::Email,
                subject: "What is held about the account".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap();
    let desk = Arc::new(td.reopen().await.unwrap());
    desk.watch_changes();
    let mut ui = Ui::signed_in(desk, anna, Some(Lang::En), 100, 30).await;
    // The report is on the second tab; a second reset makes the reset queue two rows long.
    let third = td
        .desk
        .file_request(
            &actor,
            privdesk::desk::requests::RequestInput {
                kind: privdesk::domain::request::RequestKind::PasswordReset,
                account,
                requester: privdesk::desk::requests::RequesterInput::Contact(
                    privdesk::domain::account::ContactId(1),
                ),
                channel: privdesk::domain::request::Channel::Phone,
                subject: "Second reset".to_owned(),
                received_at: td.desk.now(),
            },
        )
        .await
        .unwrap();
    wait_for(&mut ui, "two resets", |ui| {
        ui.text().contains(&third.to_string())
    })
    .await;
    ui.press(key('j')).await;
    let second = third;
    // Another process (a second desk on the same file) takes the selected request.
    td.desk.take(&boris, second, 1).await.unwrap();
    wait_for(&mut ui, "boris on the list", |ui| {
        ui.text().contains("boris")
    })
    .await;
    // The selection stayed on the second row.
    ui.press(code(KeyCode::Enter)).await;
    assert!(ui.text().contains(&format!("{second} ·")), "{}", ui.text());
    let _ = first;
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_screen_locks_when_idle_and_unlocks_with_the_password() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (anna, actor) = td.staff("anna", Role::Agent).await;
    account_and_reset(&td, &actor).await;
    let desk = Arc::new(td.reopen().await.unwrap());
    let generation = desk.staff_generation(&anna).await.unwrap();
    let mut settings = crate::tui::settings(Some(Lang::En));
    settings.idle_lock = Duration::from_millis(100);
    let app = privdesk::tui::App::signed_in(
        desk,
        Arc::new(privdesk::tui::i18n::I18n::new().unwrap()),
        settings,
        anna,
        generation,
    );
    let mut ui = Ui {
        app,
        term: ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap(),
    };
    ui.app.settle().await;
    ui.press(key('n')).await;
    ui.press(key('x')).await;
    // Resizes (an SSH session's repaint after a stall comes as one) do not hold it off.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !ui.text().contains("Screen locked") {
        assert!(tokio::time::Instant::now() < deadline, "{}", ui.text());
        ui.press(privdesk::tui::Input::Resize(80, 24)).await;
        ui.app.on_tick();
        ui.draw();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_for(&mut ui, "the lock", |ui| {
        ui.text().contains("Screen locked")
    })
    .await;
    assert!(
        !ui.text().contains("Ромашка"),
        "the locked screen hides the work:\n{}",
        ui.text()
    );
    for c in "wrong".chars() {
        ui.press(key(c)).await;
    }
    ui.press(code(KeyCode::Enter)).await;
    assert!(
        ui.text().contains("Wrong login or password"),
        "{}",
        ui.text()
    );
    for c in "correct horse battery".chars() {
        ui.press(key(c)).await;
    }
    ui.press(code(KeyCode::Enter)).await;
    assert!(!ui.text().contains("Screen locked"), "{}", ui.text());
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_report_whose_record_failed_is_recorded_when_it_shows() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let (_, actor) = td.staff("anna", Role::Agent).await;
    let (auditor, _) = td.staff("alla", Role::Auditor).await;
    let (account, _) = account_and_reset(&td, &actor).await;
    let down = Arc::new(AtomicBool::new(false));
    let faulty: DynStore = Arc::new(Faulty {
        inner: td.desk.store().clone(),
        down: down.clone(),
        lose_finish: Arc::default(),
    });
    let desk = Arc::new(Desk::new(
        faulty,
        td.desk.keys().clone(),
        td.desk.rules().clone(),
        td.clock.clone(),
    ));
    let mut ui = Ui::signed_in(desk, auditor, Some(Lang::En), 100, 30).await;
    down.store(true, Ordering::SeqCst);
    ui.press(key('a')).await;
    ui.press(privdesk::tui::Input::Paste(account.to_string()))
        .await;
    ui.press(code(KeyCode::Enter)).await;
    assert!(ui.app.banner().is_some(), "{}", ui.text());
    // Back: the retry shows the report, and records that it did.
    down.store(false, Ordering::SeqCst);
    wait_for(&mut ui, "the report", |ui| {
        ui.text()
            .contains(&format!("Access to the personal data of {account}"))
    })
    .await;
    let records = td
        .desk
        .store()
        .audit_count(&privdesk::store::AuditFilter {
            action: Some("audit.access_report".to_owned()),
            ..privdesk::store::AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(records, 1);
    td.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_whose_final_answer_was_lost_says_it_finished() {
    let td = TestDesk::new(Backend::Sqlite).await;
    let faulty: DynStore = Arc::new(Faulty {
        inner: td.desk.store().clone(),
        down: Arc::default(),
        lose_finish: Arc::new(AtomicBool::new(true)),
    });
    let desk = Desk::new(
        faulty,
        td.desk.keys().clone(),
        td.desk.rules().clone(),
        td.clock.clone(),
    );
    let text = crate::import::readme_example();
    let err = desk
        .import_accounts(
            &td.shell(),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            Some(text.len() as u64),
            privdesk::desk::import::ImportOptions::default(),
            &privdesk::desk::demo::NoProgress,
            &mut |_| {},
        )
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("the import finished (its accounts are in the desk)"),
        "{message}"
    );
    assert!(!message.contains("nothing of it was imported"), "{message}");
    // And so it is: the accounts are there.
    assert!(td.desk.store().account_count().await.unwrap().total > 0);
    td.finish().await;
}
