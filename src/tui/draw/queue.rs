//! A queue list, and search or account results shown over it.

#[allow(clippy::wildcard_imports)]
use super::*;

/// Column widths of a queue list at `width` columns.
pub(super) struct Cols {
    pub(super) id: usize,
    pub(super) kind: usize,
    pub(super) account: usize,
    pub(super) state: usize,
    pub(super) assignee: usize,
    pub(super) due: usize,
}

pub(super) fn cols(width: usize) -> Cols {
    let (id, kind, state, due) = (7, 11, 15, 9);
    let assignee = if width >= 90 {
        12
    } else if width >= 76 {
        9
    } else {
        0
    };
    let fixed = 2 + id + kind + state + due + assignee + 5;
    Cols {
        id,
        kind,
        account: width.saturating_sub(fixed).max(8),
        state,
        assignee,
        due,
    }
}

pub(super) fn row_line(app: &App, r: &ListRow, c: &Cols, selected: bool) -> Line<'static> {
    let theme = app.settings.theme;
    let now = app.desk().now();
    let (mark, mark_style) = match r.urgency {
        Urgency::Overdue => ("!!", theme.overdue()),
        Urgency::DueSoon => ("! ", theme.due_soon()),
        Urgency::Normal | Urgency::Closed => ("  ", theme.base()),
    };
    let base = if selected {
        theme.selected()
    } else {
        theme.base()
    };
    let mut v = vec![Span::styled(mark.to_owned(), mark_style)];
    v.extend(own(&r.id.to_string(), c.id, base, theme));
    v.push(Span::styled(" ", base));
    v.extend(own(
        &app.t(&format!("kind-{}", r.kind.as_str())),
        c.kind,
        base,
        theme,
    ));
    v.push(Span::styled(" ", base));
    v.extend(shown_cell(app, &r.account_name, c.account, base));
    v.push(Span::styled(" ", base));
    v.extend(own(
        &app.t(&format!("state-{}", r.state.as_str())),
        c.state,
        base,
        theme,
    ));
    if c.assignee > 0 {
        v.push(Span::styled(" ", base));
        let who = r
            .assignee
            .as_ref()
            .map_or_else(|| "—".to_owned(), ToString::to_string);
        v.extend(own(&who, c.assignee, base, theme));
    }
    v.push(Span::styled(" ", base));
    let due_style = match r.urgency {
        Urgency::Overdue if !selected => theme.overdue(),
        Urgency::DueSoon if !selected => theme.due_soon(),
        _ => base,
    };
    let due = if r.urgency == Urgency::Closed {
        "—".to_owned()
    } else {
        app.i18n.until_short(app.lang(), r.due_at, now)
    };
    v.extend(own(&due, c.due, due_style, theme));
    Line::from(v)
}

pub(super) fn shown_cell(app: &App, s: &Shown, width: usize, base: Style) -> Vec<Span<'static>> {
    let theme = app.settings.theme;
    match s {
        Shown::Hidden => own(&app.t("hidden"), width, theme.muted(), theme),
        Shown::Absent => own(&app.t("erased-or-absent"), width, theme.muted(), theme),
        Shown::Masked(t) => cell(t, width, theme.masked(), theme),
        Shown::Clear(t) => cell(t.expose(), width, base, theme),
        Shown::Revealed(t) => cell(t.expose(), width, theme.flag(), theme),
    }
}

pub(super) fn header_line(app: &App, c: &Cols) -> Line<'static> {
    let theme = app.settings.theme;
    let h = theme.label();
    let mut v = vec![Span::raw("  ")];
    v.extend(own("#", c.id, h, theme));
    v.push(Span::raw(" "));
    v.extend(own(&app.t("col-kind"), c.kind, h, theme));
    v.push(Span::raw(" "));
    v.extend(own(&app.t("col-account"), c.account, h, theme));
    v.push(Span::raw(" "));
    v.extend(own(&app.t("col-state"), c.state, h, theme));
    if c.assignee > 0 {
        v.push(Span::raw(" "));
        v.extend(own(&app.t("col-assignee"), c.assignee, h, theme));
    }
    v.push(Span::raw(" "));
    v.extend(own(&app.t("col-due"), c.due, h, theme));
    Line::from(v)
}

pub(super) fn filter_text(app: &App, list: &QueueList) -> String {
    let f = list.filter;
    let mut parts = vec![];
    if let Some(s) = f.state {
        parts.push(app.t(&format!("state-{}", s.as_str())));
    }
    if f.mine {
        parts.push(app.t("filter-mine"));
    }
    if f.unassigned {
        parts.push(app.t("filter-unassigned"));
    }
    if f.overdue {
        parts.push(app.t("filter-overdue"));
    }
    if parts.is_empty() {
        app.t("filter-none")
    } else {
        parts.join(" · ")
    }
}

