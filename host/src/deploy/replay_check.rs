//! The deploy-time replay check: before new code moves, replay every live
//! execution of a durable function against it in a sandbox and report which
//! would diverge.
//!
//! Each execution is copied (input and operations) into an in-memory
//! journal and run once by a throwaway durable runtime with the new code,
//! with no directories and no outbound hosts. Journaled operations return
//! their results as in any replay; the journal in between ([`Sandbox`])
//! stops the run at the first write of an operation the execution does not
//! have yet, so nothing new runs past that point and nothing outside is
//! touched. The verdict is the first thing the run writes: a
//! `NonDeterministicExecution` failure (divergent, with the guest's message
//! naming the operation and both sides), a new operation (compatible up to
//! there), the end of the invocation with nothing new (compatible: it waits
//! where it waited), or the execution's end.

use crate::journal::{
    Batch, CallbackRef, Claim, CreateOutcome, Execution, ExecutionPage, ExecutionState,
    ExecutionStatus, HistoryEvent, Journal, JournalError, JournalFuture, JournalStats, ListQuery,
    MemoryJournal, NewExecution, NewQueuedEvent, Operation, QueuedEvent, QueuedWrite, Timer,
};
use serde::Serialize;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// How long one execution's sandboxed replay may take.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// What replaying one execution on the new code showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Verdict {
    /// The execution.
    pub durable_execution_arn: String,
    /// `COMPATIBLE`, `DIVERGENT` or `UNKNOWN` (no verdict within the time).
    pub result: &'static str,
    /// What happened, for humans (the guest's message on divergence: the
    /// operation and both sides).
    pub detail: String,
    /// Whether the execution was moved to the new code (only when asked,
    /// and only compatible executions that did not move on meanwhile).
    pub moved: bool,
}

/// The journal the sandboxed replay runs on: an in-memory copy of one
/// execution that records the first telling write and refuses any write
/// that adds an operation.
pub struct Sandbox {
    inner: MemoryJournal,
    known: HashSet<String>,
    verdict: Mutex<Option<(&'static str, String)>>,
}

impl Sandbox {
    fn note(&self, result: &'static str, detail: String) {
        let mut v = self.verdict.lock().unwrap_or_else(PoisonError::into_inner);
        if v.is_none() {
            *v = Some((result, detail));
        }
    }

