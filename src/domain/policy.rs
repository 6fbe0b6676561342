//! The access table: role × field → what the role sees, and role × action → allowed.
//!
//! This is the one place that decides (DESIGN.md principle 1). Everything else asks it;
//! nothing re-implements it. Anything not written here is denied. The tables follow
//! DOMAIN.md ("Personal fields and who sees them", "Who may do what"); the tests check
//! every cell against expectations written out separately.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::request::{Queue, RequestKind};
use super::staff::Role;
use super::workflow::{EventKind, State};

/// A personal field (or group of fields) the table speaks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    AccountName,
    Email,
    Phone,
    PostalAddress,
    TaxId,
    ContactName,
    ContactChannels,
    ContactPassphrase,
    LoginHistory,
    /// Correspondence and notes (§13), and timeline entries.
    Correspondence,
    /// Verification data collected for a case (§9).
    VerificationData,
    /// Passwords and reset secrets: never shown to anyone (§4).
    Password,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::AccountName,
        Field::Email,
        Field::Phone,
        Field::PostalAddress,
        Field::TaxId,
        Field::ContactName,
        Field::ContactChannels,
        Field::ContactPassphrase,
        Field::LoginHistory,
        Field::Correspondence,
        Field::VerificationData,
        Field::Password,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::AccountName => "account_name",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::PostalAddress => "postal_address",
            Field::TaxId => "tax_id",
            Field::ContactName => "contact_name",
            Field::ContactChannels => "contact_channels",
            Field::ContactPassphrase => "contact_passphrase",
            Field::LoginHistory => "login_history",
            Field::Correspondence => "correspondence",
            Field::VerificationData => "verification_data",
            Field::Password => "password",
        }
    }

    pub fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == s)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a field is shown. Ordered from strictest to most open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    Hidden,
    /// A hint (`i***@m***.ru`), never the value.
    Masked,
    Clear,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Hidden => "hidden",
            Visibility::Masked => "masked",
            Visibility::Clear => "clear",
        }
    }
}

/// What a role may do with a field in a given situation, after every rule applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Access {
    pub visibility: Visibility,
    /// May type a value and learn match / no match.
    pub check: bool,
    /// May reveal it once, with a stated purpose, audited.
    pub reveal: bool,
}

impl Access {
    pub const NONE: Access = Access {
        visibility: Visibility::Hidden,
        check: false,
        reveal: false,
    };
}

/// The situation a field is looked at in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FieldContext {
    /// The request belongs to a queue the role works (for "on its queues" cells).
    pub on_own_queue: bool,
    /// The verification data belongs to the case being looked at (for "that case" cells).
    pub that_case: bool,
    /// The account is blocked (§14): every cell degrades to at most masked, no reveal.
    pub account_blocked: bool,
    /// The look happens inside the account's own subject request (checks on a blocked account).
    pub in_own_subject_request: bool,
}

/// Where a cell's rights apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Always,
    /// Only on requests of the queues the role works.
    OwnQueues,
    /// Only for verification data of the case being looked at.
    ThatCase,
}

#[derive(Clone, Copy, Debug)]
struct Cell {
    visibility: Visibility,
    check: bool,
    reveal: bool,
    scope: Scope,
}

const fn cell(visibility: Visibility, check: bool, reveal: bool, scope: Scope) -> Cell {
    Cell {
        visibility,
        check,
        reveal,
        scope,
    }
}

const HIDDEN: Cell = cell(Visibility::Hidden, false, false, Scope::Always);
const CLEAR: Cell = cell(Visibility::Clear, false, false, Scope::Always);
const MASKED: Cell = cell(Visibility::Masked, false, false, Scope::Always);
const MASKED_CHECK_REVEAL: Cell = cell(Visibility::Masked, true, true, Scope::Always);
const MASKED_CHECK: Cell = cell(Visibility::Masked, true, false, Scope::Always);
const MASKED_REVEAL: Cell = cell(Visibility::Masked, false, true, Scope::Always);
const CHECK_ONLY: Cell = cell(Visibility::Hidden, true, false, Scope::Always);

