//! The login form, messages, popups, help and the idle lock.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn draw_message(app: &App, f: &mut Frame, area: Rect, msg: &str) {
    let theme = app.settings.theme;
    let inner_w = usize::from(70.min(area.width).saturating_sub(4));
    let height = u16::try_from(word_wrap(msg, inner_w).len() + 4).unwrap_or(7);
    let r = centered(area, 70, height);
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = word_wrap(msg, inner_w)
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

pub(super) fn draw_login(app: &App, f: &mut Frame, area: Rect) {
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
        for l in word_wrap(e, usize::from(r.width.saturating_sub(4))) {
            lines.push(Line::from(spans(&l, theme.error(), theme)));
        }
    } else {
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(app.t("login-hint"), theme.muted()));
    f.render_widget(
        Paragraph::new(lines).block(boxed("privdesk", theme, true)),
        r,
    );
}

pub(super) fn draw_popup(app: &App, f: &mut Frame, area: Rect, p: &Popup) {
    let theme = app.settings.theme;
    match p {
        Popup::Confirm { text, action } => {
            let width = 64.min(area.width);
            let inner = usize::from(width.saturating_sub(4));
            let mut lines: Vec<Line> = word_wrap(text, inner.max(1))
                .into_iter()
                .map(|l| Line::from(spans(&l, theme.base(), theme)))
                .collect();
            let grave = matches!(
                action,
                crate::tui::state::Confirmed::Event {
                    event: crate::tui::state::PendingEvent::Grave(_),
                    ..
                }
            );
            lines.push(Line::raw(""));
            let hint = if grave {
                "confirm-hint-grave"
            } else if *action == crate::tui::state::Confirmed::Dismiss {
                "confirm-hint-dismiss"
            } else {
                "confirm-hint"
            };
            lines.push(Line::styled(app.t(hint), theme.key()));
            let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
            let r = centered(area, width, height);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(lines).block(boxed(
                    &app.t(if *action == crate::tui::state::Confirmed::Dismiss {
                        "details-title"
                    } else {
                        "confirm-title"
                    }),
                    theme,
                    true,
                )),
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
            // Wide enough for the longest item (notices), within the window.
            let longest = items
                .iter()
                .map(|(l, _)| l.chars().count())
                .max()
                .unwrap_or(0);
            let width = u16::try_from(longest + 4)
                .unwrap_or(u16::MAX)
                .clamp(56, area.width.saturating_sub(2).max(56));
            let r = centered(area, width, h);
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
            kind,
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
            let hint = match kind {
                crate::tui::state::InputKind::Note => "input-hint",
                crate::tui::state::InputKind::Check(_) => "input-hint-check",
                crate::tui::state::InputKind::AuditFilter => "input-hint-filter",
                _ => "input-hint-search",
            };
            lines.push(Line::from(own(&app.t(hint), inner, theme.muted(), theme)));
            f.render_widget(Paragraph::new(lines).block(boxed(title, theme, true)), r);
        }
    }
}

pub(super) fn draw_help(app: &App, f: &mut Frame, area: Rect, mode: Mode, scroll: u16) {
    let theme = app.settings.theme;
    let r = centered(area, 70, area.height.saturating_sub(2));
    f.render_widget(Clear, r);
    let mut lines = vec![];
    let Stage::Work(w) = &app.stage else { return };
    for b in app
        .settings
        .keymap
        .help(mode)
        .into_iter()
        .filter(|b| super::applies(w, b))
    {
        let keys = b
            .keys
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" / ");
        let mut v = own(&keys, 22, theme.key(), theme);
        v.push(Span::raw(" "));
        let text = match b.action {
            crate::tui::keymap::Action::Tab(n) => app.ta("key-tab", &[("n", i64::from(n).into())]),
            _ => app.t(&b.help_key()),
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
    for l in word_wrap(
        &app.t("help-legend"),
        usize::from(r.width.saturating_sub(2)),
    ) {
        lines.push(Line::from(spans(&l, theme.muted(), theme)));
    }
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll, 0))
            .block(boxed(&app.t("help-title"), theme, true)),
        r,
    );
}

pub(super) fn draw_lock(app: &App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Work(w) = &app.stage else { return };
    let Some(l) = &w.locked else { return };
    f.render_widget(Clear, area);
    let r = centered(area, 64, 11);
    let inner = usize::from(r.width.saturating_sub(4));
    let mut lines: Vec<Line> = word_wrap(
        &app.ta("lock-text", &[("login", Arg::Str(w.staff.login.as_str()))]),
        inner,
    )
    .into_iter()
    .map(|l| Line::from(spans(&l, theme.base(), theme)))
    .collect();
    lines.push(Line::raw(""));
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
        for line in word_wrap(e, inner) {
            lines.push(Line::from(spans(&line, theme.error(), theme)));
        }
    }
    f.render_widget(
        Paragraph::new(lines).block(boxed(&app.t("lock-title"), theme, true)),
        r,
    );
}
