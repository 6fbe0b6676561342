//! Drawing: a pure function of the App's state onto a frame. Every client-supplied string
//! arrives as `SafeText` (sanitized) and is fitted to its column, so nothing can move the
//! cursor, change the terminal or break a border.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::domain::request::Queue;
use crate::domain::text::{SafeText, Segment, display_width, fit, sanitize_line, wrap};
use crate::domain::view::{AccountView, FieldView, ListRow, RequestView, Shown, Urgency};

use super::app::{App, mode_of};
use super::i18n::Arg;
use super::keymap::Mode;
use super::state::{Found, Pane, Popup, QueueList, Queues, Screen, Stage, Work};
use super::theme::Theme;

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

/// Spans of sanitized text, placeholders styled apart.
fn spans(t: &SafeText, style: Style, theme: Theme) -> Vec<Span<'static>> {
    t.segments()
        .map(|s| match s {
            Segment::Text(x) => Span::styled(x.to_owned(), style),
            Segment::Marker(x) => Span::styled(x.to_owned(), theme.marker()),
        })
        .collect()
}

/// `t` fitted into `width` columns and padded to exactly that width.
fn cell(t: &SafeText, width: usize, style: Style, theme: Theme) -> Vec<Span<'static>> {
    let f = fit(t, width);
    let pad = width.saturating_sub(display_width(&f));
    let mut v = spans(&f, style, theme);
    if pad > 0 {
        v.push(Span::raw(" ".repeat(pad)));
    }
    v
}

/// Our own text (catalog strings, numbers) fitted and padded like client text.
pub(crate) fn own(s: &str, width: usize, style: Style, theme: Theme) -> Vec<Span<'static>> {
    cell(&sanitize_line(s), width, style, theme)
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub(crate) fn boxed<'a>(title: &str, theme: Theme, focused: bool) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.focused_border()
        } else {
            theme.border()
        })
        .title(Span::styled(
            format!(" {} ", sanitize_line(title).as_str()),
            theme.title(),
        ))
}

pub(crate) fn draw(app: &mut App, f: &mut Frame) {
    let area = f.area();
    let theme = app.settings.theme;
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = app.ta(
            "too-small",
            &[
                ("w", Arg::Num(i64::from(MIN_WIDTH))),
                ("h", Arg::Num(i64::from(MIN_HEIGHT))),
                ("cw", Arg::Num(i64::from(area.width))),
                ("ch", Arg::Num(i64::from(area.height))),
            ],
        );
        let lines: Vec<Line> = wrap(&sanitize_line(&text), usize::from(area.width.max(1)))
            .into_iter()
            .map(|l| Line::from(spans(&l, theme.base(), theme)))
            .collect();
        f.render_widget(Paragraph::new(lines), area);
        return;
    }
    match &app.stage {
        Stage::Login(_) => draw_login(app, f, area),
        Stage::Ended(msg) => {
            let msg = msg.clone();
            draw_message(app, f, area, &msg);
        }
        Stage::Work(_) => draw_work(app, f, area),
    }
}

fn draw_message(app: &App, f: &mut Frame, area: Rect, msg: &str) {
    let theme = app.settings.theme;
    let r = centered(area, 70, 7);
    f.render_widget(Clear, r);
    let inner_w = usize::from(r.width.saturating_sub(4));
    let mut lines: Vec<Line> = wrap(&sanitize_line(msg), inner_w)
        .into_iter()
        .map(|l| Line::from(spans(&l, theme.base(), theme)))
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(app.t("press-enter-to-close"), theme.muted()));
    f.render_widget(
        Paragraph::new(lines).block(boxed("privdesk", theme, true)),
        r,
    );
}