/// The field table (DOMAIN.md, "Personal fields and who sees them"), before the
/// situational rules. A cell not written here is hidden.
fn base_cell(role: Role, field: Field) -> Cell {
    use Field as F;
    use Role as R;
    match (field, role) {
        (F::AccountName, R::Agent | R::Oncall | R::Supervisor) => CLEAR,
        (F::AccountName, R::Auditor) => MASKED,
        (F::Email | F::Phone, R::Agent | R::Oncall | R::Supervisor) => MASKED_CHECK_REVEAL,
        (F::PostalAddress | F::TaxId, R::Supervisor) => MASKED_REVEAL,
        (F::ContactName, R::Agent | R::Oncall | R::Supervisor) => CLEAR,
        (F::ContactChannels, R::Agent) => MASKED_CHECK,
        (F::ContactChannels, R::Oncall | R::Supervisor) => MASKED_CHECK_REVEAL,
        (F::ContactPassphrase, R::Agent | R::Oncall | R::Supervisor) => CHECK_ONLY,
        (F::LoginHistory, R::Oncall | R::Supervisor) => CLEAR,
        (F::Correspondence, R::Agent | R::Oncall) => {
            cell(Visibility::Clear, false, false, Scope::OwnQueues)
        }
        (F::Correspondence, R::Supervisor) => CLEAR,
        (F::VerificationData, R::Agent) => CHECK_ONLY,
        (F::VerificationData, R::Oncall) => cell(Visibility::Masked, false, true, Scope::ThatCase),
        (F::VerificationData, R::Supervisor) => MASKED_REVEAL,
        _ => HIDDEN,
    }
}

/// What `role` may do with `field` in `ctx`, every rule applied.
pub fn field_access(role: Role, field: Field, ctx: FieldContext) -> Access {
    let c = base_cell(role, field);
    let in_scope = match c.scope {
        Scope::Always => true,
        Scope::OwnQueues => ctx.on_own_queue,
        Scope::ThatCase => ctx.that_case,
    };
    if !in_scope {
        return Access::NONE;
    }
    let mut access = Access {
        visibility: c.visibility,
        check: c.check,
        reveal: c.reveal,
    };
    // Agents and on-call engineers check and reveal only on requests of their own queues
    // ("per the field table, on own").
    if matches!(role, Role::Agent | Role::Oncall) && !ctx.on_own_queue {
        access.check = false;
        access.reveal = false;
    }
    if ctx.account_blocked {
        access.visibility = access.visibility.min(Visibility::Masked);
        access.reveal = false;
        access.check = access.check && ctx.in_own_subject_request;
    }
    access
}

/// Something a staff member may try to do. Check and reveal go through [`field_access`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// See a queue and open its requests.
    ViewQueue(Queue),
    /// Open a request of any kind one filed oneself, its state only.
    OpenOwnFiled,
    FileRequest,
    /// Take, assign, release, add a note.
    Work(Queue),
    VerifyRequester(Queue),
    SendResetLink(Queue),
    LockAccount,
    UnlockAccount,
    EndSessions,
    ForceReset,
    TriageCompromise,
    RecordVerificationData,
    CloseCompromise,
    PrepareSubjectRequest,
    PrepareContactChange,
    /// Approve or refuse an execution or a refusal; `own` = the actor prepared it.
    Approve {
        own: bool,
    },
    ExtendDeadline,
    ReadAudit,
    AcknowledgeNotice,
    ManageStaff,
    /// Steps only the desk itself takes (delivery, redemption, expiry).
    System,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::ViewQueue(_) => "view_queue",
            Action::OpenOwnFiled => "open_own_filed",
            Action::FileRequest => "file_request",
            Action::Work(_) => "work",
            Action::VerifyRequester(_) => "verify_requester",
            Action::SendResetLink(_) => "send_reset_link",
            Action::LockAccount => "lock_account",
            Action::UnlockAccount => "unlock_account",
            Action::EndSessions => "end_sessions",
            Action::ForceReset => "force_reset",
            Action::TriageCompromise => "triage_compromise",
            Action::RecordVerificationData => "record_verification_data",
            Action::CloseCompromise => "close_compromise",
            Action::PrepareSubjectRequest => "prepare_subject_request",
            Action::PrepareContactChange => "prepare_contact_change",
            Action::Approve { .. } => "approve",
            Action::ExtendDeadline => "extend_deadline",
            Action::ReadAudit => "read_audit",
            Action::AcknowledgeNotice => "acknowledge_notice",
            Action::ManageStaff => "manage_staff",
            Action::System => "system",
        }
    }
}

/// The queues a role works ("own" in DOMAIN.md).
pub fn works_queue(role: Role, queue: Queue) -> bool {
    match role {
        Role::Agent => matches!(queue, Queue::Reset | Queue::Subject),
        Role::Oncall => queue == Queue::Compromise,
        Role::Supervisor => true,
        Role::Auditor | Role::Admin => false,
    }
}

