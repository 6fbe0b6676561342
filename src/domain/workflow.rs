//! The state machine of every request kind, as one transition table.
//!
//! Each row names the flow it belongs to, the state it leaves, the event, the guards that
//! must hold, and the state it enters. Anything not in the table is refused with a typed
//! error. The table is documented in `docs/workflows.md`; the tests at the bottom check
//! every state × event pair of every kind against expectations written out by hand.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::request::RequestKind;

/// The state machine a kind follows. The four subject-request kinds share one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flow {
    PasswordReset,
    ContactChange,
    Compromise,
    Subject,
}

impl Flow {
    pub fn of(kind: RequestKind) -> Flow {
        match kind {
            RequestKind::PasswordReset => Flow::PasswordReset,
            RequestKind::ContactChange => Flow::ContactChange,
            RequestKind::Compromise => Flow::Compromise,
            RequestKind::SubjectReport
            | RequestKind::SubjectBlocking
            | RequestKind::SubjectUnblocking
            | RequestKind::SubjectDeletion => Flow::Subject,
        }
    }

    pub fn initial(self) -> State {
        match self {
            Flow::Compromise => State::Reported,
            _ => State::Received,
        }
    }

    /// The states of this flow, in the order a request usually passes them.
    pub fn states(self) -> &'static [State] {
        use State as S;
        match self {
            Flow::PasswordReset => &[
                S::Received,
                S::Verifying,
                S::Verified,
                S::LinkSent,
                S::Done,
                S::Refused,
                S::Expired,
            ],
            Flow::ContactChange => &[
                S::Received,
                S::Verified,
                S::AwaitingApproval,
                S::Approved,
                S::Applied,
                S::Done,
                S::Refused,
            ],
            Flow::Compromise => &[
                S::Reported,
                S::Triaged,
                S::Contained,
                S::VerifyingClient,
                S::Restored,
                S::Closed,
                S::ClosedUnfounded,
            ],
            Flow::Subject => &[
                S::Received,
                S::IdentityVerified,
                S::Prepared,
                S::AwaitingApproval,
                S::Approved,
                S::Executed,
                S::RefusalProposed,
                S::RefusalApproved,
                S::ClientNotified,
                S::Closed,
            ],
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Received,
    Verifying,
    Verified,
    LinkSent,
    Done,
    Refused,
    Expired,
    AwaitingApproval,
    Approved,
    Applied,
    Reported,
    Triaged,
    Contained,
    VerifyingClient,
    Restored,
    Closed,
    ClosedUnfounded,
    IdentityVerified,
    Prepared,
    Executed,
    ClientNotified,
    RefusalProposed,
    RefusalApproved,
}

impl State {
    pub const ALL: [State; 23] = [
        State::Received,
        State::Verifying,
        State::Verified,
        State::LinkSent,
        State::Done,
        State::Refused,
        State::Expired,
        State::AwaitingApproval,
        State::Approved,
        State::Applied,
        State::Reported,
        State::Triaged,
        State::Contained,
        State::VerifyingClient,
        State::Restored,
        State::Closed,
        State::ClosedUnfounded,
        State::IdentityVerified,
        State::Prepared,
        State::Executed,
        State::ClientNotified,
        State::RefusalProposed,
        State::RefusalApproved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Received => "received",
            State::Verifying => "verifying",
            State::Verified => "verified",
            State::LinkSent => "link_sent",
            State::Done => "done",
            State::Refused => "refused",
            State::Expired => "expired",
            State::AwaitingApproval => "awaiting_approval",
            State::Approved => "approved",
            State::Applied => "applied",
            State::Reported => "reported",
            State::Triaged => "triaged",
            State::Contained => "contained",
            State::VerifyingClient => "verifying_client",
            State::Restored => "restored",
            State::Closed => "closed",
            State::ClosedUnfounded => "closed_unfounded",
            State::IdentityVerified => "identity_verified",
            State::Prepared => "prepared",
            State::Executed => "executed",
            State::ClientNotified => "client_notified",
            State::RefusalProposed => "refusal_proposed",
            State::RefusalApproved => "refusal_approved",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A request in a terminal state is closed: it leaves the open queue.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            State::Done | State::Refused | State::Expired | State::Closed | State::ClosedUnfounded
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Compromise severity 1 (most urgent) to 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Severity(u8);

impl Severity {
    pub fn new(level: u8) -> Result<Severity, TransitionError> {
        if (1..=4).contains(&level) {
            Ok(Severity(level))
        } else {
            Err(TransitionError::BadSeverity(level))
        }
    }

    pub fn level(self) -> u8 {
        self.0
    }
}

/// Why a password reset or a contact change is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalReason {
    /// The requester is not a designated contact (§4).
    NotDesignatedContact,
    /// The designated contact has no email, so no reset can be delivered.
    ContactHasNoEmail,
    /// A login of the client's employee inside the hosted software (§5).
    EmployeeLogin,
    /// The requester could not be verified.
    VerificationFailed,
    /// The requester withdrew the request.
    Withdrawn,
}

impl RefusalReason {
    pub const ALL: [RefusalReason; 5] = [
        RefusalReason::NotDesignatedContact,
        RefusalReason::ContactHasNoEmail,
        RefusalReason::EmployeeLogin,
        RefusalReason::VerificationFailed,
        RefusalReason::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalReason::NotDesignatedContact => "not_designated_contact",
            RefusalReason::ContactHasNoEmail => "contact_has_no_email",
            RefusalReason::EmployeeLogin => "employee_login",
            RefusalReason::VerificationFailed => "verification_failed",
            RefusalReason::Withdrawn => "withdrawn",
        }
    }
}

/// The legal ground named when a data-subject request is refused (§14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LegalGround {
    /// Documents kept under accounting law (402-FZ art. 29) until their retention date.
    AccountingRetention,
    /// Data needed to perform the contract with the client (152-FZ art. 6 part 1 item 5).
    ContractPerformance,
    /// A lawful request or order of an authorised state body (§3).
    AuthorityOrder,
    /// The requester's identity could not be confirmed.
    IdentityNotConfirmed,
    /// Another objective ground agreed between the parties (§14); the explanation says which.
    AgreedGround,
}

