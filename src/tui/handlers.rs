//! What keys and desk answers do to the screen state.

use crossterm::event::{KeyCode, KeyEvent};

use crate::desk::reveal::Target;
use crate::domain::personal::Secret;
use crate::domain::policy::Purpose;
use crate::domain::request::Queue;
use crate::domain::workflow::{Event, EventKind, Flow, LegalGround, RefusalReason, Severity};

use super::app::{App, Msg, PageKind, load_page, mode_of, new_detail, spawn_login};
use super::i18n::Arg;
use super::keymap::{Action, Mode};
use super::state::{
    ChoiceValue, Confirmed, Found, InputKind, PREFETCH, Pane, PendingEvent, Popup, Screen, Stage,
    TextField, WINDOW,
};

const MAX_LOGIN: usize = 64;
const MAX_PASSWORD: usize = 1024;
const MAX_QUERY: usize = 200;

pub(crate) fn paste(app: &mut App, text: &str) {
    match &mut app.stage {
        Stage::Login(f) => {
            let (field, max) = if f.focus_password {
                (&mut f.password, MAX_PASSWORD)
            } else {
                (&mut f.login, MAX_LOGIN)
            };
            field.push_str(text, max);
        }
        Stage::Work(w) => {
            if let Some(l) = &mut w.locked {
                l.password.push_str(text, MAX_PASSWORD);
            } else if let Some(Popup::Input { field, kind, .. }) = &mut w.popup {
                field.push_str(text, input_limit(*kind));
            }
        }
        Stage::Ended(_) => {}
    }
}

fn input_limit(kind: InputKind) -> usize {
    match kind {
        InputKind::Note => crate::desk::requests::MAX_NOTE_CHARS,
        InputKind::Search | InputKind::FindAccount | InputKind::Check(_) => MAX_QUERY,
        InputKind::AuditFilter => 300,
        InputKind::AccessReport => 40,
    }
}

/// Keys typed into a text field: true if the field took the key.
fn type_into(field: &mut TextField, k: &KeyEvent, max: usize) -> bool {
    match k.code {
        KeyCode::Char(c)
            if !k.modifiers.intersects(
                crossterm::event::KeyModifiers::CONTROL | crossterm::event::KeyModifiers::ALT,
            ) =>
        {
            field.push(c, max);
            true
        }
        KeyCode::Backspace => {
            field.backspace();
            true
        }
        _ => false,
    }
}

pub(crate) fn key(app: &mut App, k: KeyEvent) {
    match &mut app.stage {
        Stage::Ended(_) => {
            if matches!(k.code, KeyCode::Enter | KeyCode::Esc | KeyCode::Char('q')) {
                app.quit_now();
            }
        }
        Stage::Login(f) => {
            if f.busy {
                return;
            }
            let (field, max) = if f.focus_password {
                (&mut f.password, MAX_PASSWORD)
            } else {
                (&mut f.login, MAX_LOGIN)
            };
            if type_into(field, &k, max) {
                return;
            }
            match app.settings.keymap.resolve(Mode::Input, &k) {
                Some(Action::NextField) => f.focus_password = !f.focus_password,
                Some(Action::Cancel) => app.quit_now(),
                Some(Action::Submit) => {
                    if !f.focus_password {
                        f.focus_password = true;
                    } else if f.login.value().is_empty() {
                        f.focus_password = false;
                    } else {
                        f.busy = true;
                        f.error = None;
                        let login = f.login.value().to_owned();
                        let password = Secret::new(f.password.value().to_owned());
                        f.password.clear();
                        let source = app.settings.source.clone();
                        spawn_login(&mut app.tasks, login, password, source);
                    }
                }
                _ => {}
            }
        }
        Stage::Work(w) => {
            if let Some(l) = &mut w.locked {
                if l.busy || type_into(&mut l.password, &k, MAX_PASSWORD) {
                    return;
                }
                if app.settings.keymap.resolve(Mode::Input, &k) == Some(Action::Submit) {
                    l.busy = true;
                    l.error = None;
                    let password = Secret::new(l.password.value().to_owned());
                    l.password.clear();
                    let (staff, source) = (w.staff.clone(), app.settings.source.clone());
                    app.tasks.spawn(move |d| async move {
                        Msg::Unlocked(d.unlock_screen(&staff, password, source).await)
                    });
                }
                return;
            }
            if let Some(Popup::Input {
                field, kind, busy, ..
            }) = &mut w.popup
            {
                if *busy {
                    return;
                }
                let max = input_limit(*kind);
                if type_into(field, &k, max) {
                    return;
                }
            }
            let mode = mode_of(w);
            if let Some(a) = app.settings.keymap.resolve(mode, &k) {
                act(app, a);
            }
        }
    }
}

/// Performs an action in the current mode.
pub(crate) fn act(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    if w.locked.is_some() {
        return;
    }
    let mode = mode_of(w);
    match mode {
        Mode::Help => match a {
            Action::Back => w.help = None,
            Action::Down => w.help = w.help.map(|s| s.saturating_add(1)),
            Action::Up => w.help = w.help.map(|s| s.saturating_sub(1)),
            _ => {}
        },
        Mode::Confirm => popup_confirm(app, a),
        Mode::Choice => popup_choice(app, a),
        Mode::Input => popup_input(app, a),
        Mode::Detail => detail_action(app, a),
        Mode::Queue => queue_action(app, a),
        Mode::Staff => staff_action(app, a),
        Mode::Audit => audit_action(app, a),
        Mode::Global => {}
    }
}

/// Actions every screen shares; true if handled.
fn common(app: &mut App, a: Action) -> bool {
    let Stage::Work(w) = &mut app.stage else {
        return false;
    };
    match a {
        Action::Help => {
            w.help = Some(0);
            true
        }
        Action::Quit => {
            let text = app.i18n.tr(w.lang, "confirm-quit", &[]);
            w.popup = Some(Popup::Confirm {
                text,
                action: Confirmed::Quit,
            });
            true
        }
        Action::Refresh => {
            app.refresh_all(false);
            true
        }
        _ => false,
    }
}

