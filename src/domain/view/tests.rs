//! Views hold nothing their cells do not allow, whatever the desk passed in.

use super::*;
use crate::domain::account::{AccountFlags, ClientSession, LoginEvent};

const NAME: &str = "Иванов Пётр Сергеевич";
const EMAIL: &str = "petr.ivanov@example.ru";
const PHONE: &str = "+79161234598";
const ADDRESS: &str = "г. Москва, ул. Ленина, д. 5, кв. 12";
const TAX: &str = "500100732259";
const CONTACT: &str = "Смирнова Анна";
const CONTACT_EMAIL: &str = "anna.smirnova@example.org";
const SOURCE: &str = "203.0.113.77";

fn account(blocked: bool) -> Account {
    Account {
        id: AccountId(7),
        kind: AccountKind::Individual,
        flags: AccountFlags {
            locked: false,
            blocked,
            erased: false,
        },
        name: Some(Personal::from(NAME)),
        email: Some(Personal::from(EMAIL)),
        phone: Some(Personal::from(PHONE)),
        postal_address: Some(Personal::from(ADDRESS)),
        tax_id: Some(Personal::from(TAX)),
        admin_login_count: 1,
        contacts: vec![DesignatedContact {
            id: ContactId(3),
            name: Some(Personal::from(CONTACT)),
            email: Some(Personal::from(CONTACT_EMAIL)),
            phone: None,
            has_passphrase: true,
            has_email: true,
            has_phone: false,
        }],
        login_history: vec![LoginEvent {
            at: Timestamp::from_second(1_700_000_000).unwrap(),
            source: Personal::from(SOURCE),
            result: LoginResult::Success,
        }],
        sessions: vec![ClientSession {
            id: 1,
            started_at: Timestamp::from_second(1_700_000_000).unwrap(),
            source: Personal::from(SOURCE),
        }],
    }
}

fn own() -> FieldContext {
    FieldContext {
        on_own_queue: true,
        that_case: false,
        account_blocked: false,
        in_own_subject_request: false,
    }
}

/// Every string a view could put on a screen.
fn texts(v: &AccountView) -> Vec<String> {
    let mut out = vec![];
    let mut push = |f: &FieldView| {
        if let Some(t) = f.shown.text() {
            out.push(t.to_owned());
        }
    };
    for f in [&v.name, &v.email, &v.phone, &v.postal_address, &v.tax_id] {
        push(f);
    }
    for c in &v.contacts {
        push(&c.name);
        push(&c.email);
        push(&c.phone);
        push(&c.passphrase);
    }
    for h in v.login_history.iter().flatten() {
        out.extend(h.source.text().map(str::to_owned));
    }
    for s in v.active_sessions.iter().flatten() {
        out.extend(s.source.text().map(str::to_owned));
    }
    out
}

fn shows(v: &AccountView, value: &str) -> bool {
    texts(v).iter().any(|t| t.contains(value))
}

#[test]
fn each_role_sees_exactly_its_cells() {
    let a = account(false);
    let agent = Viewer::new(Role::Agent, own()).account(&a);
    assert!(shows(&agent, NAME) && shows(&agent, CONTACT));
    for hidden in [EMAIL, PHONE, ADDRESS, TAX, CONTACT_EMAIL, SOURCE] {
        assert!(!shows(&agent, hidden), "agent sees {hidden}");
    }
    assert_eq!(agent.email.shown.text(), Some("p***@e***.ru"));
    assert!(matches!(agent.postal_address.shown, Shown::Hidden));
    assert!(agent.login_history.is_none());
    assert!(agent.email.can_reveal && agent.email.can_check);
    assert!(!agent.contacts[0].email.can_reveal && agent.contacts[0].email.can_check);
    assert!(agent.contacts[0].passphrase.can_check);

    let oncall = Viewer::new(Role::Oncall, own()).account(&a);
    assert!(shows(&oncall, SOURCE), "on-call sees login history");
    assert!(!shows(&oncall, EMAIL) && !shows(&oncall, ADDRESS));
    assert!(oncall.contacts[0].email.can_reveal);

    let sup = Viewer::new(Role::Supervisor, own()).account(&a);
    assert!(matches!(sup.postal_address.shown, Shown::Masked(_)));
    assert!(sup.postal_address.can_reveal);
    assert_eq!(sup.tax_id.shown.text(), Some("**********59"));
    for hidden in [EMAIL, PHONE, ADDRESS, TAX, CONTACT_EMAIL] {
        assert!(!shows(&sup, hidden), "supervisor sees {hidden} unrevealed");
    }

    let auditor = Viewer::new(Role::Auditor, own()).account(&a);
    assert_eq!(texts(&auditor), vec!["И*** П*** С***".to_owned()]);
    let admin = Viewer::new(Role::Admin, own()).account(&a);
    assert!(texts(&admin).is_empty());
}

