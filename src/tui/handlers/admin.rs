//! Keys on the admin's staff list and on the audit log (filters, access report).

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn staff_action(app: &mut App, a: Action) {
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

pub(super) fn audit_action(app: &mut App, a: Action) {
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
        Action::Open => {
            if let Some(r) = h.records().get(h.selected) {
                let text = record_text(&app.i18n, app.tasks.desk(), lang, r);
                let title = app
                    .i18n
                    .tr(lang, "audit-record-title", &[("seq", Arg::Num(r.seq))]);
                w.popup = Some(Popup::Confirm {
                    text: format!("{title}\n{text}"),
                    action: Confirmed::Dismiss,
                });
            }
        }
        Action::Back => {
            if h.access.is_some() {
                h.access = None;
                h.selected = 0;
                crate::tui::app::load_audit(&mut app.tasks, &actor, h);
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

/// Parses `actor=anna action=field.reveal purpose=… account=A1 request=#2 since=2026-11-01
/// until=… outcome=refused` into a filter.
pub(super) fn parse_audit_filter(text: &str) -> Result<crate::desk::AuditFilter, String> {
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

/// An audit record in full, one field a line (field names and purposes, never values).
fn record_text(
    i18n: &crate::tui::i18n::I18n,
    desk: &crate::desk::Desk,
    lang: crate::domain::staff::Lang,
    r: &crate::desk::AuditRecord,
) -> String {
    let d = &r.draft;
    let tz = desk.rules().tz.clone();
    let now = desk.now();
    let mut lines = vec![
        format!(
            "{} · {} ({})",
            i18n.datetime(lang, d.at, &tz, now),
            d.actor,
            d.source
        ),
        format!("{} · {}", d.action, d.outcome),
    ];
    if let Some(a) = d.account {
        lines.push(format!("account {a}"));
    }
    if let Some(q) = d.request {
        lines.push(format!("request {q}"));
    }
    if let Some(t) = &d.target {
        lines.push(format!("target {t}"));
    }
    if !d.fields.is_empty() {
        lines.push(format!("fields {}", d.fields));
    }
    if let Some(p) = &d.purpose {
        lines.push(format!("purpose {p}"));
    }
    if !d.detail.is_empty() {
        lines.push(d.detail.clone());
    }
    lines.push(format!("hash {}", hex_prefix(&r.hash)));
    lines.join("\n")
}

fn hex_prefix(bytes: &[u8]) -> String {
    hex::encode(&bytes[..bytes.len().min(12)]) + "…"
}
