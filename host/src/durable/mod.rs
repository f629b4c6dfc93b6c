//! Durable functions: multi-step workflows that checkpoint every operation
//! to the journal, hibernate (no instance) while they wait, and replay from
//! the top when what they wait for is ready.
//!
//! The split (docs/architecture.md): the guest SDK owns control flow and replay
//! decisions; this module owns the journal, time and the outside world:
//! - [`imports`]: the `lamina:durable/journal` imports, one batch per call;
//! - [`Durable`] (this file): the facade: start, start an execution, wait
//!   for its end, read it;
//! - `executor`: the run queue, one invocation, and the end-of-invocation
//!   and crash policy;
//! - `scheduler`: timers (waits, step retries, callback and execution
//!   timeouts) against an injected clock;
//! - `completions`: callbacks, stop, stop of children;
//! - `chained`: chained invokes;
//! - `recovery`: what a restart owes (flagged executions, chained invokes);
//! - [`model`]: the operation state machine, pure: transitions to plans;
//! - [`metrics`]: counters for `/metrics`;
//! - [`shapes`]: the AWS JSON shapes of executions, operations and events;
//! - [`metering`]: wall and active time, operations, bytes and cost.
//!
//! Concurrency: at most one invocation of an execution runs at a time. A
//! completion that arrives while one runs (a callback, a timer) sets a
//! re-run flag, and the execution is invoked again when the running
//! invocation ends. Host-side updates of one execution and the end of its
//! invocations are serialised by a per-execution lock, so the journal's
//! `invocation_in_progress` flag is true whenever an invocation is owed; on
//! start the host re-invokes every such execution.

mod chained;
mod completions;
mod executor;
pub mod imports;
pub mod metering;
pub mod metrics;
pub mod model;
mod recovery;
pub mod retention;
#[cfg(test)]
mod runtime_tests;
mod scheduler;
pub mod shapes;
mod shared;
pub mod wit;
mod wit_convert;

pub use chained::{HandlerTargets, InvokeFuture, InvokeTarget, Invoker};
pub use metrics::DurableMetrics;
pub use model::{CallbackCompletion, EXECUTION_OP_ID, MAX_CRASHES, MAX_DURATION_S, execution_op};
pub use scheduler::{Clock, SystemClock};

use crate::engine::LaminaEngine;
use crate::journal::{CreateOutcome, Execution, Journal, JournalError, Operation, execution_arn};
use crate::registry::{CodeLookup, Function};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// Number of per-execution lock stripes.
const LOCK_STRIPES: usize = 64;

/// Why a durable API request could not be served (mapped to AWS errors).
#[derive(Debug, thiserror::Error)]
pub enum DurableError {
    /// No such execution, callback or function.
    #[error("{0}")]
    NotFound(String),
    /// The request is not valid (bad value, wrong state).
    #[error("{0}")]
    Invalid(String),
    /// An execution with this name exists with another input.
    #[error("{0}")]
    AlreadyStarted(String),
    /// The callback has already timed out.
    #[error("{0}")]
    CallbackTimedOut(String),
    /// The journal failed.
    #[error("journal error: {0}")]
    Journal(#[from] JournalError),
}

impl From<model::Rejection> for DurableError {
    fn from(r: model::Rejection) -> Self {
        match r {
            model::Rejection::Invalid(m) => DurableError::Invalid(m),
            model::Rejection::NotFound(m) => DurableError::NotFound(m),
            model::Rejection::CallbackTimedOut(m) => DurableError::CallbackTimedOut(m),
        }
    }
}

/// The result of starting an execution.
#[derive(Debug, Clone)]
pub struct Started {
    /// The execution (new or existing).
    pub execution: Execution,
    /// Whether it was created now (false: same name and input existed).
    pub created: bool,
}

/// The durable executor and scheduler of one host.
pub struct Durable {
    journal: Arc<dyn Journal>,
    engine: Arc<LaminaEngine>,
    functions: BTreeMap<String, Arc<Function>>,
    /// Runs chained invokes of functions that are not durable.
    invoker: Arc<dyn Invoker>,
    /// Where host-side transitions and the scheduler get the time.
    clock: Arc<dyn Clock>,
    /// Finds the code an execution started with (by its sha256), so it
    /// replays on that code after the function was updated.
    code: Option<Arc<dyn CodeLookup>>,
    /// Who this host is when it claims executions and timers.
    owner: String,
    /// Executions with an invocation loop running, and whether another
    /// invocation is owed when the current one ends.
    active: Mutex<HashMap<String, bool>>,
    /// Executions with an invocation running (until its InvocationCompleted
    /// is journaled), each with a signal for that end.
    invoking: Mutex<HashMap<String, Arc<Notify>>>,
    locks: Vec<tokio::sync::Mutex<()>>,
    waiters: Mutex<HashMap<String, Vec<oneshot::Sender<()>>>>,
    timer_wake: Notify,
    /// Counters.
    pub metrics: DurableMetrics,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh callback id.
pub fn new_callback_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

impl Durable {
    /// Creates the runtime for the durable `functions` on `journal`, starts
    /// the timer scheduler and re-invokes every execution that was
    /// mid-invocation when the host last stopped.
    /// `targets` are the host's other functions, which chained invokes may call;
    /// `code` finds the code each execution started with.
    pub async fn start(
        engine: Arc<LaminaEngine>,
        journal: Arc<dyn Journal>,
        functions: impl IntoIterator<Item = Arc<Function>>,
        targets: BTreeMap<String, InvokeTarget>,
        code: Option<Arc<dyn CodeLookup>>,
    ) -> Result<Arc<Self>, JournalError> {
        let invoker = Arc::new(HandlerTargets {
            engine: engine.clone(),
            targets,
        });
        Self::start_with(
            engine,
            journal,
            functions,
            invoker,
            Arc::new(SystemClock),
            code,
        )
        .await
    }

