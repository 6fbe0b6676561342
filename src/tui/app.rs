//! The App: one staff session's screen. It turns input into actions, calls the desk in
//! tasks, and redraws only when something changed. Input and output are passed in, so the
//! same code serves a local terminal and an SSH channel, and tests drive it headless.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};
use futures::FutureExt as _;
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;

use crate::desk::audit::AuditOverview;
use crate::desk::requests::{AccountHit, QueueBadge, QueuePage};
use crate::desk::reveal::Target;
use crate::desk::{AuditRecord, ChangeNotice, Desk, DeskError, Notice};
use crate::domain::account::AccountId;
use crate::domain::personal::Secret;
use crate::domain::policy::{Landing, landing};
use crate::domain::request::{Queue, RequestId};
use crate::domain::staff::{Actor, Lang, Login, Source, Staff};
use crate::domain::view::FieldView;
use crate::domain::view::{ListRow, RequestView};
use crate::domain::workflow::EventKind;

use super::i18n::{Arg, I18n};
use super::keymap::{Action, KeyMap, Mode};
use super::state::{
    Detail, LockForm, LoginForm, PAGE, Pane, QueueList, Queues, Screen, StaffList, Stage, WINDOW,
    Work,
};
use super::theme::Theme;

/// Input from a terminal: local (crossterm) or an SSH channel (decoded by the SSH layer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Key(KeyEvent),
    Paste(String),
    Resize(u16, u16),
    Mouse(MouseEvent),
    /// The session is being closed from outside (server shutdown, staff disabled, session
    /// lifetime): show the message, draw once more, and end.
    Close(String),
}

/// How this session is set up.
pub struct Settings {
    /// `--lang`: wins over everything.
    pub lang_override: Option<Lang>,
    /// From the terminal's locale (`LANG`), used when the staff member has no preference.
    pub locale: Option<Lang>,
    /// The config file's `language`.
    pub default_lang: Option<Lang>,
    pub idle_lock: Duration,
    pub source: Source,
    pub keymap: KeyMap,
    pub theme: Theme,
    /// Pasted text is cut to this many characters.
    pub paste_limit: usize,
    /// How long a revealed value stays on screen.
    pub reveal_ttl: Duration,
}

