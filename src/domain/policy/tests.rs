//! Every cell of both tables against DOMAIN.md, re-typed here in a notation of its own.

use super::*;

/// DOMAIN.md, "Personal fields and who sees them". Columns: agent, oncall, supervisor,
/// auditor, admin. `m` masked, `c` clear, `h` hidden, `+check`, `+reveal`; `@own` = only on
/// the role's own queues; `@case` = only for that case's verification data.
const FIELDS: &str = "
account_name       | c                | c                      | c              | m | h
email              | m+check+reveal   | m+check+reveal         | m+check+reveal | h | h
phone              | m+check+reveal   | m+check+reveal         | m+check+reveal | h | h
postal_address     | h                | h                      | m+reveal       | h | h
tax_id             | h                | h                      | m+reveal       | h | h
contact_name       | c                | c                      | c              | h | h
contact_channels   | m+check          | m+check+reveal         | m+check+reveal | h | h
contact_passphrase | h+check          | h+check                | h+check        | h | h
login_history      | h                | c                      | c              | h | h
correspondence     | c@own            | c@own                  | c              | h | h
verification_data  | h+check          | m+reveal@case          | m+reveal       | h | h
password           | h                | h                      | h              | h | h
";

struct Spec {
    vis: Visibility,
    check: bool,
    reveal: bool,
    own_only: bool,
    case_only: bool,
}

fn spec(field: Field, role: Role) -> Spec {
    let col = match role {
        Role::Agent => 1,
        Role::Oncall => 2,
        Role::Supervisor => 3,
        Role::Auditor => 4,
        Role::Admin => 5,
    };
    let line = FIELDS
        .lines()
        .map(|l| l.split('|').map(str::trim).collect::<Vec<_>>())
        .find(|cols| cols[0] == field.as_str())
        .unwrap_or_else(|| panic!("no expectation for {field}"));
    let text = line[col];
    let vis = match &text[..1] {
        "c" => Visibility::Clear,
        "m" => Visibility::Masked,
        "h" => Visibility::Hidden,
        other => panic!("bad cell {other}"),
    };
    Spec {
        vis,
        check: text.contains("+check"),
        reveal: text.contains("+reveal"),
        own_only: text.contains("@own"),
        case_only: text.contains("@case"),
    }
}

/// The expected access, applying DOMAIN.md's situational rules as stated there.
fn expected(role: Role, field: Field, ctx: FieldContext) -> Access {
    let s = spec(field, role);
    if (s.own_only && !ctx.on_own_queue) || (s.case_only && !ctx.that_case) {
        return Access {
            visibility: Visibility::Hidden,
            check: false,
            reveal: false,
        };
    }
    let mut vis = s.vis;
    let mut check = s.check;
    let mut reveal = s.reveal;
    // "check a value / reveal a field: per the field table, on own" for agent and oncall.
    if matches!(role, Role::Agent | Role::Oncall) && !ctx.on_own_queue {
        check = false;
        reveal = false;
    }
    // Blocked: the stricter of itself and masked; no reveal; checks only in its own subject request.
    if ctx.account_blocked {
        if vis == Visibility::Clear {
            vis = Visibility::Masked;
        }
        reveal = false;
        if !ctx.in_own_subject_request {
            check = false;
        }
    }
    Access {
        visibility: vis,
        check,
        reveal,
    }
}

fn contexts() -> Vec<FieldContext> {
    let mut out = vec![];
    for own in [false, true] {
        for case in [false, true] {
            for blocked in [false, true] {
                for subject in [false, true] {
                    out.push(FieldContext {
                        on_own_queue: own,
                        that_case: case,
                        account_blocked: blocked,
                        in_own_subject_request: subject,
                    });
                }
            }
        }
    }
    out
}