fn queue_action(app: &mut App, a: Action) {
    if common(app, a) {
        return;
    }
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let lang = w.lang;
    let Screen::Queues(q) = &mut w.screen else {
        return;
    };
    // Search or account results shown over the queue.
    if let Some(found) = &mut q.found {
        let len = match found {
            Found::Requests { rows, .. } => rows.len(),
            Found::Accounts { hits, .. } => hits.len(),
        };
        let sel = match found {
            Found::Requests { selected, .. } | Found::Accounts { selected, .. } => selected,
        };
        match a {
            Action::Down => *sel = (*sel + 1).min(len.saturating_sub(1)),
            Action::Up => *sel = sel.saturating_sub(1),
            Action::Top => *sel = 0,
            Action::Bottom => *sel = len.saturating_sub(1),
            Action::Back => q.found = None,
            Action::Open => match found {
                Found::Requests { rows, selected, .. } => {
                    if let Some(id) = rows.get(*selected).map(|r| r.id) {
                        open_detail(app, id);
                    }
                }
                Found::Accounts { hits, selected, .. } => {
                    if let Some(h) = hits.get(*selected) {
                        let (account, query) = (h.id, h.id.to_string());
                        app.tasks.spawn(move |d| async move {
                            Msg::Searched {
                                query,
                                result: d.account_requests(&actor, account).await,
                            }
                        });
                    }
                }
            },
            _ => {}
        }
        return;
    }
    let Some(queue) = q.queue() else { return };
    match a {
        Action::Tab(n) => switch_tab(app, usize::from(n).saturating_sub(1)),
        Action::NextTab => {
            let n = (q.active + 1) % q.tabs.len().max(1);
            switch_tab(app, n);
        }
        Action::PrevTab => {
            let n = (q.active + q.tabs.len().max(1) - 1) % q.tabs.len().max(1);
            switch_tab(app, n);
        }
        Action::Down | Action::Up | Action::PageDown | Action::PageUp => {
            let Some(list) = q.lists.get_mut(&queue) else {
                return;
            };
            let height = isize::try_from(list.visible.max(1)).unwrap_or(20);
            let step = match a {
                Action::Down => 1_isize,
                Action::Up => -1,
                Action::PageDown => height,
                _ => -height,
            };
            let max = list.rows.len().saturating_sub(1);
            list.selected = list.selected.saturating_add_signed(step).min(max);
            if !list.loading && list.more_after && list.selected + PREFETCH >= list.rows.len() {
                load_page(&mut app.tasks, &actor, queue, list, PageKind::After);
            } else if !list.loading && list.more_before && list.selected < PREFETCH {
                load_page(&mut app.tasks, &actor, queue, list, PageKind::Before);
            }
        }
        Action::Top => {
            if let Some(list) = q.lists.get_mut(&queue) {
                if list.more_before {
                    load_page(&mut app.tasks, &actor, queue, list, PageKind::First);
                } else {
                    list.selected = 0;
                }
            }
        }
        Action::Bottom => {
            if let Some(list) = q.lists.get_mut(&queue) {
                if list.more_after {
                    load_page(&mut app.tasks, &actor, queue, list, PageKind::Last);
                } else {
                    list.selected = list.rows.len().saturating_sub(1);
                }
            }
        }
        Action::Open => {
            let id = q.list().and_then(|l| l.selected_row()).map(|r| r.id);
            if let Some(id) = id {
                open_detail(app, id);
            }
        }
        Action::Take => {
            if let Some(r) = q.list().and_then(|l| l.selected_row()) {
                let (id, version) = (r.id, r.version);
                app.tasks.spawn(move |d| async move {
                    Msg::Written {
                        what: "done-taken",
                        result: d.take(&actor, id, version).await.map(|_| ()),
                    }
                });
            }
        }
        Action::ToggleMine
        | Action::ToggleUnassigned
        | Action::ToggleOverdue
        | Action::ClearFilters => {
            if let Some(list) = q.lists.get_mut(&queue) {
                let f = &mut list.filter;
                match a {
                    Action::ToggleMine => {
                        f.mine = !f.mine;
                        f.unassigned &= !f.mine;
                    }
                    Action::ToggleUnassigned => {
                        f.unassigned = !f.unassigned;
                        f.mine &= !f.unassigned;
                    }
                    Action::ToggleOverdue => f.overdue = !f.overdue,
                    _ => *f = crate::desk::requests::Filter::default(),
                }
                list.selected = 0;
                load_page(&mut app.tasks, &actor, queue, list, PageKind::First);
            }
        }
        Action::FilterState => {
            let mut items = vec![(
                app.i18n.tr(lang, "filter-any-open", &[]),
                ChoiceValue::State(None),
            )];
            let flows: Vec<Flow> = match queue {
                Queue::Reset => vec![Flow::PasswordReset, Flow::ContactChange],
                Queue::Compromise => vec![Flow::Compromise],
                Queue::Subject => vec![Flow::Subject],
            };
            let mut states = vec![];
            for f in flows {
                for s in f.states() {
                    if !states.contains(s) {
                        states.push(*s);
                    }
                }
            }
            for s in states {
                items.push((
                    app.i18n.tr(lang, &format!("state-{}", s.as_str()), &[]),
                    ChoiceValue::State(Some(s)),
                ));
            }
            let title = app.i18n.tr(lang, "choose-state", &[]);
            w.popup = Some(Popup::Choice {
                title,
                items,
                selected: 0,
            });
        }
        Action::Notices => {
            if w.actor.role() != Some(crate::domain::staff::Role::Supervisor) {
                return;
            }
            if w.notices.is_empty() {
                let t = app.i18n.tr(lang, "notices-none", &[]);
                app.set_status(t, false);
                return;
            }
            let now = app.tasks.desk().now();
            let tz = app.tasks.desk().rules().tz.clone();
            let items = w
                .notices
                .iter()
                .map(|n| {
                    let what = app.i18n.tr(
                        lang,
                        &format!("notice-{}", n.kind),
                        &[
                            ("staff", Arg::Str(n.staff.as_deref().unwrap_or("—"))),
                            (
                                "request",
                                Arg::Str(&n.request.map_or_else(String::new, |r| r.to_string())),
                            ),
                        ],
                    );
                    (
                        format!("{} · {what}", app.i18n.datetime(lang, n.at, &tz, now)),
                        ChoiceValue::Notice(n.id),
                    )
                })
                .collect();
            let title = app.i18n.tr(lang, "choose-notice", &[]);
            w.popup = Some(Popup::Choice {
                title,
                items,
                selected: 0,
            });
        }
        Action::AuditLog => {
            let allowed = w.actor.role().is_some_and(|r| {
                crate::domain::policy::allows(r, crate::domain::policy::Action::ReadAudit)
            });
            if allowed {
                let mut h = super::state::AuditHome::new();
                super::app::load_audit(&mut app.tasks, &actor, &mut h);
                w.audit = Some(h);
            }
        }
        Action::Search => {
            let title = app.i18n.tr(lang, "input-search", &[]);
            w.popup = Some(Popup::Input {
                kind: InputKind::Search,
                title,
                field: TextField::default(),
                error: None,
                busy: false,
            });
        }
        Action::FindAccount => {
            let title = app.i18n.tr(lang, "input-find-account", &[]);
            w.popup = Some(Popup::Input {
                kind: InputKind::FindAccount,
                title,
                field: TextField::default(),
                error: None,
                busy: false,
            });
        }
        _ => {}
    }
}