fn draw_login(app: &App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Login(form) = &app.stage else {
        return;
    };
    let r = centered(area, 60, 11);
    f.render_widget(Clear, r);
    let w = usize::from(r.width.saturating_sub(16));
    let field = |label: &str, text: &str, focused: bool, secret: bool| -> Line<'static> {
        let shown = if secret {
            if text.is_empty() {
                String::new()
            } else {
                app.t("login-password-typed")
            }
        } else {
            let s = sanitize_line(text);
            let width = display_width(&s);
            // Show the end of a long entry: the cursor is there.
            if width > w {
                text.chars()
                    .rev()
                    .take(w.saturating_sub(1))
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect()
            } else {
                text.to_owned()
            }
        };
        let mut v = own(label, 11, theme.label(), theme);
        v.push(Span::raw(" "));
        let style = if focused {
            theme.selected()
        } else {
            theme.base()
        };
        v.extend(own(&shown, w, style, theme));
        Line::from(v)
    };
    let mut lines = vec![
        Line::styled(app.t("login-title"), theme.title()),
        Line::raw(""),
        field(
            &app.t("login-login"),
            form.login.value(),
            !form.focus_password,
            false,
        ),
        field(
            &app.t("login-password"),
            form.password.value(),
            form.focus_password,
            true,
        ),
        Line::raw(""),
    ];
    if form.busy {
        lines.push(Line::styled(app.t("login-checking"), theme.muted()));
    } else if let Some(e) = &form.error {
        lines.push(Line::from(cell(
            &sanitize_line(e),
            usize::from(r.width.saturating_sub(4)),
            theme.error(),
            theme,
        )));
    } else {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(app.t("login-hint"), theme.muted()));
    f.render_widget(
        Paragraph::new(lines).block(boxed("privdesk", theme, true)),
        r,
    );
}

fn draw_work(app: &mut App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let lang = app.lang();
    let banner = app.banner.clone().or_else(|| match &app.stage {
        Stage::Work(w) if !w.notices.is_empty() && w.detail.is_none() => {
            Some(app.ta("notices-banner", &[("n", w.notices.len().into())]))
        }
        _ => None,
    });
    let mut constraints = vec![Constraint::Length(1), Constraint::Length(1)];
    if banner.is_some() {
        constraints.push(Constraint::Length(1));
    }
    constraints.extend([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ]);
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints(constraints)
        .split(area);
    let (title_r, tabs_r) = (rows[0], rows[1]);
    let (body_r, status_r, footer_r) = (
        rows[rows.len() - 3],
        rows[rows.len() - 2],
        rows[rows.len() - 1],
    );
    if let Some(b) = &banner {
        f.render_widget(
            Paragraph::new(Line::from(own(
                b,
                usize::from(area.width),
                theme.banner(),
                theme,
            ))),
            rows[2],
        );
    }
    let Stage::Work(w) = &app.stage else { return };
    // The idle lock hides everything but the unlock form.
    if w.locked.is_some() {
        draw_lock(app, f, area);
        return;
    }
    let now = app.desk().now();
    let clock = app.i18n.datetime(lang, now, &app.desk().rules().tz, now);
    let who = format!(
        " privdesk · {} ({})",
        w.staff.display_name,
        app.i18n
            .tr(lang, &format!("role-{}", w.staff.role.as_str()), &[])
    );
    let title_w = usize::from(area.width).saturating_sub(clock.chars().count() + 1);
    let mut title = own(&who, title_w, theme.title(), theme);
    title.push(Span::styled(format!("{clock} "), theme.muted()));
    f.render_widget(Paragraph::new(Line::from(title)), title_r);

    let mode = mode_of(w);
    match &w.screen {
        Screen::Queues(q) => f.render_widget(Paragraph::new(tabs_line(app, q)), tabs_r),
        Screen::Staff(_) => f.render_widget(
            Paragraph::new(Line::styled(app.t("screen-staff"), theme.tab_active())),
            tabs_r,
        ),
        Screen::Audit(_) => f.render_widget(
            Paragraph::new(Line::styled(app.t("screen-audit"), theme.tab_active())),
            tabs_r,
        ),
    }
    if w.detail.is_some() {
        draw_detail(app, f, body_r);
    } else {
        draw_screen(app, f, body_r);
    }
    if let Some(s) = &app.status {
        let style = if s.error { theme.error() } else { theme.ok() };
        f.render_widget(
            Paragraph::new(Line::from(own(
                &s.text,
                usize::from(area.width),
                style,
                theme,
            ))),
            status_r,
        );
    }
    f.render_widget(
        Paragraph::new(footer(app, mode, usize::from(area.width))),
        footer_r,
    );
    let Stage::Work(w) = &app.stage else { return };
    if let Some(p) = &w.popup {
        draw_popup(app, f, area, p);
    }
    if let Some(scroll) = w.help {
        draw_help(app, f, area, mode_before_help(w), scroll);
    }
}

