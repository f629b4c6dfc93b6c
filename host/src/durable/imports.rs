//! The host side of `lamina:durable/journal`: every import is one guest
//! transition, planned by the model (`model::plan_guest`) against the
//! operation as this invocation last saw it, written as one journal batch;
//! the import returns once it is durable.

use super::Durable;
use super::model::{GuestTransition, OpRef, Plan, plan_guest};
use super::wit::{self, lamina::durable::journal};
use super::wit_convert::{error_from_wit, journal_error, op_to_wit};
use crate::journal::{Operation, QueuedWrite, now_ms};
use crate::state::{HostState, HostWait};
use std::collections::HashMap;
use std::sync::Arc;

pub use super::model::MAX_PAYLOAD_BYTES;

/// What a durable instance's store knows about the execution it runs.
pub struct DurableInvocation {
    /// The runtime (journal, scheduler wake-up).
    pub runtime: Arc<Durable>,
    /// The execution's ARN.
    pub arn: String,
    /// The function the execution runs under.
    pub function: Arc<str>,
    /// The operations as last read or written by this invocation.
    pub ops: HashMap<String, Operation>,
    /// Writes queued without waiting for their commit (at-least-once step
    /// starts); the next commit of this invocation checks them.
    pub queued: Vec<QueuedWrite>,
    /// Where the time spent waiting for the journal is counted, so that it
    /// does not count against the invocation's `timeout_ms`.
    pub host_wait: Arc<HostWait>,
}

type Answer<T> = wasmtime::Result<Result<T, wit::JournalError>>;

/// How a planned batch is written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Applied: the import returns once it is committed.
    Commit,
    /// Queued behind this invocation's earlier writes: the import returns
    /// at once, the next commit reports how it ended.
    Queue,
}

impl DurableInvocation {
    /// Queues the plan's batch behind this invocation's earlier writes
    /// without waiting for its commit, and remembers its operation.
    async fn queue(&mut self, mut plan: Plan) -> Result<(), wit::JournalError> {
        plan.batch.fence = self.runtime.fence();
        let q = self
            .host_wait
            .time(self.runtime.journal.enqueue(&self.arn, plan.batch))
            .await
            .map_err(journal_error)?;
        self.queued.push(q);
        self.remember(plan.operation);
        Ok(())
    }

    /// Applies the plan's batch and remembers its operation.
    async fn commit(&mut self, mut plan: Plan) -> Result<(), wit::JournalError> {
        plan.batch.fence = self.runtime.fence();
        let wake = plan.sets_timers();
        self.host_wait
            .time(self.runtime.journal.apply(&self.arn, plan.batch))
            .await
            .map_err(journal_error)?;
        // Queued writes were ahead of this one: they are committed by now.
        for q in std::mem::take(&mut self.queued) {
            self.host_wait
                .time(q.committed())
                .await
                .map_err(journal_error)?;
        }
        if wake {
            self.runtime.timers_changed();
        }
        self.remember(plan.operation);
        Ok(())
    }

    fn remember(&mut self, op: Option<Operation>) {
        if let Some(op) = op {
            self.ops.insert(op.id.clone(), op);
        }
    }
}

impl HostState {
    fn durable_mut(&mut self) -> wasmtime::Result<&mut DurableInvocation> {
        self.extension_mut::<DurableInvocation>().ok_or_else(|| {
            wasmtime::Error::msg("lamina:durable/journal used outside a durable execution")
        })
    }

    /// Plans `transition` of `op`, writes the plan (when it changes
    /// anything) and answers the operation as recorded afterwards.
    async fn transition(
        &mut self,
        op: wit::OpRef,
        transition: GuestTransition,
        write: Write,
    ) -> Answer<Option<Operation>> {
        let d = self.durable_mut()?;
        let op = OpRef::from(op);
        let plan = match plan_guest(now_ms(), d.ops.get(&op.id), &op, transition) {
            Ok(plan) => plan,
            Err(rejection) => return Ok(Err(wit::JournalError::Invalid(rejection.to_string()))),
        };
        let recorded = plan.operation.clone();
        if plan.batch.is_empty() {
            return Ok(Ok(recorded));
        }
        let written = match write {
            Write::Commit => d.commit(plan).await,
            Write::Queue => d.queue(plan).await,
        };
        Ok(written.map(|()| recorded))
    }

    /// [`HostState::transition`] committed, answering nothing.
    async fn commit(&mut self, op: wit::OpRef, transition: GuestTransition) -> Answer<()> {
        Ok(self
            .transition(op, transition, Write::Commit)
            .await?
            .map(|_| ()))
    }
}

impl wit::lamina::durable::types::Host for HostState {}

