//! What the desk's answers do to the screen.

#[allow(clippy::wildcard_imports)]
use super::*;

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
            Ok(mut rows) => {
                if let Stage::Work(w) = &mut app.stage
                    && let Screen::Queues(q) = &mut w.screen
                {
                    let more = rows.len() > crate::tui::state::SEARCH_LIMIT;
                    rows.truncate(crate::tui::state::SEARCH_LIMIT);
                    q.found = Some(Found::Requests {
                        query,
                        rows,
                        more,
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
        Msg::Audit { recorded, result } => match result {
            Ok(o) => {
                app.note_success();
                if let Stage::Work(w) = &mut app.stage
                    && let Some(h) = w.audit_home_mut()
                {
                    h.selected = h.selected.min(o.records.len().saturating_sub(1));
                    h.overview = Some(o);
                    h.loading = false;
                    h.recorded |= recorded;
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
                    d.scroll_to_reveal = true;
                    d.revealed.push(crate::tui::state::Revealed {
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
        Msg::Access {
            account,
            recorded,
            result,
        } => match result {
            Ok(records) => {
                app.note_success();
                if let Stage::Work(w) = &mut app.stage {
                    let h = w.audit_home_mut();
                    if let Some(h) = h
                        && h.access.as_ref().is_some_and(|(a, _)| *a == account)
                    {
                        h.access = Some((account, records));
                        h.access_recorded |= recorded;
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

pub(super) fn page(
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
    let full = rows.len() >= usize::try_from(crate::tui::state::PAGE).unwrap_or(100);
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
