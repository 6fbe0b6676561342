//! Reading the audit log: its chain state and its records (field names and purposes, never
//! values). For supervisors and auditors, and the command line.

use crate::domain::staff::Actor;
use crate::store::{AuditFilter, AuditRecord, ChainReport};

use super::{Desk, Result, require_audit_reader};

#[derive(Clone, Debug)]
pub struct AuditOverview {
    pub chain: ChainReport,
    pub records: Vec<AuditRecord>,
}

impl Desk {
    /// The chain's verification state and the newest records matching `filter`. Reading
    /// the log is itself recorded (once per screen opened, not per refresh: `record`).
    pub async fn audit_overview(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        limit: u32,
        record: bool,
    ) -> Result<AuditOverview> {
        require_audit_reader(actor)?;
        let chain = self.audit_chain(record).await?;
        let records = self
            .store
            .audit_records(filter, limit.clamp(1, 1000))
            .await?;
        if record {
            self.commit(vec![], self.audit(actor, "audit.read")).await?;
        }
        Ok(AuditOverview { chain, records })
    }
}

impl Desk {
    /// The chain's state for an audit screen. Opening the screen (`full`) checks every
    /// record; its live refreshes check only the records appended since the last intact
    /// check, so an open screen does not reread millions of records on every change.
    async fn audit_chain(&self, full: bool) -> Result<ChainReport> {
        let known = if full {
            None
        } else {
            self.audit_verified
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone()
        };
        let chain = match &known {
            Some(intact) => self.store.verify_audit_after(intact).await?,
            None => self.store.verify_audit().await?,
        };
        *self
            .audit_verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            chain.is_intact().then(|| chain.clone());
        Ok(chain)
    }
}

/// The actions that look at an account's personal data.
pub const ACCESS_ACTIONS: [&str; 4] = [
    "request.open",
    "field.reveal",
    "field.check",
    "verification.record",
];

impl Desk {
    /// Who looked at or revealed which fields of an account, when and why (the "who
    /// accessed my data" part of the account-state report, §14). Reading it is recorded
    /// when `record` is set: once per opening, not on every live refresh of an open report
    /// (the record itself changes the log, which would refresh it again).
    pub async fn access_report(
        &self,
        actor: &Actor,
        account: crate::domain::account::AccountId,
        record: bool,
    ) -> Result<Vec<AuditRecord>> {
        require_audit_reader(actor)?;
        if self.store.account(account).await?.is_none() {
            return Err(super::DeskError::NotFound {
                what: "account",
                id: account.to_string(),
            });
        }
        let mut out = vec![];
        let mut before = None;
        loop {
            let filter = AuditFilter {
                account: Some(account),
                before_seq: before,
                ..AuditFilter::default()
            };
            let page = self.store.audit_records(&filter, 1000).await?;
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            out.extend(
                page.into_iter()
                    .filter(|r| ACCESS_ACTIONS.contains(&r.draft.action.as_str())),
            );
        }
        out.reverse();
        if record {
            self.commit(
                vec![],
                self.audit(actor, "audit.access_report")
                    .account(account)
                    .detail(format!("entries={}", out.len())),
            )
            .await?;
        }
        Ok(out)
    }
}