#[test]
fn a_blocked_account_shows_masks_only() {
    let a = account(true);
    let ctx = FieldContext {
        account_blocked: true,
        ..own()
    };
    for role in [Role::Agent, Role::Oncall, Role::Supervisor] {
        let v = Viewer::new(role, ctx).account(&a);
        for value in [NAME, CONTACT, EMAIL, SOURCE] {
            assert!(
                !shows(&v, value),
                "{role} sees {value} on a blocked account"
            );
        }
        assert!(!v.email.can_reveal && !v.email.can_check);
        assert!(matches!(v.name.shown, Shown::Masked(_)));
    }
}

#[test]
fn reveals_only_where_the_cell_allows() {
    let viewer = Viewer::new(Role::Agent, own());
    assert!(
        viewer
            .revealed(Field::Email, &Personal::from(EMAIL))
            .is_some()
    );
    assert!(
        viewer
            .revealed(Field::PostalAddress, &Personal::from(ADDRESS))
            .is_none()
    );
    assert!(
        viewer
            .revealed(Field::ContactChannels, &Personal::from(CONTACT_EMAIL))
            .is_none()
    );
    let blocked = Viewer::new(
        Role::Supervisor,
        FieldContext {
            account_blocked: true,
            ..own()
        },
    );
    assert!(
        blocked
            .revealed(Field::Email, &Personal::from(EMAIL))
            .is_none()
    );
}

#[test]
fn hostile_values_arrive_neutralised() {
    let mut a = account(false);
    a.name = Some(Personal::from("Evil\u{1b}]0;pwned\u{7}\u{202e}Corp"));
    let v = Viewer::new(Role::Agent, own()).account(&a);
    let t = v.name.shown.text().unwrap().to_owned();
    assert!(
        !t.contains('\u{1b}') && !t.contains('\u{7}') && !t.contains('\u{202e}'),
        "{t:?}"
    );
    let masked = Viewer::new(Role::Auditor, own()).account(&a);
    assert!(!masked.name.shown.text().unwrap().contains('\u{1b}'));
}

#[test]
fn shown_fields_name_what_was_shown_and_how() {
    let v = Viewer::new(Role::Agent, own()).account(&account(false));
    let shown = v.shown_fields();
    assert!(shown.contains(&(Field::AccountName, Visibility::Clear)));
    assert!(shown.contains(&(Field::Email, Visibility::Masked)));
    assert!(shown.contains(&(Field::ContactChannels, Visibility::Masked)));
    assert!(
        !shown
            .iter()
            .any(|(f, _)| *f == Field::PostalAddress || *f == Field::LoginHistory)
    );
}

#[test]
fn debug_of_a_view_prints_no_value() {
    let a = account(false);
    for role in Role::ALL {
        let v = Viewer::new(role, own()).account(&a);
        let out = format!("{v:?} {v:#?}");
        for value in [
            NAME,
            EMAIL,
            PHONE,
            ADDRESS,
            TAX,
            CONTACT,
            CONTACT_EMAIL,
            SOURCE,
            "p***@e***.ru",
        ] {
            assert!(!out.contains(value), "{role}: {value} in {out}");
        }
    }
}