fn switch_tab(app: &mut App, n: usize) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let Screen::Queues(q) = &mut w.screen else {
        return;
    };
    if n >= q.tabs.len() {
        return;
    }
    q.active = n;
    q.found = None;
    let queue = q.tabs[n];
    if let Some(list) = q.lists.get_mut(&queue)
        && !list.loaded
        && !list.loading
    {
        load_page(&mut app.tasks, &actor, queue, list, PageKind::First);
    }
}

fn open_detail(app: &mut App, id: crate::domain::request::RequestId) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    w.detail = Some(new_detail(id));
    app.tasks.spawn(move |d| async move {
        let result = d.open_request(&actor, id, None).await.map(|v| {
            let ev = d.available_events(&actor, &v);
            Box::new((v, ev))
        });
        Msg::Opened {
            id,
            refresh: false,
            result,
        }
    });
}

fn detail_action(app: &mut App, a: Action) {
    if common(app, a) {
        return;
    }
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let lang = w.lang;
    let Some(d) = &mut w.detail else { return };
    let scroll = match d.pane {
        Pane::Info => &mut d.info_scroll,
        Pane::Timeline => &mut d.timeline_scroll,
    };
    match a {
        Action::Back => {
            w.detail = None;
            app.refresh_all(false);
        }
        Action::NextPane | Action::PrevPane => {
            d.pane = if d.pane == Pane::Info {
                Pane::Timeline
            } else {
                Pane::Info
            };
        }
        Action::Down => *scroll = scroll.saturating_add(1),
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::PageDown => *scroll = scroll.saturating_add(10),
        Action::PageUp => *scroll = scroll.saturating_sub(10),
        Action::Top => *scroll = 0,
        Action::Bottom => *scroll = u16::MAX / 2,
        Action::Reveal | Action::Check => {
            let Some(v) = &d.view else { return };
            let reveal = a == Action::Reveal;
            let items = targets(v, reveal)
                .into_iter()
                .map(|(key, n, t)| {
                    let label = match n {
                        Some(n) => app.i18n.tr(lang, key, &[("n", Arg::Num(n))]),
                        None => app.i18n.tr(lang, key, &[]),
                    };
                    let value = if reveal {
                        ChoiceValue::RevealTarget(t)
                    } else {
                        ChoiceValue::CheckTarget(t)
                    };
                    (label, value)
                })
                .collect::<Vec<_>>();
            if items.is_empty() {
                let t = app.i18n.tr(
                    lang,
                    if reveal {
                        "nothing-to-reveal"
                    } else {
                        "nothing-to-check"
                    },
                    &[],
                );
                app.set_status(t, true);
                return;
            }
            let title = app.i18n.tr(
                lang,
                if reveal {
                    "choose-reveal"
                } else {
                    "choose-check"
                },
                &[],
            );
            w.popup = Some(Popup::Choice {
                title,
                items,
                selected: 0,
            });
        }
        Action::Take | Action::Release | Action::Assign | Action::Note | Action::Events => {
            let Some(v) = &d.view else { return };
            let (id, version) = (v.id, v.version);
            match a {
                Action::Take => app.tasks.spawn(move |dk| async move {
                    Msg::Written {
                        what: "done-taken",
                        result: dk.take(&actor, id, version).await.map(|_| ()),
                    }
                }),
                Action::Release => {
                    let text = app.i18n.tr(
                        lang,
                        "confirm-release",
                        &[("id", Arg::Str(&id.to_string()))],
                    );
                    w.popup = Some(Popup::Confirm {
                        text,
                        action: Confirmed::Release { id, version },
                    });
                }
                Action::Assign => {
                    let queue = v.queue;
                    app.tasks.spawn(move |dk| async move {
                        Msg::Assignable(dk.assignable_staff(&actor, queue).await)
                    });
                }
                Action::Note => {
                    let title =
                        app.i18n
                            .tr(lang, "input-note", &[("id", Arg::Str(&id.to_string()))]);
                    w.popup = Some(Popup::Input {
                        kind: InputKind::Note,
                        title,
                        field: TextField::default(),
                        error: None,
                        busy: false,
                    });
                }
                _ => {
                    if d.events.is_empty() {
                        let t = app.i18n.tr(lang, "no-events", &[]);
                        app.set_status(t, true);
                        return;
                    }
                    let items = d
                        .events
                        .iter()
                        .map(|e| {
                            (
                                app.i18n.tr(lang, &format!("event-{}", e.as_str()), &[]),
                                ChoiceValue::Event(*e),
                            )
                        })
                        .collect();
                    let title =
                        app.i18n
                            .tr(lang, "choose-event", &[("id", Arg::Str(&id.to_string()))]);
                    w.popup = Some(Popup::Choice {
                        title,
                        items,
                        selected: 0,
                    });
                }
            }
        }
        _ => {}
    }
}

