//! The admin's staff list and the auditor's audit screen (no personal value on either).

use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::App;
use super::draw::{boxed, own};
use super::i18n::Arg;
use super::state::{Screen, Stage};

pub(crate) fn draw_staff(app: &App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Work(w) = &app.stage else { return };
    let Screen::Staff(s) = &w.screen else { return };
    let lang = w.lang;
    let now = app.desk().now();
    let tz = &app.desk().rules().tz;
    let width = usize::from(area.width.saturating_sub(2));
    let visible = usize::from(area.height.saturating_sub(3)).max(1);
    let name_w = width.saturating_sub(16 + 12 + 22 + 5 + 18 + 5);
    let h = theme.label();
    let mut head = vec![Span::raw(" ")];
    for (text, w) in [
        (app.t("col-login"), 16),
        (app.t("col-role"), 12),
        (app.t("col-staff-state"), 22),
        (app.t("col-keys"), 5),
        (app.t("col-last-login"), 18),
        (app.t("col-name"), name_w),
    ] {
        head.extend(own(&text, w, h, theme));
        head.push(Span::raw(" "));
    }
    let mut lines = vec![Line::from(head)];
    if s.rows.is_empty() {
        lines.push(Line::styled(
            format!(
                "  {}",
                app.t(if s.loading { "loading" } else { "staff-empty" })
            ),
            theme.muted(),
        ));
    }
    let offset = s.selected.saturating_sub(visible.saturating_sub(1));
    for (i, m) in s.rows.iter().enumerate().skip(offset).take(visible) {
        let base = if i == s.selected {
            theme.selected()
        } else {
            theme.base()
        };
        let state = if m.disabled {
            app.t("staff-disabled")
        } else if let Some(until) = m.locked_until.filter(|u| *u > now) {
            app.ta(
                "staff-locked",
                &[("until", Arg::Str(&app.i18n.datetime(lang, until, tz, now)))],
            )
        } else {
            app.t("staff-active")
        };
        let last = m
            .last_login_at
            .map_or_else(|| app.t("never"), |t| app.i18n.datetime(lang, t, tz, now));
        let mut v = vec![Span::styled(" ", base)];
        for (text, w) in [
            (m.login.to_string(), 16),
            (app.t(&format!("role-{}", m.role.as_str())), 12),
            (state, 22),
            (m.key_count.to_string(), 5),
            (last, 18),
            (m.display_name.clone(), name_w),
        ] {
            v.extend(own(&text, w, base, theme));
            v.push(Span::styled(" ", base));
        }
        lines.push(Line::from(v));
    }
    f.render_widget(
        Paragraph::new(lines).block(boxed(&app.t("screen-staff"), theme, true)),
        area,
    );
}

pub(crate) fn draw_audit(app: &App, f: &mut Frame, area: Rect) {
    let theme = app.settings.theme;
    let Stage::Work(w) = &app.stage else { return };
    let Some(h) = w.audit_home() else { return };
    let lang = w.lang;
    let now = app.desk().now();
    let tz = &app.desk().rules().tz;
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = vec![];
    match &h.overview {
        None => lines.push(Line::styled(
            app.t(if h.loading {
                "audit-verifying"
            } else {
                "loading"
            }),
            theme.muted(),
        )),
        Some(o) => {
            let head = o.chain.head.to_line();
            let (text, style) = match &o.chain.first_bad {
                None => (
                    app.ta("audit-intact", &[("n", o.chain.records.into())]),
                    theme.ok(),
                ),
                Some((seq, why)) => (
                    app.ta(
                        "audit-broken",
                        &[("seq", (*seq).into()), ("why", Arg::Str(why))],
                    ),
                    theme.error(),
                ),
            };
            lines.push(Line::from(own(&text, width, style, theme)));
            lines.push(Line::from(own(&head, width, theme.muted(), theme)));
            lines.push(Line::raw(""));
            let visible = usize::from(area.height.saturating_sub(6)).max(1);
            let offset = h.selected.saturating_sub(visible.saturating_sub(1));
            for (i, r) in h.records().iter().enumerate().skip(offset).take(visible) {
                let base = if i == h.selected {
                    theme.selected()
                } else {
                    theme.base()
                };
                let d = &r.draft;
                let mut target = String::new();
                if let Some(a) = d.account {
                    let _ = write!(target, " {a}");
                }
                if let Some(q) = d.request {
                    let _ = write!(target, " {q}");
                }
                if let Some(t) = d.target.as_ref().filter(|t| **t != d.fields) {
                    let _ = write!(target, " → {t}");
                }
                if !d.fields.is_empty() {
                    let _ = write!(target, " [{}]", d.fields);
                }
                if let Some(p) = &d.purpose {
                    let _ = write!(target, " ({p})");
                }
                let line = format!(
                    "{:>7} {} {:<12} {:<22} {:<7}{}",
                    r.seq,
                    app.i18n.datetime(lang, d.at, tz, now),
                    d.actor,
                    d.action,
                    d.outcome,
                    target
                );
                lines.push(Line::from(own(&line, width, base, theme)));
            }
        }
    }
    let title = match (&h.access, h.filter_text.is_empty()) {
        (Some((account, records)), _) => app.ta(
            "audit-access-title",
            &[
                ("account", Arg::Str(&account.to_string())),
                ("n", records.len().into()),
            ],
        ),
        (None, false) => app.ta(
            "audit-filter-title",
            &[("filter", Arg::Str(&h.filter_text))],
        ),
        (None, true) => app.t("screen-audit"),
    };
    f.render_widget(
        Paragraph::new(lines).block(boxed(&title, theme, true)),
        area,
    );
}