#[test]
fn every_field_cell_in_every_situation() {
    let mut n = 0;
    for role in Role::ALL {
        for field in Field::ALL {
            for ctx in contexts() {
                assert_eq!(
                    field_access(role, field, ctx),
                    expected(role, field, ctx),
                    "{role} {field} {ctx:?}"
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 5 * 12 * 16);
}

#[test]
fn spot_checks_in_plain_words() {
    let own = FieldContext {
        on_own_queue: true,
        that_case: true,
        ..FieldContext::default()
    };
    // Nobody ever sees a password.
    for role in Role::ALL {
        assert_eq!(field_access(role, Field::Password, own), Access::NONE);
    }
    // The auditor sees only a masked account name; the admin nothing at all.
    for field in Field::ALL {
        let a = field_access(Role::Auditor, field, own);
        assert!(!a.check && !a.reveal);
        let expect = if field == Field::AccountName {
            Visibility::Masked
        } else {
            Visibility::Hidden
        };
        assert_eq!(a.visibility, expect, "{field}");
        assert_eq!(
            field_access(Role::Admin, field, own),
            Access::NONE,
            "{field}"
        );
    }
    // An agent cannot reveal a contact's channels, an on-call engineer can.
    assert!(!field_access(Role::Agent, Field::ContactChannels, own).reveal);
    assert!(field_access(Role::Oncall, Field::ContactChannels, own).reveal);
    // Only a supervisor sees (masked) the postal address.
    assert_eq!(
        field_access(Role::Agent, Field::PostalAddress, own).visibility,
        Visibility::Hidden
    );
    assert_eq!(
        field_access(Role::Supervisor, Field::PostalAddress, own).visibility,
        Visibility::Masked
    );
    // A blocked account: clear becomes masked, no reveal, checks only in its own subject request.
    let blocked = FieldContext {
        account_blocked: true,
        ..own
    };
    assert_eq!(
        field_access(Role::Agent, Field::AccountName, blocked).visibility,
        Visibility::Masked
    );
    assert!(!field_access(Role::Supervisor, Field::Email, blocked).reveal);
    assert!(!field_access(Role::Supervisor, Field::Email, blocked).check);
    let in_subject = FieldContext {
        in_own_subject_request: true,
        ..blocked
    };
    assert!(field_access(Role::Supervisor, Field::Email, in_subject).check);
    // Correspondence of a queue the agent does not work is hidden.
    let foreign = FieldContext {
        on_own_queue: false,
        ..own
    };
    assert_eq!(
        field_access(Role::Agent, Field::Correspondence, foreign),
        Access::NONE
    );
    assert_eq!(
        field_access(Role::Supervisor, Field::Correspondence, foreign).visibility,
        Visibility::Clear
    );
}

/// DOMAIN.md, "Who may do what". Columns: agent, oncall, supervisor, auditor, admin.
const ACTIONS: &str = "
view reset                 | y | n | y | n | n
view compromise            | n | y | y | n | n
view subject               | y | n | y | n | n
open_own_filed             | y | y | y | n | n
file_request               | y | y | y | n | n
work reset                 | y | n | y | n | n
work compromise            | n | y | y | n | n
work subject               | y | n | y | n | n
verify reset               | y | n | y | n | n
verify compromise          | y | y | y | n | n
verify subject             | y | n | y | n | n
reset_link reset           | y | n | y | n | n
reset_link compromise      | y | y | y | n | n
reset_link subject         | y | n | y | n | n
lock                       | n | y | y | n | n
unlock                     | n | y | y | n | n
end_sessions               | n | y | y | n | n
force_reset                | n | y | y | n | n
triage                     | n | y | y | n | n
record_verification        | n | y | y | n | n
close_compromise           | n | y | y | n | n
prepare_subject            | y | n | y | n | n
prepare_contact_change     | y | n | y | n | n
approve others             | n | n | y | n | n
approve own                | n | n | n | n | n
extend_deadline            | n | n | y | n | n
read_audit                 | n | n | y | y | n
acknowledge_notice         | n | n | y | n | n
manage_staff               | n | n | n | n | y
system                     | n | n | n | n | n
";

fn action_named(name: &str) -> Action {
    let q = |s: &str| match s {
        "reset" => Queue::Reset,
        "compromise" => Queue::Compromise,
        "subject" => Queue::Subject,
        other => panic!("queue {other}"),
    };
    let mut words = name.split_whitespace();
    let head = words.next().unwrap_or_default();
    let arg = words.next().unwrap_or_default();
    match head {
        "view" => Action::ViewQueue(q(arg)),
        "open_own_filed" => Action::OpenOwnFiled,
        "file_request" => Action::FileRequest,
        "work" => Action::Work(q(arg)),
        "verify" => Action::VerifyRequester(q(arg)),
        "reset_link" => Action::SendResetLink(q(arg)),
        "lock" => Action::LockAccount,
        "unlock" => Action::UnlockAccount,
        "end_sessions" => Action::EndSessions,
        "force_reset" => Action::ForceReset,
        "triage" => Action::TriageCompromise,
        "record_verification" => Action::RecordVerificationData,
        "close_compromise" => Action::CloseCompromise,
        "prepare_subject" => Action::PrepareSubjectRequest,
        "prepare_contact_change" => Action::PrepareContactChange,
        "approve" => Action::Approve { own: arg == "own" },
        "extend_deadline" => Action::ExtendDeadline,
        "read_audit" => Action::ReadAudit,
        "acknowledge_notice" => Action::AcknowledgeNotice,
        "manage_staff" => Action::ManageStaff,
        "system" => Action::System,
        other => panic!("action {other}"),
    }
}

#[test]
fn every_action_cell() {
    let mut n = 0;
    for line in ACTIONS.lines().filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let action = action_named(cols[0]);
        for (i, role) in Role::ALL.into_iter().enumerate() {
            let want = cols[i + 1] == "y";
            assert_eq!(allows(role, action), want, "{role} {}", cols[0]);
            n += 1;
        }
    }
    assert_eq!(n, 30 * 5);
}

#[test]
fn events_need_the_right_action() {
    use EventKind as E;
    use RequestKind as K;
    // Approvals are four-eyes whatever the kind.
    for kind in [
        K::ContactChange,
        K::SubjectDeletion,
        K::SubjectBlocking,
        K::SubjectReport,
    ] {
        assert_eq!(
            event_action(kind, State::AwaitingApproval, E::Approve, true),
            Action::Approve { own: true }
        );
        assert_eq!(
            event_action(kind, State::AwaitingApproval, E::Approve, false),
            Action::Approve { own: false }
        );
    }
    // Refusing a contact change that awaits approval is an approval; before that, preparation.
    assert_eq!(
        event_action(K::ContactChange, State::AwaitingApproval, E::Refuse, false),
        Action::Approve { own: false }
    );
    assert_eq!(
        event_action(K::ContactChange, State::Verified, E::Refuse, false),
        Action::PrepareContactChange
    );
    assert_eq!(
        event_action(K::PasswordReset, State::Received, E::Refuse, false),
        Action::VerifyRequester(Queue::Reset)
    );
    assert_eq!(
        event_action(K::Compromise, State::Triaged, E::Contain, false),
        Action::LockAccount
    );
    assert_eq!(
        event_action(K::Compromise, State::Reported, E::Triage, false),
        Action::TriageCompromise
    );
    assert_eq!(
        event_action(K::PasswordReset, State::LinkSent, E::Redeem, false),
        Action::System
    );
    assert_eq!(
        event_action(K::SubjectDeletion, State::Approved, E::Execute, false),
        Action::PrepareSubjectRequest
    );
    // So an on-call engineer cannot refuse a password reset, and an agent cannot contain.
    assert!(!allows(
        Role::Oncall,
        event_action(K::PasswordReset, State::Received, E::Refuse, false)
    ));
    assert!(!allows(
        Role::Agent,
        event_action(K::Compromise, State::Triaged, E::Contain, false)
    ));
}

#[test]
fn landings() {
    assert_eq!(landing(Role::Agent), Landing::Queues);
    assert_eq!(landing(Role::Oncall), Landing::Queues);
    assert_eq!(landing(Role::Supervisor), Landing::Queues);
    assert_eq!(landing(Role::Auditor), Landing::Audit);
    assert_eq!(landing(Role::Admin), Landing::Staff);
}