/// The action table (DOMAIN.md, "Who may do what"). Anything not written here is denied.
pub fn allows(role: Role, action: Action) -> bool {
    use Action as A;
    use Role as R;
    match action {
        A::ViewQueue(q) | A::Work(q) => works_queue(role, q),
        A::OpenOwnFiled | A::FileRequest => matches!(role, R::Agent | R::Oncall | R::Supervisor),
        A::VerifyRequester(q) | A::SendResetLink(q) => match role {
            R::Agent | R::Supervisor => true,
            R::Oncall => q == Queue::Compromise,
            R::Auditor | R::Admin => false,
        },
        A::LockAccount
        | A::UnlockAccount
        | A::EndSessions
        | A::ForceReset
        | A::TriageCompromise
        | A::RecordVerificationData
        | A::CloseCompromise => matches!(role, R::Oncall | R::Supervisor),
        A::PrepareSubjectRequest | A::PrepareContactChange => {
            matches!(role, R::Agent | R::Supervisor)
        }
        A::Approve { own } => role == R::Supervisor && !own,
        A::ExtendDeadline | A::AcknowledgeNotice => role == R::Supervisor,
        A::ReadAudit => matches!(role, R::Supervisor | R::Auditor),
        A::ManageStaff => role == R::Admin,
        A::System => false,
    }
}

/// The action a state event needs from a staff member on a `kind` request in state `from`.
/// `own_preparation`: the actor prepared the request.
pub fn event_action(
    kind: RequestKind,
    from: State,
    event: EventKind,
    own_preparation: bool,
) -> Action {
    use EventKind as E;
    let queue = kind.queue();
    if from == State::AwaitingApproval && event == E::Refuse {
        // Refusing a change that awaits approval is an approval decision (four eyes).
        return Action::Approve {
            own: own_preparation,
        };
    }
    match (kind, event) {
        (_, E::BeginVerification | E::Verify | E::VerifyIdentity) => Action::VerifyRequester(queue),
        (RequestKind::PasswordReset, E::Refuse) => Action::VerifyRequester(queue),
        (_, E::SendLink) => Action::SendResetLink(queue),
        (_, E::Redeem | E::Expire | E::NotifyContacts) => Action::System,
        (RequestKind::ContactChange, E::SubmitForApproval | E::Apply) => {
            Action::PrepareContactChange
        }
        (RequestKind::ContactChange, E::Refuse) => Action::PrepareContactChange,
        (_, E::Approve | E::SendBack) => Action::Approve {
            own: own_preparation,
        },
        (_, E::Triage) => Action::TriageCompromise,
        (_, E::Contain) => Action::LockAccount,
        (_, E::BeginClientVerification) => Action::RecordVerificationData,
        (RequestKind::Compromise, E::Restore) => Action::ForceReset,
        (RequestKind::Compromise, E::Close | E::CloseUnfounded) => Action::CloseCompromise,
        (
            _,
            E::Prepare
            | E::SubmitForApproval
            | E::ProposeRefusal
            | E::Execute
            | E::NotifyClient
            | E::Close,
        ) => Action::PrepareSubjectRequest,
        // Rows the workflow table never has: deny.
        (_, E::Refuse | E::Apply | E::Restore | E::CloseUnfounded) => Action::System,
    }
}

/// The first screen a role lands on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Landing {
    Queues,
    Audit,
    Staff,
}

pub fn landing(role: Role) -> Landing {
    match role {
        Role::Agent | Role::Oncall | Role::Supervisor => Landing::Queues,
        Role::Auditor => Landing::Audit,
        Role::Admin => Landing::Staff,
    }
}

/// A purpose from the fixed list a reveal must state (§11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    IdentifyClient,
    ProtectAccount,
    ServiceMessage,
    FulfilRequest,
}

impl Purpose {
    pub const ALL: [Purpose; 4] = [
        Purpose::IdentifyClient,
        Purpose::ProtectAccount,
        Purpose::ServiceMessage,
        Purpose::FulfilRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::IdentifyClient => "identify_client",
            Purpose::ProtectAccount => "protect_account",
            Purpose::ServiceMessage => "service_message",
            Purpose::FulfilRequest => "fulfil_request",
        }
    }

    pub fn parse(s: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

#[cfg(test)]
mod tests;
