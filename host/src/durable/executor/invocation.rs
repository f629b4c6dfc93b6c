//! One invocation of an execution: a fresh store and instance, `handle()`,
//! and what it produced.

use super::super::imports::DurableInvocation;
use super::super::model::{ErrorType, is_waiting};
use super::super::{Durable, wit};
use crate::engine::InstanceUse;
use crate::error::InvokeError;
use crate::journal::{JournalError, now_ms};
use crate::registry::Pre;
use crate::runtime::instance::{Failure, FreshInstance};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What one invocation produced.
pub(super) struct Invoked {
    /// The handler's outcome, or the crash and its Lambda error type.
    pub(super) outcome: Result<wit::Outcome, (InvokeError, &'static str)>,
    pub(super) start_ms: u64,
    pub(super) end_ms: u64,
    pub(super) run: Duration,
    pub(super) request_id: String,
    /// Whether the journal, as this invocation saw and left it, has an
    /// operation that will make the execution runnable again (a wait, a
    /// callback, a step retry, a chained invoke).
    pub(super) waiting: bool,
    /// The operations the invocation ended waiting on, as it saw them
    /// (a shared journal compares them with the journal at the end).
    pub(super) waited: Vec<crate::journal::Operation>,
}

/// Lambda's error type of a crash.
fn error_type_of(e: &InvokeError) -> &'static str {
    ErrorType::of_invoke_error(e).as_str()
}

impl Durable {
    /// Runs the handler once in a fresh instance; `None` when there is
    /// nothing to run (ended, unknown or no longer served).
    pub(super) async fn invoke_once(
        self: &Arc<Self>,
        arn: &str,
    ) -> Result<Option<Invoked>, JournalError> {
        let Some(exec) = self.journal.get_execution(arn).await? else {
            return Ok(None);
        };
        if exec.status.is_terminal() {
            return Ok(None);
        }
        let pinned = match (&self.code, &exec.code_sha256) {
            (Some(code), Some(sha)) => code.function_with_code(&exec.function, sha).await,
            _ => None,
        };
        let Some(f) = pinned.or_else(|| self.functions.get(&exec.function).cloned()) else {
            tracing::warn!(execution = %arn, function = %exec.function,
                "execution of a function this host does not serve as durable; left waiting");
            return Ok(None);
        };
        let Pre::Durable(pre) = &f.pre else {
            return Ok(None);
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        self.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        if exec.metering.invocations > 0 {
            self.metrics.replays.fetch_add(1, Ordering::Relaxed);
        }
        let start_ms = now_ms();
        let started = Instant::now();
        // One run of a fresh instance, as in standard mode; `timeout_ms`
        // counts the guest's own time: the epoch deadline and the time limit
        // both move on by the time its journal calls wait for commits.
        let outcome = async {
            let mut run = FreshInstance::start(&self.engine, &f, InstanceUse::Durable).await?;
            run.store.data().begin_request(&request_id);
            let host_wait = run.store.data().host_wait.clone();
            run.store.data_mut().set_extension(DurableInvocation {
                runtime: self.clone(),
                arn: arn.to_string(),
                function: f.name.clone(),
                ops: HashMap::new(),
                queued: Vec::new(),
                host_wait,
            });
            let limit = run.time_limit();
            let store = &mut run.store;
            let work = async {
                let instance = pre
                    .instantiate(store)
                    .await
                    .map_err(Failure::instantiating)?;
                let handle = pre
                    .handle(&mut *store, &instance)
                    .map_err(Failure::instantiating)?;
                let (out,) = handle
                    .call_async(&mut *store, ())
                    .await
                    .map_err(Failure::running)?;
                Ok::<_, Failure>(out)
            };
            let result = limit.run(work).await;
            let out = run.conclude(result)?;
            let waited: Vec<_> = run
                .store
                .data()
                .extension::<DurableInvocation>()
                .map(|d| {
                    d.ops
                        .values()
                        .filter(|op| is_waiting(op))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            Ok::<_, InvokeError>((out, waited))
        }
        .await;
        let (outcome, waited) = match outcome {
            Ok((out, waited)) => (Ok(out), waited),
            Err(e) => (Err(e), Vec::new()),
        };
        let waiting = !waited.is_empty();
        let run = started.elapsed();
        f.metrics.run.observe(run);
        Ok(Some(Invoked {
            outcome: outcome.map_err(|e| {
                let t = error_type_of(&e);
                (e, t)
            }),
            start_ms,
            end_ms: now_ms(),
            run,
            request_id,
            waiting,
            waited,
        }))
    }
}
