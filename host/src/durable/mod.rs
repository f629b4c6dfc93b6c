//! Durable functions: multi-step workflows that checkpoint every operation
//! to the journal, hibernate (no instance) while they wait, and replay from
//! the top when what they wait for is ready.
//!
//! The split (docs/architecture.md): the guest SDK owns control flow and replay
//! decisions; this module owns the journal, time and the outside world:
//! - [`imports`]: the `lamina:durable/journal` imports, one batch per call;
//! - [`Durable`]: the executor (start, invoke, replay, finish), the scheduler
//!   of timers (waits, step retries, callback and execution timeouts),
//!   callback completion, stop, and recovery after a restart;
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

pub mod imports;
pub mod metering;
pub mod retention;
pub mod shapes;
pub mod wit;

use crate::api::lambda::error_type_of;
use crate::engine::{InstanceUse, LaminaEngine};
use crate::error::InvokeError;
use crate::journal::{
    Batch, ChainedInvokeDetails, CreateOutcome, ErrorObject, EventType, Execution, ExecutionStatus,
    Journal, JournalError, NewEvent, NewExecution, Operation, OperationStatus, OperationType,
    Timer, TimerKind, TimerRef, TimerSpec, execution_arn, now_ms,
};
use crate::metrics::LiveInstance;
use crate::modes::managed::ManagedPool;
use crate::modes::standard::{self, HandlerOutput, TIMEOUT_GRACE, classify, timeout_error};
use crate::registry::{CodeLookup, Function, Pre};
use imports::DurableInvocation;
use serde_json::json;
use shapes::{event_error, event_result, timestamp};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};

/// The longest wait, callback timeout or execution timeout: 366 days.
pub const MAX_DURATION_S: u64 = 366 * 24 * 3600;
/// Consecutive crashed invocations (trap, timeout, out of memory) after which
/// the execution fails with the last crash's error.
pub const MAX_CRASHES: u32 = 3;
/// Number of per-execution lock stripes.
const LOCK_STRIPES: usize = 64;
/// The id of the EXECUTION operation every execution starts with.
pub const EXECUTION_OP_ID: &str = "0";

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

impl DurableError {
    /// The AWS error type (`__type`).
    pub fn aws_type(&self) -> &'static str {
        match self {
            DurableError::NotFound(_) => "ResourceNotFoundException",
            DurableError::Invalid(_) => "InvalidParameterValueException",
            DurableError::AlreadyStarted(_) => "DurableExecutionAlreadyStartedException",
            DurableError::CallbackTimedOut(_) => "CallbackTimeoutException",
            DurableError::Journal(_) => "ServiceException",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            DurableError::NotFound(_) => 404,
            DurableError::Invalid(_) | DurableError::CallbackTimedOut(_) => 400,
            DurableError::AlreadyStarted(_) => 409,
            DurableError::Journal(_) => 500,
        }
    }
}

/// How an external system completes a callback.
#[derive(Debug, Clone)]
pub enum CallbackCompletion {
    /// Success with a result (JSON text).
    Success(String),
    /// Failure with an error.
    Failure(ErrorObject),
    /// Still working: moves the heartbeat timeout.
    Heartbeat,
}

/// The result of starting an execution.
#[derive(Debug, Clone)]
pub struct Started {
    /// The execution (new or existing).
    pub execution: Execution,
    /// Whether it was created now (false: same name and input existed).
    pub created: bool,
}

/// Counters of the durable runtime, for `/metrics`.
#[derive(Debug, Default)]
pub struct DurableMetrics {
    /// Executions started.
    pub started: AtomicU64,
    /// Invocations run (first runs and replays).
    pub invocations: AtomicU64,
    /// Invocations that replayed a journal (not the first of an execution).
    pub replays: AtomicU64,
    /// Executions that ended (any terminal status).
    pub ended: AtomicU64,
    /// Timers handled.
    pub timers_fired: AtomicU64,
    /// Callback completions accepted (success, failure, heartbeat).
    pub callbacks: AtomicU64,
    /// Invocations that crashed (trap, timeout, memory).
    pub crashes: AtomicU64,
}