impl LegalGround {
    pub const ALL: [LegalGround; 5] = [
        LegalGround::AccountingRetention,
        LegalGround::ContractPerformance,
        LegalGround::AuthorityOrder,
        LegalGround::IdentityNotConfirmed,
        LegalGround::AgreedGround,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LegalGround::AccountingRetention => "accounting_retention",
            LegalGround::ContractPerformance => "contract_performance",
            LegalGround::AuthorityOrder => "authority_order",
            LegalGround::IdentityNotConfirmed => "identity_not_confirmed",
            LegalGround::AgreedGround => "agreed_ground",
        }
    }
}

/// An event with what it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    BeginVerification,
    Verify,
    SendLink,
    Redeem,
    Expire,
    Refuse(RefusalReason),
    SubmitForApproval,
    Approve,
    SendBack,
    Apply,
    NotifyContacts,
    Triage {
        severity: Severity,
        personal_data_leak: bool,
    },
    Contain,
    BeginClientVerification,
    Restore,
    Close,
    CloseUnfounded,
    VerifyIdentity,
    Prepare,
    Execute,
    NotifyClient,
    ProposeRefusal(LegalGround),
}

/// The name of an event, without its payload: what the table is keyed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    BeginVerification,
    Verify,
    SendLink,
    Redeem,
    Expire,
    Refuse,
    SubmitForApproval,
    Approve,
    SendBack,
    Apply,
    NotifyContacts,
    Triage,
    Contain,
    BeginClientVerification,
    Restore,
    Close,
    CloseUnfounded,
    VerifyIdentity,
    Prepare,
    Execute,
    NotifyClient,
    ProposeRefusal,
}

