//! Several hosts on one shared journal (PostgreSQL).
//!
//! When the journal is shared ([`crate::journal::Journal::is_shared`]):
//! - a host runs an execution only while it holds its lease
//!   ([`SHARED_LEASE`]), taken before the first invocation, renewed every
//!   [`RENEW_EVERY`] while the execution is in this host's run queue, and
//!   released when it leaves it;
//! - every write of an invocation is fenced by the host id, so a host whose
//!   lease was taken over cannot write;
//! - every [`POLL_EVERY`] the host claims runnable executions nobody holds
//!   (started, completed or stopped on another host, or left by a host that
//!   died: its leases end after [`SHARED_LEASE`]) and runs them;
//! - at the end of an invocation the host checks whether another host
//!   completed what the invocation waits on, and writes the end only if the
//!   execution did not move since (see `executor/outcome.rs`).
//!
//! With the redb and in-memory journals nothing here runs: the host owns
//! every execution.

use super::{Durable, lock};
use crate::journal::{Execution, Expect, JournalError, Operation};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a lease lasts without renewal: how long a killed host's
/// executions wait before another host takes them over.
pub(crate) const SHARED_LEASE: Duration = Duration::from_secs(5);
/// How often a held lease is renewed.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// How often a host looks for runnable executions nobody holds.
pub(crate) const POLL_EVERY: Duration = Duration::from_millis(250);
/// Most executions claimed per poll.
const CLAIM_LIMIT: usize = 64;

/// A lease this host holds while an execution is in its run queue.
pub(super) struct HeldLease {
    renewal: Option<JoinHandle<()>>,
}

impl Durable {
    /// The fence of this host's writes: its id when the journal is shared.
    pub(super) fn fence(&self) -> Option<String> {
        self.journal.is_shared().then(|| self.owner.clone())
    }

    /// Takes the lease of `arn` (always granted by a journal of one
    /// process) and keeps renewing it; `None` if another host holds it.
    pub(super) async fn hold_lease(self: &Arc<Self>, arn: &str) -> Option<HeldLease> {
        if !self.journal.is_shared() {
            return Some(HeldLease { renewal: None });
        }
        match self
            .journal
            .lease_execution(&self.owner, arn, SHARED_LEASE)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(execution = %arn, "held by another host");
                return None;
            }
            Err(e) => {
                tracing::warn!(execution = %arn, "cannot take the lease: {e}");
                return None;
            }
        }
        let me = self.clone();
        let arn = arn.to_string();
        let renewal = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match me
                    .journal
                    .lease_execution(&me.owner, &arn, SHARED_LEASE)
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::debug!(execution = %arn, "lease not renewed (ended or taken over)");
                        return;
                    }
                    Err(e) => tracing::warn!(execution = %arn, "renewing the lease: {e}"),
                }
            }
        });
        Some(HeldLease {
            renewal: Some(renewal),
        })
    }

    /// Stops renewing and releases the lease of `arn`.
    pub(super) async fn give_up_lease(&self, arn: &str, lease: HeldLease) {
        let Some(renewal) = lease.renewal else {
            return;
        };
        renewal.abort();
        if let Err(e) = self.journal.release_execution(&self.owner, arn).await {
            tracing::warn!(execution = %arn, "releasing the lease: {e}");
        }
    }

    /// Whether another host completed one of `waited` (the operations the
    /// invocation ended waiting on), and the execution's version now.
    pub(super) async fn moved_elsewhere(
        &self,
        arn: &str,
        waited: &[Operation],
    ) -> Result<(bool, Expect), JournalError> {
        let state = self.journal.load_state(arn).await?;
        let moved = waited.iter().any(|seen| {
            state
                .operations
                .iter()
                .find(|op| op.id == seen.id)
                .is_some_and(|now| now.status != seen.status)
        });
        Ok((
            moved,
            Expect {
                last_event_id: state.execution.last_event_id,
            },
        ))
    }

    /// The loop of a host on a shared journal: claims runnable executions
    /// that no live host holds and runs them.
    pub(super) async fn poll_loop(self: Arc<Self>) {
        loop {
            tokio::time::sleep(POLL_EVERY).await;
            let claims = match self
                .journal
                .claim_runnable(&self.owner, SHARED_LEASE, CLAIM_LIMIT)
                .await
            {
                Ok(claims) => claims,
                Err(e) => {
                    tracing::warn!("claiming runnable executions: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            for claim in claims {
                let arn = claim.item.arn;
                // What this host runs already is renewed, not scheduled again.
                if !lock(&self.active).contains_key(&arn) {
                    tracing::debug!(execution = %arn, "claimed a runnable execution");
                    self.schedule(&arn);
                }
            }
        }
    }

    /// `wait_for_end` on a shared journal: the end may be written by
    /// another host, so the journal is read every [`POLL_EVERY`] too.
    pub(super) async fn poll_for_end(
        &self,
        arn: &str,
        bound: Duration,
        mut rx: oneshot::Receiver<()>,
    ) -> Result<Execution, super::DurableError> {
        let deadline = tokio::time::Instant::now() + bound;
        loop {
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return self.get(arn).await;
            }
            let nap = POLL_EVERY.min(deadline - now);
            tokio::select! {
                _ = &mut rx => return self.get(arn).await,
                () = tokio::time::sleep(nap) => {}
            }
            let e = self.get(arn).await?;
            if e.status.is_terminal() {
                return Ok(e);
            }
        }
    }
}