fn mode_before_help(w: &Work) -> Mode {
    if w.detail.is_some() {
        Mode::Detail
    } else {
        match &w.screen {
            Screen::Queues(_) => Mode::Queue,
            Screen::Staff(_) => Mode::Staff,
            Screen::Audit(_) => Mode::Audit,
        }
    }
}

/// The keys that matter on this screen, as many as fit; help and quit always last.
fn footer(app: &App, mode: Mode, width: usize) -> Line<'static> {
    use super::keymap::Action;
    let theme = app.settings.theme;
    let entry = |b: &super::keymap::Binding| {
        let key = b.keys.first().map(ToString::to_string).unwrap_or_default();
        let text = format!(" {}  ", app.t(&b.action.help_key()));
        let w = key.chars().count() + text.chars().count();
        (key, text, w)
    };
    let bindings = app.settings.keymap.footer(mode);
    let (last, first): (Vec<_>, Vec<_>) = bindings
        .into_iter()
        .partition(|b| matches!(b.action, Action::Help | Action::Quit));
    let tail: Vec<_> = last.iter().map(|b| entry(b)).collect();
    let mut budget = width.saturating_sub(1 + tail.iter().map(|e| e.2).sum::<usize>());
    let mut v = vec![Span::raw(" ")];
    for b in first {
        let (key, text, w) = entry(b);
        if w > budget {
            break;
        }
        budget -= w;
        v.push(Span::styled(key, theme.key()));
        v.push(Span::styled(text, theme.muted()));
    }
    for (key, text, _) in tail {
        v.push(Span::styled(key, theme.key()));
        v.push(Span::styled(text, theme.muted()));
    }
    Line::from(v)
}

fn tabs_line(app: &App, q: &Queues) -> Line<'static> {
    let theme = app.settings.theme;
    let mut v = vec![Span::raw(" ")];
    for (i, queue) in q.tabs.iter().enumerate() {
        let badge = q.badges.iter().find(|b| b.queue == *queue);
        let name = app.t(&format!("queue-{}", queue.as_str()));
        let counts = match badge {
            Some(b) if b.overdue > 0 => app.ta(
                "tab-counts-overdue",
                &[("open", b.open.into()), ("overdue", b.overdue.into())],
            ),
            Some(b) => app.ta("tab-counts", &[("open", b.open.into())]),
            None => String::new(),
        };
        let style = if i == q.active {
            theme.tab_active()
        } else {
            theme.tab()
        };
        v.push(Span::styled(format!("{} {name} {counts}", i + 1), style));
        v.push(Span::raw("   "));
    }
    Line::from(v)
}

fn draw_screen(app: &mut App, f: &mut Frame, area: Rect) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let lang = w.lang;
    if w.audit.is_some() {
        super::admin::draw_audit(app, f, area);
        return;
    }
    match &mut w.screen {
        Screen::Queues(q) => {
            if q.found.is_some() {
                draw_found(app, f, area);
                return;
            }
            let Some(queue) = q.queue() else {
                let theme = app.settings.theme;
                f.render_widget(
                    Paragraph::new(Line::styled(
                        app.i18n.tr(lang, "no-queues", &[]),
                        theme.muted(),
                    )),
                    area,
                );
                return;
            };
            draw_queue(app, f, area, queue);
        }
        Screen::Staff(_) => super::admin::draw_staff(app, f, area),
        Screen::Audit(_) => super::admin::draw_audit(app, f, area),
    }
}

/// Column widths of a queue list at `width` columns.
struct Cols {
    id: usize,
    kind: usize,
    account: usize,
    state: usize,
    assignee: usize,
    due: usize,
}

