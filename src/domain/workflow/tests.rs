//! Every state × event pair of every kind, against expectations written out by hand in a
//! notation of their own (not read from `TABLE`), so a wrong row in the table fails here.

use super::*;

/// `from --event[guards]--> to`, one line each. Guards: `designated`, `email`,
/// `not-preparer`, `verified`, `unverified`.
const EXPECTED: &[(Flow, &str)] = &[
    (
        Flow::PasswordReset,
        "
        received  --begin_verification[designated]--> verifying
        verifying --verify[designated]--> verified
        verified  --send_link[email]--> link_sent
        link_sent --redeem--> done
        link_sent --expire--> expired
        received  --refuse--> refused
        verifying --refuse--> refused
        verified  --refuse--> refused
        ",
    ),
    (
        Flow::ContactChange,
        "
        received          --verify[designated]--> verified
        verified          --submit_for_approval--> awaiting_approval
        awaiting_approval --approve[not-preparer]--> approved
        awaiting_approval --send_back[not-preparer]--> verified
        awaiting_approval --refuse[not-preparer]--> refused
        received          --refuse--> refused
        verified          --refuse--> refused
        approved          --apply--> applied
        applied           --notify_contacts--> done
        ",
    ),
    (
        Flow::Compromise,
        "
        reported         --triage--> triaged
        triaged          --contain--> contained
        contained        --begin_client_verification--> verifying_client
        verifying_client --restore--> restored
        restored         --close--> closed
        reported         --close_unfounded--> closed_unfounded
        triaged          --close_unfounded--> closed_unfounded
        ",
    ),
    (
        Flow::Subject,
        "
        received          --verify_identity--> identity_verified
        identity_verified --prepare--> prepared
        prepared          --submit_for_approval--> awaiting_approval
        awaiting_approval --approve[not-preparer]--> approved
        awaiting_approval --send_back[not-preparer]--> prepared
        approved          --execute--> executed
        executed          --notify_client--> client_notified
        client_notified   --close--> closed
        received          --propose_refusal--> refusal_proposed
        identity_verified --propose_refusal--> refusal_proposed
        prepared          --propose_refusal--> refusal_proposed
        refusal_proposed  --approve[not-preparer]--> refusal_approved
        refusal_proposed  --send_back[not-preparer,verified]--> identity_verified
        refusal_proposed  --send_back[not-preparer,unverified]--> received
        refusal_approved  --notify_client--> client_notified
        ",
    ),
];

struct Expect {
    from: String,
    event: String,
    guards: Vec<String>,
    to: String,
}

fn expectations(flow: Flow) -> Vec<Expect> {
    let text = EXPECTED
        .iter()
        .find(|(f, _)| *f == flow)
        .map(|(_, t)| *t)
        .unwrap();
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (from, rest) = line.split_once("--").unwrap();
            let (label, to) = rest.split_once("-->").unwrap();
            let (event, guards) = match label.split_once('[') {
                Some((e, g)) => (
                    e,
                    g.trim_end_matches(']')
                        .split(',')
                        .map(str::to_owned)
                        .collect(),
                ),
                None => (label, vec![]),
            };
            Expect {
                from: from.trim().into(),
                event: event.into(),
                guards,
                to: to.trim().into(),
            }
        })
        .collect()
}

fn permissive(identity_verified: bool) -> Facts {
    Facts {
        requester_is_designated_contact: true,
        contact_has_email: true,
        actor_is_preparer: false,
        identity_verified,
    }
}

fn applies(e: &Expect, identity_verified: bool) -> bool {
    !(e.guards.iter().any(|g| g == "verified") && !identity_verified
        || e.guards.iter().any(|g| g == "unverified") && identity_verified)
}

#[test]
fn every_state_event_pair_of_every_kind() {
    let mut checked = 0;
    for kind in RequestKind::ALL {
        let flow = Flow::of(kind);
        let exp = expectations(flow);
        for state in State::ALL {
            for event in EventKind::ALL {
                for verified in [false, true] {
                    let got = next_state(kind, state, event, &permissive(verified));
                    checked += 1;
                    if !flow.states().contains(&state) {
                        assert!(
                            matches!(got, Err(TransitionError::ForeignState { .. })),
                            "{kind:?} {state} {event}: {got:?}"
                        );
                        continue;
                    }
                    let want = exp.iter().find(|e| {
                        e.from == state.as_str()
                            && e.event == event.as_str()
                            && applies(e, verified)
                    });
                    match want {
                        Some(e) => assert_eq!(
                            got.as_ref().map(|s| s.as_str()),
                            Ok(e.to.as_str()),
                            "{kind:?} {state} --{event}-->"
                        ),
                        None => assert!(
                            matches!(got, Err(TransitionError::NotAllowed { .. })),
                            "{kind:?} {state} --{event}--> should be refused, got {got:?}"
                        ),
                    }
                }
            }
        }
    }
    assert_eq!(
        checked,
        RequestKind::ALL.len() * State::ALL.len() * EventKind::ALL.len() * 2
    );
}

