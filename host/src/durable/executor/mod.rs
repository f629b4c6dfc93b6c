//! The executor: the run queue of executions (at most one invocation of
//! each at a time, a re-run flag for what completes meanwhile), one
//! invocation ([`invocation`]) and what happens after it ([`outcome`]).

mod invocation;
mod outcome;

use super::model::ErrorType;
use super::{Durable, DurableError, LOCK_STRIPES, lock};
use crate::error::InvokeError;
use crate::journal::now_ms;
use invocation::Invoked;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// What the execution loop does after an invocation.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// Nothing is owed: leave the execution (waiting or ended).
    Done,
    /// Invoke again now (something completed meanwhile).
    Again,
    /// Invoke again after a pause (the invocation crashed).
    RetryAfter(Duration),
}

impl Durable {
    pub(super) async fn lock_execution(&self, arn: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        arn.hash(&mut h);
        let i = (h.finish() % LOCK_STRIPES as u64) as usize;
        self.locks[i].lock().await
    }

    /// Makes sure the execution gets invoked: starts its loop, or asks the
    /// running loop for another invocation. Callers other than the start of a
    /// new execution and recovery hold the execution's lock.
    pub(super) fn schedule(self: &Arc<Self>, arn: &str) {
        let mut active = lock(&self.active);
        match active.get_mut(arn) {
            Some(again) => *again = true,
            None => {
                active.insert(arn.to_string(), false);
                tokio::spawn(self.clone().run_loop(arn.to_string()));
            }
        }
    }

    async fn run_loop(self: Arc<Self>, arn: String) {
        let Some(lease) = self.hold_lease(&arn).await else {
            // Another host runs it: drop it from this host's run queue.
            lock(&self.active).remove(&arn);
            return;
        };
        self.run_leased(&arn).await;
        self.give_up_lease(&arn, lease).await;
    }

    async fn run_leased(self: &Arc<Self>, arn: &str) {
        let arn = arn.to_string();
        loop {
            let gate = Arc::new(Notify::new());
            lock(&self.invoking).insert(arn.clone(), gate.clone());
            let next = self.invoke_and_finish(&arn).await;
            lock(&self.invoking).remove(&arn);
            gate.notify_waiters();
            match next {
                None => {
                    let _g = self.lock_execution(&arn).await;
                    let mut active = lock(&self.active);
                    if active.get(&arn) == Some(&true) {
                        active.insert(arn.clone(), false);
                        continue;
                    }
                    active.remove(&arn);
                    return;
                }
                Some(Next::Done) => return,
                Some(Next::Again) => {}
                Some(Next::RetryAfter(d)) => tokio::time::sleep(d).await,
            }
        }
    }

    /// Waits until no invocation of `arn` is running, so that what the host
    /// completes on its own (a chained invoke's result) is journaled after
    /// the InvocationCompleted of the invocation that started it, as in AWS's
    /// histories, however fast the target answers.
    pub(super) async fn invocation_finished(&self, arn: &str) {
        loop {
            let Some(gate) = lock(&self.invoking).get(arn).cloned() else {
                return;
            };
            let notified = gate.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // The invocation may have ended between the look-up and `enable`.
            let same = lock(&self.invoking)
                .get(arn)
                .is_some_and(|g| Arc::ptr_eq(g, &gate));
            if same {
                notified.await;
            }
        }
    }

    /// One invocation and its bookkeeping; `None` when there was nothing to run.
    async fn invoke_and_finish(self: &Arc<Self>, arn: &str) -> Option<Next> {
        let invoked = match self.invoke_once(arn).await {
            Ok(Some(i)) => i,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(execution = %arn, "cannot invoke: {e}");
                Invoked {
                    outcome: Err((
                        InvokeError::Instantiate {
                            function: String::new(),
                            message: e.to_string(),
                        },
                        ErrorType::RuntimeInstantiate.as_str(),
                    )),
                    start_ms: now_ms(),
                    end_ms: now_ms(),
                    run: Duration::ZERO,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    waiting: false,
                    waited: Vec::new(),
                }
            }
        };
        Some(self.finish(arn, invoked).await)
    }

    /// Runs one invocation of the execution now and records it, as the
    /// scheduler would; for benchmarks and tools (the cost of one replay).
    /// Refused while an invocation of it is running or owed.
    pub async fn invoke_now(self: &Arc<Self>, arn: &str) -> Result<(), DurableError> {
        {
            let mut active = lock(&self.active);
            if active.contains_key(arn) {
                return Err(DurableError::Invalid(format!(
                    "execution {arn} has an invocation running"
                )));
            }
            active.insert(arn.to_string(), false);
        }
        let invoked = match self.invoke_once(arn).await {
            Ok(Some(i)) => i,
            Ok(None) => {
                lock(&self.active).remove(arn);
                return Err(DurableError::Invalid(format!(
                    "execution {arn} has nothing to run"
                )));
            }
            Err(e) => {
                lock(&self.active).remove(arn);
                return Err(e.into());
            }
        };
        if self.finish(arn, invoked).await != Next::Done {
            tokio::spawn(self.clone().run_loop(arn.to_string()));
        }
        Ok(())
    }
}
