//! Walking a request's state machine (`domain::workflow`): one table row at a time, with the
//! facts its guards need, so every state a demo request ends in is a reachable one; and who
//! takes each step, by the access table (`policy::event_action`).

use std::collections::{HashSet, VecDeque};

use crate::domain::policy::{self, Action};
use crate::domain::request::RequestKind;
use crate::domain::staff::Role;
use crate::domain::workflow::{self, EventKind, Facts, Flow, RefusalReason, State};

use super::plan::Who;
use super::rng::Rng;

/// Why a refusal was made, as the desk would record it.
pub(super) fn refusal_reason(
    rng: &mut Rng,
    kind: RequestKind,
    from: State,
    base: &Facts,
) -> RefusalReason {
    if !base.requester_is_designated_contact {
        RefusalReason::NotDesignatedContact
    } else if kind == RequestKind::PasswordReset
        && from == State::Verified
        && !base.contact_has_email
    {
        RefusalReason::ContactHasNoEmail
    } else if kind == RequestKind::PasswordReset {
        *rng.pick(&[
            RefusalReason::VerificationFailed,
            RefusalReason::Withdrawn,
            RefusalReason::EmployeeLogin,
        ])
    } else {
        *rng.pick(&[RefusalReason::VerificationFailed, RefusalReason::Withdrawn])
    }
}

/// The role the access table gives an event (the first of agent, on-call, supervisor that
/// works the queue and may do it), or the desk itself.
pub(super) fn actor(kind: RequestKind, from: State, event: EventKind) -> Who {
    let action = policy::event_action(kind, from, event, false);
    if action == Action::System {
        return Who::System;
    }
    [Role::Agent, Role::Oncall, Role::Supervisor]
        .into_iter()
        .find(|r| policy::allows(*r, Action::ViewQueue(kind.queue())) && policy::allows(*r, action))
        .map_or(Who::Staff(Role::Supervisor), Who::Staff)
}

pub(super) fn facts_for(base: &Facts, identity_verified: bool) -> Facts {
    Facts {
        identity_verified,
        ..*base
    }
}

/// How much a random walk likes an event: the usual path over detours and refusals.
fn weight(event: EventKind) -> u32 {
    match event {
        EventKind::Refuse | EventKind::SendBack | EventKind::ProposeRefusal => 1,
        EventKind::Expire | EventKind::CloseUnfounded => 2,
        _ => 10,
    }
}

/// A random walk: to a terminal state, or (`open`) a few steps that stay open.
pub(super) fn random_path(
    rng: &mut Rng,
    kind: RequestKind,
    base: &Facts,
    open: bool,
) -> Vec<EventKind> {
    let mut state = Flow::of(kind).initial();
    let mut idv = false;
    let mut path = vec![];
    let want = if open {
        usize::try_from(rng.below(5)).unwrap_or(0)
    } else {
        14
    };
    while path.len() < want && !state.is_terminal() {
        let options: Vec<(EventKind, State)> = workflow::events_from(kind, state)
            .into_iter()
            .filter_map(|e| {
                workflow::next_state(kind, state, e, &facts_for(base, idv))
                    .ok()
                    .map(|to| (e, to))
            })
            .filter(|(_, to)| !open || !to.is_terminal())
            .collect();
        if options.is_empty() {
            break;
        }
        let weights: Vec<u32> = options.iter().map(|(e, _)| weight(*e)).collect();
        let (e, to) = options[rng.weighted(&weights)];
        idv |= e.marks_identity_verified();
        path.push(e);
        state = to;
    }
    if !open && !state.is_terminal() {
        let (_, rest) = shortest(kind, base, state, idv, &|s| s.is_terminal());
        path.extend(rest);
    }
    path
}

/// The shortest path through each of `targets` in turn.
pub(super) fn path_via(kind: RequestKind, base: &Facts, targets: &[State]) -> Vec<EventKind> {
    let mut state = Flow::of(kind).initial();
    let mut idv = false;
    let mut path = vec![];
    for &t in targets {
        if state == t {
            continue;
        }
        let ((s, v), rest) = shortest(kind, base, state, idv, &|s| s == t);
        if s != t {
            break;
        }
        state = s;
        idv = v;
        path.extend(rest);
    }
    path
}

/// Breadth-first search over (state, identity verified) to the nearest state `goal` accepts.
pub(super) fn shortest(
    kind: RequestKind,
    base: &Facts,
    from: State,
    idv: bool,
    goal: &dyn Fn(State) -> bool,
) -> ((State, bool), Vec<EventKind>) {
    let mut seen = HashSet::from([(from, idv)]);
    let mut queue = VecDeque::from([((from, idv), vec![])]);
    while let Some(((s, v), path)) = queue.pop_front() {
        if goal(s) {
            return ((s, v), path);
        }
        for e in workflow::events_from(kind, s) {
            if let Ok(to) = workflow::next_state(kind, s, e, &facts_for(base, v)) {
                let nv = v || e.marks_identity_verified();
                if seen.insert((to, nv)) {
                    let mut p = path.clone();
                    p.push(e);
                    queue.push_back(((to, nv), p));
                }
            }
        }
    }
    ((from, idv), vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_of_every_kind_is_reachable_by_a_path() {
        let base = Facts {
            requester_is_designated_contact: true,
            contact_has_email: true,
            actor_is_preparer: false,
            identity_verified: false,
        };
        for kind in RequestKind::ALL {
            for &target in Flow::of(kind).states() {
                let path = path_via(kind, &base, &[target]);
                let mut s = Flow::of(kind).initial();
                let mut idv = false;
                for e in &path {
                    s = workflow::next_state(kind, s, *e, &facts_for(&base, idv)).unwrap();
                    idv |= e.marks_identity_verified();
                }
                assert_eq!(s, target, "{kind:?}");
            }
        }
        let deleted = path_via(
            RequestKind::SubjectDeletion,
            &base,
            &[State::Executed, State::Closed],
        );
        assert!(deleted.contains(&EventKind::Execute));
    }

    #[test]
    fn random_walks_end_where_asked() {
        let base = Facts {
            requester_is_designated_contact: true,
            contact_has_email: false,
            ..Facts::default()
        };
        let mut rng = Rng::new(5);
        for kind in RequestKind::ALL {
            for _ in 0..200 {
                let closed = random_path(&mut rng, kind, &base, false);
                let mut s = Flow::of(kind).initial();
                let mut idv = false;
                for e in &closed {
                    s = workflow::next_state(kind, s, *e, &facts_for(&base, idv)).unwrap();
                    idv |= e.marks_identity_verified();
                }
                assert!(s.is_terminal(), "{kind:?} ended in {s}");
            }
        }
    }

    #[test]
    fn staff_roles_follow_the_access_table() {
        assert_eq!(
            actor(
                RequestKind::PasswordReset,
                State::Received,
                EventKind::BeginVerification
            ),
            Who::Staff(Role::Agent)
        );
        assert_eq!(
            actor(RequestKind::Compromise, State::Triaged, EventKind::Contain),
            Who::Staff(Role::Oncall)
        );
        assert_eq!(
            actor(
                RequestKind::SubjectDeletion,
                State::AwaitingApproval,
                EventKind::Approve
            ),
            Who::Staff(Role::Supervisor)
        );
        assert_eq!(
            actor(
                RequestKind::PasswordReset,
                State::LinkSent,
                EventKind::Redeem
            ),
            Who::System
        );
    }
}
