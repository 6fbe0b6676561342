//! Client accounts: sealing them on the way in, opening them for a viewer, erasing them.

use std::sync::Arc;

use jiff::Timestamp;

use crate::crypto::{DataKey, IndexKind, TokenScope};
use crate::domain::account::{
    Account, AccountFlags, AccountId, AccountKind, ClientSession, ContactId, DesignatedContact,
    LoginEvent, LoginResult,
};
use crate::domain::personal::Personal;
use crate::domain::policy::Field;
use crate::domain::staff::Actor;
use crate::domain::view::Viewer;
use crate::store::{
    AccountRow, ContactRow, IdTable, IndexKindTag, LoginRow, Mutation, NewAccount, NewContact,
    SessionRow,
};

use super::{Desk, DeskError, Keyring, Result};

/// A designated contact as imported: values normalised, passphrase already hashed.
#[derive(Clone, Debug, Default)]
pub struct ContactInput {
    pub name: Option<Personal<String>>,
    pub email: Option<Personal<String>>,
    pub phone: Option<Personal<String>>,
    /// argon2id PHC string of the normalised passphrase.
    pub passphrase_hash: Option<Personal<String>>,
}

/// An account as imported or generated: values normalised, not yet sealed.
#[derive(Clone, Debug)]
pub struct AccountInput {
    pub external_id: Option<Personal<String>>,
    pub kind: AccountKind,
    pub name: Personal<String>,
    pub email: Option<Personal<String>>,
    pub phone: Option<Personal<String>>,
    pub postal_address: Option<Personal<String>>,
    pub tax_id: Option<Personal<String>>,
    pub admin_logins: Vec<Personal<String>>,
    pub contacts: Vec<ContactInput>,
    pub flags: AccountFlags,
    pub login_history: Vec<(Timestamp, Personal<String>, LoginResult)>,
    pub sessions: Vec<(Timestamp, Personal<String>)>,
}

fn seal(
    key: &DataKey,
    account: AccountId,
    table: &'static str,
    column: &'static str,
    row: i64,
    v: &Personal<String>,
) -> Vec<u8> {
    Keyring::seal_value(key, account, table, column, row, v.expose())
}

fn seal_opt(
    key: &DataKey,
    account: AccountId,
    table: &'static str,
    column: &'static str,
    row: i64,
    v: Option<&Personal<String>>,
) -> Option<Vec<u8>> {
    v.map(|v| seal(key, account, table, column, row, v))
}

fn open_opt(
    key: &DataKey,
    account: AccountId,
    table: &'static str,
    column: &'static str,
    row: i64,
    blob: Option<&Vec<u8>>,
) -> Result<Option<Personal<String>>> {
    blob.map(|b| Keyring::open_value(key, account, table, column, row, b))
        .transpose()
}

/// Ids reserved for a batch of new accounts.
struct Reserved {
    next_account: i64,
    next_contact: i64,
    next_login: i64,
    next_history: i64,
    next_session: i64,
}

impl Desk {
    /// Seals a batch of accounts: reserves their row ids, creates and stores their data keys,
    /// and returns the rows to insert (with `Mutation::InsertAccount`).
    pub async fn seal_accounts(&self, inputs: &[AccountInput]) -> Result<Vec<NewAccount>> {
        self.seal_new_accounts(inputs, None).await
    }

    /// [`Desk::seal_accounts`] for an import: its account ids are recorded with the import
    /// before their keys are made, so a failure (or a crash) destroys those keys.
    pub(crate) async fn seal_import_accounts(
        &self,
        import: i64,
        inputs: &[AccountInput],
    ) -> Result<Vec<NewAccount>> {
        self.seal_new_accounts(inputs, Some(import)).await
    }