    /// [`Durable::start`] with the parts a host may choose: what runs
    /// chained invokes of non-durable functions, and the clock.
    pub async fn start_with(
        engine: Arc<LaminaEngine>,
        journal: Arc<dyn Journal>,
        functions: impl IntoIterator<Item = Arc<Function>>,
        invoker: Arc<dyn Invoker>,
        clock: Arc<dyn Clock>,
        code: Option<Arc<dyn CodeLookup>>,
    ) -> Result<Arc<Self>, JournalError> {
        let durable = Arc::new(Durable {
            journal,
            engine,
            functions: functions
                .into_iter()
                .map(|f| (f.name.to_string(), f))
                .collect(),
            invoker,
            clock,
            code,
            owner: format!("lamina-{}", uuid::Uuid::new_v4().simple()),
            active: Mutex::default(),
            invoking: Mutex::default(),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            waiters: Mutex::default(),
            timer_wake: Notify::new(),
            metrics: DurableMetrics::default(),
        });
        durable.count_running().await?;
        durable.recover().await?;
        tokio::spawn(durable.clone().timer_loop());
        if durable.journal.is_shared() {
            tokio::spawn(durable.clone().poll_loop());
        }
        Ok(durable)
    }

    /// The journal.
    pub fn journal(&self) -> &Arc<dyn Journal> {
        &self.journal
    }

    /// The durable function called `name`.
    pub fn function(&self, name: &str) -> Option<&Arc<Function>> {
        self.functions.get(name)
    }

    /// The durable functions.
    pub fn functions(&self) -> impl Iterator<Item = &Arc<Function>> {
        self.functions.values()
    }

    /// How many executions have an invocation running or owed now.
    pub fn active_count(&self) -> usize {
        lock(&self.active).len()
    }

    /// The metering JSON of `e`.
    pub fn metering(&self, e: &Execution) -> serde_json::Value {
        let memory_mb = self
            .functions
            .get(&e.function)
            .map_or(0, |f| f.config.memory_mb);
        shapes::metering(&metering::usage(e, memory_mb, self.clock.now_ms()))
    }

    /// Tells the scheduler that a timer was set.
    pub(crate) fn timers_changed(&self) {
        self.timer_wake.notify_one();
    }

    /// Starts an execution of `f` (idempotent by `name`: the same name and
    /// input return the existing execution; another input is a conflict).
    ///
    /// The work runs in its own task (see [`detached`]): once the execution
    /// is committed it is scheduled, even if the caller goes away.
    pub async fn start_execution(
        self: &Arc<Self>,
        f: &Arc<Function>,
        name: Option<String>,
        input: String,
    ) -> Result<Started, DurableError> {
        let (me, f) = (self.clone(), f.clone());
        detached(async move {
            me.start_execution_as(&f, execution_arn(&f.name), name, input)
                .await
        })
        .await
    }