impl EventKind {
    pub const ALL: [EventKind; 22] = [
        EventKind::BeginVerification,
        EventKind::Verify,
        EventKind::SendLink,
        EventKind::Redeem,
        EventKind::Expire,
        EventKind::Refuse,
        EventKind::SubmitForApproval,
        EventKind::Approve,
        EventKind::SendBack,
        EventKind::Apply,
        EventKind::NotifyContacts,
        EventKind::Triage,
        EventKind::Contain,
        EventKind::BeginClientVerification,
        EventKind::Restore,
        EventKind::Close,
        EventKind::CloseUnfounded,
        EventKind::VerifyIdentity,
        EventKind::Prepare,
        EventKind::Execute,
        EventKind::NotifyClient,
        EventKind::ProposeRefusal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::BeginVerification => "begin_verification",
            EventKind::Verify => "verify",
            EventKind::SendLink => "send_link",
            EventKind::Redeem => "redeem",
            EventKind::Expire => "expire",
            EventKind::Refuse => "refuse",
            EventKind::SubmitForApproval => "submit_for_approval",
            EventKind::Approve => "approve",
            EventKind::SendBack => "send_back",
            EventKind::Apply => "apply",
            EventKind::NotifyContacts => "notify_contacts",
            EventKind::Triage => "triage",
            EventKind::Contain => "contain",
            EventKind::BeginClientVerification => "begin_client_verification",
            EventKind::Restore => "restore",
            EventKind::Close => "close",
            EventKind::CloseUnfounded => "close_unfounded",
            EventKind::VerifyIdentity => "verify_identity",
            EventKind::Prepare => "prepare",
            EventKind::Execute => "execute",
            EventKind::NotifyClient => "notify_client",
            EventKind::ProposeRefusal => "propose_refusal",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// Events whose actor becomes the request's preparer (who may then not approve it).
    pub fn marks_preparer(self) -> bool {
        matches!(
            self,
            EventKind::Prepare | EventKind::SubmitForApproval | EventKind::ProposeRefusal
        )
    }

    /// Events that record that the requester's identity was verified.
    pub fn marks_identity_verified(self) -> bool {
        matches!(self, EventKind::Verify | EventKind::VerifyIdentity)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Event {
    pub fn kind(self) -> EventKind {
        match self {
            Event::BeginVerification => EventKind::BeginVerification,
            Event::Verify => EventKind::Verify,
            Event::SendLink => EventKind::SendLink,
            Event::Redeem => EventKind::Redeem,
            Event::Expire => EventKind::Expire,
            Event::Refuse(_) => EventKind::Refuse,
            Event::SubmitForApproval => EventKind::SubmitForApproval,
            Event::Approve => EventKind::Approve,
            Event::SendBack => EventKind::SendBack,
            Event::Apply => EventKind::Apply,
            Event::NotifyContacts => EventKind::NotifyContacts,
            Event::Triage { .. } => EventKind::Triage,
            Event::Contain => EventKind::Contain,
            Event::BeginClientVerification => EventKind::BeginClientVerification,
            Event::Restore => EventKind::Restore,
            Event::Close => EventKind::Close,
            Event::CloseUnfounded => EventKind::CloseUnfounded,
            Event::VerifyIdentity => EventKind::VerifyIdentity,
            Event::Prepare => EventKind::Prepare,
            Event::Execute => EventKind::Execute,
            Event::NotifyClient => EventKind::NotifyClient,
            Event::ProposeRefusal(_) => EventKind::ProposeRefusal,
        }
    }
}

/// A condition a row needs besides its state and event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Guard {
    /// The requester is one of the account's designated contacts (§4).
    DesignatedContact,
    /// The requesting contact has an email to deliver a reset to.
    ContactHasEmail,
    /// The actor did not prepare this request (four eyes, §14).
    NotPreparer,
    IdentityVerified,
    IdentityNotVerified,
}

/// The facts guards are evaluated against; gathered by the desk layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    pub requester_is_designated_contact: bool,
    pub contact_has_email: bool,
    pub actor_is_preparer: bool,
    pub identity_verified: bool,
}

impl Guard {
    fn holds(self, facts: &Facts) -> bool {
        match self {
            Guard::DesignatedContact => facts.requester_is_designated_contact,
            Guard::ContactHasEmail => facts.contact_has_email,
            Guard::NotPreparer => !facts.actor_is_preparer,
            Guard::IdentityVerified => facts.identity_verified,
            Guard::IdentityNotVerified => !facts.identity_verified,
        }
    }
}

struct Row {
    flow: Flow,
    from: State,
    event: EventKind,
    guards: &'static [Guard],
    to: State,
}

const fn row(
    flow: Flow,
    from: State,
    event: EventKind,
    guards: &'static [Guard],
    to: State,
) -> Row {
    Row {
        flow,
        from,
        event,
        guards,
        to,
    }
}

use EventKind as E;
use Flow as F;
use Guard as G;
use State as S;

/// The whole table. Order matters only where two rows share flow, state and event: the
/// first whose guards hold wins (`SendBack` from a proposed refusal).
const TABLE: &[Row] = &[
    // Password reset (§4–7)
    row(
        F::PasswordReset,
        S::Received,
        E::BeginVerification,
        &[G::DesignatedContact],
        S::Verifying,
    ),
    row(
        F::PasswordReset,
        S::Verifying,
        E::Verify,
        &[G::DesignatedContact],
        S::Verified,
    ),
    row(
        F::PasswordReset,
        S::Verified,
        E::SendLink,
        &[G::ContactHasEmail],
        S::LinkSent,
    ),
    row(F::PasswordReset, S::LinkSent, E::Redeem, &[], S::Done),
    row(F::PasswordReset, S::LinkSent, E::Expire, &[], S::Expired),
    row(F::PasswordReset, S::Received, E::Refuse, &[], S::Refused),
    row(F::PasswordReset, S::Verifying, E::Refuse, &[], S::Refused),
    row(F::PasswordReset, S::Verified, E::Refuse, &[], S::Refused),
    // Designated-contact change (§4)
    row(
        F::ContactChange,
        S::Received,
        E::Verify,
        &[G::DesignatedContact],
        S::Verified,
    ),
    row(
        F::ContactChange,
        S::Verified,
        E::SubmitForApproval,
        &[],
        S::AwaitingApproval,
    ),
    row(
        F::ContactChange,
        S::AwaitingApproval,
        E::Approve,
        &[G::NotPreparer],
        S::Approved,
    ),
    row(
        F::ContactChange,
        S::AwaitingApproval,
        E::SendBack,
        &[G::NotPreparer],
        S::Verified,
    ),
    row(
        F::ContactChange,
        S::AwaitingApproval,
        E::Refuse,
        &[G::NotPreparer],
        S::Refused,
    ),
    row(F::ContactChange, S::Received, E::Refuse, &[], S::Refused),
    row(F::ContactChange, S::Verified, E::Refuse, &[], S::Refused),
    row(F::ContactChange, S::Approved, E::Apply, &[], S::Applied),
    row(
        F::ContactChange,
        S::Applied,
        E::NotifyContacts,
        &[],
        S::Done,
    ),
    // Compromise report (§4, §9)
    row(F::Compromise, S::Reported, E::Triage, &[], S::Triaged),
    row(F::Compromise, S::Triaged, E::Contain, &[], S::Contained),
    row(
        F::Compromise,
        S::Contained,
        E::BeginClientVerification,
        &[],
        S::VerifyingClient,
    ),
    row(
        F::Compromise,
        S::VerifyingClient,
        E::Restore,
        &[],
        S::Restored,
    ),
    row(F::Compromise, S::Restored, E::Close, &[], S::Closed),
    row(
        F::Compromise,
        S::Reported,
        E::CloseUnfounded,
        &[],
        S::ClosedUnfounded,
    ),
    row(
        F::Compromise,
        S::Triaged,
        E::CloseUnfounded,
        &[],
        S::ClosedUnfounded,
    ),
    // Data-subject request (§14)
    row(
        F::Subject,
        S::Received,
        E::VerifyIdentity,
        &[],
        S::IdentityVerified,
    ),
    row(
        F::Subject,
        S::IdentityVerified,
        E::Prepare,
        &[],
        S::Prepared,
    ),
    row(
        F::Subject,
        S::Prepared,
        E::SubmitForApproval,
        &[],
        S::AwaitingApproval,
    ),
    row(
        F::Subject,
        S::AwaitingApproval,
        E::Approve,
        &[G::NotPreparer],
        S::Approved,
    ),
    row(
        F::Subject,
        S::AwaitingApproval,
        E::SendBack,
        &[G::NotPreparer],
        S::Prepared,
    ),
    row(F::Subject, S::Approved, E::Execute, &[], S::Executed),
    row(
        F::Subject,
        S::Executed,
        E::NotifyClient,
        &[],
        S::ClientNotified,
    ),
    row(F::Subject, S::ClientNotified, E::Close, &[], S::Closed),
    row(
        F::Subject,
        S::Received,
        E::ProposeRefusal,
        &[],
        S::RefusalProposed,
    ),
    row(
        F::Subject,
        S::IdentityVerified,
        E::ProposeRefusal,
        &[],
        S::RefusalProposed,
    ),
    row(
        F::Subject,
        S::Prepared,
        E::ProposeRefusal,
        &[],
        S::RefusalProposed,
    ),
    row(
        F::Subject,
        S::RefusalProposed,
        E::Approve,
        &[G::NotPreparer],
        S::RefusalApproved,
    ),
    row(
        F::Subject,
        S::RefusalProposed,
        E::SendBack,
        &[G::NotPreparer, G::IdentityVerified],
        S::IdentityVerified,
    ),
    row(
        F::Subject,
        S::RefusalProposed,
        E::SendBack,
        &[G::NotPreparer, G::IdentityNotVerified],
        S::Received,
    ),
    row(
        F::Subject,
        S::RefusalApproved,
        E::NotifyClient,
        &[],
        S::ClientNotified,
    ),
];

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a {kind} request in state {state} does not accept the event {event}")]
    NotAllowed {
        kind: &'static str,
        state: State,
        event: EventKind,
    },
    #[error("{state} is not a state of a {kind} request")]
    ForeignState { kind: &'static str, state: State },
    #[error(
        "only a designated contact may ask for this (§4): refuse the request with the reason \
         not_designated_contact"
    )]
    NotDesignatedContact,
    #[error(
        "the designated contact has no email, so a reset cannot be delivered: refuse the \
         request with the reason contact_has_no_email"
    )]
    ContactHasNoEmail,
    #[error("you prepared this request, so another supervisor must approve or refuse it")]
    OwnPreparation,
    #[error("the requester's identity has not been verified yet")]
    IdentityNotVerified,
    #[error("the requester's identity is already verified")]
    IdentityAlreadyVerified,
    #[error("severity {0} is out of range: use 1 (most urgent) to 4")]
    BadSeverity(u8),
}