    async fn seal_new_accounts(
        &self,
        inputs: &[AccountInput],
        import: Option<i64>,
    ) -> Result<Vec<NewAccount>> {
        if inputs.is_empty() {
            return Ok(vec![]);
        }
        let count = |f: fn(&AccountInput) -> usize| -> Result<u32> {
            u32::try_from(inputs.iter().map(f).sum::<usize>())
                .map_err(|_| DeskError::Invalid("batch too large".into()))
        };
        let n = count(|_| 1)?;
        let next_account = match import {
            Some(import) => self.store.reserve_import_accounts(import, n).await?,
            None => self.store.reserve_ids(IdTable::Accounts, n).await?,
        };
        let mut r = Reserved {
            next_account,
            next_contact: self
                .store
                .reserve_ids(IdTable::Contacts, count(|a| a.contacts.len())?)
                .await?,
            next_login: self
                .store
                .reserve_ids(IdTable::AdminLogins, count(|a| a.admin_logins.len())?)
                .await?,
            next_history: self
                .store
                .reserve_ids(IdTable::LoginHistory, count(|a| a.login_history.len())?)
                .await?,
            next_session: self
                .store
                .reserve_ids(IdTable::ClientSessions, count(|a| a.sessions.len())?)
                .await?,
        };
        let ids: Vec<AccountId> = (0..inputs.len())
            .map(|i| AccountId(r.next_account + i64::try_from(i).unwrap_or(0)))
            .collect();
        r.next_account += i64::try_from(inputs.len()).unwrap_or(0);
        let keys = self.keys.create_data_keys(&ids).await?;
        Ok(inputs
            .iter()
            .zip(ids)
            .zip(keys)
            .map(|((input, id), key)| self.seal_account(input, id, &key, &mut r))
            .collect())
    }

    /// Seals new values for existing accounts (import `--update`): the rows
    /// [`Desk::seal_accounts`] makes, under each account's own id and data key, for
    /// `Mutation::ReplaceAccount` (which keeps the account's login history and sessions).
    pub async fn seal_replacements(
        &self,
        inputs: &[(AccountId, AccountInput)],
    ) -> Result<Vec<NewAccount>> {
        if inputs.is_empty() {
            return Ok(vec![]);
        }
        let count = |f: fn(&AccountInput) -> usize| -> Result<u32> {
            u32::try_from(inputs.iter().map(|(_, a)| f(a)).sum::<usize>())
                .map_err(|_| DeskError::Invalid("batch too large".into()))
        };
        let mut r = Reserved {
            next_account: 0,
            next_contact: self
                .store
                .reserve_ids(IdTable::Contacts, count(|a| a.contacts.len())?)
                .await?,
            next_login: self
                .store
                .reserve_ids(IdTable::AdminLogins, count(|a| a.admin_logins.len())?)
                .await?,
            next_history: 0,
            next_session: 0,
        };
        let mut out = Vec::with_capacity(inputs.len());
        for (id, input) in inputs {
            let key = self.keys.data_key(*id).await?;
            let input = AccountInput {
                login_history: vec![],
                sessions: vec![],
                ..input.clone()
            };
            out.push(self.seal_account(&input, *id, &key, &mut r));
        }
        Ok(out)
    }