fn cols(width: usize) -> Cols {
    let (id, kind, state, due) = (8, 12, 16, 15);
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

fn row_line(app: &App, r: &ListRow, c: &Cols, selected: bool) -> Line<'static> {
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
        app.i18n.until(app.lang(), r.due_at, now)
    };
    v.extend(own(&due, c.due, due_style, theme));
    Line::from(v)
}

fn shown_cell(app: &App, s: &Shown, width: usize, base: Style) -> Vec<Span<'static>> {
    let theme = app.settings.theme;
    match s {
        Shown::Hidden => own(&app.t("hidden"), width, theme.muted(), theme),
        Shown::Absent => own(&app.t("erased-or-absent"), width, theme.muted(), theme),
        Shown::Masked(t) => cell(t, width, theme.masked(), theme),
        Shown::Clear(t) => cell(t.expose(), width, base, theme),
        Shown::Revealed(t) => cell(t.expose(), width, theme.flag(), theme),
    }
}

fn header_line(app: &App, c: &Cols) -> Line<'static> {
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

fn filter_text(app: &App, list: &QueueList) -> String {
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

fn draw_queue(app: &mut App, f: &mut Frame, area: Rect, queue: Queue) {
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
    // Keep the selection on screen.
    if list.selected < list.offset {
        list.offset = list.selected;
    } else if list.selected >= list.offset + visible {
        list.offset = list.selected + 1 - visible;
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

fn draw_found(app: &App, f: &mut Frame, area: Rect) {
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
            selected,
        } => {
            let title = app.ta(
                "found-requests",
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

fn field_line(app: &App, label: &str, fv: &FieldView, width: usize) -> Option<Line<'static>> {
    let theme = app.settings.theme;
    let value = match &fv.shown {
        Shown::Hidden => return None,
        other => other,
    };
    let label_w = 16.min(width / 3);
    let room = width.saturating_sub(label_w + 1);
    let value_w = value
        .text()
        .map_or(1, |t| display_width(&sanitize_line(t)))
        .min(room);
    // Tags in order of importance, as many as fit after the value.
    let mut candidates = vec![];
    if matches!(value, Shown::Revealed(_)) {
        candidates.push(app.t("tag-revealed"));
    }
    if matches!(value, Shown::Masked(_)) {
        candidates.push(app.t("tag-masked"));
    }
    if fv.can_check {
        candidates.push(app.t("tag-check"));
    }
    if fv.can_reveal && !matches!(value, Shown::Revealed(_)) {
        candidates.push(app.t("tag-reveal"));
    }
    let mut tags = String::new();
    if matches!(value, Shown::Absent) {
        candidates.clear();
    }
    for t in candidates {
        if value_w + tags.chars().count() + t.chars().count() <= room {
            tags.push_str(&t);
        }
    }
    let mut v = own(label, label_w, theme.label(), theme);
    v.push(Span::raw(" "));
    v.extend(shown_cell(
        app,
        value,
        room.saturating_sub(tags.chars().count()),
        theme.base(),
    ));
    v.push(Span::styled(tags, theme.muted()));
    Some(Line::from(v))
}

fn kv(app: &App, label: &str, value: &str, width: usize, style: Style) -> Line<'static> {
    let theme = app.settings.theme;
    let label_w = 16.min(width / 3);
    let mut v = own(label, label_w, theme.label(), theme);
    v.push(Span::raw(" "));
    v.extend(own(value, width.saturating_sub(label_w + 1), style, theme));
    Line::from(v)
}

fn info_lines(app: &App, v: &RequestView, width: usize) -> Vec<Line<'static>> {
    let theme = app.settings.theme;
    let lang = app.lang();
    let now = app.desk().now();
    let tz = &app.desk().rules().tz;
    let mut out = vec![];
    out.push(kv(
        app,
        &app.t("f-kind"),
        &app.t(&format!("kind-long-{}", v.kind.as_str())),
        width,
        theme.base(),
    ));
    out.push(kv(
        app,
        &app.t("f-state"),
        &app.t(&format!("state-{}", v.state.as_str())),
        width,
        theme.title(),
    ));
    out.push(kv(
        app,
        &app.t("f-received"),
        &app.i18n.datetime(lang, v.received_at, tz, now),
        width,
        theme.base(),
    ));
    let due_style = match v.urgency {
        Urgency::Overdue => theme.overdue(),
        Urgency::DueSoon => theme.due_soon(),
        _ => theme.base(),
    };
    let mut due = app.i18n.datetime(lang, v.due_at, tz, now);
    if v.urgency != Urgency::Closed {
        due = format!("{due} ({})", app.i18n.until(lang, v.due_at, now));
    }
    if v.extended {
        due.push_str(&app.t("tag-extended"));
    }
    out.push(kv(app, &app.t("f-due"), &due, width, due_style));
    out.push(kv(
        app,
        &app.t("f-channel"),
        &app.t(&format!("channel-{}", v.channel.as_str())),
        width,
        theme.base(),
    ));
    let assignee = v
        .assignee
        .as_ref()
        .map_or_else(|| app.t("unassigned"), ToString::to_string);
    out.push(kv(
        app,
        &app.t("f-assignee"),
        &assignee,
        width,
        theme.base(),
    ));
    if let Some(p) = &v.prepared_by {
        out.push(kv(
            app,
            &app.t("f-prepared-by"),
            p.as_str(),
            width,
            theme.base(),
        ));
    }
    if let Some(s) = v.severity {
        let leak = match v.personal_data_leak {
            Some(true) => app.t("leak-yes"),
            _ => app.t("leak-no"),
        };
        out.push(kv(
            app,
            &app.t("f-severity"),
            &format!("{} · {leak}", app.t(&format!("severity-{}", s.level()))),
            width,
            theme.flag(),
        ));
    }
    if let Some(r) = &v.requester
        && let Some(l) = field_line(app, &app.t("f-requester"), r, width)
    {
        out.push(l);
    }
    if let Some(s) = &v.subject {
        let label_w = 16.min(width / 3);
        let mut line = own(&app.t("f-subject"), label_w, theme.label(), theme);
        line.push(Span::raw(" "));
        line.extend(cell(
            s,
            width.saturating_sub(label_w + 1),
            theme.base(),
            theme,
        ));
        out.push(Line::from(line));
    }
    if v.mode == crate::domain::view::ViewMode::StateOnly {
        out.push(Line::raw(""));
        out.push(Line::styled(app.t("state-only-note"), theme.muted()));
    }
    if let Some(a) = &v.account {
        out.push(Line::raw(""));
        out.extend(account_lines(app, a, width));
    }
    if !v.verification.is_empty() {
        out.push(Line::raw(""));
        out.push(Line::styled(app.t("section-verification"), theme.title()));
        for item in &v.verification {
            if let Some(l) = field_line(app, item.label.as_str(), &item.value, width) {
                out.push(l);
            }
        }
    }
    out
}

fn account_lines(app: &App, a: &AccountView, width: usize) -> Vec<Line<'static>> {
    let theme = app.settings.theme;
    let lang = app.lang();
    let now = app.desk().now();
    let tz = &app.desk().rules().tz;
    let mut flags = vec![];
    if a.flags.locked {
        flags.push(app.t("flag-locked"));
    }
    if a.flags.blocked {
        flags.push(app.t("flag-blocked"));
    }
    if a.flags.erased {
        flags.push(app.t("flag-erased"));
    }
    if a.too_few_admin_logins && !a.flags.erased {
        flags.push(app.t("flag-one-admin"));
    }
    let mut head = own(
        &format!(
            "{} {} · {}",
            app.t("section-account"),
            a.id,
            app.t(&format!("account-kind-{}", a.kind.as_str()))
        ),
        width.min(40),
        theme.title(),
        theme,
    );
    head.push(Span::styled(flags.join(""), theme.flag()));
    let mut out = vec![Line::from(head)];
    for (key, fv) in [
        ("f-name", &a.name),
        ("f-email", &a.email),
        ("f-phone", &a.phone),
        ("f-address", &a.postal_address),
        ("f-tax-id", &a.tax_id),
    ] {
        out.extend(field_line(app, &app.t(key), fv, width));
    }
    for (i, c) in a.contacts.iter().enumerate() {
        out.push(Line::styled(
            app.ta("section-contact", &[("n", (i + 1).into())]),
            theme.label(),
        ));
        out.extend(field_line(app, &app.t("f-contact-name"), &c.name, width));
        out.extend(field_line(app, &app.t("f-contact-email"), &c.email, width));
        out.extend(field_line(app, &app.t("f-contact-phone"), &c.phone, width));
        if !c.has_email {
            out.push(Line::styled(
                format!("  {}", app.t("contact-no-email")),
                theme.flag(),
            ));
        }
        if c.has_passphrase && c.passphrase.can_check {
            out.push(kv(
                app,
                &app.t("f-passphrase"),
                &app.t("passphrase-on-file"),
                width,
                theme.muted(),
            ));
        }
    }
    if let Some(h) = &a.login_history {
        out.push(Line::styled(app.t("section-logins"), theme.label()));
        for e in h {
            let label = format!(
                "{} {}",
                app.i18n.datetime(lang, e.at, tz, now),
                app.t(&format!("login-result-{}", e.result.as_str()))
            );
            let mut line = own(&label, 30.min(width), theme.base(), theme);
            line.extend(shown_cell(
                app,
                &e.source,
                width.saturating_sub(31),
                theme.base(),
            ));
            out.push(Line::from(line));
        }
    }
    if let Some(s) = &a.active_sessions {
        out.push(Line::styled(
            app.ta("section-sessions", &[("n", s.len().into())]),
            theme.label(),
        ));
        for sess in s {
            let mut line = own(
                &app.i18n.datetime(lang, sess.started_at, tz, now),
                20.min(width),
                theme.base(),
                theme,
            );
            line.extend(shown_cell(
                app,
                &sess.source,
                width.saturating_sub(21),
                theme.base(),
            ));
            out.push(Line::from(line));
        }
    }
    out
}

fn timeline_lines(app: &App, v: &RequestView, width: usize) -> Vec<Line<'static>> {
    let theme = app.settings.theme;
    let lang = app.lang();
    let now = app.desk().now();
    let tz = &app.desk().rules().tz;
    let Some(entries) = &v.entries else {
        return vec![Line::styled(app.t("timeline-hidden"), theme.muted())];
    };
    if entries.is_empty() {
        return vec![Line::styled(app.t("timeline-empty"), theme.muted())];
    }
    let mut out = vec![];
    for e in entries.iter().rev() {
        let head = format!(
            "{} · {} · {}",
            app.i18n.datetime(lang, e.at, tz, now),
            e.author.as_str(),
            app.t(&format!("entry-{}", e.kind.as_str()))
        );
        out.push(Line::from(own(&head, width, theme.label(), theme)));
        // At most 40 lines of one entry: a 10 KB message does not bury the rest.
        let mut n = 0;
        'lines: for line in e.body.expose() {
            for piece in wrap(line, width.saturating_sub(2).max(1)) {
                if n == 40 {
                    out.push(Line::styled(
                        format!("  {}", app.t("entry-cut")),
                        theme.muted(),
                    ));
                    break 'lines;
                }
                let mut l = vec![Span::raw("  ")];
                l.extend(cell(&piece, width.saturating_sub(2), theme.base(), theme));
                out.push(Line::from(l));
                n += 1;
            }
        }
        out.push(Line::raw(""));
    }
    out
}