/// What one invocation produced.
struct Invoked {
    /// The handler's outcome, or the crash and its Lambda error type.
    outcome: Result<wit::Outcome, (InvokeError, &'static str)>,
    start_ms: u64,
    end_ms: u64,
    run: Duration,
    request_id: String,
    /// Whether the journal, as this invocation saw and left it, has an
    /// operation that will make the execution runnable again (a wait, a
    /// callback, a step retry, a chained invoke).
    waiting: bool,
}

/// Whether `op` waits for something the host will complete.
fn is_waiting(op: &Operation) -> bool {
    match op.op_type {
        OperationType::Wait | OperationType::Callback | OperationType::ChainedInvoke => {
            op.status == OperationStatus::Started
        }
        OperationType::Step => {
            matches!(op.status, OperationStatus::Pending | OperationStatus::Ready)
        }
        OperationType::Execution | OperationType::Context => false,
    }
}

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

/// A function a chained invoke can run besides durable functions.
#[derive(Clone)]
pub enum InvokeTarget {
    /// A handler function in standard mode.
    Standard(Arc<Function>),
    /// A handler function in managed mode.
    Managed(Arc<ManagedPool>),
    /// Another kind of function (cannot be invoked this way).
    Other(Arc<Function>),
}

/// The durable executor and scheduler of one host.
pub struct Durable {
    journal: Arc<dyn Journal>,
    engine: Arc<LaminaEngine>,
    functions: BTreeMap<String, Arc<Function>>,
    targets: BTreeMap<String, InvokeTarget>,
    /// Finds the code an execution started with (by its sha256), so it
    /// replays on that code after the function was updated.
    code: Option<Arc<dyn CodeLookup>>,
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
        let durable = Arc::new(Durable {
            journal,
            engine,
            functions: functions
                .into_iter()
                .map(|f| (f.name.to_string(), f))
                .collect(),
            targets,
            code,
            active: Mutex::default(),
            invoking: Mutex::default(),
            locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            waiters: Mutex::default(),
            timer_wake: Notify::new(),
            metrics: DurableMetrics::default(),
        });
        let owed = durable.journal.executions_needing_recovery().await?;
        if !owed.is_empty() {
            tracing::info!(
                executions = owed.len(),
                "recovering executions that were mid-invocation"
            );
        }
        for e in owed {
            durable.schedule(&e.arn);
        }
        durable.resume_chained_invokes().await?;
        tokio::spawn(durable.clone().timer_loop());
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
        metering::metering_json(e, memory_mb, now_ms())
    }

    /// Tells the scheduler that a timer was set.
    pub(crate) fn timers_changed(&self) {
        self.timer_wake.notify_one();
    }