fn staff_action(app: &mut App, a: Action) {
    if common(app, a) {
        return;
    }
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let lang = w.lang;
    let Screen::Staff(s) = &mut w.screen else {
        return;
    };
    let len = s.rows.len();
    match a {
        Action::Down => s.selected = (s.selected + 1).min(len.saturating_sub(1)),
        Action::Up => s.selected = s.selected.saturating_sub(1),
        Action::Top => s.selected = 0,
        Action::Bottom => s.selected = len.saturating_sub(1),
        Action::Disable | Action::Enable | Action::Unlock => {
            let Some(row) = s.rows.get(s.selected) else {
                return;
            };
            let login = row.login.to_string();
            let (key, action) = match a {
                Action::Disable => ("confirm-disable", Confirmed::Disable(login.clone())),
                Action::Enable => ("confirm-enable", Confirmed::Enable(login.clone())),
                _ => ("confirm-unlock", Confirmed::Unlock(login.clone())),
            };
            let text = app.i18n.tr(lang, key, &[("login", Arg::Str(&login))]);
            w.popup = Some(Popup::Confirm { text, action });
        }
        _ => {}
    }
}

fn audit_action(app: &mut App, a: Action) {
    if common(app, a) {
        return;
    }
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let lang = w.lang;
    let actor = w.actor.clone();
    let overlay = w.audit.is_some();
    let Some(h) = w.audit_home_mut() else { return };
    let len = h.records().len();
    match a {
        Action::Down => h.selected = (h.selected + 1).min(len.saturating_sub(1)),
        Action::Up => h.selected = h.selected.saturating_sub(1),
        Action::PageDown => h.selected = (h.selected + 20).min(len.saturating_sub(1)),
        Action::PageUp => h.selected = h.selected.saturating_sub(20),
        Action::Top => h.selected = 0,
        Action::Bottom => h.selected = len.saturating_sub(1),
        Action::Back => {
            if h.access.is_some() {
                h.access = None;
                h.selected = 0;
                super::app::load_audit(&mut app.tasks, &actor, h);
            } else if overlay {
                w.audit = None;
            }
        }
        Action::AuditFilter => {
            let mut field = TextField::default();
            let current = h.filter_text.clone();
            field.push_str(&current, 300);
            let title = app.i18n.tr(lang, "input-audit-filter", &[]);
            w.popup = Some(Popup::Input {
                kind: InputKind::AuditFilter,
                title,
                field,
                error: None,
                busy: false,
            });
        }
        Action::AccessReport => {
            let title = app.i18n.tr(lang, "input-access-report", &[]);
            w.popup = Some(Popup::Input {
                kind: InputKind::AccessReport,
                title,
                field: TextField::default(),
                error: None,
                busy: false,
            });
        }
        _ => {}
    }
}

/// The fields of a request's view the viewer may reveal (or check): catalog key, contact
/// number, target.
fn targets(
    v: &crate::domain::view::RequestView,
    reveal: bool,
) -> Vec<(&'static str, Option<i64>, Target)> {
    use crate::domain::view::{FieldView, Shown};
    let ok = |f: &FieldView| {
        !matches!(f.shown, Shown::Hidden | Shown::Absent)
            && if reveal { f.can_reveal } else { f.can_check }
    };
    let mut out = vec![];
    if let Some(acc) = &v.account {
        for (key, f, t) in [
            ("target-email", &acc.email, Target::Email),
            ("target-phone", &acc.phone, Target::Phone),
            ("target-address", &acc.postal_address, Target::PostalAddress),
            ("target-tax-id", &acc.tax_id, Target::TaxId),
        ] {
            if (reveal || t != Target::PostalAddress) && ok(f) {
                out.push((key, None, t));
            }
        }
        for (i, c) in acc.contacts.iter().enumerate() {
            let n = Some(i64::try_from(i + 1).unwrap_or(0));
            if c.has_email
                && (if reveal {
                    c.email.can_reveal
                } else {
                    c.email.can_check
                })
            {
                out.push(("target-contact-email", n, Target::ContactEmail(c.id)));
            }
            if c.has_phone
                && (if reveal {
                    c.phone.can_reveal
                } else {
                    c.phone.can_check
                })
            {
                out.push(("target-contact-phone", n, Target::ContactPhone(c.id)));
            }
            if !reveal && c.passphrase.can_check {
                out.push((
                    "target-contact-passphrase",
                    n,
                    Target::ContactPassphrase(c.id),
                ));
            }
        }
    }
    for item in &v.verification {
        let f = &item.value;
        if (reveal && f.can_reveal) || (!reveal && f.can_check) {
            out.push((
                "target-verification",
                Some(item.id),
                Target::Verification(item.id),
            ));
        }
    }
    out
}

