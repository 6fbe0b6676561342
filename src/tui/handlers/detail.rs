//! Keys on an open request: panes, the next step, take / assign / release, notes,
//! reveal and check.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn detail_action(app: &mut App, a: Action) {
    if common(app, a) {
        return;
    }
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let lang = w.lang;
    let Some(d) = &mut w.detail else { return };
    let scroll = match d.pane {
        Pane::Info => &mut d.info_scroll,
        Pane::Timeline => &mut d.timeline_scroll,
    };
    match a {
        Action::Back => {
            w.detail = None;
            app.refresh_all(false);
        }
        Action::NextPane | Action::PrevPane => {
            d.pane = if d.pane == Pane::Info {
                Pane::Timeline
            } else {
                Pane::Info
            };
        }
        Action::Down => *scroll = scroll.saturating_add(1),
        Action::Up => *scroll = scroll.saturating_sub(1),
        Action::PageDown => *scroll = scroll.saturating_add(10),
        Action::PageUp => *scroll = scroll.saturating_sub(10),
        Action::Top => *scroll = 0,
        Action::Bottom => *scroll = u16::MAX / 2,
        Action::Reveal | Action::Check => {
            let Some(v) = &d.view else { return };
            let reveal = a == Action::Reveal;
            let items = targets(v, reveal)
                .into_iter()
                .map(|(key, n, t)| {
                    let label = match n {
                        Some(n) => app.i18n.tr(lang, key, &[("n", Arg::Num(n))]),
                        None => app.i18n.tr(lang, key, &[]),
                    };
                    let value = if reveal {
                        ChoiceValue::RevealTarget(t)
                    } else {
                        ChoiceValue::CheckTarget(t)
                    };
                    (label, value)
                })
                .collect::<Vec<_>>();
            if items.is_empty() {
                let t = app.i18n.tr(
                    lang,
                    if reveal {
                        "nothing-to-reveal"
                    } else {
                        "nothing-to-check"
                    },
                    &[],
                );
                app.set_status(t, true);
                return;
            }
            let title = app.i18n.tr(
                lang,
                if reveal {
                    "choose-reveal"
                } else {
                    "choose-check"
                },
                &[],
            );
            w.popup = Some(Popup::Choice {
                title,
                items,
                selected: 0,
            });
        }
        Action::Take | Action::Release | Action::Assign | Action::Note | Action::Events => {
            let Some(v) = &d.view else { return };
            let (id, version) = (v.id, v.version);
            match a {
                Action::Take => {
                    let holder = v.assignee.as_ref().map(ToString::to_string);
                    take(app, id, version, holder.as_deref());
                }
                Action::Release => {
                    let text = app.i18n.tr(
                        lang,
                        "confirm-release",
                        &[("id", Arg::Str(&id.to_string()))],
                    );
                    w.popup = Some(Popup::Confirm {
                        text,
                        action: Confirmed::Release { id, version },
                    });
                }
                Action::Assign => {
                    let queue = v.queue;
                    app.tasks.spawn(move |dk| async move {
                        Msg::Assignable(dk.assignable_staff(&actor, queue).await)
                    });
                }
                Action::Note => {
                    let title =
                        app.i18n
                            .tr(lang, "input-note", &[("id", Arg::Str(&id.to_string()))]);
                    w.popup = Some(Popup::Input {
                        kind: InputKind::Note,
                        title,
                        field: TextField::default(),
                        error: None,
                        busy: false,
                    });
                }
                _ => {
                    if d.events.is_empty() {
                        let t = app.i18n.tr(lang, "no-events", &[]);
                        app.set_status(t, true);
                        return;
                    }
                    let items = d
                        .events
                        .iter()
                        .map(|e| {
                            (
                                app.i18n.tr(lang, &format!("event-{}", e.as_str()), &[]),
                                ChoiceValue::Event(*e),
                            )
                        })
                        .collect();
                    let title =
                        app.i18n
                            .tr(lang, "choose-event", &[("id", Arg::Str(&id.to_string()))]);
                    w.popup = Some(Popup::Choice {
                        title,
                        items,
                        selected: 0,
                    });
                }
            }
        }
        _ => {}
    }
}

/// The fields of a request's view the viewer may reveal (or check): catalog key, contact
/// number, target.
pub(super) fn targets(
    v: &crate::domain::view::RequestView,
    reveal: bool,
) -> Vec<(&'static str, Option<i64>, Target)> {
    use crate::domain::view::{FieldView, Shown};
    let ok = |f: &FieldView| {
        !matches!(f.shown, Shown::Hidden | Shown::Absent)
            && if reveal { f.can_reveal } else { f.can_check }
    };
    let mut out = vec![];
    if let Some(acc) = &v.account {
        for (key, f, t) in [
            ("target-email", &acc.email, Target::Email),
            ("target-phone", &acc.phone, Target::Phone),
            ("target-address", &acc.postal_address, Target::PostalAddress),
            ("target-tax-id", &acc.tax_id, Target::TaxId),
        ] {
            if (reveal || t != Target::PostalAddress) && ok(f) {
                out.push((key, None, t));
            }
        }
        for (i, c) in acc.contacts.iter().enumerate() {
            let n = Some(i64::try_from(i + 1).unwrap_or(0));
            if c.has_email
                && (if reveal {
                    c.email.can_reveal
                } else {
                    c.email.can_check
                })
            {
                out.push(("target-contact-email", n, Target::ContactEmail(c.id)));
            }
            if c.has_phone
                && (if reveal {
                    c.phone.can_reveal
                } else {
                    c.phone.can_check
                })
            {
                out.push(("target-contact-phone", n, Target::ContactPhone(c.id)));
            }
            if !reveal && c.passphrase.can_check {
                out.push((
                    "target-contact-passphrase",
                    n,
                    Target::ContactPassphrase(c.id),
                ));
            }
        }
    }
    for item in &v.verification {
        let f = &item.value;
        if (reveal && f.can_reveal) || (!reveal && f.can_check) {
            out.push((
                "target-verification",
                Some(item.id),
                Target::Verification(item.id),
            ));
        }
    }
    out
}
