//! Confirmations, choices and text fields.

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn popup_confirm(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let Some(Popup::Confirm { action, .. }) = w.popup.take() else {
        return;
    };
    if action == Confirmed::Dismiss {
        return;
    }
    // Enter confirms, except a step that cannot be undone: that takes `y`.
    let grave = matches!(
        action,
        Confirmed::Event {
            event: PendingEvent::Grave(_),
            ..
        }
    );
    match a {
        Action::Confirm => {}
        Action::Submit if !grave => {}
        Action::Submit => {
            w.popup = Some(Popup::Confirm {
                text: String::new(),
                action,
            });
            if let Some(Popup::Confirm { text, .. }) = &mut w.popup {
                *text = app.i18n.tr(w.lang, "confirm-grave-hint", &[]);
            }
            return;
        }
        _ => return,
    }
    match action {
        Confirmed::Quit => app.quit_now(),
        Confirmed::Dismiss => {}
        Confirmed::TakeOver { id, version } => app.tasks.spawn(move |d| async move {
            Msg::Written {
                what: "done-taken",
                result: d.take(&actor, id, version).await.map(|_| ()),
            }
        }),
        Confirmed::Release { id, version } => app.tasks.spawn(move |d| async move {
            Msg::Written {
                what: "done-released",
                result: d.release(&actor, id, version).await.map(|_| ()),
            }
        }),
        Confirmed::Event { id, version, event } => {
            let event = match event {
                PendingEvent::Plain(k) | PendingEvent::Grave(k) => plain_event(k),
                PendingEvent::Triage { severity, leak } => {
                    Severity::new(severity).ok().map(|severity| Event::Triage {
                        severity,
                        personal_data_leak: leak,
                    })
                }
                PendingEvent::Refuse(r) => Some(Event::Refuse(r)),
                PendingEvent::ProposeRefusal(g) => Some(Event::ProposeRefusal(g)),
            };
            if let Some(event) = event {
                app.tasks.spawn(move |d| async move {
                    Msg::Written {
                        what: "done-event",
                        result: d
                            .apply_event(&actor, id, version, event, None)
                            .await
                            .map(|_| ()),
                    }
                });
            }
        }
        Confirmed::AckNotice(n) => app.tasks.spawn(move |d| async move {
            Msg::Written {
                what: "done-ack",
                result: d.acknowledge_notice(&actor, n).await,
            }
        }),
        Confirmed::Disable(login) => app.tasks.spawn(move |d| async move {
            Msg::StaffChanged(d.set_disabled(&actor, &login, true).await)
        }),
        Confirmed::Enable(login) => app.tasks.spawn(move |d| async move {
            Msg::StaffChanged(d.set_disabled(&actor, &login, false).await)
        }),
        Confirmed::Unlock(login) => app
            .tasks
            .spawn(move |d| async move { Msg::StaffChanged(d.unlock_staff(&actor, &login).await) }),
    }
}

pub(super) fn plain_event(k: EventKind) -> Option<Event> {
    Some(match k {
        EventKind::BeginVerification => Event::BeginVerification,
        EventKind::Verify => Event::Verify,
        EventKind::SendLink => Event::SendLink,
        EventKind::Redeem => Event::Redeem,
        EventKind::Expire => Event::Expire,
        EventKind::SubmitForApproval => Event::SubmitForApproval,
        EventKind::Approve => Event::Approve,
        EventKind::SendBack => Event::SendBack,
        EventKind::Apply => Event::Apply,
        EventKind::NotifyContacts => Event::NotifyContacts,
        EventKind::Contain => Event::Contain,
        EventKind::BeginClientVerification => Event::BeginClientVerification,
        EventKind::Restore => Event::Restore,
        EventKind::Close => Event::Close,
        EventKind::CloseUnfounded => Event::CloseUnfounded,
        EventKind::VerifyIdentity => Event::VerifyIdentity,
        EventKind::Prepare => Event::Prepare,
        EventKind::Execute => Event::Execute,
        EventKind::NotifyClient => Event::NotifyClient,
        EventKind::Refuse | EventKind::Triage | EventKind::ProposeRefusal => return None,
    })
}