impl Guard {
    fn failure(self) -> TransitionError {
        match self {
            Guard::DesignatedContact => TransitionError::NotDesignatedContact,
            Guard::ContactHasEmail => TransitionError::ContactHasNoEmail,
            Guard::NotPreparer => TransitionError::OwnPreparation,
            Guard::IdentityVerified => TransitionError::IdentityNotVerified,
            Guard::IdentityNotVerified => TransitionError::IdentityAlreadyVerified,
        }
    }
}

/// The state `event` moves a `kind` request from `state` to, or why it cannot.
pub fn next_state(
    kind: RequestKind,
    state: State,
    event: EventKind,
    facts: &Facts,
) -> Result<State, TransitionError> {
    let flow = Flow::of(kind);
    if !flow.states().contains(&state) {
        return Err(TransitionError::ForeignState {
            kind: kind.as_str(),
            state,
        });
    }
    let mut first_failure = None;
    for r in TABLE
        .iter()
        .filter(|r| r.flow == flow && r.from == state && r.event == event)
    {
        match r.guards.iter().find(|g| !g.holds(facts)) {
            None => return Ok(r.to),
            Some(g) => {
                first_failure.get_or_insert(g.failure());
            }
        }
    }
    Err(first_failure.unwrap_or(TransitionError::NotAllowed {
        kind: kind.as_str(),
        state,
        event,
    }))
}