impl journal::Host for HostState {
    async fn load_state(&mut self) -> wasmtime::Result<wit::ExecutionState> {
        let d = self.durable_mut()?;
        let state = d
            .host_wait
            .time(d.runtime.journal.load_state(&d.arn))
            .await
            .map_err(|e| wasmtime::Error::msg(format!("loading the execution state: {e}")))?;
        let operations = state.operations.iter().map(op_to_wit).collect();
        // The rows move into the map: a replay of many operations copies
        // each one once (into the guest's view), not twice.
        d.ops = state
            .operations
            .into_iter()
            .map(|o| (o.id.clone(), o))
            .collect();
        Ok(wit::ExecutionState {
            arn: d.arn.clone(),
            function_name: d.function.to_string(),
            input: state.input,
            operations,
            now_ms: now_ms(),
        })
    }

    async fn step_started(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        wait_for_commit: bool,
    ) -> Answer<()> {
        let write = if wait_for_commit {
            Write::Commit
        } else {
            Write::Queue
        };
        let t = GuestTransition::StepStarted { attempt };
        Ok(self.transition(op, t, write).await?.map(|_| ()))
    }

    async fn step_succeeded(&mut self, op: wit::OpRef, attempt: u32, result: String) -> Answer<()> {
        self.commit(op, GuestTransition::StepSucceeded { attempt, result })
            .await
    }

    async fn step_failed(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        error: wit::ErrorObject,
    ) -> Answer<()> {
        let error = error_from_wit(error);
        self.commit(op, GuestTransition::StepFailed { attempt, error })
            .await
    }

    async fn step_retry(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        error: wit::ErrorObject,
        delay_seconds: u32,
    ) -> Answer<()> {
        let t = GuestTransition::StepRetry {
            attempt,
            error: error_from_wit(error),
            delay_s: delay_seconds,
        };
        self.commit(op, t).await
    }

    async fn step_poll(
        &mut self,
        op: wit::OpRef,
        attempt: u32,
        state: String,
        delay_seconds: u32,
    ) -> Answer<()> {
        let t = GuestTransition::StepPoll {
            attempt,
            state,
            delay_s: delay_seconds,
        };
        self.commit(op, t).await
    }

    async fn wait_started(&mut self, op: wit::OpRef, seconds: u64) -> Answer<()> {
        self.commit(op, GuestTransition::WaitStarted { seconds })
            .await
    }

    async fn callback_started(
        &mut self,
        op: wit::OpRef,
        timeout_seconds: u64,
        heartbeat_timeout_seconds: u64,
    ) -> Answer<String> {
        let t = GuestTransition::CallbackStarted {
            callback_id: super::new_callback_id(),
            timeout_s: timeout_seconds,
            heartbeat_timeout_s: heartbeat_timeout_seconds,
        };
        let recorded = self.transition(op, t, Write::Commit).await?;
        Ok(recorded.map(|o| {
            o.and_then(|o| o.callback)
                .map(|c| c.callback_id)
                .unwrap_or_default()
        }))
    }

    async fn context_started(&mut self, op: wit::OpRef) -> Answer<()> {
        self.commit(op, GuestTransition::ContextStarted).await
    }

    async fn context_succeeded(
        &mut self,
        op: wit::OpRef,
        result: String,
        replay_children: bool,
    ) -> Answer<()> {
        self.commit(
            op,
            GuestTransition::ContextSucceeded {
                result,
                replay_children,
            },
        )
        .await
    }

    async fn context_failed(&mut self, op: wit::OpRef, error: wit::ErrorObject) -> Answer<()> {
        let error = error_from_wit(error);
        self.commit(op, GuestTransition::ContextFailed { error })
            .await
    }

    async fn invoke_started(
        &mut self,
        op: wit::OpRef,
        function: String,
        payload: String,
        tenant_id: Option<String>,
    ) -> Answer<()> {
        let d = self.durable_mut()?;
        let function = crate::names::function_name(&function);
        let child_arn = d.runtime.chained_execution_arn(&function);
        let t = GuestTransition::InvokeStarted {
            function,
            child_arn,
            payload,
            tenant_id,
        };
        let recorded = match self.transition(op, t, Write::Commit).await? {
            Ok(recorded) => recorded,
            Err(e) => return Ok(Err(e)),
        };
        let d = self.durable_mut()?;
        if let Some(o) = recorded
            && let Some(chained) = o.chained_invoke
        {
            d.runtime.spawn_chained(d.arn.clone(), o.id, chained);
        }
        Ok(Ok(()))
    }

    async fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
        let d = self.durable_mut()?;
        let (function, execution) = (&*d.function, d.arn.as_str());
        match level {
            wit::LogLevel::Debug => {
                tracing::debug!(target: "lamina::durable::guest", function, execution, "{message}");
            }
            wit::LogLevel::Info => {
                tracing::info!(target: "lamina::durable::guest", function, execution, "{message}");
            }
            wit::LogLevel::Warn => {
                tracing::warn!(target: "lamina::durable::guest", function, execution, "{message}");
            }
            wit::LogLevel::Error => {
                tracing::error!(target: "lamina::durable::guest", function, execution, "{message}");
            }
        }
        Ok(())
    }
}