    fn seal_account(
        &self,
        a: &AccountInput,
        id: AccountId,
        key: &Arc<DataKey>,
        r: &mut Reserved,
    ) -> NewAccount {
        let k = key.as_ref();
        let mut indexes = vec![];
        let mut push_index = |tag: IndexKindTag, kind: IndexKind, v: Option<&Personal<String>>| {
            if let Some(v) = v {
                indexes.push((tag, self.keys.blind(kind, v.expose())));
            }
        };
        push_index(IndexKindTag::Email, IndexKind::Email, a.email.as_ref());
        push_index(IndexKindTag::Phone, IndexKind::Phone, a.phone.as_ref());
        push_index(IndexKindTag::TaxId, IndexKind::TaxId, a.tax_id.as_ref());
        push_index(
            IndexKindTag::ExternalId,
            IndexKind::ExternalId,
            a.external_id.as_ref(),
        );
        for c in &a.contacts {
            push_index(
                IndexKindTag::ContactEmail,
                IndexKind::ContactEmail,
                c.email.as_ref(),
            );
            push_index(
                IndexKindTag::ContactPhone,
                IndexKind::ContactPhone,
                c.phone.as_ref(),
            );
        }
        let mut tokens = self.keys.tokens(TokenScope::AccountName, a.name.expose());
        for c in &a.contacts {
            if let Some(n) = &c.name {
                tokens.extend(self.keys.tokens(TokenScope::ContactName, n.expose()));
            }
        }
        tokens.sort();
        tokens.dedup();
        let contacts = a
            .contacts
            .iter()
            .map(|c| {
                let cid = r.next_contact;
                r.next_contact += 1;
                NewContact {
                    id: ContactId(cid),
                    name: seal_opt(k, id, "contacts", "name_ct", cid, c.name.as_ref()),
                    email: seal_opt(k, id, "contacts", "email_ct", cid, c.email.as_ref()),
                    phone: seal_opt(k, id, "contacts", "phone_ct", cid, c.phone.as_ref()),
                    passphrase: seal_opt(
                        k,
                        id,
                        "contacts",
                        "passphrase_ct",
                        cid,
                        c.passphrase_hash.as_ref(),
                    ),
                    has_email: c.email.is_some(),
                    has_phone: c.phone.is_some(),
                }
            })
            .collect();
        let admin_logins = a
            .admin_logins
            .iter()
            .map(|l| {
                let lid = r.next_login;
                r.next_login += 1;
                (lid, seal(k, id, "admin_logins", "login_ct", lid, l))
            })
            .collect();
        let login_history = a
            .login_history
            .iter()
            .map(|(at, source, result)| {
                let hid = r.next_history;
                r.next_history += 1;
                LoginRow {
                    id: hid,
                    account: id,
                    at: *at,
                    source: seal(k, id, "login_history", "source_ct", hid, source),
                    result: *result,
                }
            })
            .collect();
        let sessions = a
            .sessions
            .iter()
            .map(|(at, source)| {
                let sid = r.next_session;
                r.next_session += 1;
                SessionRow {
                    id: sid,
                    account: id,
                    started_at: *at,
                    source: seal(k, id, "client_sessions", "source_ct", sid, source),
                }
            })
            .collect();
        NewAccount {
            id,
            kind: a.kind,
            flags: a.flags,
            name: Some(seal(k, id, "accounts", "name_ct", id.0, &a.name)),
            email: seal_opt(k, id, "accounts", "email_ct", id.0, a.email.as_ref()),
            phone: seal_opt(k, id, "accounts", "phone_ct", id.0, a.phone.as_ref()),
            postal_address: seal_opt(
                k,
                id,
                "accounts",
                "postal_ct",
                id.0,
                a.postal_address.as_ref(),
            ),
            tax_id: seal_opt(k, id, "accounts", "tax_ct", id.0, a.tax_id.as_ref()),
            indexes,
            tokens,
            admin_logins,
            contacts,
            login_history,
            sessions,
        }
    }

    /// Seals and inserts accounts in one transaction with one audit record (imports from the
    /// command line: shell access is admin trust).
    pub async fn create_accounts(
        &self,
        actor: &Actor,
        inputs: &[AccountInput],
        action: &str,
    ) -> Result<Vec<AccountId>> {
        super::require_admin(actor)?;
        let sealed = self.seal_accounts(inputs).await?;
        let ids: Vec<AccountId> = sealed.iter().map(|a| a.id).collect();
        let mutations = sealed
            .into_iter()
            .map(|a| Mutation::InsertAccount(Box::new(a)))
            .collect();
        let audit = self
            .audit(actor, action)
            .detail(format!("accounts={}", ids.len()));
        self.commit(mutations, audit).await?;
        Ok(ids)
    }