/// The events a `kind` request in `state` accepts (whatever the facts), for menus and help.
pub fn events_from(kind: RequestKind, state: State) -> Vec<EventKind> {
    let flow = Flow::of(kind);
    let mut out: Vec<EventKind> = TABLE
        .iter()
        .filter(|r| r.flow == flow && r.from == state)
        .map(|r| r.event)
        .collect();
    out.dedup();
    out
}

/// One row of the table as plain data, for the documentation generator and its test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowDoc {
    pub flow: Flow,
    pub from: State,
    pub event: EventKind,
    pub guards: Vec<Guard>,
    pub to: State,
}

pub fn table() -> Vec<RowDoc> {
    TABLE
        .iter()
        .map(|r| RowDoc {
            flow: r.flow,
            from: r.from,
            event: r.event,
            guards: r.guards.to_vec(),
            to: r.to,
        })
        .collect()
}

#[cfg(test)]
mod tests;

impl Guard {
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::DesignatedContact => "the requester is a designated contact",
            Guard::ContactHasEmail => "the contact has an email",
            Guard::NotPreparer => "the actor did not prepare it",
            Guard::IdentityVerified => "identity verified",
            Guard::IdentityNotVerified => "identity not verified",
        }
    }
}

impl Flow {
    pub fn title(self) -> &'static str {
        match self {
            Flow::PasswordReset => "Password reset (§4–7)",
            Flow::ContactChange => "Designated-contact change (§4)",
            Flow::Compromise => "Compromise report (§4, §9)",
            Flow::Subject => {
                "Data-subject request: account-state report, blocking, unblocking, deletion (§14)"
            }
        }
    }
}