    fn verdict(&self) -> Option<(&'static str, String)> {
        self.verdict
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Looks at a batch before it is written: `false` stops it.
    fn admit(&self, batch: &Batch) -> bool {
        if let Some(err) = &batch.execution.error
            && err.error_type.as_deref() == Some("NonDeterministicExecution")
        {
            self.note("DIVERGENT", err.error_message.clone().unwrap_or_default());
            return true;
        }
        if let Some(op) = batch
            .operations
            .iter()
            .find(|o| !self.known.contains(&o.id))
        {
            self.note(
                "COMPATIBLE",
                format!(
                    "replays every journaled operation, then reaches new operation {} ({}); \
                     the check stops there",
                    op.id,
                    op.name.as_deref().unwrap_or("unnamed")
                ),
            );
            return false;
        }
        match batch.execution.status {
            Some(ExecutionStatus::Succeeded) => self.note(
                "COMPATIBLE",
                "replays every journaled operation and completes".into(),
            ),
            Some(s) if s.is_terminal() => self.note(
                "DIVERGENT",
                format!(
                    "the replay ends the execution as {s}: {}",
                    batch
                        .execution
                        .error
                        .as_ref()
                        .and_then(|e| e.error_message.clone())
                        .unwrap_or_default()
                ),
            ),
            _ if batch.execution.invocation_in_progress == Some(false) => self.note(
                "COMPATIBLE",
                "replays every journaled operation and waits where the execution waits".into(),
            ),
            _ => {}
        }
        true
    }
}

fn stopped() -> JournalError {
    JournalError::Invalid("replay check: stopped at the first new operation".into())
}

impl Journal for Sandbox {
    fn create_execution(&self, new: NewExecution) -> JournalFuture<'_, CreateOutcome> {
        self.inner.create_execution(new)
    }
    fn get_execution<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<Execution>> {
        self.inner.get_execution(arn)
    }
    fn execution_input<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<String>> {
        self.inner.execution_input(arn)
    }
    fn find_by_name<'a>(
        &'a self,
        function: &'a str,
        name: &'a str,
    ) -> JournalFuture<'a, Option<Execution>> {
        self.inner.find_by_name(function, name)
    }
    fn list_executions(&self, query: ListQuery) -> JournalFuture<'_, ExecutionPage> {
        self.inner.list_executions(query)
    }
    fn load_state<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, ExecutionState> {
        self.inner.load_state(arn)
    }
    fn operation<'a>(
        &'a self,
        arn: &'a str,
        op_id: &'a str,
    ) -> JournalFuture<'a, Option<Operation>> {
        self.inner.operation(arn, op_id)
    }
    fn apply<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, Vec<u64>> {
        if !self.admit(&batch) {
            return Box::pin(async { Err(stopped()) });
        }
        self.inner.apply(arn, batch)
    }
    fn enqueue<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, QueuedWrite> {
        if !self.admit(&batch) {
            return Box::pin(async { Err(stopped()) });
        }
        self.inner.enqueue(arn, batch)
    }
    fn history<'a>(
        &'a self,
        arn: &'a str,
        after_event_id: u64,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        self.inner.history(arn, after_event_id, limit)
    }
    fn history_reverse<'a>(
        &'a self,
        arn: &'a str,
        before_event_id: Option<u64>,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        self.inner.history_reverse(arn, before_event_id, limit)
    }
    fn callback<'a>(&'a self, callback_id: &'a str) -> JournalFuture<'a, Option<CallbackRef>> {
        self.inner.callback(callback_id)
    }
    fn due_timers(&self, _now_ms: u64, _limit: usize) -> JournalFuture<'_, Vec<Timer>> {
        // A sandboxed replay never waits out a timer.
        Box::pin(async { Ok(Vec::new()) })
    }
    fn next_timer_due(&self) -> JournalFuture<'_, Option<u64>> {
        Box::pin(async { Ok(None) })
    }
    fn executions_needing_recovery(&self) -> JournalFuture<'_, Vec<Execution>> {
        self.inner.executions_needing_recovery()
    }
    fn claim_runnable<'a>(
        &'a self,
        owner: &'a str,
        lease: Duration,
        limit: usize,
    ) -> JournalFuture<'a, Vec<Claim<Execution>>> {
        self.inner.claim_runnable(owner, lease, limit)
    }
    fn stats(&self) -> JournalStats {
        self.inner.stats()
    }
    fn expired_executions<'a>(
        &'a self,
        _cutoff_ms: &'a (dyn Fn(&str) -> Option<u64> + Send + Sync),
        _limit: usize,
    ) -> JournalFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn delete_executions(&self, arns: Vec<String>) -> JournalFuture<'_, usize> {
        self.inner.delete_executions(arns)
    }
    fn queue_event(&self, event: NewQueuedEvent) -> JournalFuture<'_, u64> {
        self.inner.queue_event(event)
    }
    fn retry_queued_event(&self, id: u64, attempts: u32, due_ms: u64) -> JournalFuture<'_, ()> {
        self.inner.retry_queued_event(id, attempts, due_ms)
    }
    fn remove_queued_event(&self, id: u64) -> JournalFuture<'_, ()> {
        self.inner.remove_queued_event(id)
    }
    fn queued_events(&self, limit: usize) -> JournalFuture<'_, Vec<QueuedEvent>> {
        self.inner.queued_events(limit)
    }
    fn queued_event_payload(&self, id: u64) -> JournalFuture<'_, Option<Vec<u8>>> {
        self.inner.queued_event_payload(id)
    }
    fn queued_event_count(&self) -> JournalFuture<'_, u64> {
        self.inner.queued_event_count()
    }
}

