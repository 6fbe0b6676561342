//! The demo's client accounts: individuals and legal entities in Russian and English, each
//! from its own random stream, normalised by `domain::normalize` and sealed by
//! `Desk::seal_accounts` like an import.

use jiff::{SignedDuration, Timestamp};

use crate::desk::accounts::{AccountInput, ContactInput};
use crate::domain::account::{AccountFlags, AccountKind, LoginResult};
use crate::domain::normalize;
use crate::domain::personal::Personal;

use super::names::{self, Lang, Lists, Person};
use super::plan::Flag;
use super::rng::Rng;

/// An account as planned, before sealing.
pub struct PlannedAccount {
    pub input: AccountInput,
    pub lang: Lang,
    pub flag: Flag,
}

/// Flags by position, so even a small demo holds some of each (2 % erased, 2 % blocked,
/// 4 % locked).
fn flag_of(index: u64) -> Flag {
    match index % 50 {
        7 => Flag::Erased,
        13 => Flag::Blocked,
        21 | 41 => Flag::Locked,
        _ => Flag::None,
    }
}

fn personal(v: String) -> Personal<String> {
    Personal::new(v)
}

fn email(v: &str) -> Option<Personal<String>> {
    normalize::email(v).ok().map(personal)
}

fn phone(v: &str) -> Option<Personal<String>> {
    normalize::phone(v).ok().map(personal)
}

fn contact(
    rng: &mut Rng,
    lists: &Lists,
    lang: Lang,
    company: Option<&str>,
    passphrases: &[String],
) -> ContactInput {
    let p = Person::new(rng, lists, lang);
    let phone_only = rng.chance(0.12);
    let mail = if phone_only {
        None
    } else {
        match company {
            Some(base) if rng.chance(0.7) => email(&names::company_email(rng, base, Some(&p))),
            _ => email(&names::personal_email(rng, &p)),
        }
    };
    let tel = if phone_only || rng.chance(0.6) {
        phone(&names::phone(rng, lang))
    } else {
        None
    };
    ContactInput {
        name: Some(personal(p.short_name())),
        email: mail,
        phone: tel,
        passphrase_hash: (!passphrases.is_empty() && rng.chance(0.35))
            .then(|| personal(passphrases[rng.index(passphrases.len())].clone())),
    }
}