    /// [`Durable::start_execution`] with a chosen ARN.
    async fn start_execution_as(
        self: &Arc<Self>,
        f: &Arc<Function>,
        arn: String,
        name: Option<String>,
        input: String,
    ) -> Result<Started, DurableError> {
        let now = self.clock.now_ms();
        let timeout_s = f.config.execution_timeout_s.clamp(1, MAX_DURATION_S);
        let name = name.unwrap_or_else(|| arn.rsplit(':').next().unwrap_or(&arn).to_string());
        let new = model::plan_start(
            now,
            model::ExecutionStart {
                arn: arn.clone(),
                function: f.name.to_string(),
                name: name.clone(),
                input,
                timeout_s,
                code_sha256: Some(f.code_sha256.clone()),
            },
        );
        match self.journal.create_execution(new).await? {
            CreateOutcome::Created(execution) => {
                self.metrics.execution_started(&f.name);
                tracing::info!(function = %f.name, execution = %arn, "execution started");
                self.schedule(&execution.arn);
                Ok(Started {
                    execution,
                    created: true,
                })
            }
            CreateOutcome::Existing(execution) => Ok(Started {
                execution,
                created: false,
            }),
            CreateOutcome::NameConflict(existing) => Err(DurableError::AlreadyStarted(format!(
                "durable execution name `{name}` is already used by {} with a different input; \
                 use another name or the same input",
                existing.arn
            ))),
        }
    }

    /// Waits until the execution ends or `bound` passes; returns it as it is then.
    pub async fn wait_for_end(
        &self,
        arn: &str,
        bound: Duration,
    ) -> Result<Execution, DurableError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut waiters = lock(&self.waiters);
            let list = waiters.entry(arn.to_string()).or_default();
            // Callers that went away (a client that hung up) leave closed
            // senders behind; drop them rather than keep them until the end.
            list.retain(|w| !w.is_closed());
            list.push(tx);
        }
        let e = self.get(arn).await?;
        if e.status.is_terminal() {
            return Ok(e);
        }
        if self.journal.is_shared() {
            // The execution may end on another host: look at the journal too.
            return self.poll_for_end(arn, bound, rx).await;
        }
        let _ = tokio::time::timeout(bound, rx).await;
        self.get(arn).await
    }

    /// The execution with this ARN, or NotFound.
    pub async fn get(&self, arn: &str) -> Result<Execution, DurableError> {
        self.journal
            .get_execution(arn)
            .await?
            .ok_or_else(|| not_found(arn))
    }

    /// The execution and (when `op_id` is given) its operation `op_id`:
    /// the two rows a host-side completion needs, not the whole state.
    async fn execution_and_op(
        &self,
        arn: &str,
        op_id: Option<&str>,
    ) -> Result<(Execution, Option<Operation>), DurableError> {
        let execution = self.get(arn).await?;
        let op = match op_id {
            Some(id) => self.journal.operation(arn, id).await?,
            None => None,
        };
        Ok((execution, op))
    }

    /// Counts the end of execution `arn` (of `function`, when known) and
    /// wakes whoever waits for it.
    fn notify_end(&self, arn: &str, function: Option<&str>) {
        self.metrics.execution_ended(function);
        if let Some(ws) = lock(&self.waiters).remove(arn) {
            for w in ws {
                let _ = w.send(());
            }
        }
    }
}

/// Runs `work` in a task of its own and waits for it. A request handler's
/// future is dropped when its client closes the connection; work that
/// commits to the journal and then schedules what it committed must not be
/// cut between the two, so it runs where the request cannot cancel it.
async fn detached<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, DurableError>> + Send + 'static,
) -> Result<T, DurableError> {
    tokio::spawn(work).await.map_err(|e| {
        DurableError::Journal(JournalError::Storage(format!(
            "the durable task ended abnormally: {e}"
        )))
    })?
}

fn not_found(arn: &str) -> DurableError {
    DurableError::NotFound(format!("no durable execution with ARN {arn}"))
}