/// Replays `state` (one live execution, read from the real journal) on
/// `function` (the new code, sandboxed) and says what happened.
pub async fn check(
    engine: &Arc<crate::engine::LaminaEngine>,
    function: &Arc<crate::registry::Function>,
    state: ExecutionState,
) -> Verdict {
    let arn = state.execution.arn.clone();
    let verdict = |result: &'static str, detail: String| Verdict {
        durable_execution_arn: arn.clone(),
        result,
        detail,
        moved: false,
    };
    let sandbox = Arc::new(Sandbox {
        inner: MemoryJournal::new(),
        known: state.operations.iter().map(|o| o.id.clone()).collect(),
        verdict: Mutex::new(None),
    });
    let e = &state.execution;
    let copy = NewExecution {
        arn: e.arn.clone(),
        function: e.function.clone(),
        name: e.name.clone(),
        input: state.input.clone(),
        start_ms: e.start_ms,
        deadline_ms: e.deadline_ms,
        invocation_in_progress: true,
        operations: state.operations.clone(),
        events: Vec::new(),
        code_sha256: Some(function.code_sha256.clone()),
    };
    if let Err(err) = sandbox.create_execution(copy).await {
        return verdict("UNKNOWN", format!("copying the execution failed: {err}"));
    }
    let journal: Arc<dyn Journal> = sandbox.clone();
    // The runtime picks the copy up as an execution to recover and runs it.
    let runtime = crate::durable::Durable::start(
        engine.clone(),
        journal,
        [function.clone()],
        Default::default(),
        None,
    )
    .await;
    if let Err(err) = runtime {
        return verdict("UNKNOWN", format!("starting the sandbox failed: {err}"));
    }
    let deadline = tokio::time::Instant::now() + CHECK_TIMEOUT;
    loop {
        if let Some((result, detail)) = sandbox.verdict() {
            return verdict(result, detail);
        }
        if tokio::time::Instant::now() >= deadline {
            return verdict(
                "UNKNOWN",
                format!("no verdict within {} s", CHECK_TIMEOUT.as_secs()),
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

use super::{DeployError, Deployer};
use crate::api::Host;
use crate::config::FunctionKind;

impl Deployer {
    /// The deploy-time replay check: replays every live execution of the
    /// durable function `name` against `code` in a sandbox (see
    /// [`replay_check`]) and says which would diverge. Changes nothing,
    /// unless `move_compatible`: then each compatible execution that has not
    /// moved on since it was checked runs `code` from its next invocation.
    pub async fn check_replay(
        &self,
        host: &Host,
        name: &str,
        code: &[u8],
        move_compatible: bool,
    ) -> Result<Vec<Verdict>, DeployError> {
        let rec = self.existing(name)?;
        let mut v = self.new_version(code, rec.latest.settings.clone())?;
        // The sandbox: no directories, no outbound hosts.
        v.settings.dirs.clear();
        v.settings.allowed_outbound_hosts.clear();
        let f = self.load(name, &v).await?;
        if f.kind != FunctionKind::Durable {
            return Err(DeployError::Invalid(format!(
                "the replay check is for durable functions; this code is an {} function",
                f.kind.as_str()
            )));
        }
        let Some(durable) = &host.durable else {
            return Ok(Vec::new());
        };
        let journal = durable.journal().clone();
        let page = journal
            .list_executions(crate::journal::ListQuery {
                function: Some(name.to_string()),
                statuses: vec![crate::journal::ExecutionStatus::Running],
                limit: 10_000,
                ..Default::default()
            })
            .await
            .map_err(|e| DeployError::Invalid(format!("reading the journal: {e}")))?;
        let mut verdicts = Vec::new();
        for e in page.executions {
            let state = match journal.load_state(&e.arn).await {
                Ok(s) => s,
                Err(err) => {
                    verdicts.push(Verdict {
                        durable_execution_arn: e.arn.clone(),
                        result: "UNKNOWN",
                        detail: format!("reading the execution: {err}"),
                        moved: false,
                    });
                    continue;
                }
            };
            let seen = crate::journal::Expect {
                last_event_id: state.execution.last_event_id,
            };
            let mut verdict = check(&self.engine, &f, state).await;
            if move_compatible && verdict.result == "COMPATIBLE" {
                let batch = crate::journal::Batch {
                    execution: crate::journal::ExecutionUpdate {
                        code_sha256: Some(v.code_sha256.clone()),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                match journal.apply_expecting(&e.arn, batch, seen).await {
                    Ok(_) => verdict.moved = true,
                    Err(err) => {
                        verdict.detail.push_str(&format!("; not moved: {err}"));
                    }
                }
            }
            verdicts.push(verdict);
        }
        Ok(verdicts)
    }
}
