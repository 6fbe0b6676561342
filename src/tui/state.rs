//! The screen state of one staff session: what is on screen, never how it is drawn.

use std::collections::HashMap;

use zeroize::Zeroizing;

use crate::desk::audit::AuditOverview;
use crate::desk::requests::{AccountHit, Filter, QueueBadge};
use crate::desk::reveal::Target;
use crate::desk::{AuditFilter, AuditRecord, Notice};
use crate::domain::account::AccountId;
use crate::domain::policy::Purpose;
use crate::domain::policy::{Field, Visibility};
use crate::domain::request::{Queue, RequestId};
use crate::domain::staff::{Actor, Lang, Staff};
use crate::domain::view::FieldView;
use crate::domain::view::{ListRow, RequestView};
use crate::domain::workflow::{EventKind, LegalGround, RefusalReason};

/// Rows fetched per page, and the most a queue keeps in memory around the selection.
pub const PAGE: u32 = 100;
pub const WINDOW: usize = 400;
/// Fetch more when the selection comes this close to an end of the window.
pub const PREFETCH: usize = 25;

/// A text field; a password field never shows what is typed.
#[derive(Default)]
pub struct TextField {
    pub text: Zeroizing<String>,
    pub secret: bool,
}

impl TextField {
    pub fn secret() -> TextField {
        TextField {
            text: Zeroizing::new(String::new()),
            secret: true,
        }
    }

    pub fn push(&mut self, c: char, max_chars: usize) {
        if self.text.chars().count() < max_chars && !c.is_control() {
            self.text.push(c);
        }
    }

    pub fn push_str(&mut self, s: &str, max_chars: usize) {
        for c in s.chars() {
            if c == '\n' || c == '\r' {
                self.push(' ', max_chars);
            } else {
                self.push(c, max_chars);
            }
        }
    }

    pub fn backspace(&mut self) {
        self.text.pop();
    }

    pub fn clear(&mut self) {
        self.text.clear();
    }

    pub fn value(&self) -> &str {
        &self.text
    }
}

pub struct LoginForm {
    pub login: TextField,
    pub password: TextField,
    pub focus_password: bool,
    pub error: Option<String>,
    pub busy: bool,
}

impl Default for LoginForm {
    fn default() -> Self {
        LoginForm {
            login: TextField::default(),
            password: TextField::secret(),
            focus_password: false,
            error: None,
            busy: false,
        }
    }
}

/// One queue's list: a window of rows around the selection, fetched by keyset pages.
#[derive(Default)]
pub struct QueueList {
    pub filter: Filter,
    pub rows: Vec<ListRow>,
    pub selected: usize,
    /// The first row drawn.
    pub offset: usize,
    /// The position of `rows[0]` in the whole list, when known.
    pub start_index: Option<u64>,
    pub more_after: bool,
    pub more_before: bool,
    pub loading: bool,
    pub loaded: bool,
    /// Rows the last frame showed (a page move moves this many).
    pub visible: usize,
    /// Answers to older requests (a filter changed since) are dropped.
    pub token: u64,
}

impl QueueList {
    pub fn selected_row(&self) -> Option<&ListRow> {
        self.rows.get(self.selected)
    }
}

/// Subject-search results shown at most: the newest matches.
pub const SEARCH_LIMIT: usize = 200;

/// Results of `/` (subject search) or `a` (find account), shown over the queue.
pub enum Found {
    Requests {
        query: String,
        rows: Vec<ListRow>,
        /// More requests match than are shown (the newest [`SEARCH_LIMIT`]).
        more: bool,
        selected: usize,
    },
    Accounts {
        query: String,
        hits: Vec<AccountHit>,
        selected: usize,
    },
}

pub struct Queues {
    pub tabs: Vec<Queue>,
    pub active: usize,
    pub lists: HashMap<Queue, QueueList>,
    pub badges: Vec<QueueBadge>,
    pub found: Option<Found>,
}

impl Queues {
    pub fn queue(&self) -> Option<Queue> {
        self.tabs.get(self.active).copied()
    }

    pub fn list(&self) -> Option<&QueueList> {
        self.queue().and_then(|q| self.lists.get(&q))
    }