/// Parses `actor=anna action=field.reveal purpose=… account=A1 request=#2 since=2026-11-01
/// until=… outcome=refused` into a filter.
fn parse_audit_filter(text: &str) -> Result<crate::desk::AuditFilter, String> {
    let mut f = crate::desk::AuditFilter::default();
    let day = |v: &str| -> Result<jiff::Timestamp, String> {
        if let Ok(t) = v.parse::<jiff::Timestamp>() {
            return Ok(t);
        }
        v.parse::<jiff::civil::Date>()
            .map_err(|_| format!("{v}: write a date as 2026-11-25"))
            .and_then(|d| {
                d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .map(|z| z.timestamp())
                    .map_err(|e| e.to_string())
            })
    };
    for part in text.split_whitespace() {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("{part}: write key=value"))?;
        match k {
            "actor" | "staff" => f.actor = Some(v.to_owned()),
            "account" => {
                f.account = Some(
                    v.parse()
                        .map_err(|_| format!("{v}: an account looks like A12"))?,
                );
            }
            "request" => {
                f.request = Some(
                    v.parse()
                        .map_err(|_| format!("{v}: a request looks like #12"))?,
                );
            }
            "action" => f.action = Some(v.to_owned()),
            "purpose" => f.purpose = Some(v.to_owned()),
            "outcome" => f.outcome = Some(v.to_owned()),
            "since" => f.since = Some(day(v)?),
            "until" => f.until = Some(day(v)?),
            other => {
                return Err(format!(
                    "{other}: use actor, account, request, action, purpose, outcome, since, until"
                ));
            }
        }
    }
    Ok(f)
}

fn popup_confirm(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let Some(Popup::Confirm { action, .. }) = w.popup.take() else {
        return;
    };
    if a != Action::Confirm {
        return;
    }
    match action {
        Confirmed::Quit => app.quit_now(),
        Confirmed::Release { id, version } => app.tasks.spawn(move |d| async move {
            Msg::Written {
                what: "done-released",
                result: d.release(&actor, id, version).await.map(|_| ()),
            }
        }),
        Confirmed::Event { id, version, event } => {
            let event = match event {
                PendingEvent::Plain(k) => plain_event(k),
                PendingEvent::Triage { severity, leak } => {
                    Severity::new(severity).ok().map(|severity| Event::Triage {
                        severity,
                        personal_data_leak: leak,
                    })
                }
                PendingEvent::Refuse(r) => Some(Event::Refuse(r)),
                PendingEvent::ProposeRefusal(g) => Some(Event::ProposeRefusal(g)),
            };
            if let Some(event) = event {
                app.tasks.spawn(move |d| async move {
                    Msg::Written {
                        what: "done-event",
                        result: d
                            .apply_event(&actor, id, version, event, None)
                            .await
                            .map(|_| ()),
                    }
                });
            }
        }
        Confirmed::AckNotice(n) => app.tasks.spawn(move |d| async move {
            Msg::Written {
                what: "done-ack",
                result: d.acknowledge_notice(&actor, n).await,
            }
        }),
        Confirmed::Disable(login) => app.tasks.spawn(move |d| async move {
            Msg::StaffChanged(d.set_disabled(&actor, &login, true).await)
        }),
        Confirmed::Enable(login) => app.tasks.spawn(move |d| async move {
            Msg::StaffChanged(d.set_disabled(&actor, &login, false).await)
        }),
        Confirmed::Unlock(login) => app
            .tasks
            .spawn(move |d| async move { Msg::StaffChanged(d.unlock_staff(&actor, &login).await) }),
    }
}

fn plain_event(k: EventKind) -> Option<Event> {
    Some(match k {
        EventKind::BeginVerification => Event::BeginVerification,
        EventKind::Verify => Event::Verify,
        EventKind::SendLink => Event::SendLink,
        EventKind::Redeem => Event::Redeem,
        EventKind::Expire => Event::Expire,
        EventKind::SubmitForApproval => Event::SubmitForApproval,
        EventKind::Approve => Event::Approve,
        EventKind::SendBack => Event::SendBack,
        EventKind::Apply => Event::Apply,
        EventKind::NotifyContacts => Event::NotifyContacts,
        EventKind::Contain => Event::Contain,
        EventKind::BeginClientVerification => Event::BeginClientVerification,
        EventKind::Restore => Event::Restore,
        EventKind::Close => Event::Close,
        EventKind::CloseUnfounded => Event::CloseUnfounded,
        EventKind::VerifyIdentity => Event::VerifyIdentity,
        EventKind::Prepare => Event::Prepare,
        EventKind::Execute => Event::Execute,
        EventKind::NotifyClient => Event::NotifyClient,
        EventKind::Refuse | EventKind::Triage | EventKind::ProposeRefusal => return None,
    })
}