/// Plans account `index`. `passphrases` are argon2id hashes made once for the whole demo.
pub fn plan(
    seed: u64,
    index: u64,
    lists: &Lists,
    now: Timestamp,
    passphrases: &[String],
) -> PlannedAccount {
    let mut rng = Rng::stream(seed, "account", index);
    let lang = if rng.chance(0.65) { Lang::Ru } else { Lang::En };
    let flag = flag_of(index);
    let legal = rng.chance(0.45);
    let person = Person::new(&mut rng, lists, lang);
    let (kind, name, mail, tax, company_base) = if legal {
        if lang == Lang::Ru && rng.chance(0.12) {
            // A sole proprietor: a legal entity named after its owner, with a 12-digit INN.
            let n = format!("ИП {}", person.initials_name());
            (
                AccountKind::LegalEntity,
                n,
                email(&names::personal_email(&mut rng, &person)),
                Some(names::inn12(&mut rng)),
                None,
            )
        } else {
            let (n, base) = names::company(&mut rng, lists, lang);
            let mail = email(&names::company_email(&mut rng, base, None));
            let tax = (lang == Lang::Ru || rng.chance(0.2)).then(|| names::inn10(&mut rng));
            (AccountKind::LegalEntity, n, mail, tax, Some(base))
        }
    } else {
        let mail = rng
            .chance(0.9)
            .then(|| email(&names::personal_email(&mut rng, &person)))
            .flatten();
        let tax = (lang == Lang::Ru && rng.chance(0.3)).then(|| names::inn12(&mut rng));
        (AccountKind::Individual, person.full_name(), mail, tax, None)
    };
    let tel = if mail.is_none() || rng.chance(0.7) {
        phone(&names::phone(&mut rng, lang))
    } else {
        None
    };
    let postal = rng
        .chance(if legal { 0.9 } else { 0.6 })
        .then(|| personal(names::address(&mut rng, lists, lang, legal)));
    let admin_logins: Vec<Personal<String>> = {
        let n = if !legal || rng.chance(0.4) {
            1
        } else {
            rng.between(2, 3)
        };
        let mut v: Vec<String> = vec![];
        while v.len() < usize::try_from(n).unwrap_or(1) {
            let who = if v.is_empty() {
                person.clone()
            } else {
                Person::new(&mut rng, lists, lang)
            };
            let l = names::admin_login(&mut rng, &who);
            if !v.contains(&l) {
                v.push(l);
            }
        }
        v.into_iter().map(personal).collect()
    };
    let contact_count = if legal {
        rng.between(1, 3)
    } else {
        rng.between(1, 2)
    };
    let contacts = (0..contact_count)
        .map(|_| contact(&mut rng, lists, lang, company_base, passphrases))
        .collect();
    let history_len = rng.below(6);
    let mut login_history: Vec<(Timestamp, Personal<String>, LoginResult)> = (0..history_len)
        .map(|_| {
            let at = now - SignedDuration::from_mins(rng.between(10, 60 * 24 * 60));
            let result = [
                LoginResult::Success,
                LoginResult::WrongPassword,
                LoginResult::Locked,
            ][rng.weighted(&[80, 15, 5])];
            (at, personal(names::client_ip(&mut rng)), result)
        })
        .collect();
    login_history.sort_by_key(|(at, _, _)| *at);
    let sessions = if flag == Flag::Locked {
        vec![]
    } else {
        (0..rng.below(3))
            .map(|_| {
                (
                    now - SignedDuration::from_mins(rng.between(5, 60 * 24 * 3)),
                    personal(names::client_ip(&mut rng)),
                )
            })
            .collect()
    };
    PlannedAccount {
        input: AccountInput {
            external_id: Some(personal(format!("crm-{}", 100_000 + index))),
            kind,
            name: personal(name),
            email: mail,
            phone: tel,
            postal_address: postal,
            tax_id: tax.and_then(|t| normalize::tax_id(&t).ok()).map(personal),
            admin_logins,
            contacts,
            flags: AccountFlags {
                locked: flag == Flag::Locked,
                blocked: flag == Flag::Blocked,
                erased: false,
            },
            login_history,
            sessions,
        },
        lang,
        flag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_reproducible_and_varied() {
        let lists = Lists::load();
        let now: Timestamp = "2026-03-02T07:00:00Z".parse().unwrap();
        let a = plan(1, 5, &lists, now, &[]);
        let b = plan(1, 5, &lists, now, &[]);
        assert_eq!(a.input.name.expose(), b.input.name.expose());
        assert_eq!(
            a.input.email.as_ref().map(|e| e.expose().clone()),
            b.input.email.as_ref().map(|e| e.expose().clone())
        );
        let all: Vec<PlannedAccount> = (0..300)
            .map(|i| plan(1, i, &lists, now, &["h".into()]))
            .collect();
        assert!(all.iter().any(|a| a.input.kind == AccountKind::Individual));
        assert!(
            all.iter().any(
                |a| a.input.kind == AccountKind::LegalEntity && a.input.admin_logins.len() == 1
            )
        );
        assert!(all.iter().any(|a| {
            a.input
                .contacts
                .iter()
                .any(|c| c.email.is_none() && c.phone.is_some())
        }));
        assert!(
            all.iter()
                .any(|a| a.input.contacts.iter().any(|c| c.passphrase_hash.is_some()))
        );
        assert!(all.iter().any(|a| a.lang == Lang::Ru) && all.iter().any(|a| a.lang == Lang::En));
        for a in &all {
            assert!(a.input.email.is_some() || a.input.phone.is_some());
            assert!(
                a.input
                    .contacts
                    .iter()
                    .all(|c| c.email.is_some() || c.phone.is_some())
            );
        }
    }
}