fn draw_detail(app: &mut App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Work(w) = &app.stage else { return };
    let Some(d) = &w.detail else { return };
    let title = d.view.as_ref().map_or_else(
        || d.id.to_string(),
        |v| {
            format!(
                "{} · {} · {}",
                v.id,
                app.t(&format!("kind-long-{}", v.kind.as_str())),
                app.t(&format!("state-{}", v.state.as_str()))
            )
        },
    );
    let Some(v) = &d.view else {
        let msg = d.error.clone().unwrap_or_else(|| app.t("loading"));
        let style = if d.error.is_some() {
            theme.error()
        } else {
            theme.muted()
        };
        let inner = usize::from(area.width.saturating_sub(2));
        let lines: Vec<Line> = wrap(&sanitize_line(&msg), inner.max(1))
            .into_iter()
            .map(|l| Line::from(spans(&l, style, theme)))
            .collect();
        f.render_widget(
            Paragraph::new(lines).block(boxed(&title, theme, true)),
            area,
        );
        return;
    };
    // Revealed values replace their masks until they expire or the request is left.
    let v = &with_reveals(v, &d.revealed);
    let wide = area.width >= 110;
    let parts = Layout::default()
        .direction(if wide {
            Direction::Horizontal
        } else {
            Direction::Vertical
        })
        .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
        .split(area);
    let info_w = usize::from(parts[0].width.saturating_sub(2));
    let tl_w = usize::from(parts[1].width.saturating_sub(2));
    let info = info_lines(app, v, info_w);
    let timeline = timeline_lines(app, v, tl_w);
    let info_max = u16::try_from(info.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(parts[0].height.saturating_sub(2));
    let tl_max = u16::try_from(timeline.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(parts[1].height.saturating_sub(2));
    let info_title = title.clone();
    let tl_title = app.t("section-timeline");
    let pane = d.pane;
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let Some(d) = &mut w.detail else { return };
    d.info_scroll = d.info_scroll.min(info_max);
    d.timeline_scroll = d.timeline_scroll.min(tl_max);
    let (is, ts) = (d.info_scroll, d.timeline_scroll);
    f.render_widget(
        Paragraph::new(info)
            .scroll((is, 0))
            .block(boxed(&info_title, theme, pane == Pane::Info)),
        parts[0],
    );
    f.render_widget(
        Paragraph::new(timeline).scroll((ts, 0)).block(boxed(
            &tl_title,
            theme,
            pane == Pane::Timeline,
        )),
        parts[1],
    );
}

fn draw_popup(app: &App, f: &mut Frame, area: Rect, p: &Popup) {
    let theme = app.settings.theme;
    match p {
        Popup::Confirm { text, .. } => {
            let r = centered(area, 64, 7);
            f.render_widget(Clear, r);
            let inner = usize::from(r.width.saturating_sub(4));
            let mut lines: Vec<Line> = wrap(&sanitize_line(text), inner.max(1))
                .into_iter()
                .map(|l| Line::from(spans(&l, theme.base(), theme)))
                .collect();
            lines.push(Line::raw(""));
            lines.push(Line::styled(app.t("confirm-hint"), theme.key()));
            f.render_widget(
                Paragraph::new(lines).block(boxed(&app.t("confirm-title"), theme, true)),
                r,
            );
        }
        Popup::Choice {
            title,
            items,
            selected,
        } => {
            let h = u16::try_from(items.len())
                .unwrap_or(20)
                .min(area.height.saturating_sub(4))
                + 3;
            let r = centered(area, 56, h);
            f.render_widget(Clear, r);
            let visible = usize::from(r.height.saturating_sub(3)).max(1);
            let offset = selected.saturating_sub(visible.saturating_sub(1));
            let inner = usize::from(r.width.saturating_sub(2));
            let mut lines: Vec<Line> = items
                .iter()
                .enumerate()
                .skip(offset)
                .take(visible)
                .map(|(i, (label, _))| {
                    let style = if i == *selected {
                        theme.selected()
                    } else {
                        theme.base()
                    };
                    Line::from(own(&format!(" {label}"), inner, style, theme))
                })
                .collect();
            lines.push(Line::styled(app.t("choice-hint"), theme.muted()));
            f.render_widget(Paragraph::new(lines).block(boxed(title, theme, true)), r);
        }
        Popup::Input {
            title,
            field,
            error,
            busy,
            ..
        } => {
            let r = centered(area, 72, 8);
            f.render_widget(Clear, r);
            let inner = usize::from(r.width.saturating_sub(4));
            let text = sanitize_line(field.value());
            // Show the end of long text: that is where typing happens.
            let lines_of = wrap(&text, inner.max(1));
            let mut lines: Vec<Line> = lines_of
                .iter()
                .skip(lines_of.len().saturating_sub(3))
                .map(|l| Line::from(cell(l, inner, theme.selected(), theme)))
                .collect();
            while lines.len() < 3 {
                lines.push(Line::raw(""));
            }
            if *busy {
                lines.push(Line::styled(app.t("saving"), theme.muted()));
            } else if let Some(e) = error {
                lines.push(Line::from(own(e, inner, theme.error(), theme)));
            } else {
                lines.push(Line::raw(""));
            }
            lines.push(Line::styled(app.t("input-hint"), theme.muted()));
            f.render_widget(Paragraph::new(lines).block(boxed(title, theme, true)), r);
        }
    }
}

fn draw_help(app: &App, f: &mut Frame, area: Rect, mode: Mode, scroll: u16) {
    let theme = app.settings.theme;
    let r = centered(area, 70, area.height.saturating_sub(2));
    f.render_widget(Clear, r);
    let mut lines = vec![];
    for b in app.settings.keymap.help(mode) {
        let keys = b
            .keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" / ");
        let mut v = own(&keys, 22, theme.key(), theme);
        v.push(Span::raw(" "));
        let text = match b.action {
            super::keymap::Action::Tab(n) => app.ta("key-tab", &[("n", i64::from(n).into())]),
            a => app.t(&a.help_key()),
        };
        v.extend(own(
            &text,
            usize::from(r.width.saturating_sub(26)),
            theme.base(),
            theme,
        ));
        lines.push(Line::from(v));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(app.t("help-legend"), theme.muted()));
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(boxed(&app.t("help-title"), theme, true)),
        r,
    );
}