fn popup_choice(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let lang = w.lang;
    let actor = w.actor.clone();
    let Some(Popup::Choice {
        items, selected, ..
    }) = &mut w.popup
    else {
        return;
    };
    match a {
        Action::Down => *selected = (*selected + 1).min(items.len().saturating_sub(1)),
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Cancel => w.popup = None,
        Action::Submit => {
            let Some((_, value)) = items.get(*selected).cloned() else {
                return;
            };
            w.popup = None;
            let target = w
                .detail
                .as_ref()
                .and_then(|d| d.view.as_ref())
                .map(|v| (v.id, v.version));
            let target_req = target;
            let tr = |key: &str, args: &[(&str, Arg<'_>)]| app.i18n.tr(lang, key, args);
            match value {
                ChoiceValue::RevealTarget(t) => {
                    let items = Purpose::ALL
                        .iter()
                        .map(|p| {
                            (
                                tr(&format!("purpose-{}", p.as_str()), &[]),
                                ChoiceValue::Purpose(t, *p),
                            )
                        })
                        .collect();
                    w.popup = Some(Popup::Choice {
                        title: tr("choose-purpose", &[]),
                        items,
                        selected: 0,
                    });
                }
                ChoiceValue::Purpose(target, purpose) => {
                    if let Some((id, _)) = target_req {
                        app.tasks.spawn(move |d| async move {
                            Msg::Revealed {
                                id,
                                target,
                                result: d.reveal(&actor, id, target, purpose).await,
                            }
                        });
                    }
                }
                ChoiceValue::CheckTarget(t) => {
                    let field = if matches!(t, Target::ContactPassphrase(_)) {
                        TextField::secret()
                    } else {
                        TextField::default()
                    };
                    let title = tr("input-check", &[]);
                    w.popup = Some(Popup::Input {
                        kind: InputKind::Check(t),
                        title,
                        field,
                        error: None,
                        busy: false,
                    });
                }
                ChoiceValue::Notice(n) => {
                    let text = tr("confirm-ack", &[]);
                    w.popup = Some(Popup::Confirm {
                        text,
                        action: Confirmed::AckNotice(n),
                    });
                }
                ChoiceValue::State(s) => {
                    if let Screen::Queues(q) = &mut w.screen
                        && let Some(queue) = q.queue()
                        && let Some(list) = q.lists.get_mut(&queue)
                    {
                        list.filter.state = s;
                        list.selected = 0;
                        load_page(&mut app.tasks, &actor, queue, list, PageKind::First);
                    }
                }
                ChoiceValue::Staff(login) => {
                    if let Some((id, version)) = target {
                        app.tasks.spawn(move |d| async move {
                            Msg::Written {
                                what: "done-assigned",
                                result: d.assign(&actor, id, version, &login).await.map(|_| ()),
                            }
                        });
                    }
                }
                ChoiceValue::Event(k) => {
                    let Some((id, version)) = target else { return };
                    let label = tr(&format!("event-{}", k.as_str()), &[]);
                    match k {
                        EventKind::Triage => {
                            let items = (1..=4_u8)
                                .map(|n| {
                                    (tr(&format!("severity-{n}"), &[]), ChoiceValue::Severity(n))
                                })
                                .collect();
                            w.popup = Some(Popup::Choice {
                                title: tr("choose-severity", &[]),
                                items,
                                selected: 1,
                            });
                        }
                        EventKind::Refuse => {
                            let items = RefusalReason::ALL
                                .iter()
                                .map(|r| {
                                    (
                                        tr(&format!("reason-{}", r.as_str()), &[]),
                                        ChoiceValue::Reason(*r),
                                    )
                                })
                                .collect();
                            w.popup = Some(Popup::Choice {
                                title: tr("choose-reason", &[]),
                                items,
                                selected: 0,
                            });
                        }
                        EventKind::ProposeRefusal => {
                            let items = LegalGround::ALL
                                .iter()
                                .map(|g| {
                                    (
                                        tr(&format!("ground-{}", g.as_str()), &[]),
                                        ChoiceValue::Ground(*g),
                                    )
                                })
                                .collect();
                            w.popup = Some(Popup::Choice {
                                title: tr("choose-ground", &[]),
                                items,
                                selected: 0,
                            });
                        }
                        _ => {
                            let text = tr(
                                "confirm-event",
                                &[
                                    ("event", Arg::Str(&label)),
                                    ("id", Arg::Str(&id.to_string())),
                                ],
                            );
                            w.popup = Some(Popup::Confirm {
                                text,
                                action: Confirmed::Event {
                                    id,
                                    version,
                                    event: PendingEvent::Plain(k),
                                },
                            });
                        }
                    }
                }
                ChoiceValue::Severity(n) => {
                    let items = vec![
                        (tr("leak-no", &[]), ChoiceValue::Leak(n, false)),
                        (tr("leak-yes", &[]), ChoiceValue::Leak(n, true)),
                    ];
                    w.popup = Some(Popup::Choice {
                        title: tr("choose-leak", &[]),
                        items,
                        selected: 0,
                    });
                }
                ChoiceValue::Leak(severity, leak) => {
                    if let Some((id, version)) = target {
                        let text = tr(
                            "confirm-triage",
                            &[
                                ("severity", Arg::Num(i64::from(severity))),
                                ("id", Arg::Str(&id.to_string())),
                            ],
                        );
                        w.popup = Some(Popup::Confirm {
                            text,
                            action: Confirmed::Event {
                                id,
                                version,
                                event: PendingEvent::Triage { severity, leak },
                            },
                        });
                    }
                }
                ChoiceValue::Reason(r) => {
                    if let Some((id, version)) = target {
                        let label = tr(&format!("reason-{}", r.as_str()), &[]);
                        let text = tr(
                            "confirm-refuse",
                            &[
                                ("reason", Arg::Str(&label)),
                                ("id", Arg::Str(&id.to_string())),
                            ],
                        );
                        w.popup = Some(Popup::Confirm {
                            text,
                            action: Confirmed::Event {
                                id,
                                version,
                                event: PendingEvent::Refuse(r),
                            },
                        });
                    }
                }
                ChoiceValue::Ground(g) => {
                    if let Some((id, version)) = target {
                        let label = tr(&format!("ground-{}", g.as_str()), &[]);
                        let text = tr(
                            "confirm-propose-refusal",
                            &[
                                ("ground", Arg::Str(&label)),
                                ("id", Arg::Str(&id.to_string())),
                            ],
                        );
                        w.popup = Some(Popup::Confirm {
                            text,
                            action: Confirmed::Event {
                                id,
                                version,
                                event: PendingEvent::ProposeRefusal(g),
                            },
                        });
                    }
                }
            }
        }
        _ => {}
    }
}

fn popup_input(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let Some(Popup::Input {
        kind,
        field,
        busy,
        error,
        ..
    }) = &mut w.popup
    else {
        return;
    };
    match a {
        Action::Cancel => w.popup = None,
        Action::Submit => {
            let text = field.value().trim().to_owned();
            if text.is_empty() && *kind != InputKind::AuditFilter {
                return;
            }
            match *kind {
                InputKind::Check(target) => {
                    let Some(id) = w.detail.as_ref().map(|d| d.id) else {
                        return;
                    };
                    // The value a caller gave is not kept on screen once submitted.
                    w.popup = None;
                    let typed = Secret::new(text);
                    app.tasks.spawn(move |d| async move {
                        Msg::Checked(d.check(&actor, id, target, typed).await)
                    });
                }
                InputKind::AuditFilter => match parse_audit_filter(&text) {
                    Ok(filter) => {
                        w.popup = None;
                        let Some(h) = w.audit_home_mut() else { return };
                        h.filter = filter;
                        h.filter_text = text;
                        h.access = None;
                        h.selected = 0;
                        super::app::load_audit(&mut app.tasks, &actor, h);
                    }
                    Err(e) => *error = Some(e),
                },
                InputKind::AccessReport => {
                    match text.parse::<crate::domain::account::AccountId>() {
                        Ok(account) => {
                            w.popup = None;
                            let Some(h) = w.audit_home_mut() else { return };
                            h.access = Some((account, vec![]));
                            h.selected = 0;
                            super::app::load_audit(&mut app.tasks, &actor, h);
                        }
                        Err(_) => *error = Some(app.i18n.tr(w.lang, "bad-account-id", &[])),
                    }
                }
                InputKind::Note => {
                    let Some(id) = w.detail.as_ref().map(|d| d.id) else {
                        return;
                    };
                    *busy = true;
                    *error = None;
                    app.tasks.spawn(move |d| async move {
                        Msg::NoteAdded(d.add_note(&actor, id, &text).await)
                    });
                }
                InputKind::Search => {
                    w.popup = None;
                    app.tasks.spawn(move |d| async move {
                        let result = d.search_subjects(&actor, &text, 200).await;
                        Msg::Searched {
                            query: text,
                            result,
                        }
                    });
                }
                InputKind::FindAccount => {
                    w.popup = None;
                    app.tasks.spawn(move |d| async move {
                        let result = d.find_accounts(&actor, &text).await;
                        Msg::Accounts {
                            query: text,
                            result,
                        }
                    });
                }
            }
        }
        _ => {}
    }
}

/// Applies a desk answer.
pub(crate) fn message(app: &mut App, msg: Msg) {
    match msg {
        Msg::LoggedIn(r) => match r {
            Ok((staff, generation)) => app.enter(staff, generation),
            Err(e) => {
                let text = app.error_text(&e);
                if let Stage::Login(f) = &mut app.stage {
                    f.busy = false;
                    f.error = Some(text);
                }
                app.note_failure(&e);
            }
        },
        Msg::Unlocked(r) => {
            let text = r.as_ref().err().map(|e| app.error_text(e));
            if let Stage::Work(w) = &mut app.stage {
                match text {
                    None => w.locked = None,
                    Some(t) => {
                        if let Some(l) = &mut w.locked {
                            l.busy = false;
                            l.error = Some(t);
                        }
                    }
                }
            }
        }
        Msg::Badges(r) => match r {
            Ok(b) => {
                app.note_success();
                if let Stage::Work(w) = &mut app.stage
                    && let Screen::Queues(q) = &mut w.screen
                {
                    q.badges = b;
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Page {
            queue,
            token,
            kind,
            result,
        } => page(app, queue, token, kind, result),
        Msg::Opened {
            id,
            refresh,
            result,
        } => {
            let mut failure = None;
            if let Stage::Work(w) = &mut app.stage
                && let Some(d) = &mut w.detail
                && d.id == id
            {
                d.loading = false;
                match result {
                    Ok(opened) => {
                        let (view, events) = *opened;
                        for f in view.shown_fields() {
                            if !d.shown.contains(&f) {
                                d.shown.push(f);
                            }
                        }
                        d.view = Some(view);
                        d.events = events;
                        d.error = None;
                    }
                    Err(e) => {
                        if !refresh || !e.is_unavailable() {
                            d.error = Some(e.to_string());
                        }
                        failure = Some(e);
                    }
                }
            }
            match failure {
                Some(e) => app.note_failure(&e),
                None => app.note_success(),
            }
        }
        Msg::Written { what, result } => match result {
            Ok(()) => {
                let t = app.t(what);
                app.set_status(t, false);
                app.refresh_all(false);
            }
            Err(e) => {
                if e.is_stale() {
                    let t = app.error_text(&e);
                    app.set_status(t, true);
                    app.refresh_all(false);
                } else {
                    app.note_failure(&e);
                }
            }
        },
        Msg::NoteAdded(r) => {
            let err = r.as_ref().err().map(|e| app.error_text(e));
            if let Stage::Work(w) = &mut app.stage {
                match err {
                    None => w.popup = None,
                    // Keep what was typed; say why it was not saved.
                    Some(t) => {
                        if let Some(Popup::Input { busy, error, .. }) = &mut w.popup {
                            *busy = false;
                            *error = Some(t);
                        }
                    }
                }
            }
            match r {
                Ok(()) => {
                    let t = app.t("done-note");
                    app.set_status(t, false);
                    app.refresh_all(false);
                }
                Err(e) if e.is_unavailable() => app.note_failure(&e),
                Err(_) => {}
            }
        }
        Msg::Searched { query, result } => match result {
            Ok(rows) => {
                if let Stage::Work(w) = &mut app.stage
                    && let Screen::Queues(q) = &mut w.screen
                {
                    q.found = Some(Found::Requests {
                        query,
                        rows,
                        selected: 0,
                    });
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Accounts { query, result } => match result {
            Ok(hits) => {
                if let Stage::Work(w) = &mut app.stage
                    && let Screen::Queues(q) = &mut w.screen
                {
                    q.found = Some(Found::Accounts {
                        query,
                        hits,
                        selected: 0,
                    });
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Assignable(result) => match result {
            Ok(logins) => {
                let title = app.t("choose-assignee");
                if let Stage::Work(w) = &mut app.stage {
                    let items = logins
                        .into_iter()
                        .map(|l| (l.to_string(), ChoiceValue::Staff(l.to_string())))
                        .collect();
                    w.popup = Some(Popup::Choice {
                        title,
                        items,
                        selected: 0,
                    });
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::StaffRows(r) => match r {
            Ok(rows) => {
                app.note_success();
                if let Stage::Work(w) = &mut app.stage
                    && let Screen::Staff(s) = &mut w.screen
                {
                    s.selected = s.selected.min(rows.len().saturating_sub(1));
                    s.rows = rows;
                    s.loading = false;
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::StaffChanged(r) => match r {
            Ok(()) => {
                let t = app.t("done-staff");
                app.set_status(t, false);
                app.refresh_all(false);
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Audit(r) => match r {
            Ok(o) => {
                app.note_success();
                if let Stage::Work(w) = &mut app.stage
                    && let Some(h) = w.audit_home_mut()
                {
                    h.selected = h.selected.min(o.records.len().saturating_sub(1));
                    h.overview = Some(o);
                    h.loading = false;
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::SessionValid(r) => match r {
            Ok(true) => app.note_success(),
            Ok(false) => {
                let t = app.t("session-ended");
                app.end(t);
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Revealed { id, target, result } => match result {
            Ok(view) => {
                let ttl = app.settings.reveal_ttl;
                if let Stage::Work(w) = &mut app.stage
                    && let Some(d) = &mut w.detail
                    && d.id == id
                {
                    d.revealed.retain(|r| r.target != target);
                    d.revealed.push(super::state::Revealed {
                        target,
                        view,
                        until: tokio::time::Instant::now() + ttl,
                    });
                }
                let t = app.ta(
                    "done-revealed",
                    &[("s", Arg::Num(i64::try_from(ttl.as_secs()).unwrap_or(60)))],
                );
                app.set_status(t, false);
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Checked(result) => match result {
            Ok(m) => {
                let t = app.t(if m { "check-match" } else { "check-no-match" });
                app.set_status(t, !m);
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Notices(result) => match result {
            Ok(n) => {
                if let Stage::Work(w) = &mut app.stage {
                    w.notices = n;
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::Access { account, result } => match result {
            Ok(records) => {
                app.note_success();
                if let Stage::Work(w) = &mut app.stage {
                    let h = w.audit_home_mut();
                    if let Some(h) = h
                        && h.access.as_ref().is_some_and(|(a, _)| *a == account)
                    {
                        h.access = Some((account, records));
                        h.loading = false;
                    }
                }
            }
            Err(e) => app.note_failure(&e),
        },
        Msg::TaskFailed => {
            let t = app.t("task-failed");
            app.set_status(t, true);
        }
    }
}

fn page(
    app: &mut App,
    queue: Queue,
    token: u64,
    kind: PageKind,
    result: Result<Vec<crate::domain::view::ListRow>, crate::desk::DeskError>,
) {
    let rows = match result {
        Ok(rows) => {
            app.note_success();
            rows
        }
        Err(e) => {
            if let Stage::Work(w) = &mut app.stage
                && let Screen::Queues(q) = &mut w.screen
                && let Some(list) = q.lists.get_mut(&queue)
            {
                list.loading = false;
            }
            app.note_failure(&e);
            return;
        }
    };
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let Screen::Queues(q) = &mut w.screen else {
        return;
    };
    let total = q.badges.iter().find(|b| b.queue == queue).map(|b| b.open);
    let Some(list) = q.lists.get_mut(&queue) else {
        return;
    };
    if token != list.token {
        return;
    }
    list.loading = false;
    list.loaded = true;
    let full = rows.len() >= usize::try_from(super::state::PAGE).unwrap_or(100);
    let plain = list.filter == crate::desk::requests::Filter::default();
    match kind {
        PageKind::First => {
            list.rows = rows;
            list.selected = 0;
            list.offset = 0;
            list.start_index = Some(0);
            list.more_after = full;
            list.more_before = false;
        }
        PageKind::Last => {
            let mut rows = rows;
            rows.reverse();
            let n = rows.len();
            list.rows = rows;
            list.selected = n.saturating_sub(1);
            list.offset = 0;
            list.more_after = false;
            list.more_before = full;
            list.start_index = if full {
                total.filter(|_| plain).map(|t| t.saturating_sub(n as u64))
            } else {
                Some(0)
            };
        }
        PageKind::After => {
            list.more_after = full;
            list.rows.extend(rows);
            if list.rows.len() > WINDOW {
                let cut = list.rows.len() - WINDOW;
                list.rows.drain(..cut);
                list.selected = list.selected.saturating_sub(cut);
                list.offset = list.offset.saturating_sub(cut);
                list.start_index = list.start_index.map(|s| s + cut as u64);
                list.more_before = true;
            }
        }
        PageKind::Before => {
            list.more_before = full;
            let mut rows = rows;
            rows.reverse();
            let n = rows.len();
            rows.append(&mut list.rows);
            list.rows = rows;
            list.selected += n;
            list.offset += n;
            list.start_index = list.start_index.map(|s| s.saturating_sub(n as u64));
            if list.rows.len() > WINDOW {
                list.rows.truncate(WINDOW);
                list.more_after = true;
            }
        }
        PageKind::Refresh(keep) => {
            let keep_index = list.selected;
            list.more_after = full;
            list.rows = rows;
            list.selected = keep
                .and_then(|id| list.rows.iter().position(|r| r.id == id))
                .unwrap_or(keep_index)
                .min(list.rows.len().saturating_sub(1));
        }
    }
}
