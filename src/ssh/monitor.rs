//! The live desk sessions of one server: how many, their output counters (tests and
//! benchmarks read them), and waiting for the last to end (shutdown).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;

use super::output::{OutputQueue, OutputStats};

/// One live session as the monitor sees it.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub id: u64,
    pub login: String,
    pub output: OutputStats,
}

struct Entry {
    login: String,
    output: Arc<OutputQueue>,
}

#[derive(Default)]
struct Inner {
    sessions: Mutex<BTreeMap<u64, Entry>>,
    changed: Notify,
}

/// A handle on the server's live sessions (cheap to clone).
#[derive(Clone, Default)]
pub struct Monitor {
    inner: Arc<Inner>,
}

/// Removes its session from the monitor when dropped (whatever ended the session).
pub struct Registration {
    id: u64,
    monitor: Monitor,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.monitor.lock().remove(&self.id);
        self.monitor.inner.changed.notify_waiters();
    }
}

impl Monitor {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.inner
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn register(&self, id: u64, login: &str, output: Arc<OutputQueue>) -> Registration {
        self.lock().insert(
            id,
            Entry {
                login: login.to_owned(),
                output,
            },
        );
        self.inner.changed.notify_waiters();
        Registration {
            id,
            monitor: self.clone(),
        }
    }

    /// The live sessions, oldest first.
    pub fn sessions(&self) -> Vec<SessionInfo> {
        self.lock()
            .iter()
            .map(|(id, e)| SessionInfo {
                id: *id,
                login: e.login.clone(),
                output: e.output.stats(),
            })
            .collect()
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Waits until no session is left, or `limit` passes. Returns whether none is left.
    pub async fn wait_empty(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let changed = self.inner.changed.notified();
            if self.count() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.count() == 0;
            }
        }
    }
}
