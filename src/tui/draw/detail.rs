//! An open request: its fields as the view gives them, and its timeline.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn field_line(
    app: &App,
    label: &str,
    fv: &FieldView,
    width: usize,
) -> Option<Line<'static>> {
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

pub(super) fn kv(app: &App, label: &str, value: &str, width: usize, style: Style) -> Line<'static> {
    let theme = app.settings.theme;
    let label_w = 16.min(width / 3);
    let mut v = own(label, label_w, theme.label(), theme);
    v.push(Span::raw(" "));
    v.extend(own(value, width.saturating_sub(label_w + 1), style, theme));
    Line::from(v)
}

pub(super) fn info_lines(app: &App, v: &RequestView, width: usize) -> Vec<Line<'static>> {
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
    if let Some(leak) = &v.leak_deadlines {
        for (label, at) in [
            ("f-leak-notice", leak.notice),
            ("f-leak-investigation", leak.investigation),
        ] {
            let mut text = app.i18n.datetime(lang, at, tz, now);
            let mut style = theme.base();
            if v.urgency != Urgency::Closed {
                text = format!("{text} ({})", app.i18n.until(lang, at, now));
                if at <= now {
                    style = theme.overdue();
                }
            }
            out.push(kv(app, &app.t(label), &text, width, style));
        }
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

pub(super) fn account_lines(app: &App, a: &AccountView, width: usize) -> Vec<Line<'static>> {
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

pub(super) fn timeline_lines(app: &App, v: &RequestView, width: usize) -> Vec<Line<'static>> {
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
        // The desk's own timeline entries are codes: say them in the reader's language.
        let translated = (e.kind == crate::domain::view::EntryKind::Timeline)
            .then(|| {
                e.body
                    .expose()
                    .first()
                    .and_then(|l| timeline_text(app, l.as_str()))
            })
            .flatten()
            .map(|t| vec![sanitize_line(&t)]);
        let body = translated.as_ref().unwrap_or(e.body.expose());
        // At most 40 lines of one entry: a 10 KB message does not bury the rest.
        let mut n = 0;
        'lines: for line in body {
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

pub(super) fn draw_detail(app: &mut App, f: &mut Frame, area: Rect) {
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
    // After a reveal, bring the revealed field into view.
    let tag = app.t("tag-revealed");
    let revealed_line = info.iter().position(|l| {
        l.spans
            .iter()
            .any(|s| s.content.as_ref() == tag || s.content.starts_with(tag.as_str()))
    });
    let visible = parts[0].height.saturating_sub(2);
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let Some(d) = &mut w.detail else { return };
    if d.scroll_to_reveal {
        d.scroll_to_reveal = false;
        if let Some(i) = revealed_line.and_then(|i| u16::try_from(i).ok())
            && (i < d.info_scroll || i >= d.info_scroll + visible)
        {
            d.info_scroll = i.saturating_sub(visible / 2);
        }
    }
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

/// A copy of `v` with the revealed fields put in place of their masks.
pub(super) fn with_reveals(
    v: &RequestView,
    revealed: &[crate::tui::state::Revealed],
) -> RequestView {
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

/// A timeline entry the desk wrote (`received -> verifying`, `filed (phone)`,
/// `assignee=anna`) in the reader's language; `None` for anything else.
pub(super) fn timeline_text(app: &App, body: &str) -> Option<String> {
    use crate::domain::request::Channel;
    use crate::domain::workflow::State;
    if let Some(channel) = body
        .strip_prefix("filed (")
        .and_then(|r| r.strip_suffix(')'))
    {
        let c = Channel::parse(channel)?;
        let name = app.t(&format!("channel-{}", c.as_str()));
        return Some(app.ta("timeline-filed", &[("channel", Arg::Str(&name))]));
    }
    if let Some(who) = body.strip_prefix("assignee=") {
        return Some(if who == "none" {
            app.t("timeline-released")
        } else {
            app.ta("timeline-assigned", &[("login", Arg::Str(who))])
        });
    }
    let (from, rest) = body.split_once(" -> ")?;
    let (to, extra) = rest.split_once(' ').unwrap_or((rest, ""));
    let (from, to) = (State::parse(from)?, State::parse(to)?);
    let mut out = format!(
        "{} → {}",
        app.t(&format!("state-{}", from.as_str())),
        app.t(&format!("state-{}", to.as_str()))
    );
    if !extra.is_empty() {
        out.push_str(" (");
        out.push_str(extra);
        out.push(')');
    }
    Some(out)
}