/// What a spawned desk call answers.
pub(crate) enum Msg {
    LoggedIn(Result<(Staff, i64), DeskError>),
    Unlocked(Result<Staff, DeskError>),
    Badges(Result<Vec<QueueBadge>, DeskError>),
    Page {
        queue: Queue,
        token: u64,
        kind: PageKind,
        result: Result<Vec<ListRow>, DeskError>,
    },
    Opened {
        id: RequestId,
        refresh: bool,
        result: Result<Box<(RequestView, Vec<EventKind>)>, DeskError>,
    },
    Written {
        what: &'static str,
        result: Result<(), DeskError>,
    },
    NoteAdded(Result<(), DeskError>),
    Searched {
        query: String,
        result: Result<Vec<ListRow>, DeskError>,
    },
    Accounts {
        query: String,
        result: Result<Vec<AccountHit>, DeskError>,
    },
    Assignable(Result<Vec<Login>, DeskError>),
    StaffRows(Result<Vec<Staff>, DeskError>),
    StaffChanged(Result<(), DeskError>),
    Audit {
        /// Whether this load wrote the record of the reading.
        recorded: bool,
        result: Result<AuditOverview, DeskError>,
    },
    SessionValid(Result<bool, DeskError>),
    Revealed {
        id: RequestId,
        target: Target,
        result: Result<FieldView, DeskError>,
    },
    Checked(Result<bool, DeskError>),
    Notices(Result<Vec<Notice>, DeskError>),
    Access {
        account: AccountId,
        /// Whether this load wrote the record of the reading.
        recorded: bool,
        result: Result<Vec<AuditRecord>, DeskError>,
    },
    TaskFailed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PageKind {
    First,
    Last,
    After,
    Before,
    /// Reload the window from its first row, keeping the selection on this request.
    Refresh(Option<RequestId>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// Runs desk calls in tasks; each answers with exactly one message.
pub(crate) struct Tasks {
    desk: Arc<Desk>,
    tx: mpsc::UnboundedSender<Msg>,
    pending: usize,
}

impl Tasks {
    pub(crate) fn spawn<F, Fut>(&mut self, f: F)
    where
        F: FnOnce(Arc<Desk>) -> Fut,
        Fut: std::future::Future<Output = Msg> + Send + 'static,
    {
        self.pending += 1;
        let fut = f(self.desk.clone());
        let tx = self.tx.clone();
        tokio::spawn(async move {
            let msg = std::panic::AssertUnwindSafe(fut)
                .catch_unwind()
                .await
                .unwrap_or(Msg::TaskFailed);
            let _ = tx.send(msg);
        });
    }

    pub(crate) fn desk(&self) -> &Desk {
        &self.desk
    }
}

pub struct App {
    pub(crate) tasks: Tasks,
    rx: mpsc::UnboundedReceiver<Msg>,
    pub(crate) i18n: Arc<I18n>,
    pub(crate) settings: Settings,
    pub(crate) stage: Stage,
    notices: broadcast::Receiver<ChangeNotice>,
    pub(crate) banner: Option<String>,
    pub(crate) status: Option<Status>,
    last_input: Instant,
    dirty: bool,
    quit: bool,
    refresh_due: Option<Instant>,
    retry_at: Option<Instant>,
    last_session_check: Instant,
    last_minute: i64,
    /// Bytes written to the terminal so far (benchmarks and tests read it).
    pub frames: u64,
}

/// How often the session checks it may go on (disabled, role changed, key removed).
const SESSION_CHECK: Duration = Duration::from_secs(3);
/// Changes arriving within this window make one refresh.
const COALESCE: Duration = Duration::from_millis(150);
const RETRY: Duration = Duration::from_secs(2);

impl App {
    /// A session that starts at the login screen (the local terminal).
    pub fn new(desk: Arc<Desk>, i18n: Arc<I18n>, settings: Settings) -> App {
        let (tx, rx) = mpsc::unbounded_channel();
        let notices = desk.subscribe();
        App {
            tasks: Tasks {
                desk,
                tx,
                pending: 0,
            },
            rx,
            i18n,
            settings,
            stage: Stage::Login(LoginForm::default()),
            notices,
            banner: None,
            status: None,
            last_input: Instant::now(),
            dirty: true,
            quit: false,
            refresh_due: None,
            retry_at: None,
            last_session_check: Instant::now(),
            last_minute: 0,
            frames: 0,
        }
    }

    /// A session already authenticated (by an SSH key): no login screen.
    pub fn signed_in(
        desk: Arc<Desk>,
        i18n: Arc<I18n>,
        settings: Settings,
        staff: Staff,
        generation: i64,
    ) -> App {
        let mut app = App::new(desk, i18n, settings);
        app.enter(staff, generation);
        app
    }

    pub fn lang(&self) -> Lang {
        match &self.stage {
            Stage::Work(w) => w.lang,
            _ => self
                .settings
                .lang_override
                .or(self.settings.locale)
                .or(self.settings.default_lang)
                .unwrap_or_default(),
        }
    }

    pub(crate) fn t(&self, key: &str) -> String {
        self.i18n.tr(self.lang(), key, &[])
    }

    pub(crate) fn ta(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        self.i18n.tr(self.lang(), key, args)
    }

    pub fn desk(&self) -> &Desk {
        self.tasks.desk()
    }

    pub(crate) fn quit_now(&mut self) {
        self.quit = true;
    }

    pub fn is_quitting(&self) -> bool {
        self.quit
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    /// The signed-in staff member, if any.
    pub fn staff(&self) -> Option<&Staff> {
        match &self.stage {
            Stage::Work(w) => Some(&w.staff),
            _ => None,
        }
    }

    pub(crate) fn set_status(&mut self, text: String, error: bool) {
        self.status = Some(Status { text, error });
        self.dirty = true;
    }

    pub(crate) fn error_text(&self, e: &DeskError) -> String {
        match e {
            DeskError::Auth(crate::desk::auth::AuthError::InvalidCredentials) => {
                self.t("login-wrong")
            }
            DeskError::Auth(crate::desk::auth::AuthError::Disabled) => self.t("login-disabled"),
            DeskError::Auth(crate::desk::auth::AuthError::LockedOut { until }) => {
                self.ta("login-locked", &[("until", Arg::Str(until))])
            }
            DeskError::Auth(crate::desk::auth::AuthError::DemoOnly) => self.t("login-demo-only"),
            e if e.is_unavailable() => self.t("banner-db-down"),
            other => {
                crate::domain::text::sanitize_line_capped(&other.to_string(), 300).into_string()
            }
        }
    }

    /// Notes a failed desk call: a database that went away raises the banner and a retry.
    pub(crate) fn note_failure(&mut self, e: &DeskError) {
        if e.is_unavailable() {
            self.banner = Some(self.t("banner-db-down"));
            self.retry_at = Some(Instant::now() + RETRY);
        } else {
            let text = self.error_text(e);
            self.set_status(text, true);
        }
        self.dirty = true;
    }

    pub(crate) fn note_success(&mut self) {
        if self.banner.take().is_some() {
            self.dirty = true;
        }
    }

    /// Signs a staff member in and loads their first screen.
    pub(crate) fn enter(&mut self, staff: Staff, generation: i64) {
        let actor = Actor::staff(&staff, self.settings.source.clone());
        let lang = self
            .settings
            .lang_override
            .or(staff.lang)
            .or(self.settings.locale)
            .or(self.settings.default_lang)
            .unwrap_or_default();
        let screen = match landing(staff.role) {
            Landing::Queues => {
                let tabs = self.tasks.desk().queues_for(&actor);
                let lists = tabs.iter().map(|q| (*q, QueueList::default())).collect();
                Screen::Queues(Queues {
                    tabs,
                    active: 0,
                    lists,
                    badges: vec![],
                    found: None,
                })
            }
            Landing::Staff => Screen::Staff(StaffList {
                rows: vec![],
                selected: 0,
                loading: true,
            }),
            Landing::Audit => Screen::Audit(Box::default()),
        };
        self.stage = Stage::Work(Box::new(Work {
            staff,
            actor,
            lang,
            generation,
            screen,
            detail: None,
            popup: None,
            help: None,
            locked: None,
            notices: vec![],
            audit: None,
        }));
        self.status = None;
        self.last_input = Instant::now();
        self.refresh_all(true);
        self.dirty = true;
    }

    /// Reloads what is on screen (after a change elsewhere, a reconnect, or a retry).
    pub(crate) fn refresh_all(&mut self, first: bool) {
        let Stage::Work(w) = &mut self.stage else {
            return;
        };
        let actor = w.actor.clone();
        match &mut w.screen {
            Screen::Queues(q) => {
                let a = actor.clone();
                self.tasks
                    .spawn(move |d| async move { Msg::Badges(d.queue_badges(&a).await) });
                if let Some(queue) = q.queue()
                    && let Some(list) = q.lists.get_mut(&queue)
                {
                    let kind = if first || !list.loaded {
                        PageKind::First
                    } else {
                        PageKind::Refresh(list.selected_row().map(|r| r.id))
                    };
                    load_page(&mut self.tasks, &actor, queue, list, kind);
                }
            }
            Screen::Staff(s) => {
                s.loading = true;
                let a = actor.clone();
                self.tasks
                    .spawn(move |d| async move { Msg::StaffRows(d.list_staff(&a).await) });
            }
            Screen::Audit(h) => load_audit(&mut self.tasks, &actor, h),
        }
        if let Some(h) = &mut w.audit {
            load_audit(&mut self.tasks, &actor, h);
        }
        if w.actor.role() == Some(crate::domain::staff::Role::Supervisor) {
            let a = actor.clone();
            self.tasks
                .spawn(move |d| async move { Msg::Notices(d.notices(&a, true, 200).await) });
        }
        if let Some(detail) = &mut w.detail {
            let (id, shown) = (detail.id, detail.shown.clone());
            let a = actor.clone();
            self.tasks.spawn(move |d| async move {
                let prev = (!first).then_some(shown);
                let result = d.open_request(&a, id, prev.as_deref()).await.map(|v| {
                    let ev = d.available_events(&a, &v);
                    Box::new((v, ev))
                });
                Msg::Opened {
                    id,
                    refresh: true,
                    result,
                }
            });
        }
    }

    /// Handles one input event.
    pub fn on_input(&mut self, input: Input) {
        // A resize is not someone at the keyboard (a repaint after a stalled connection
        // comes as one too): it does not hold off the idle lock.
        if !matches!(input, Input::Resize(..)) {
            self.last_input = Instant::now();
        }
        self.dirty = true;
        match input {
            Input::Key(k) if k.kind == KeyEventKind::Press || k.kind == KeyEventKind::Repeat => {
                self.on_key(k);
            }
            Input::Key(_) | Input::Resize(..) => {}
            Input::Close(message) => {
                self.end(message);
                self.quit = true;
            }
            Input::Paste(text) => {
                let limit = self.settings.paste_limit;
                let text: String = text.chars().take(limit).collect();
                super::handlers::paste(self, &text);
            }
            Input::Mouse(m) => {
                let action = match m.kind {
                    MouseEventKind::ScrollDown => Some(Action::Down),
                    MouseEventKind::ScrollUp => Some(Action::Up),
                    _ => None,
                };
                if let Some(a) = action {
                    super::handlers::act(self, a);
                }
            }
        }
    }

    fn on_key(&mut self, k: KeyEvent) {
        // Ctrl-C never kills the program by surprise: it asks, like `q`.
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            if matches!(self.stage, Stage::Login(_) | Stage::Ended(_)) {
                self.quit = true;
                return;
            }
            super::handlers::act(self, Action::Quit);
            return;
        }
        super::handlers::key(self, k);
    }

    /// Handles one answer of a desk call.
    pub(crate) fn on_msg(&mut self, msg: Msg) {
        self.tasks.pending = self.tasks.pending.saturating_sub(1);
        self.dirty = true;
        super::handlers::message(self, msg);
    }

    fn on_notice(&mut self, n: &Result<ChangeNotice, broadcast::error::RecvError>) {
        let relevant = match n {
            Ok(ChangeNotice::Notices) => {
                matches!(&self.stage, Stage::Work(w) if w.actor.role() == Some(crate::domain::staff::Role::Supervisor))
            }
            Ok(ChangeNotice::Audit) => {
                matches!(&self.stage, Stage::Work(w) if matches!(w.screen, Screen::Audit(_)))
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => true,
            Err(broadcast::error::RecvError::Closed) => false,
        };
        if relevant && matches!(self.stage, Stage::Work(_)) && self.refresh_due.is_none() {
            self.refresh_due = Some(Instant::now() + COALESCE);
        }
    }

    /// Timers: coalesced refreshes, retries, the idle lock, session checks, the clock.
    pub fn on_tick(&mut self) {
        let now = Instant::now();
        if self.refresh_due.is_some_and(|t| t <= now) {
            self.refresh_due = None;
            self.refresh_all(false);
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.refresh_all(false);
        }
        if let Stage::Work(w) = &mut self.stage
            && let Some(d) = &mut w.detail
        {
            let before = d.revealed.len();
            d.revealed.retain(|r| r.until > now);
            if d.revealed.len() != before {
                self.dirty = true;
            }
        }
        let idle = now.duration_since(self.last_input);
        if let Stage::Work(w) = &mut self.stage {
            if w.locked.is_none() && idle >= self.settings.idle_lock {
                w.locked = Some(LockForm {
                    password: super::state::TextField::secret(),
                    error: None,
                    busy: false,
                });
                self.dirty = true;
            }
            if now.duration_since(self.last_session_check) >= SESSION_CHECK {
                self.last_session_check = now;
                let (staff, generation) = (w.staff.clone(), w.generation);
                self.tasks.spawn(move |d| async move {
                    Msg::SessionValid(d.session_still_valid(&staff, generation).await)
                });
            }
        }
        // Deadlines count down by the minute.
        let minute = self.desk().now().as_second() / 60;
        if minute != self.last_minute {
            self.last_minute = minute;
            self.dirty = true;
        }
    }

    /// Applies the change notices that arrived, at once (tests; the loop coalesces them).
    pub fn drain_notices(&mut self) {
        while let Ok(n) = self.notices.try_recv() {
            self.on_notice(&Ok(n));
        }
        if self.refresh_due.take().is_some() {
            self.refresh_all(false);
        }
    }

    /// The banner shown when the database cannot be reached.
    pub fn banner(&self) -> Option<&str> {
        self.banner.as_deref()
    }

    /// The last status line.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// Waits for every desk call in flight and applies the answers (tests; no sleeps).
    pub async fn settle(&mut self) {
        while self.tasks.pending > 0 {
            match self.rx.recv().await {
                Some(m) => self.on_msg(m),
                None => break,
            }
        }
    }

    /// Ends the session from outside (SSH: disabled staff, lifetime, server shutdown).
    pub fn end(&mut self, message: String) {
        self.stage = Stage::Ended(message);
        self.dirty = true;
    }

    /// Draws a frame if something changed. Returns whether it drew.
    pub fn render<B: Backend>(&mut self, terminal: &mut Terminal<B>) -> std::io::Result<bool>
    where
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        if !self.dirty {
            return Ok(false);
        }
        self.dirty = false;
        terminal
            .draw(|f| super::draw::draw(self, f))
            .map_err(std::io::Error::other)?;
        Ok(true)
    }

    /// The session's loop: input, desk answers, change notices and timers, until the user
    /// quits or the input ends. A burst of events makes one frame.
    pub async fn run<B: Backend>(
        mut self,
        terminal: &mut Terminal<B>,
        mut input: mpsc::Receiver<Input>,
    ) -> std::io::Result<()>
    where
        B::Error: std::error::Error + Send + Sync + 'static,
    {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            self.render(terminal)?;
            if self.quit {
                return Ok(());
            }
            tokio::select! {
                ev = input.recv() => match ev {
                    Some(Input::Resize(w, h)) => {
                        let (w, h) = (w.clamp(1, 500), h.clamp(1, 300));
                        terminal.resize(Rect::new(0, 0, w, h)).map_err(std::io::Error::other)?;
                        self.on_input(Input::Resize(w, h));
                    }
                    Some(i) => self.on_input(i),
                    None => return Ok(()),
                },
                Some(m) = self.rx.recv() => self.on_msg(m),
                n = self.notices.recv() => self.on_notice(&n),
                _ = tick.tick() => self.on_tick(),
            }
            // Apply whatever else is ready before drawing: one frame per burst.
            while let Ok(i) = input.try_recv() {
                if let Input::Resize(w, h) = i {
                    let (w, h) = (w.clamp(1, 500), h.clamp(1, 300));
                    terminal
                        .resize(Rect::new(0, 0, w, h))
                        .map_err(std::io::Error::other)?;
                }
                self.on_input(i);
            }
            while let Ok(m) = self.rx.try_recv() {
                self.on_msg(m);
            }
        }
    }
}

/// Fetches a page of `queue` into `list`.
pub(crate) fn load_page(
    tasks: &mut Tasks,
    actor: &Actor,
    queue: Queue,
    list: &mut QueueList,
    kind: PageKind,
) {
    let (cursor, backward, limit) = match kind {
        PageKind::First => (None, false, PAGE),
        PageKind::Last => (None, true, PAGE),
        PageKind::After => (list.rows.last().map(|r| (r.due_at, r.id)), false, PAGE),
        PageKind::Before => (list.rows.first().map(|r| (r.due_at, r.id)), true, PAGE),
        PageKind::Refresh(_) => (
            list.rows.first().map(|r| (r.due_at, RequestId(r.id.0 - 1))),
            false,
            u32::try_from(list.rows.len().clamp(1, WINDOW))
                .unwrap_or(PAGE)
                .max(PAGE),
        ),
    };
    if matches!(kind, PageKind::First | PageKind::Last) {
        list.token += 1;
    }
    list.loading = true;
    let token = list.token;
    let page = QueuePage {
        queue,
        filter: list.filter,
        cursor,
        backward,
        limit,
    };
    let actor = actor.clone();
    tasks.spawn(move |d| async move {
        Msg::Page {
            queue,
            token,
            kind,
            result: d.list_queue(&actor, &page).await,
        }
    });
}

/// Loads the audit screen: the access report it shows, or the filtered log.
pub(crate) fn load_audit(tasks: &mut Tasks, actor: &Actor, h: &mut super::state::AuditHome) {
    h.loading = true;
    let a = actor.clone();
    if let Some((account, _)) = &h.access {
        let account = *account;
        // Recorded until a load that wrote its record succeeds (fail closed: a refresh
        // racing the first load records again rather than showing without a record).
        let record = !h.access_recorded;
        tasks.spawn(move |d| async move {
            Msg::Access {
                account,
                recorded: record,
                result: d.access_report(&a, account, record).await,
            }
        });
        return;
    }
    let record = !h.recorded;
    let filter = h.filter.clone();
    tasks.spawn(move |d| async move {
        Msg::Audit {
            recorded: record,
            result: d.audit_overview(&a, &filter, 500, record).await,
        }
    });
}

/// Checks a password off the UI (login and unlock).
pub(crate) fn spawn_login(
    tasks: &mut Tasks,
    login: String,
    password: Secret<String>,
    source: Source,
) {
    tasks.spawn(move |d| async move {
        let r = d.login(&login, password, source).await;
        Msg::LoggedIn(match r {
            Ok(s) => d.staff_generation(&s).await.map(|g| (s, g)),
            Err(e) => Err(e),
        })
    });
}

pub(crate) fn mode_of(w: &Work) -> Mode {
    if w.locked.is_some() {
        return Mode::Input;
    }
    if w.help.is_some() {
        return Mode::Help;
    }
    match &w.popup {
        Some(super::state::Popup::Confirm { .. }) => return Mode::Confirm,
        Some(super::state::Popup::Choice { .. }) => return Mode::Choice,
        Some(super::state::Popup::Input { .. }) => return Mode::Input,
        None => {}
    }
    if w.detail.is_some() {
        return Mode::Detail;
    }
    if w.audit.is_some() {
        return Mode::Audit;
    }
    match &w.screen {
        Screen::Queues(_) => Mode::Queue,
        Screen::Staff(_) => Mode::Staff,
        Screen::Audit(_) => Mode::Audit,
    }
}

pub(crate) fn new_detail(id: RequestId) -> Detail {
    Detail {
        id,
        view: None,
        events: vec![],
        shown: vec![],
        pane: Pane::Info,
        info_scroll: 0,
        timeline_scroll: 0,
        loading: true,
        error: None,
        revealed: vec![],
        scroll_to_reveal: false,
    }
}