fn draw_lock(app: &App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Work(w) = &app.stage else { return };
    let Some(l) = &w.locked else { return };
    f.render_widget(Clear, area);
    let r = centered(area, 64, 9);
    let inner = usize::from(r.width.saturating_sub(4));
    let mut lines = vec![
        Line::from(own(
            &app.ta("lock-text", &[("login", Arg::Str(w.staff.login.as_str()))]),
            inner,
            theme.base(),
            theme,
        )),
        Line::raw(""),
    ];
    let typed = if l.password.value().is_empty() {
        String::new()
    } else {
        app.t("login-password-typed")
    };
    let mut v = own(&app.t("login-password"), 11, theme.label(), theme);
    v.push(Span::raw(" "));
    v.extend(own(
        &typed,
        inner.saturating_sub(12),
        theme.selected(),
        theme,
    ));
    lines.push(Line::from(v));
    lines.push(Line::raw(""));
    if l.busy {
        lines.push(Line::styled(app.t("login-checking"), theme.muted()));
    } else if let Some(e) = &l.error {
        lines.push(Line::from(own(e, inner, theme.error(), theme)));
    }
    f.render_widget(
        Paragraph::new(lines).block(boxed(&app.t("lock-title"), theme, true)),
        r,
    );
}

/// A copy of `v` with the revealed fields put in place of their masks.
fn with_reveals(v: &RequestView, revealed: &[super::state::Revealed]) -> RequestView {
    use crate::desk::reveal::Target;
    let mut out = v.clone();
    for r in revealed {
        if let Some(acc) = &mut out.account {
            let slot = match r.target {
                Target::Email => Some(&mut acc.email),
                Target::Phone => Some(&mut acc.phone),
                Target::PostalAddress => Some(&mut acc.postal_address),
                Target::TaxId => Some(&mut acc.tax_id),
                Target::ContactEmail(c) => acc
                    .contacts
                    .iter_mut()
                    .find(|x| x.id == c)
                    .map(|x| &mut x.email),
                Target::ContactPhone(c) => acc
                    .contacts
                    .iter_mut()
                    .find(|x| x.id == c)
                    .map(|x| &mut x.phone),
                Target::ContactPassphrase(_) | Target::Verification(_) => None,
            };
            if let Some(slot) = slot {
                *slot = r.view.clone();
            }
        }
        if let Target::Verification(i) = r.target
            && let Some(item) = out.verification.iter_mut().find(|x| x.id == i)
        {
            item.value = r.view.clone();
        }
    }
    out
}
