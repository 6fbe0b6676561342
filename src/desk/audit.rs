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
        let chain = self.store.verify_audit().await?;
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