pub(super) fn popup_choice(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let lang = w.lang;
    let actor = w.actor.clone();
    let Some(Popup::Choice {
        items, selected, ..
    }) = &mut w.popup
    else {
        return;
    };
    match a {
        Action::Down => *selected = (*selected + 1).min(items.len().saturating_sub(1)),
        Action::Up => *selected = selected.saturating_sub(1),
        Action::Cancel => w.popup = None,
        Action::Submit => {
            let Some((_, value)) = items.get(*selected).cloned() else {
                return;
            };
            w.popup = None;
            let target = w
                .detail
                .as_ref()
                .and_then(|d| d.view.as_ref())
                .map(|v| (v.id, v.version));
            let target_req = target;
            let tr = |key: &str, args: &[(&str, Arg<'_>)]| app.i18n.tr(lang, key, args);
            match value {
                ChoiceValue::RevealTarget(t) => {
                    let items = Purpose::ALL
                        .iter()
                        .map(|p| {
                            (
                                tr(&format!("purpose-{}", p.as_str()), &[]),
                                ChoiceValue::Purpose(t, *p),
                            )
                        })
                        .collect();
                    w.popup = Some(Popup::Choice {
                        title: tr("choose-purpose", &[]),
                        items,
                        selected: 0,
                    });
                }
                ChoiceValue::Purpose(target, purpose) => {
                    if let Some((id, _)) = target_req {
                        app.tasks.spawn(move |d| async move {
                            Msg::Revealed {
                                id,
                                target,
                                result: d.reveal(&actor, id, target, purpose).await,
                            }
                        });
                    }
                }
                ChoiceValue::CheckTarget(t) => {
                    let field = if matches!(t, Target::ContactPassphrase(_)) {
                        TextField::secret()
                    } else {
                        TextField::default()
                    };
                    let title = tr("input-check", &[]);
                    w.popup = Some(Popup::Input {
                        kind: InputKind::Check(t),
                        title,
                        field,
                        error: None,
                        busy: false,
                    });
                }
                ChoiceValue::Notice(n) => {
                    let text = tr("confirm-ack", &[]);
                    w.popup = Some(Popup::Confirm {
                        text,
                        action: Confirmed::AckNotice(n),
                    });
                }
                ChoiceValue::State(s) => {
                    if let Screen::Queues(q) = &mut w.screen
                        && let Some(queue) = q.queue()
                        && let Some(list) = q.lists.get_mut(&queue)
                    {
                        list.filter.state = s;
                        list.selected = 0;
                        load_page(&mut app.tasks, &actor, queue, list, PageKind::First);
                    }
                }
                ChoiceValue::Staff(login) => {
                    if let Some((id, version)) = target {
                        app.tasks.spawn(move |d| async move {
                            Msg::Written {
                                what: "done-assigned",
                                result: d.assign(&actor, id, version, &login).await.map(|_| ()),
                            }
                        });
                    }
                }
                ChoiceValue::Event(k) => {
                    let Some((id, version)) = target else { return };
                    let label = tr(&format!("event-{}", k.as_str()), &[]);
                    match k {
                        EventKind::Triage => {
                            let items = (1..=4_u8)
                                .map(|n| {
                                    (tr(&format!("severity-{n}"), &[]), ChoiceValue::Severity(n))
                                })
                                .collect();
                            w.popup = Some(Popup::Choice {
                                title: tr("choose-severity", &[]),
                                items,
                                selected: 1,
                            });
                        }
                        EventKind::Refuse => {
                            let items = RefusalReason::ALL
                                .iter()
                                .map(|r| {
                                    (
                                        tr(&format!("reason-{}", r.as_str()), &[]),
                                        ChoiceValue::Reason(*r),
                                    )
                                })
                                .collect();
                            w.popup = Some(Popup::Choice {
                                title: tr("choose-reason", &[]),
                                items,
                                selected: 0,
                            });
                        }
                        EventKind::ProposeRefusal => {
                            let items = LegalGround::ALL
                                .iter()
                                .map(|g| {
                                    (
                                        tr(&format!("ground-{}", g.as_str()), &[]),
                                        ChoiceValue::Ground(*g),
                                    )
                                })
                                .collect();
                            w.popup = Some(Popup::Choice {
                                title: tr("choose-ground", &[]),
                                items,
                                selected: 0,
                            });
                        }
                        _ => {
                            use crate::domain::request::RequestKind as K;
                            let kind =
                                w.detail.as_ref().and_then(|d| d.view.as_ref()).map(|v| {
                                    (v.kind, v.account.as_ref().map(|a| a.id.to_string()))
                                });
                            let account =
                                kind.as_ref().and_then(|k| k.1.clone()).unwrap_or_default();
                            // Steps that act on the account say what they do; the
                            // irreversible one needs `y`, not Enter.
                            let (key, grave) = match (kind.map(|k| k.0), k) {
                                (Some(K::SubjectDeletion), EventKind::Execute) => {
                                    ("confirm-erase", true)
                                }
                                (Some(K::SubjectBlocking), EventKind::Execute) => {
                                    ("confirm-block", false)
                                }
                                (Some(K::SubjectUnblocking), EventKind::Execute) => {
                                    ("confirm-unblock", false)
                                }
                                (Some(K::Compromise), EventKind::Contain) => {
                                    ("confirm-contain", false)
                                }
                                _ => ("confirm-event", false),
                            };
                            let text = tr(
                                key,
                                &[
                                    ("event", Arg::Str(&label)),
                                    ("id", Arg::Str(&id.to_string())),
                                    ("account", Arg::Str(&account)),
                                ],
                            );
                            let event = if grave {
                                PendingEvent::Grave(k)
                            } else {
                                PendingEvent::Plain(k)
                            };
                            w.popup = Some(Popup::Confirm {
                                text,
                                action: Confirmed::Event { id, version, event },
                            });
                        }
                    }
                }
                ChoiceValue::Severity(n) => {
                    let items = vec![
                        (tr("leak-no", &[]), ChoiceValue::Leak(n, false)),
                        (tr("leak-yes", &[]), ChoiceValue::Leak(n, true)),
                    ];
                    w.popup = Some(Popup::Choice {
                        title: tr("choose-leak", &[]),
                        items,
                        selected: 0,
                    });
                }
                ChoiceValue::Leak(severity, leak) => {
                    if let Some((id, version)) = target {
                        let text = tr(
                            "confirm-triage",
                            &[
                                ("severity", Arg::Num(i64::from(severity))),
                                ("id", Arg::Str(&id.to_string())),
                            ],
                        );
                        w.popup = Some(Popup::Confirm {
                            text,
                            action: Confirmed::Event {
                                id,
                                version,
                                event: PendingEvent::Triage { severity, leak },
                            },
                        });
                    }
                }
                ChoiceValue::Reason(r) => {
                    if let Some((id, version)) = target {
                        let label = tr(&format!("reason-{}", r.as_str()), &[]);
                        let text = tr(
                            "confirm-refuse",
                            &[
                                ("reason", Arg::Str(&label)),
                                ("id", Arg::Str(&id.to_string())),
                            ],
                        );
                        w.popup = Some(Popup::Confirm {
                            text,
                            action: Confirmed::Event {
                                id,
                                version,
                                event: PendingEvent::Refuse(r),
                            },
                        });
                    }
                }
                ChoiceValue::Ground(g) => {
                    if let Some((id, version)) = target {
                        let label = tr(&format!("ground-{}", g.as_str()), &[]);
                        let text = tr(
                            "confirm-propose-refusal",
                            &[
                                ("ground", Arg::Str(&label)),
                                ("id", Arg::Str(&id.to_string())),
                            ],
                        );
                        w.popup = Some(Popup::Confirm {
                            text,
                            action: Confirmed::Event {
                                id,
                                version,
                                event: PendingEvent::ProposeRefusal(g),
                            },
                        });
                    }
                }
            }
        }
        _ => {}
    }
}

pub(super) fn popup_input(app: &mut App, a: Action) {
    let Stage::Work(w) = &mut app.stage else {
        return;
    };
    let actor = w.actor.clone();
    let Some(Popup::Input {
        kind,
        field,
        busy,
        error,
        ..
    }) = &mut w.popup
    else {
        return;
    };
    match a {
        Action::Cancel => w.popup = None,
        Action::Submit => {
            let text = field.value().trim().to_owned();
            if text.is_empty() && *kind != InputKind::AuditFilter {
                return;
            }
            match *kind {
                InputKind::Check(target) => {
                    let Some(id) = w.detail.as_ref().map(|d| d.id) else {
                        return;
                    };
                    // The value a caller gave is not kept on screen once submitted.
                    w.popup = None;
                    let typed = Secret::new(text);
                    app.tasks.spawn(move |d| async move {
                        Msg::Checked(d.check(&actor, id, target, typed).await)
                    });
                }
                InputKind::AuditFilter => match parse_audit_filter(&text) {
                    Ok(filter) => {
                        w.popup = None;
                        let Some(h) = w.audit_home_mut() else { return };
                        h.filter = filter;
                        h.filter_text = text;
                        h.access = None;
                        h.selected = 0;
                        crate::tui::app::load_audit(&mut app.tasks, &actor, h);
                    }
                    Err(e) => *error = Some(e),
                },
                InputKind::AccessReport => {
                    match text.parse::<crate::domain::account::AccountId>() {
                        Ok(account) => {
                            w.popup = None;
                            let Some(h) = w.audit_home_mut() else { return };
                            h.access = Some((account, vec![]));
                            h.access_recorded = false;
                            h.selected = 0;
                            crate::tui::app::load_audit(&mut app.tasks, &actor, h);
                        }
                        Err(_) => *error = Some(app.i18n.tr(w.lang, "bad-account-id", &[])),
                    }
                }
                InputKind::Note => {
                    let Some(id) = w.detail.as_ref().map(|d| d.id) else {
                        return;
                    };
                    *busy = true;
                    *error = None;
                    app.tasks.spawn(move |d| async move {
                        Msg::NoteAdded(d.add_note(&actor, id, &text).await)
                    });
                }
                InputKind::Search => {
                    w.popup = None;
                    app.tasks.spawn(move |d| async move {
                        // One more than shown, to know whether there are more.
                        let limit =
                            u32::try_from(crate::tui::state::SEARCH_LIMIT + 1).unwrap_or(u32::MAX);
                        let result = d.search_subjects(&actor, &text, limit).await;
                        Msg::Searched {
                            query: text,
                            result,
                        }
                    });
                }
                InputKind::FindAccount => {
                    w.popup = None;
                    app.tasks.spawn(move |d| async move {
                        let result = d.find_accounts(&actor, &text).await;
                        Msg::Accounts {
                            query: text,
                            result,
                        }
                    });
                }
            }
        }
        _ => {}
    }
}
