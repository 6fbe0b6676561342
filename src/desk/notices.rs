//! Supervisor notices: one mechanism for everything supervisors must see (limits pushed,
//! later deadlines and escalations): a banner in every supervisor session and a list to
//! work through; acknowledging one is audited with who and when.

use crate::domain::policy::Action;
use crate::domain::staff::Actor;
use crate::store::{Mutation, NoticeRow};

use super::{Desk, Result, require};

impl Desk {
    /// Notices, newest first (`open_only`: not yet acknowledged).
    pub async fn notices(
        &self,
        actor: &Actor,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<NoticeRow>> {
        require(actor, Action::AcknowledgeNotice)?;
        Ok(self.store.notices(open_only, limit.clamp(1, 1000)).await?)
    }

    pub async fn acknowledge_notice(&self, actor: &Actor, id: i64) -> Result<()> {
        require(actor, Action::AcknowledgeNotice)?;
        let audit = self
            .audit(actor, "notice.ack")
            .target(format!("notice:{id}"));
        self.commit(
            vec![Mutation::AckNotice {
                id,
                by: actor.label(),
            }],
            audit,
        )
        .await?;
        Ok(())
    }
}
