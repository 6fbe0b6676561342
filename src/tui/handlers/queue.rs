//! Keys on a queue list: moving, tabs, filters, search, opening a request.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn queue_action(app: &mut App, a: Action) {
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
            let row = q.list().and_then(|l| l.selected_row()).map(|r| {
                (
                    r.id,
                    r.version,
                    r.assignee.as_ref().map(ToString::to_string),
                )
            });
            if let Some((id, version, holder)) = row {
                take(app, id, version, holder.as_deref());
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
                let mut h = crate::tui::state::AuditHome::new();
                crate::tui::app::load_audit(&mut app.tasks, &actor, &mut h);
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

pub(super) fn switch_tab(app: &mut App, n: usize) {
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

pub(super) fn open_detail(app: &mut App, id: crate::domain::request::RequestId) {
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
