//! What keys and desk answers do to the screen state, split by screen.

mod admin;
mod detail;
mod messages;
mod popups;
mod queue;

#[allow(clippy::wildcard_imports)]
use self::{admin::*, detail::*, popups::*, queue::*};
pub(crate) use messages::message;

use crossterm::event::{KeyCode, KeyEvent};

use crate::desk::reveal::Target;
use crate::domain::personal::Secret;
use crate::domain::policy::Purpose;
use crate::domain::request::Queue;
use crate::domain::workflow::{Event, EventKind, Flow, LegalGround, RefusalReason, Severity};

use super::i18n::Arg;
use super::keymap::{Action, Mode};
use crate::tui::app::{App, Msg, PageKind, load_page, mode_of, new_detail, spawn_login};
use crate::tui::state::{
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
    // Moving elsewhere retires the last status message.
    if matches!(
        a,
        Action::Open | Action::Back | Action::Tab(_) | Action::NextTab | Action::PrevTab
    ) {
        app.status = None;
    }
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

/// Takes a request: at once when nobody holds it; asks first when a colleague does; says so
/// when it is already one's own.
pub(super) fn take(
    app: &mut App,
    id: crate::domain::request::RequestId,
    version: i64,
    holder: Option<&str>,
) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    match holder {
        Some(h) if h == w.staff.login.as_str() => {
            let t = app.i18n.tr(w.lang, "already-yours", &[]);
            app.set_status(t, false);
        }
        Some(h) => {
            let text = app.i18n.tr(
                w.lang,
                "confirm-take-over",
                &[("id", Arg::Str(&id.to_string())), ("login", Arg::Str(h))],
            );
            w.popup = Some(Popup::Confirm {
                text,
                action: Confirmed::TakeOver { id, version },
            });
        }
        None => app.tasks.spawn(move |d| async move {
            Msg::Written {
                what: "done-taken",
                result: d.take(&actor, id, version).await.map(|_| ()),
            }
        }),
    }
}
