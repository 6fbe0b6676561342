//! Drawing: a pure function of the App's state onto a frame. Every client-supplied string
//! arrives as `SafeText` (sanitized) and is fitted to its column, so nothing can move the
//! cursor, change the terminal or break a border.

mod detail;
mod overlays;
mod queue;
mod tabs;

#[allow(clippy::wildcard_imports)]
use self::{detail::*, overlays::*, queue::*, tabs::*};

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
use super::state::{Found, Pane, Popup, QueueList, Screen, Stage, Work};
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
    let results =
        mode == Mode::Queue && matches!(&w.screen, Screen::Queues(q) if q.found.is_some());
    match &w.screen {
        Screen::Queues(q) => f.render_widget(
            Paragraph::new(tabs_line(app, q, usize::from(tabs_r.width))),
            tabs_r,
        ),
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
        Paragraph::new(footer(app, mode, results, usize::from(area.width))),
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
    } else if w.audit.is_some() {
        Mode::Audit
    } else {
        match &w.screen {
            Screen::Queues(_) => Mode::Queue,
            Screen::Staff(_) => Mode::Staff,
            Screen::Audit(_) => Mode::Audit,
        }
    }
}

/// Whether a binding does anything for this session (a queue tab that exists, the
/// supervisor's notices and audit log): help lists only those.
pub(crate) fn applies(w: &Work, b: &super::keymap::Binding) -> bool {
    use super::keymap::Action;
    use crate::domain::policy::{Action as P, allows};
    let role = w.staff.role;
    match b.action {
        Action::Tab(n) => matches!(&w.screen, Screen::Queues(q) if usize::from(n) <= q.tabs.len()),
        Action::Notices => allows(role, P::AcknowledgeNotice),
        Action::AuditLog => allows(role, P::ReadAudit) && !matches!(w.screen, Screen::Audit(_)),
        Action::Back if b.mode == Mode::Audit => w.audit.is_some(),
        _ => true,
    }
}

/// The keys that matter on this screen, as many as fit; help and quit always last. Over
/// search results, Esc (back to the queue) comes first.
fn footer(app: &App, mode: Mode, results: bool, width: usize) -> Line<'static> {
    use super::keymap::Action;
    let theme = app.settings.theme;
    let entry = |b: &super::keymap::Binding| {
        let key = b.keys.first().map(ToString::to_string).unwrap_or_default();
        let text = format!(" {}  ", app.t(&b.help_key()));
        let w = key.chars().count() + text.chars().count();
        (key, text, w)
    };
    let mut bindings = app.settings.keymap.footer(mode);
    if results {
        let back = app.settings.keymap.help(mode);
        let back = back.into_iter().find(|b| b.action == Action::Back);
        bindings.splice(0..0, back);
    }
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

/// Our own text (messages, confirmations) wrapped at spaces into lines of `width` columns;
/// a word longer than a line is cut where it must be.
pub(crate) fn word_wrap(text: &str, width: usize) -> Vec<SafeText> {
    if text.contains('\n') {
        return text
            .split('\n')
            .flat_map(|line| word_wrap(line, width))
            .collect();
    }
    let width = width.max(1);
    let mut lines = vec![];
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if display_width(&sanitize_line(&candidate)) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(sanitize_line(&current));
        }
        let w = sanitize_line(word);
        if display_width(&w) <= width {
            word.clone_into(&mut current);
        } else {
            let mut pieces = wrap(&w, width);
            current = pieces.pop().map(SafeText::into_string).unwrap_or_default();
            lines.extend(pieces);
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(sanitize_line(&current));
    }
    lines
}