pub(super) fn draw_queue(app: &mut App, f: &mut Frame, area: Rect, queue: Queue) {
    let theme = app.settings.theme;
    let inner = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    let c = cols(usize::from(inner.width));
    let visible = usize::from(inner.height.saturating_sub(1)).max(1);
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let Screen::Queues(q) = &mut w.screen else {
        return;
    };
    let Some(list) = q.lists.get_mut(&queue) else {
        return;
    };
    // Keep the selection on screen. Crossing an edge scrolls half a page at once, so a
    // run of one-row moves redraws the list once per half page instead of on every key
    // (every frame costs an SSH user bandwidth).
    let half = (visible / 2).max(1);
    if list.selected < list.offset {
        list.offset = list.selected.saturating_sub(half.saturating_sub(1));
    } else if list.selected >= list.offset + visible {
        list.offset = (list.selected + half + 1).saturating_sub(visible);
    }
    list.visible = visible;
    let (offset, selected) = (list.offset, list.selected);
    let total = q.badges.iter().find(|b| b.queue == queue).map(|b| b.open);
    let Stage::Work(w) = &app.stage else { return };
    let Screen::Queues(q) = &w.screen else { return };
    let Some(list) = q.lists.get(&queue) else {
        return;
    };
    let position = match (list.start_index, total) {
        (Some(s), Some(t))
            if list.filter == crate::desk::requests::Filter::default() && !list.rows.is_empty() =>
        {
            app.ta(
                "position",
                &[("n", (s + selected as u64 + 1).into()), ("total", t.into())],
            )
        }
        _ => String::new(),
    };
    let title = format!(
        "{} · {} {position}",
        app.t(&format!("queue-{}", queue.as_str())),
        filter_text(app, list)
    );
    let mut lines = vec![header_line(app, &c)];
    if list.rows.is_empty() {
        let key = if list.loading || !list.loaded {
            "loading"
        } else if list.filter == crate::desk::requests::Filter::default() {
            "queue-empty-plain"
        } else {
            "queue-empty"
        };
        lines.push(Line::styled(format!("  {}", app.t(key)), theme.muted()));
    }
    for (i, r) in list.rows.iter().enumerate().skip(offset).take(visible) {
        lines.push(row_line(app, r, &c, i == selected));
    }
    f.render_widget(
        Paragraph::new(lines).block(boxed(&title, theme, true)),
        area,
    );
}

pub(super) fn draw_found(app: &App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Work(w) = &app.stage else { return };
    let Screen::Queues(q) = &w.screen else { return };
    let Some(found) = &q.found else { return };
    let inner_w = usize::from(area.width.saturating_sub(2));
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let c = cols(inner_w);
    let (title, mut lines) = match found {
        Found::Requests {
            query,
            rows,
            more,
            selected,
        } => {
            let title = app.ta(
                if *more {
                    "found-requests-more"
                } else {
                    "found-requests"
                },
                &[
                    ("query", Arg::Str(sanitize_line(query).as_str())),
                    ("n", rows.len().into()),
                ],
            );
            let mut lines = vec![header_line(app, &c)];
            if rows.is_empty() {
                lines.push(Line::styled(
                    format!("  {}", app.t("found-nothing")),
                    theme.muted(),
                ));
            }
            let offset = selected.saturating_sub(visible.saturating_sub(1));
            for (i, r) in rows.iter().enumerate().skip(offset).take(visible) {
                lines.push(row_line(app, r, &c, i == *selected));
            }
            (title, lines)
        }
        Found::Accounts {
            query,
            hits,
            selected,
        } => {
            let title = app.ta(
                "found-accounts",
                &[
                    ("query", Arg::Str(sanitize_line(query).as_str())),
                    ("n", hits.len().into()),
                ],
            );
            let mut lines = vec![];
            if hits.is_empty() {
                lines.push(Line::styled(
                    format!("  {}", app.t("found-nothing")),
                    theme.muted(),
                ));
            }
            let offset = selected.saturating_sub(visible.saturating_sub(1));
            for (i, h) in hits.iter().enumerate().skip(offset).take(visible) {
                let base = if i == *selected {
                    theme.selected()
                } else {
                    theme.base()
                };
                let mut v = vec![Span::raw("  ")];
                v.extend(own(&h.id.to_string(), 9, base, theme));
                let mut flags = String::new();
                if h.blocked {
                    flags.push_str(&app.t("flag-blocked"));
                }
                if h.erased {
                    flags.push_str(&app.t("flag-erased"));
                }
                v.extend(shown_cell(
                    app,
                    &h.name,
                    inner_w.saturating_sub(14 + flags.chars().count()),
                    base,
                ));
                v.push(Span::styled(flags, theme.flag()));
                lines.push(Line::from(v));
            }
            (title, lines)
        }
    };
    lines.push(Line::styled(app.t("found-hint"), theme.muted()));
    f.render_widget(
        Paragraph::new(lines).block(boxed(&title, theme, true)),
        area,
    );
}
