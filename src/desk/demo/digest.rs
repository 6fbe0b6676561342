//! A digest of what a demo desk holds, decrypted: the proof that a seed reproduces its data.

use sha2::{Digest as _, Sha256};

use crate::desk::{Desk, Keyring, Result};
use crate::domain::account::AccountId;

/// A digest of everything the demo holds, decrypted: equal for two demos generated with
/// the same seed, counts and clock (ciphertexts differ, nonces being random).
pub async fn content_digest(desk: &Desk) -> Result<String> {
    let store = desk.store();
    let mut h = Sha256::new();
    let mut feed = |parts: &[&str]| {
        for p in parts {
            h.update(p.as_bytes());
            h.update([0x1f]);
        }
        h.update([0x1e]);
    };
    let total = store.account_count().await?.total;
    let mut seen = 0;
    let mut next = 1_i64;
    while seen < total {
        let ids: Vec<AccountId> = (next..next + 500).map(AccountId).collect();
        next += 500;
        let rows = store.accounts_by_ids(&ids).await?;
        if next > i64::try_from(total).unwrap_or(i64::MAX).saturating_mul(2) + 1_000 {
            break;
        }
        for a in &rows {
            seen += 1;
            let key = if a.flags.erased {
                None
            } else {
                Some(desk.keys().data_key(a.id).await?)
            };
            let open = |column: &'static str,
                        table: &'static str,
                        row: i64,
                        blob: Option<&Vec<u8>>|
             -> Result<String> {
                match (&key, blob) {
                    (Some(k), Some(b)) => Ok(Keyring::open_value(k, a.id, table, column, row, b)?
                        .expose()
                        .clone()),
                    _ => Ok(String::new()),
                }
            };
            feed(&[
                &a.id.to_string(),
                a.kind.as_str(),
                &format!("{:?}", a.flags),
                &open("name_ct", "accounts", a.id.0, a.name.as_ref())?,
                &open("email_ct", "accounts", a.id.0, a.email.as_ref())?,
                &open("phone_ct", "accounts", a.id.0, a.phone.as_ref())?,
                &open("postal_ct", "accounts", a.id.0, a.postal_address.as_ref())?,
                &open("tax_ct", "accounts", a.id.0, a.tax_id.as_ref())?,
                &a.admin_login_count.to_string(),
            ]);
            for c in store.contacts(a.id).await? {
                feed(&[
                    &c.id.0.to_string(),
                    &open("name_ct", "contacts", c.id.0, c.name.as_ref())?,
                    &open("email_ct", "contacts", c.id.0, c.email.as_ref())?,
                    &open("phone_ct", "contacts", c.id.0, c.phone.as_ref())?,
                    if c.passphrase.is_some() {
                        "passphrase"
                    } else {
                        ""
                    },
                ]);
            }
            for l in store.login_history(a.id, u32::MAX).await? {
                let src = open("source_ct", "login_history", l.id, Some(&l.source))?;
                feed(&[&l.at.to_string(), &src, l.result.as_str()]);
            }
            for s in store.client_sessions(a.id).await? {
                let src = open("source_ct", "client_sessions", s.id, Some(&s.source))?;
                feed(&[&s.started_at.to_string(), &src]);
            }
            for r in store.requests_of_account(a.id).await? {
                feed(&[
                    &r.id.to_string(),
                    r.kind.as_str(),
                    r.state.as_str(),
                    r.channel.as_str(),
                    &r.received_at.to_string(),
                    &r.due_at.to_string(),
                    &format!(
                        "{:?}",
                        (
                            r.assignee_login,
                            r.prepared_by_login,
                            r.severity,
                            r.personal_data_leak
                        )
                    ),
                    &open("subject_ct", "requests", r.id.0, r.subject.as_ref())?,
                    &open(
                        "requester_ct",
                        "requests",
                        r.id.0,
                        r.requester_text.as_ref(),
                    )?,
                ]);
                for e in store.entries(r.id).await? {
                    let body = open("body_ct", "request_entries", e.id, Some(&e.body))?;
                    feed(&[&e.at.to_string(), e.kind.as_str(), &e.author, &body]);
                }
            }
        }
    }
    Ok(hex::encode(h.finalize()))
}