    pub fn list_mut(&mut self) -> Option<&mut QueueList> {
        let q = self.queue()?;
        self.lists.get_mut(&q)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Info,
    Timeline,
}

pub struct Detail {
    pub id: RequestId,
    pub view: Option<RequestView>,
    pub events: Vec<EventKind>,
    pub shown: Vec<(Field, Visibility)>,
    pub pane: Pane,
    pub info_scroll: u16,
    pub timeline_scroll: u16,
    pub loading: bool,
    pub error: Option<String>,
    /// Fields revealed on request; each hides again at its deadline or when the request
    /// is left (the detail is dropped).
    pub revealed: Vec<Revealed>,
    /// Scroll the revealed field into view at the next frame.
    pub scroll_to_reveal: bool,
}

pub struct Revealed {
    pub target: Target,
    pub view: FieldView,
    pub until: tokio::time::Instant,
}

pub struct StaffList {
    pub rows: Vec<Staff>,
    pub selected: usize,
    pub loading: bool,
}

pub struct AuditHome {
    pub overview: Option<AuditOverview>,
    pub selected: usize,
    pub loading: bool,
    pub recorded: bool,
    /// The filter typed by the user (`actor=anna action=field.reveal …`).
    pub filter: AuditFilter,
    pub filter_text: String,
    /// Showing the access report of this account instead of the log.
    pub access: Option<(AccountId, Vec<AuditRecord>)>,
    /// Whether this opening of the access report is recorded yet.
    pub access_recorded: bool,
}

impl Default for AuditHome {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditHome {
    pub fn new() -> AuditHome {
        AuditHome {
            overview: None,
            selected: 0,
            loading: true,
            recorded: false,
            filter: AuditFilter::default(),
            filter_text: String::new(),
            access: None,
            access_recorded: false,
        }
    }

    /// The records on screen: the access report, or the filtered log.
    pub fn records(&self) -> &[AuditRecord] {
        match &self.access {
            Some((_, r)) => r,
            None => self.overview.as_ref().map_or(&[], |o| &o.records),
        }
    }
}

pub enum Screen {
    Queues(Queues),
    Staff(StaffList),
    Audit(Box<AuditHome>),
}

/// What a confirmed popup does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirmed {
    Quit,
    Event {
        id: RequestId,
        version: i64,
        event: PendingEvent,
    },
    Release {
        id: RequestId,
        version: i64,
    },
    Disable(String),
    Enable(String),
    Unlock(String),
    AckNotice(i64),
    TakeOver {
        id: RequestId,
        version: i64,
    },
    /// Nothing to do: the popup only shows something (an audit record in full).
    Dismiss,
}

/// An event with the payload chosen so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PendingEvent {
    /// A step that cannot be undone (erasing an account): confirmed with `y` only.
    Grave(EventKind),
    Plain(EventKind),
    Triage {
        severity: u8,
        leak: bool,
    },
    Refuse(RefusalReason),
    ProposeRefusal(LegalGround),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChoiceValue {
    Event(EventKind),
    Severity(u8),
    Leak(u8, bool),
    Reason(RefusalReason),
    Ground(LegalGround),
    Staff(String),
    State(Option<crate::domain::workflow::State>),
    RevealTarget(Target),
    Purpose(Target, Purpose),
    CheckTarget(Target),
    Notice(i64),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Note,
    Search,
    FindAccount,
    /// A value a caller gave, to check against a field.
    Check(Target),
    AuditFilter,
    AccessReport,
}

pub enum Popup {
    Confirm {
        text: String,
        action: Confirmed,
    },
    Choice {
        title: String,
        items: Vec<(String, ChoiceValue)>,
        selected: usize,
    },
    Input {
        kind: InputKind,
        title: String,
        field: TextField,
        error: Option<String>,
        busy: bool,
    },
}

pub struct LockForm {
    pub password: TextField,
    pub error: Option<String>,
    pub busy: bool,
}

/// A signed-in staff member's session.
pub struct Work {
    pub staff: Staff,
    pub actor: Actor,
    pub lang: Lang,
    pub generation: i64,
    pub screen: Screen,
    pub detail: Option<Detail>,
    pub popup: Option<Popup>,
    pub help: Option<u16>,
    pub locked: Option<LockForm>,
    /// Open supervisor notices (supervisors only).
    pub notices: Vec<Notice>,
    /// The audit log over the queues (supervisors: `L`; Esc returns).
    pub audit: Option<AuditHome>,
}

impl Work {
    /// The audit screen on view: the supervisor's overlay, or the auditor's landing.
    pub fn audit_home(&self) -> Option<&AuditHome> {
        match (&self.audit, &self.screen) {
            (Some(h), _) => Some(h),
            (None, Screen::Audit(h)) => Some(h),
            _ => None,
        }
    }

    pub fn audit_home_mut(&mut self) -> Option<&mut AuditHome> {
        match (&mut self.audit, &mut self.screen) {
            (Some(h), _) => Some(h),
            (None, Screen::Audit(h)) => Some(h),
            _ => None,
        }
    }
}

pub enum Stage {
    Login(LoginForm),
    Work(Box<Work>),
    /// The session ended (disabled, role changed, lifetime): a message, then the end.
    Ended(String),
}