#[test]
fn the_table_has_no_row_the_expectations_lack() {
    for r in table() {
        let exp = expectations(r.flow);
        assert!(
            exp.iter().any(|e| e.from == r.from.as_str()
                && e.event == r.event.as_str()
                && e.to == r.to.as_str()),
            "unexpected row {:?} {} --{}--> {}",
            r.flow,
            r.from,
            r.event,
            r.to
        );
    }
}

#[test]
fn each_guard_refuses_with_its_own_error() {
    use RequestKind as K;
    let facts_without = |f: &dyn Fn(&mut Facts)| {
        let mut facts = permissive(true);
        f(&mut facts);
        facts
    };
    let not_designated = facts_without(&|f| f.requester_is_designated_contact = false);
    let no_email = facts_without(&|f| f.contact_has_email = false);
    let preparer = facts_without(&|f| f.actor_is_preparer = true);

    assert_eq!(
        next_state(
            K::PasswordReset,
            State::Received,
            EventKind::BeginVerification,
            &not_designated
        ),
        Err(TransitionError::NotDesignatedContact)
    );
    assert_eq!(
        next_state(
            K::ContactChange,
            State::Received,
            EventKind::Verify,
            &not_designated
        ),
        Err(TransitionError::NotDesignatedContact)
    );
    assert_eq!(
        next_state(
            K::PasswordReset,
            State::Verified,
            EventKind::SendLink,
            &no_email
        ),
        Err(TransitionError::ContactHasNoEmail)
    );
    for kind in [K::SubjectDeletion, K::SubjectBlocking, K::ContactChange] {
        assert_eq!(
            next_state(kind, State::AwaitingApproval, EventKind::Approve, &preparer),
            Err(TransitionError::OwnPreparation),
            "{kind:?}"
        );
    }
    assert_eq!(
        next_state(
            K::SubjectDeletion,
            State::RefusalProposed,
            EventKind::Approve,
            &preparer
        ),
        Err(TransitionError::OwnPreparation)
    );
    // A refusal is still possible when the guard of the way forward fails.
    assert_eq!(
        next_state(
            K::PasswordReset,
            State::Received,
            EventKind::Refuse,
            &not_designated
        ),
        Ok(State::Refused)
    );
}

#[test]
fn flows_start_and_end_where_the_domain_says() {
    assert_eq!(
        Flow::of(RequestKind::PasswordReset).initial(),
        State::Received
    );
    assert_eq!(Flow::of(RequestKind::Compromise).initial(), State::Reported);
    assert_eq!(
        Flow::of(RequestKind::SubjectReport).initial(),
        State::Received
    );
    let terminal: Vec<&str> = State::ALL
        .iter()
        .filter(|s| s.is_terminal())
        .map(|s| s.as_str())
        .collect();
    assert_eq!(
        terminal,
        ["done", "refused", "expired", "closed", "closed_unfounded"]
    );
    for s in State::ALL {
        assert_eq!(State::parse(s.as_str()), Some(s));
    }
    for e in EventKind::ALL {
        assert_eq!(EventKind::parse(e.as_str()), Some(e));
    }
}

#[test]
fn every_non_terminal_state_has_a_way_out_and_terminal_states_none() {
    for kind in RequestKind::ALL {
        for &s in Flow::of(kind).states() {
            assert_eq!(
                events_from(kind, s).is_empty(),
                s.is_terminal(),
                "{kind:?} {s}"
            );
        }
    }
}

#[test]
fn severity_is_one_to_four() {
    assert!(Severity::new(0).is_err());
    assert_eq!(Severity::new(1).map(Severity::level), Ok(1));
    assert_eq!(Severity::new(4).map(Severity::level), Ok(4));
    assert_eq!(Severity::new(5), Err(TransitionError::BadSeverity(5)));
}