    /// Accounts already holding this external id or email (by blind index).
    pub async fn existing_accounts(
        &self,
        external_id: Option<&str>,
        email: Option<&str>,
    ) -> Result<Vec<AccountId>> {
        let mut out = vec![];
        if let Some(x) = external_id {
            out.extend(
                self.store
                    .accounts_by_index(
                        IndexKindTag::ExternalId,
                        &self.keys.blind(IndexKind::ExternalId, x),
                    )
                    .await?,
            );
        }
        if let Some(e) = email {
            out.extend(
                self.store
                    .accounts_by_index(IndexKindTag::Email, &self.keys.blind(IndexKind::Email, e))
                    .await?,
            );
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Opens an account for `viewer`: decrypts only the fields the viewer's cells show.
    pub(crate) async fn open_account(&self, viewer: &Viewer, row: &AccountRow) -> Result<Account> {
        let id = row.id;
        let erased = row.flags.erased;
        let key = if erased {
            None
        } else {
            Some(self.keys.data_key(id).await?)
        };
        let k = key.as_deref();
        let field = |f: Field,
                     column: &'static str,
                     blob: Option<&Vec<u8>>|
         -> Result<Option<Personal<String>>> {
            match k {
                Some(k) if viewer.needs(f) => open_opt(k, id, "accounts", column, id.0, blob),
                _ => Ok(None),
            }
        };
        let name = field(Field::AccountName, "name_ct", row.name.as_ref())?;
        let email = field(Field::Email, "email_ct", row.email.as_ref())?;
        let phone = field(Field::Phone, "phone_ct", row.phone.as_ref())?;
        let postal_address = field(
            Field::PostalAddress,
            "postal_ct",
            row.postal_address.as_ref(),
        )?;
        let tax_id = field(Field::TaxId, "tax_ct", row.tax_id.as_ref())?;
        let contacts = match k {
            Some(k) => self
                .store
                .contacts(id)
                .await?
                .iter()
                .map(|c| open_contact(viewer, k, c))
                .collect::<Result<_>>()?,
            None => vec![],
        };
        let (login_history, sessions) = match k {
            Some(k) if viewer.needs(Field::LoginHistory) => {
                let h = self
                    .store
                    .login_history(id, 20)
                    .await?
                    .iter()
                    .map(|h| {
                        Ok(LoginEvent {
                            at: h.at,
                            source: Keyring::open_value(
                                k,
                                id,
                                "login_history",
                                "source_ct",
                                h.id,
                                &h.source,
                            )?,
                            result: h.result,
                        })
                    })
                    .collect::<Result<_>>()?;
                let s = self
                    .store
                    .client_sessions(id)
                    .await?
                    .iter()
                    .map(|s| {
                        Ok(ClientSession {
                            id: s.id,
                            started_at: s.started_at,
                            source: Keyring::open_value(
                                k,
                                id,
                                "client_sessions",
                                "source_ct",
                                s.id,
                                &s.source,
                            )?,
                        })
                    })
                    .collect::<Result<_>>()?;
                (h, s)
            }
            _ => (vec![], vec![]),
        };
        Ok(Account {
            id,
            kind: row.kind,
            flags: row.flags,
            name,
            email,
            phone,
            postal_address,
            tax_id,
            admin_login_count: row.admin_login_count,
            contacts,
            login_history,
            sessions,
        })
    }

    /// The account name as `viewer` may see it (for list rows); `None` for an erased account.
    pub(crate) async fn account_name(
        &self,
        viewer: &Viewer,
        account: AccountId,
        blob: Option<&Vec<u8>>,
    ) -> Result<Option<Personal<String>>> {
        if !viewer.needs(Field::AccountName) {
            return Ok(None);
        }
        let Some(blob) = blob else { return Ok(None) };
        let key = match self.keys.data_key(account).await {
            Ok(k) => k,
            Err(DeskError::KeyDestroyed(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        Ok(Some(Keyring::open_value(
            &key, account, "accounts", "name_ct", account.0, blob,
        )?))
    }

    /// Erases an account (§14): its tombstone, the loss of its indexes and tokens and the
    /// doom of its data key commit in one transaction with the audit record; then the key is
    /// deleted from the key store (a crash in between is finished at the next start).
    pub async fn erase_account(
        &self,
        actor: &Actor,
        account: AccountId,
        extra: Vec<Mutation>,
        detail: &str,
    ) -> Result<()> {
        let mut mutations = extra;
        mutations.push(Mutation::EraseAccount { id: account });
        let audit = self
            .audit(actor, "account.erase")
            .account(account)
            .detail(detail.to_owned());
        self.commit(mutations, audit).await?;
        #[cfg(any(test, feature = "fault-injection"))]
        if self.keys.faults().erasure_crashes() {
            return Err(DeskError::Internal(
                "fault injected: crash before the key was destroyed".into(),
            ));
        }
        self.keys.destroy(account).await?;
        self.store.forget_doomed(account).await?;
        Ok(())
    }
}

fn open_contact(viewer: &Viewer, k: &DataKey, c: &ContactRow) -> Result<DesignatedContact> {
    let id = c.account;
    let cid = c.id.0;
    let name = if viewer.needs(Field::ContactName) {
        open_opt(k, id, "contacts", "name_ct", cid, c.name.as_ref())?
    } else {
        None
    };
    let channels = viewer.needs(Field::ContactChannels);
    Ok(DesignatedContact {
        id: c.id,
        name,
        email: if channels {
            open_opt(k, id, "contacts", "email_ct", cid, c.email.as_ref())?
        } else {
            None
        },
        phone: if channels {
            open_opt(k, id, "contacts", "phone_ct", cid, c.phone.as_ref())?
        } else {
            None
        },
        has_passphrase: c.passphrase.is_some(),
        has_email: c.has_email,
        has_phone: c.has_phone,
    })
}