/// The transition table as the Markdown of `docs/workflows.md` (a test keeps them equal).
pub fn markdown() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "# Request workflows\n\n\
         Generated from the transition table in `src/domain/workflow.rs`; a test fails when \
         this page and the code differ (regenerate with `UPDATE_DOCS=1 cargo test --test it docs`).\n\
         Each request moves only along these rows. A row applies when the request is in the \
         state *from*, the event is *event* and every guard holds; anything else is refused \
         with a typed error. Who may send each event is decided by the access table \
         (`src/domain/policy.rs`, `event_action`). Terminal states (the request leaves the \
         open queue): done, refused, expired, closed, closed_unfounded.\n",
    );
    for flow in [
        Flow::PasswordReset,
        Flow::ContactChange,
        Flow::Compromise,
        Flow::Subject,
    ] {
        let _ = write!(
            out,
            "\n## {}\n\nStarts in `{}`.\n\n| from | event | guards | to |\n|---|---|---|---|\n",
            flow.title(),
            flow.initial()
        );
        for r in table().into_iter().filter(|r| r.flow == flow) {
            let guards = if r.guards.is_empty() {
                "—".to_owned()
            } else {
                r.guards
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | `{}` |",
                r.from, r.event, guards, r.to
            );
        }
    }
    out
}