    async fn lock_execution(&self, arn: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        arn.hash(&mut h);
        let i = (h.finish() % LOCK_STRIPES as u64) as usize;
        self.locks[i].lock().await
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
        let now = now_ms();
        let timeout_s = f.config.execution_timeout_s.clamp(1, MAX_DURATION_S);
        let name = name.unwrap_or_else(|| arn.rsplit(':').next().unwrap_or(&arn).to_string());
        let new = NewExecution {
            arn: arn.clone(),
            function: f.name.to_string(),
            name: Some(name.clone()),
            input: input.clone(),
            start_ms: now,
            deadline_ms: Some(now + timeout_s * 1000),
            invocation_in_progress: true,
            code_sha256: Some(f.code_sha256.clone()),
            operations: vec![Operation::new(
                EXECUTION_OP_ID,
                OperationType::Execution,
                OperationStatus::Started,
                now,
            )],
            events: vec![
                NewEvent::new(EventType::ExecutionStarted).with_details(json!({
                    "Input": shapes::event_input(&input),
                    "ExecutionTimeout": timeout_s,
                })),
            ],
        };
        match self.journal.create_execution(new).await? {
            CreateOutcome::Created(execution) => {
                self.metrics.started.fetch_add(1, Ordering::Relaxed);
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

    fn notify_end(&self, arn: &str) {
        self.metrics.ended.fetch_add(1, Ordering::Relaxed);
        if let Some(ws) = lock(&self.waiters).remove(arn) {
            for w in ws {
                let _ = w.send(());
            }
        }
    }

    /// Makes sure the execution gets invoked: starts its loop, or asks the
    /// running loop for another invocation. Callers other than the start of a
    /// new execution and recovery hold the execution's lock.
    fn schedule(self: &Arc<Self>, arn: &str) {
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
    async fn invocation_finished(&self, arn: &str) {
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
                        "Runtime.InstantiateError",
                    )),
                    start_ms: now_ms(),
                    end_ms: now_ms(),
                    run: Duration::ZERO,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    waiting: false,
                }
            }
        };
        Some(self.finish(arn, invoked).await)
    }

    /// Runs the handler once in a fresh instance; `None` when there is
    /// nothing to run (ended, unknown or no longer served).
    async fn invoke_once(self: &Arc<Self>, arn: &str) -> Result<Option<Invoked>, JournalError> {
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
        let permit = self
            .engine
            .acquire_instance(&f.name, InstanceUse::Durable)
            .await;
        f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        self.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        if exec.metering.invocations > 0 {
            self.metrics.replays.fetch_add(1, Ordering::Relaxed);
        }
        let start_ms = now_ms();
        let started = Instant::now();
        let mut waiting = false;
        let outcome = match (permit, self.engine.new_store(&f.name, &f.config)) {
            (Err(_), _) => Err(InvokeError::Instantiate {
                function: f.name.to_string(),
                message: "instance pool closed".into(),
            }),
            (_, Err(e)) => Err(InvokeError::Instantiate {
                function: f.name.to_string(),
                message: format!("{e:#}"),
            }),
            (Ok(_permit), Ok(mut store)) => {
                let _live = LiveInstance::new(&f.metrics);
                f.metrics.instantiations.fetch_add(1, Ordering::Relaxed);
                // `timeout_ms` counts the guest's own time: the epoch
                // deadline and this invocation's timer both move on by the
                // time its journal calls wait for commits.
                let host_wait = store.data().host_wait.clone();
                store.data_mut().durable = Some(Box::new(DurableInvocation {
                    runtime: self.clone(),
                    arn: arn.to_string(),
                    function: f.name.clone(),
                    ops: HashMap::new(),
                    queued: Vec::new(),
                    host_wait: host_wait.clone(),
                }));
                let timeout = Duration::from_millis(f.config.timeout_ms);
                let work = async {
                    let instance = pre.instantiate(&mut store).await?;
                    let handle = pre.handle(&mut store, &instance)?;
                    let (out,) = handle.call_async(&mut store, ()).await?;
                    Ok::<_, wasmtime::Error>(out)
                };
                let result =
                    standard::timeout_excluding(timeout + TIMEOUT_GRACE, &host_wait, work).await;
                store.data().flush_logs();
                match result {
                    None => Err(timeout_error(&f)),
                    Some(Err(e)) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                        // The guest called `exit`: Lambda's Runtime.ExitError.
                        Some(exit) => {
                            return Ok(Some(Invoked {
                                outcome: Err((
                                    InvokeError::Trap {
                                        function: f.name.to_string(),
                                        message: format!("the guest exited with status {}", exit.0),
                                    },
                                    "Runtime.ExitError",
                                )),
                                start_ms,
                                end_ms: now_ms(),
                                run: started.elapsed(),
                                request_id,
                                waiting: false,
                            }));
                        }
                        None => Err(classify(&f, &store, e, false)),
                    },
                    Some(Ok(out)) => {
                        waiting = store
                            .data()
                            .durable
                            .as_ref()
                            .is_some_and(|d| d.ops.values().any(is_waiting));
                        Ok(out)
                    }
                }
            }
        };
        let run = started.elapsed();
        f.metrics.run.observe(run);
        if let Err(e) = &outcome {
            f.metrics.error(e.reason());
        }
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
        }))
    }

    /// Records the end of an invocation (InvocationCompleted, and the end of
    /// the execution when the handler finished it) and decides what next.
    async fn finish(self: &Arc<Self>, arn: &str, inv: Invoked) -> Next {
        let _g = self.lock_execution(arn).await;
        let again = lock(&self.active)
            .get_mut(arn)
            .map(std::mem::take)
            .unwrap_or(false);
        let mut completed = json!({
            "StartTimestamp": timestamp(inv.start_ms),
            "EndTimestamp": timestamp(inv.end_ms),
            "RequestId": inv.request_id,
        });
        let mut b = Batch::default();
        b.execution.metering.active_compute_us = u64::try_from(inv.run.as_micros()).unwrap_or(0);
        b.execution.metering.invocations = 1;
        let mut end: Option<(ExecutionStatus, NewEvent)> = None;
        let mut next = if again { Next::Again } else { Next::Done };
        match inv.outcome {
            Ok(wit::Outcome::Succeeded(result)) => {
                b.execution.result = Some(result.clone());
                end = Some((
                    ExecutionStatus::Succeeded,
                    NewEvent::new(EventType::ExecutionSucceeded)
                        .with_details(json!({ "Result": event_result(&result) })),
                ));
            }
            Ok(wit::Outcome::Failed(error)) => {
                let error = imports::error_from_wit(error);
                end = Some((
                    ExecutionStatus::Failed,
                    NewEvent::new(EventType::ExecutionFailed)
                        .with_details(json!({ "Error": event_error(&error) })),
                ));
                b.execution.error = Some(error);
            }
            Ok(wit::Outcome::Pending) if !inv.waiting && !again => {
                // Suspended with nothing that could ever resume it: fail
                // now rather than hang until the execution timeout.
                let error = ErrorObject {
                    error_type: Some("Lamina.SuspendedWithoutWait".into()),
                    error_message: Some(
                        "the handler returned `pending` but no wait, callback, step retry or \
                         invoke is outstanding, so nothing would ever resume the execution"
                            .into(),
                    ),
                    ..ErrorObject::default()
                };
                end = Some((
                    ExecutionStatus::Failed,
                    NewEvent::new(EventType::ExecutionFailed)
                        .with_details(json!({ "Error": event_error(&error) })),
                ));
                b.execution.error = Some(error);
            }
            Ok(wit::Outcome::Pending) => {
                // Not a crash: the count of crashes in a row starts again.
                b.execution.crashes = Some(0);
                b.execution.invocation_in_progress = Some(again);
            }
            Err((e, error_type)) => {
                self.metrics.crashes.fetch_add(1, Ordering::Relaxed);
                let error = ErrorObject {
                    error_type: Some(error_type.to_string()),
                    error_message: Some(e.to_string()),
                    ..ErrorObject::default()
                };
                completed["Error"] = event_error(&error);
                // The count lives on the execution row, so a restart of the
                // host between crashes does not reset it.
                let before = match self.journal.get_execution(arn).await {
                    Ok(Some(e)) => e.crashes,
                    _ => 0,
                };
                let crashes = before.saturating_add(1);
                b.execution.crashes = Some(crashes);
                tracing::warn!(execution = %arn, crashes, "durable invocation crashed: {e}");
                if crashes >= MAX_CRASHES {
                    end = Some((
                        ExecutionStatus::Failed,
                        NewEvent::new(EventType::ExecutionFailed)
                            .with_details(json!({ "Error": event_error(&error) })),
                    ));
                    b.execution.error = Some(error);
                } else if !again {
                    next = Next::RetryAfter(Duration::from_millis(500 * u64::from(crashes)));
                }
            }
        }
        b.events
            .push(NewEvent::new(EventType::InvocationCompleted).with_details(completed));
        let ended = end.is_some();
        if let Some((status, event)) = end {
            let now = now_ms();
            if let Ok(Some(e)) = self.journal.get_execution(arn).await {
                b.operations.push(execution_op(e.start_ms, status, now));
            }
            b.events.push(event);
            b.execution.status = Some(status);
            b.execution.end_ms = Some(now);
            b.execution.invocation_in_progress = Some(false);
            b.clear_timers.push(TimerRef {
                kind: TimerKind::ExecutionTimeout,
                op_id: None,
            });
            next = Next::Done;
        }
        let bookkeeping = Batch {
            events: vec![b.events[0].clone()],
            execution: crate::journal::ExecutionUpdate {
                metering: b.execution.metering,
                invocation_in_progress: Some(false),
                ..Default::default()
            },
            allow_after_end: true,
            ..Batch::default()
        };
        match self.journal.apply(arn, b).await {
            Ok(_) => {
                if ended {
                    tracing::info!(execution = %arn, "execution ended");
                    self.notify_end(arn);
                }
            }
            Err(JournalError::ExecutionEnded { .. }) => {
                // Stopped or timed out while this invocation ran.
                if let Err(e) = self.journal.apply(arn, bookkeeping).await {
                    tracing::warn!(execution = %arn, "recording the last invocation: {e}");
                }
                next = Next::Done;
            }
            Err(e) => {
                tracing::error!(execution = %arn, "recording the end of an invocation: {e}");
                next = Next::RetryAfter(Duration::from_secs(1));
            }
        }
        if next == Next::Done {
            lock(&self.active).remove(arn);
        }
        next
    }

    async fn timer_loop(self: Arc<Self>) {
        loop {
            let now = now_ms();
            match self.journal.due_timers(now, 256).await {
                Ok(due) => {
                    let full = due.len() == 256;
                    let fired = due.into_iter().map(|t| {
                        let me = self.clone();
                        async move { me.fire(t).await }
                    });
                    futures::future::join_all(fired).await;
                    if full {
                        continue;
                    }
                }
                Err(e) => {
                    tracing::error!("reading due timers: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            }
            let next = self.journal.next_timer_due().await.ok().flatten();
            let wait = next.map_or(60_000, |d| d.saturating_sub(now_ms()).min(60_000));
            tokio::select! {
                () = tokio::time::sleep(Duration::from_millis(wait)) => {}
                () = self.timer_wake.notified() => {}
            }
        }
    }

    /// Handles one due timer in one batch that also removes it.
    async fn fire(self: Arc<Self>, t: Timer) {
        self.metrics.timers_fired.fetch_add(1, Ordering::Relaxed);
        let _g = self.lock_execution(&t.arn).await;
        let slot = t.slot();
        let clear_only = Batch {
            clear_timers: vec![slot.clone()],
            allow_after_end: true,
            ..Batch::default()
        };
        let (execution, op) = match self.execution_and_op(&t.arn, t.op_id.as_deref()).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(execution = %t.arn, "timer for an unreadable execution: {e}");
                let _ = self.journal.apply(&t.arn, clear_only).await;
                return;
            }
        };
        if execution.status.is_terminal() {
            let _ = self.journal.apply(&t.arn, clear_only).await;
            return;
        }
        let now = now_ms();
        let mut b = Batch {
            clear_timers: vec![slot],
            ..Batch::default()
        };
        let mut runnable = true;
        match (t.kind, op) {
            (TimerKind::ExecutionTimeout, _) => {
                let error = ErrorObject {
                    error_type: Some("ExecutionTimedOut".into()),
                    error_message: Some("the execution timeout passed".into()),
                    ..ErrorObject::default()
                };
                b.events.push(
                    NewEvent::new(EventType::ExecutionTimedOut)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                b.execution.status = Some(ExecutionStatus::TimedOut);
                b.execution.error = Some(error);
                b.execution.end_ms = Some(now);
                b.operations.push(execution_op(
                    execution.start_ms,
                    ExecutionStatus::TimedOut,
                    now,
                ));
                b.execution.invocation_in_progress = Some(false);
                runnable = false;
            }
            (TimerKind::WaitEnd, Some(mut op)) if op.status == OperationStatus::Started => {
                let secs = op
                    .wait
                    .as_ref()
                    .map_or(0, |w| w.scheduled_end_ms.saturating_sub(op.start_ms) / 1000);
                op.status = OperationStatus::Succeeded;
                op.end_ms = Some(now);
                b.events.push(
                    NewEvent::for_operation(EventType::WaitSucceeded, &op)
                        .with_details(json!({ "Duration": secs })),
                );
                b.operations.push(op);
            }
            (TimerKind::StepRetry, Some(mut op)) if op.status == OperationStatus::Pending => {
                op.status = OperationStatus::Ready;
                b.operations.push(op);
            }
            (TimerKind::CallbackTimeout | TimerKind::CallbackHeartbeat, Some(mut op))
                if op.status == OperationStatus::Started =>
            {
                let cb = op.callback.clone().unwrap_or_default();
                let message = if t.kind == TimerKind::CallbackTimeout {
                    format!(
                        "callback timed out after {} s",
                        cb.timeout_s.unwrap_or_default()
                    )
                } else {
                    format!(
                        "no heartbeat within {} s",
                        cb.heartbeat_timeout_s.unwrap_or_default()
                    )
                };
                let error_type = if t.kind == TimerKind::CallbackTimeout {
                    "Callback.Timeout"
                } else {
                    "Callback.Heartbeat"
                };
                let error = ErrorObject {
                    error_type: Some(error_type.into()),
                    error_message: Some(message),
                    ..ErrorObject::default()
                };
                op.status = OperationStatus::TimedOut;
                op.end_ms = Some(now);
                op.error = Some(error.clone());
                b.events.push(
                    NewEvent::for_operation(EventType::CallbackTimedOut, &op)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                b.operations.push(op);
                for kind in [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat] {
                    if kind != t.kind {
                        b.clear_timers.push(TimerRef {
                            kind,
                            op_id: t.op_id.clone(),
                        });
                    }
                }
            }
            _ => {
                // The operation moved on (completed, or was retried) before
                // its timer fired: only remove the timer.
                runnable = false;
            }
        }
        if runnable {
            b.execution.invocation_in_progress = Some(true);
        }
        let ended = b.execution.status.is_some();
        match self.journal.apply(&t.arn, b).await {
            Ok(_) => {
                if runnable {
                    self.schedule(&t.arn);
                }
                if ended {
                    self.notify_end(&t.arn);
                }
            }
            Err(e) => tracing::error!(execution = %t.arn, "handling a {} timer: {e}", t.kind),
        }
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

    /// Completes (or heartbeats) the callback `callback_id`. The work runs
    /// in its own task (see [`detached`]): a committed completion is
    /// scheduled even if the caller goes away.
    pub async fn complete_callback(
        self: &Arc<Self>,
        callback_id: &str,
        completion: CallbackCompletion,
    ) -> Result<(), DurableError> {
        let (me, id) = (self.clone(), callback_id.to_string());
        detached(async move { me.complete_callback_now(&id, completion).await }).await
    }

    async fn complete_callback_now(
        self: &Arc<Self>,
        callback_id: &str,
        completion: CallbackCompletion,
    ) -> Result<(), DurableError> {
        let Some(r) = self.journal.callback(callback_id).await? else {
            return Err(DurableError::NotFound(format!(
                "no callback with id {callback_id}"
            )));
        };
        let _g = self.lock_execution(&r.arn).await;
        let (execution, op) = self.execution_and_op(&r.arn, Some(&r.op_id)).await?;
        if execution.status.is_terminal() {
            return Err(DurableError::Invalid(format!(
                "callback {callback_id} belongs to execution {} which has ended ({})",
                r.arn,
                execution.status.as_str()
            )));
        }
        let Some(mut op) = op else {
            return Err(DurableError::NotFound(format!(
                "callback {callback_id}: its operation {} is not in the journal",
                r.op_id
            )));
        };
        match op.status {
            OperationStatus::Started => {}
            OperationStatus::TimedOut => {
                return Err(DurableError::CallbackTimedOut(format!(
                    "callback {callback_id} has timed out"
                )));
            }
            other => {
                return Err(DurableError::Invalid(format!(
                    "callback {callback_id} is already completed ({})",
                    other.as_str()
                )));
            }
        }
        let now = now_ms();
        let mut b = Batch::default();
        let clear =
            [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat].map(|kind| TimerRef {
                kind,
                op_id: Some(op.id.clone()),
            });
        match completion {
            CallbackCompletion::Heartbeat => {
                let Some(hb) = op.callback.as_ref().and_then(|c| c.heartbeat_timeout_s) else {
                    self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
                    return Ok(());
                };
                b.set_timers.push(TimerSpec {
                    kind: TimerKind::CallbackHeartbeat,
                    op_id: Some(op.id.clone()),
                    due_ms: now + hb * 1000,
                });
                self.journal.apply(&r.arn, b).await?;
                self.timers_changed();
                self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            CallbackCompletion::Success(result) => {
                op.status = OperationStatus::Succeeded;
                op.end_ms = Some(now);
                b.events.push(
                    NewEvent::for_operation(EventType::CallbackSucceeded, &op)
                        .with_details(json!({ "Result": event_result(&result) })),
                );
                op.result = Some(result);
            }
            CallbackCompletion::Failure(error) => {
                op.status = OperationStatus::Failed;
                op.end_ms = Some(now);
                b.events.push(
                    NewEvent::for_operation(EventType::CallbackFailed, &op)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                op.error = Some(error);
            }
        }
        b.operations.push(op);
        b.clear_timers.extend(clear);
        b.execution.invocation_in_progress = Some(true);
        self.journal.apply(&r.arn, b).await?;
        self.metrics.callbacks.fetch_add(1, Ordering::Relaxed);
        self.schedule(&r.arn);
        Ok(())
    }

    /// Stops a running execution; returns the stop time (ms). The work runs
    /// in its own task (see [`detached`]): once the stop is committed, its
    /// waiters are told and its children stopped even if the caller goes away.
    pub async fn stop(
        self: &Arc<Self>,
        arn: &str,
        error: Option<ErrorObject>,
    ) -> Result<u64, DurableError> {
        let (me, arn) = (self.clone(), arn.to_string());
        detached(async move { me.stop_now(&arn, error).await }).await
    }

    async fn stop_now(&self, arn: &str, error: Option<ErrorObject>) -> Result<u64, DurableError> {
        let _g = self.lock_execution(arn).await;
        let e = self.get(arn).await?;
        if e.status.is_terminal() {
            return Err(DurableError::Invalid(format!(
                "execution {arn} has already ended ({})",
                e.status.as_str()
            )));
        }
        let now = now_ms();
        let error = error.unwrap_or_else(|| ErrorObject {
            error_type: Some("ExecutionStopped".into()),
            error_message: Some("stopped through StopDurableExecution".into()),
            ..ErrorObject::default()
        });
        let b = Batch {
            operations: vec![execution_op(e.start_ms, ExecutionStatus::Stopped, now)],
            events: vec![
                NewEvent::new(EventType::ExecutionStopped)
                    .with_details(json!({ "Error": event_error(&error) })),
            ],
            execution: crate::journal::ExecutionUpdate {
                status: Some(ExecutionStatus::Stopped),
                error: Some(error),
                end_ms: Some(now),
                invocation_in_progress: Some(false),
                ..Default::default()
            },
            clear_timers: vec![TimerRef {
                kind: TimerKind::ExecutionTimeout,
                op_id: None,
            }],
            ..Batch::default()
        };
        self.journal.apply(arn, b).await?;
        self.notify_end(arn);
        drop(_g);
        self.stop_children(arn).await;
        Ok(now)
    }

    /// Stops the child executions of chained invokes that had not ended
    /// when their parent was stopped.
    async fn stop_children(&self, arn: &str) {
        let Ok(state) = self.journal.load_state(arn).await else {
            return;
        };
        for op in state.operations {
            let child = op.chained_invoke.and_then(|c| c.execution_arn);
            if op.status == OperationStatus::Started
                && let Some(child) = child
                && matches!(self.journal.get_execution(&child).await, Ok(Some(e)) if !e.status.is_terminal())
            {
                let error = ErrorObject {
                    error_type: Some("ParentStopped".into()),
                    error_message: Some(format!("its parent {arn} was stopped")),
                    ..ErrorObject::default()
                };
                if let Err(e) = Box::pin(self.stop_now(&child, Some(error))).await {
                    tracing::warn!(execution = %child, "stopping a child execution: {e}");
                }
            }
        }
    }
}

impl Durable {
    /// The ARN a chained invoke of `target` reports: the child execution's
    /// when the target is durable, else an id for the one invocation.
    pub(crate) fn chained_execution_arn(&self, target: &str) -> String {
        if self.functions.contains_key(target) {
            execution_arn(target)
        } else {
            format!("arn:lamina:invocation:{target}:{}", uuid::Uuid::new_v4())
        }
    }

    /// Runs the target of a chained invoke in the background and completes
    /// the operation when it ends.
    pub(crate) fn spawn_chained(
        self: &Arc<Self>,
        arn: String,
        op_id: String,
        c: ChainedInvokeDetails,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let outcome = me.run_target(&arn, &op_id, &c).await;
            if let Err(e) = me.complete_chained(&arn, &op_id, outcome).await {
                tracing::error!(execution = %arn, op = %op_id, "completing a chained invoke: {e}");
            }
        });
    }

    /// Runs a chained invoke's target to its end.
    async fn run_target(
        self: &Arc<Self>,
        parent: &str,
        op_id: &str,
        c: &ChainedInvokeDetails,
    ) -> Result<String, ErrorObject> {
        let payload = c.input.clone().unwrap_or_else(|| "null".into());
        let fail = |t: &str, m: String| ErrorObject {
            error_type: Some(t.into()),
            error_message: Some(m),
            ..ErrorObject::default()
        };
        if let Some(f) = self.functions.get(&c.function_name).cloned() {
            // A durable target: a child execution, named after the parent
            // operation so that a restart finds it instead of starting another.
            let arn = c
                .execution_arn
                .clone()
                .unwrap_or_else(|| execution_arn(&f.name));
            let parent_id = parent.rsplit(':').next().unwrap_or(parent);
            let name: String = format!("{parent_id}-{op_id}")
                .chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_')
                .take(64)
                .collect();
            let child = match self.start_execution_as(&f, arn, Some(name), payload).await {
                Ok(s) => s.execution.arn,
                Err(DurableError::Journal(JournalError::ExecutionExists { arn })) => arn,
                Err(e) => return Err(fail("ChainedInvokeError", e.to_string())),
            };
            loop {
                match self.wait_for_end(&child, Duration::from_secs(3600)).await {
                    Ok(e) if e.status == ExecutionStatus::Succeeded => {
                        return Ok(e.result.unwrap_or_else(|| "null".into()));
                    }
                    Ok(e) if e.status.is_terminal() => {
                        return Err(e.error.unwrap_or_else(|| {
                            fail(
                                e.status.as_str(),
                                format!("execution {child} ended {}", e.status.as_str()),
                            )
                        }));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(fail("ChainedInvokeError", e.to_string())),
                }
            }
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let out = match self.targets.get(&c.function_name) {
            None => {
                return Err(fail(
                    "ResourceNotFoundException",
                    format!("Function not found: {}", c.function_name),
                ));
            }
            Some(InvokeTarget::Other(f)) => {
                return Err(fail(
                    "InvalidParameterValueException",
                    format!(
                        "function `{}` is an {} function and cannot be invoked",
                        f.name,
                        f.kind.as_str()
                    ),
                ));
            }
            Some(InvokeTarget::Standard(f)) => {
                standard::invoke_handler(&self.engine, f, &request_id, payload.as_bytes()).await
            }
            Some(InvokeTarget::Managed(pool)) => pool.invoke(&request_id, payload.as_bytes()).await,
        };
        match out {
            Ok((HandlerOutput::Ok(bytes), _)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Ok((
                HandlerOutput::FunctionError {
                    error_type,
                    error_message,
                },
                _,
            )) => Err(fail(&error_type, error_message)),
            Err(e) => Err(fail(error_type_of(&e), e.to_string())),
        }
    }

    /// Records the end of a chained invoke and re-invokes its execution.
    async fn complete_chained(
        self: &Arc<Self>,
        arn: &str,
        op_id: &str,
        outcome: Result<String, ErrorObject>,
    ) -> Result<(), DurableError> {
        self.invocation_finished(arn).await;
        let _g = self.lock_execution(arn).await;
        let (execution, op) = self.execution_and_op(arn, Some(op_id)).await?;
        if execution.status.is_terminal() {
            return Ok(());
        }
        let Some(mut op) = op else {
            return Ok(());
        };
        if op.status != OperationStatus::Started {
            return Ok(());
        }
        op.end_ms = Some(now_ms());
        let mut b = Batch::default();
        match outcome {
            Ok(result) => {
                op.status = OperationStatus::Succeeded;
                b.events.push(
                    NewEvent::for_operation(EventType::ChainedInvokeSucceeded, &op)
                        .with_details(json!({ "Result": event_result(&result) })),
                );
                op.result = Some(result);
            }
            Err(error) => {
                op.status = OperationStatus::Failed;
                b.events.push(
                    NewEvent::for_operation(EventType::ChainedInvokeFailed, &op)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                op.error = Some(error);
            }
        }
        b.operations.push(op);
        b.execution.invocation_in_progress = Some(true);
        self.journal.apply(arn, b).await?;
        self.schedule(arn);
        Ok(())
    }

    /// After a restart: runs again (or finds, for durable targets) the
    /// targets of chained invokes that had not completed.
    async fn resume_chained_invokes(self: &Arc<Self>) -> Result<(), JournalError> {
        let mut after = None;
        loop {
            let page = self
                .journal
                .list_executions(crate::journal::ListQuery {
                    statuses: vec![ExecutionStatus::Running],
                    limit: 500,
                    after: after.take(),
                    ..Default::default()
                })
                .await?;
            for e in &page.executions {
                let state = self.journal.load_state(&e.arn).await?;
                for op in state.operations {
                    if op.op_type == OperationType::ChainedInvoke
                        && op.status == OperationStatus::Started
                        && let Some(c) = op.chained_invoke
                    {
                        tracing::info!(execution = %e.arn, op = %op.id, target = %c.function_name,
                            "resuming a chained invoke");
                        self.spawn_chained(e.arn.clone(), op.id, c);
                    }
                }
            }
            match page.next {
                Some(n) => after = Some(n),
                None => return Ok(()),
            }
        }
    }
}

/// The EXECUTION operation of an execution that ended with `status` at `end_ms`.
fn execution_op(start_ms: u64, status: ExecutionStatus, end_ms: u64) -> Operation {
    let op_status = match status {
        ExecutionStatus::Running => OperationStatus::Started,
        ExecutionStatus::Succeeded => OperationStatus::Succeeded,
        ExecutionStatus::Failed => OperationStatus::Failed,
        ExecutionStatus::TimedOut => OperationStatus::TimedOut,
        ExecutionStatus::Stopped => OperationStatus::Stopped,
    };
    let mut op = Operation::new(
        EXECUTION_OP_ID,
        OperationType::Execution,
        op_status,
        start_ms,
    );
    op.end_ms = Some(end_ms);
    op
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

impl Durable {
    /// Appends the durable metrics (Prometheus text) to `out`: counters, and
    /// per function the executions with a live instance and those waiting
    /// (hibernating: journal rows only, no instance).
    pub async fn render_metrics(&self, out: &mut String) {
        use crate::metrics::header;
        use std::fmt::Write;
        let counters = [
            (
                "lamina_durable_executions_started_total",
                "Durable executions started.",
                &self.metrics.started,
            ),
            (
                "lamina_durable_executions_ended_total",
                "Durable executions that ended.",
                &self.metrics.ended,
            ),
            (
                "lamina_durable_invocations_total",
                "Durable invocations (first runs and replays).",
                &self.metrics.invocations,
            ),
            (
                "lamina_durable_replays_total",
                "Durable invocations that replayed a journal.",
                &self.metrics.replays,
            ),
            (
                "lamina_durable_timers_fired_total",
                "Timers handled (waits, retries, timeouts).",
                &self.metrics.timers_fired,
            ),
            (
                "lamina_durable_callbacks_total",
                "Callback completions and heartbeats accepted.",
                &self.metrics.callbacks,
            ),
            (
                "lamina_durable_crashes_total",
                "Durable invocations that crashed.",
                &self.metrics.crashes,
            ),
        ];
        let stats = self.journal.stats();
        let counters = counters
            .map(|(name, help, v)| (name, help, v.load(Ordering::Relaxed)))
            .into_iter()
            .chain([
                (
                    "lamina_journal_commits_total",
                    "Journal write transactions.",
                    stats.commits,
                ),
                (
                    "lamina_journal_requests_total",
                    "Journal write requests.",
                    stats.requests,
                ),
            ]);
        for (name, help, v) in counters {
            header(out, name, "counter", help);
            let _ = writeln!(out, "{name} {v}");
        }
        header(
            out,
            "lamina_durable_executions",
            "gauge",
            "Running durable executions: `active` have an invocation running or owed, \
             `waiting` hold no instance.",
        );
        let active: std::collections::HashSet<String> =
            lock(&self.active).keys().cloned().collect();
        for f in self.functions.values() {
            let running = self
                .journal
                .list_executions(crate::journal::ListQuery {
                    function: Some(f.name.to_string()),
                    statuses: vec![ExecutionStatus::Running],
                    limit: 1_000_000,
                    ..Default::default()
                })
                .await
                .map(|p| p.executions)
                .unwrap_or_default();
            let busy = running.iter().filter(|e| active.contains(&e.arn)).count();
            for (state, n) in [("active", busy), ("waiting", running.len() - busy)] {
                let _ = writeln!(
                    out,
                    "lamina_durable_executions{{function=\"{}\",state=\"{state}\"}} {n}",
                    f.name
                );
            }
        }
        header(
            out,
            "lamina_durable_instances_live",
            "gauge",
            "Live instances of durable functions.",
        );
        for f in self.functions.values() {
            let _ = writeln!(
                out,
                "lamina_durable_instances_live{{function=\"{}\"}} {}",
                f.name,
                f.metrics.instances_live.load(Ordering::Relaxed)
            );
        }
    }
}
