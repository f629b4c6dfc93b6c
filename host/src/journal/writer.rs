//! The single writer thread and its group commit.
//!
//! Every write request is queued on one channel. The writer takes the first
//! request, then every request already queued (up to a group limit), applies
//! them in order inside ONE redb write transaction, commits it with
//! `Durability::Immediate`, and only then answers each caller. A request that
//! is rejected (unknown execution, ended execution, ...) is answered with its
//! error and writes nothing; a storage failure aborts the transaction and
//! answers every request of the group with that failure.
//!
//! Each request is applied in two phases so that a rejection never leaves a
//! partial write in the shared transaction: `plan_*` reads, validates and
//! encodes everything (all logical errors happen here), then `write_*` only
//! writes (its only possible errors are storage errors, which abort the group).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use redb::{Database, Durability, ReadableTable, Table, WriteTransaction};
use tokio::sync::oneshot;

use super::queue::{self, QueueWrite};
use super::retention::{ENDED, ended_key};
use super::tables::{
    BY_FUNCTION, CALLBACKS, EXECUTIONS, HISTORY, INPUTS, META, META_NEXT_TIMER_SEQ, NAMES,
    OPERATIONS, RUNNING, TIMER_SLOTS, TIMERS, encode, op_column, read_callback, read_execution,
    read_input, read_operation, storage,
};
use super::{
    Batch, CreateOutcome, Execution, ExecutionStatus, HistoryEvent, JournalError, JournalStats,
    Metering, NewEvent, NewExecution, Operation, Result, TimerKind, TimerSpec, now_ms,
};

/// A write request and where to send its answer.
pub(super) enum Request {
    /// `create_execution`.
    Create {
        /// The execution to create.
        new: NewExecution,
        /// The answer.
        reply: Reply<CreateOutcome>,
    },
    /// `apply`.
    Apply {
        /// The execution.
        arn: String,
        /// The updates.
        batch: Batch,
        /// The answer (the assigned event ids).
        reply: Reply<Vec<u64>>,
    },
    /// `delete_executions` (retention).
    Delete {
        /// The executions to delete (ended ones only).
        arns: Vec<String>,
        /// The answer (how many were deleted).
        reply: Reply<usize>,
    },
    /// A write to the queue of asynchronous invocations.
    Queue {
        /// The write.
        write: QueueWrite,
        /// The answer (the event id).
        reply: Reply<u64>,
    },
}

impl Request {
    /// Answers the caller: `failure` if the group failed, else the request's own answer.
    fn finish(self, failure: Option<&JournalError>) {
        match self {
            Request::Create { reply, .. } => reply.finish(failure),
            Request::Apply { reply, .. } => reply.finish(failure),
            Request::Delete { reply, .. } => reply.finish(failure),
            Request::Queue { reply, .. } => reply.finish(failure),
        }
    }
}

/// Where one request's answer goes, and the answer while the group is
/// not yet committed.
pub(super) struct Reply<T> {
    sender: oneshot::Sender<Result<T>>,
    answer: Option<Result<T>>,
}

impl<T> Reply<T> {
    /// A reply to `sender`, not yet answered.
    pub(super) fn new(sender: oneshot::Sender<Result<T>>) -> Self {
        Reply {
            sender,
            answer: None,
        }
    }

    /// Records the request's own answer: a storage error aborts the group
    /// (`Err`), any other error is kept as that request's answer.
    fn record(&mut self, result: Result<T>) -> Result<()> {
        match result {
            Err(e) if e.is_storage() => Err(e),
            other => {
                self.answer = Some(other);
                Ok(())
            }
        }
    }

    fn finish(self, failure: Option<&JournalError>) {
        let answer = match (failure, self.answer) {
            (Some(error), _) => Err(error.clone()),
            (None, Some(answer)) => answer,
            // Unreachable: without a failure every request was answered.
            (None, None) => Err(JournalError::Storage("request was not processed".into())),
        };
        // A caller that stopped waiting is not an error.
        let _ = self.sender.send(answer);
    }
}

/// Write-path counters, shared with the journal handle.
#[derive(Default)]
pub(super) struct WriterStats {
    commits: AtomicU64,
    requests: AtomicU64,
    largest_group: AtomicU64,
    commit_us: AtomicU64,
}

impl WriterStats {
    /// A snapshot of the counters.
    pub(super) fn snapshot(&self) -> JournalStats {
        JournalStats {
            commits: self.commits.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            largest_group: self.largest_group.load(Ordering::Relaxed),
            commit_us: self.commit_us.load(Ordering::Relaxed),
        }
    }
}

/// The writer thread's loop: runs until every sender is gone or the channel is closed.
pub(super) fn run(
    db: Arc<Database>,
    requests: async_channel::Receiver<Request>,
    stats: Arc<WriterStats>,
    max_group: usize,
) {
    while let Ok(first) = requests.recv_blocking() {
        let mut group = vec![first];
        while group.len() < max_group {
            match requests.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        commit_group(&db, group, &stats);
    }
}

/// Applies and commits one group, then answers every request in it.
fn commit_group(db: &Database, mut group: Vec<Request>, stats: &WriterStats) {
    let started = Instant::now();
    let result = execute(db, &mut group);
    let elapsed = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let size = group.len() as u64;
    stats.commits.fetch_add(1, Ordering::Relaxed);
    stats.requests.fetch_add(size, Ordering::Relaxed);
    stats.largest_group.fetch_max(size, Ordering::Relaxed);
    stats.commit_us.fetch_add(elapsed, Ordering::Relaxed);
    if let Err(error) = &result {
        tracing::error!(%error, requests = size, "journal group commit failed");
    }
    let failure = result.err();
    for request in group {
        request.finish(failure.as_ref());
    }
}

/// Runs every request of the group in one write transaction and commits it,
/// recording each request's answer. `Err` is a storage failure: nothing of
/// the group is stored.
fn execute(db: &Database, group: &mut [Request]) -> Result<()> {
    let mut txn = db.begin_write().map_err(storage)?;
    // The default, made explicit: `commit` returns only once the data is on disk.
    txn.set_durability(Durability::Immediate)
        .map_err(|e| JournalError::Storage(e.to_string()))?;
    {
        let mut tables = Tables::open(&txn)?;
        let now = now_ms();
        for request in group.iter_mut() {
            match request {
                Request::Create { new, reply } => reply.record(create(&mut tables, new, now))?,
                Request::Apply { arn, batch, reply } => {
                    reply.record(apply(&mut tables, arn, batch, now))?
                }
                Request::Delete { arns, reply } => reply.record(tables.delete_ended(arns))?,
                Request::Queue { write, reply } => reply.record(queue::apply(&txn, write))?,
            }
        }
        tables.flush()?;
    }
    txn.commit().map_err(storage)
}

/// The tables of one write transaction.
struct Tables<'txn> {
    meta: Table<'txn, &'static str, u64>,
    executions: Table<'txn, &'static str, &'static [u8]>,
    inputs: Table<'txn, &'static str, &'static str>,
    names: Table<'txn, (&'static str, &'static str), &'static str>,
    by_function: Table<'txn, (&'static str, u64, &'static str), ()>,
    running: Table<'txn, &'static str, bool>,
    operations: Table<'txn, (&'static str, &'static str), &'static [u8]>,
    history: Table<'txn, (&'static str, u64), &'static [u8]>,
    timers: Table<'txn, (u64, u64), (&'static str, &'static str, &'static str)>,
    timer_slots: Table<'txn, (&'static str, &'static str, &'static str), (u64, u64)>,
    callbacks: Table<'txn, &'static str, (&'static str, &'static str)>,
    /// `ended_executions` (see `retention.rs`).
    ended: Table<'txn, (&'static str, u64, &'static str), ()>,
    /// The next timer sequence number (written back by `flush`).
    next_timer_seq: u64,
    /// Whether `next_timer_seq` changed.
    seq_dirty: bool,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Self> {
        let meta = txn.open_table(META).map_err(storage)?;
        let next_timer_seq = meta
            .get(META_NEXT_TIMER_SEQ)
            .map_err(storage)?
            .map_or(0, |v| v.value());
        Ok(Tables {
            meta,
            executions: txn.open_table(EXECUTIONS).map_err(storage)?,
            inputs: txn.open_table(INPUTS).map_err(storage)?,
            names: txn.open_table(NAMES).map_err(storage)?,
            by_function: txn.open_table(BY_FUNCTION).map_err(storage)?,
            running: txn.open_table(RUNNING).map_err(storage)?,
            operations: txn.open_table(OPERATIONS).map_err(storage)?,
            history: txn.open_table(HISTORY).map_err(storage)?,
            timers: txn.open_table(TIMERS).map_err(storage)?,
            timer_slots: txn.open_table(TIMER_SLOTS).map_err(storage)?,
            callbacks: txn.open_table(CALLBACKS).map_err(storage)?,
            ended: txn.open_table(ENDED).map_err(storage)?,
            next_timer_seq,
            seq_dirty: false,
        })
    }

    /// Writes back the counters kept in memory during the group.
    fn flush(&mut self) -> Result<()> {
        if self.seq_dirty {
            self.meta
                .insert(META_NEXT_TIMER_SEQ, self.next_timer_seq)
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Clears one timer slot of an execution.
    fn clear_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str) -> Result<()> {
        let old = self
            .timer_slots
            .remove((arn, kind.as_str(), op_id))
            .map_err(storage)?
            .map(|v| v.value());
        if let Some(key) = old {
            self.timers.remove(key).map_err(storage)?;
        }
        Ok(())
    }

    /// Sets (or moves) one timer slot of an execution.
    fn set_timer(&mut self, arn: &str, spec: &TimerSpec) -> Result<()> {
        let op_id = op_column(spec.op_id.as_deref());
        self.clear_timer(arn, spec.kind, op_id)?;
        let key = (spec.due_ms, self.next_timer_seq);
        self.next_timer_seq += 1;
        self.seq_dirty = true;
        self.timers
            .insert(key, (arn, spec.kind.as_str(), op_id))
            .map_err(storage)?;
        self.timer_slots
            .insert((arn, spec.kind.as_str(), op_id), key)
            .map_err(storage)?;
        Ok(())
    }

    /// Clears every timer slot of an execution.
    fn clear_all_timers(&mut self, arn: &str) -> Result<()> {
        let mut keys = Vec::new();
        for row in self.timer_slots.range((arn, "", "")..).map_err(storage)? {
            let (slot, timer) = row.map_err(storage)?;
            let (row_arn, kind, op_id) = slot.value();
            if row_arn != arn {
                break;
            }
            keys.push((kind.to_owned(), op_id.to_owned(), timer.value()));
        }
        for (kind, op_id, timer) in keys {
            self.timer_slots
                .remove((arn, kind.as_str(), op_id.as_str()))
                .map_err(storage)?;
            self.timers.remove(timer).map_err(storage)?;
        }
        Ok(())
    }

    /// Writes encoded events.
    fn write_events(&mut self, arn: &str, events: &Encoded<u64>) -> Result<()> {
        for (id, bytes) in &events.rows {
            self.history
                .insert((arn, *id), bytes.as_slice())
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Writes encoded operations.
    fn write_operations(&mut self, arn: &str, ops: &Encoded<String>) -> Result<()> {
        for (id, bytes) in &ops.rows {
            self.operations
                .insert((arn, id.as_str()), bytes.as_slice())
                .map_err(storage)?;
        }
        Ok(())
    }
}

/// Encoded rows to write, keyed by `K`, and their total size.
struct Encoded<K> {
    rows: Vec<(K, Vec<u8>)>,
    bytes: u64,
}

/// Encodes `events` with ids after `exec.last_event_id`, advancing it.
fn plan_events(exec: &mut Execution, events: &mut [NewEvent], now: u64) -> Result<Encoded<u64>> {
    let mut rows = Vec::with_capacity(events.len());
    let mut bytes = 0u64;
    for event in events.iter_mut() {
        exec.last_event_id += 1;
        let stored = HistoryEvent {
            event_id: exec.last_event_id,
            event_type: event.event_type,
            timestamp_ms: event.timestamp_ms.unwrap_or(now),
            id: event.id.take(),
            parent_id: event.parent_id.take(),
            name: event.name.take(),
            sub_type: event.sub_type.take(),
            details: std::mem::take(&mut event.details),
        };
        let encoded = encode(&stored)?;
        bytes += encoded.len() as u64;
        rows.push((exec.last_event_id, encoded));
    }
    Ok(Encoded { rows, bytes })
}

/// Encodes operation upserts, keeping the `seq` of stored operations and
/// giving new ones the next `seq` (advancing `exec.operation_count`).
fn plan_operations(
    tables: &Tables<'_>,
    exec: &mut Execution,
    ops: &mut [Operation],
) -> Result<Encoded<String>> {
    let mut seqs: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::with_capacity(ops.len());
    let mut bytes = 0u64;
    for op in ops.iter_mut() {
        if op.id.is_empty() {
            return Err(JournalError::Invalid("an operation has an empty id".into()));
        }
        op.seq = match seqs.get(&op.id) {
            Some(seq) => *seq,
            None => match read_operation(&tables.operations, &exec.arn, &op.id)? {
                Some(stored) => stored.seq,
                None => {
                    exec.operation_count += 1;
                    exec.operation_count - 1
                }
            },
        };
        seqs.insert(op.id.clone(), op.seq);
        let encoded = encode(op)?;
        bytes += encoded.len() as u64;
        rows.push((op.id.clone(), encoded));
    }
    Ok(Encoded { rows, bytes })
}

/// `create_execution`.
fn create(tables: &mut Tables<'_>, new: &mut NewExecution, now: u64) -> Result<CreateOutcome> {
    // Phase 1: checks and encoding.
    if new.arn.is_empty() || new.function.is_empty() {
        return Err(JournalError::Invalid(
            "an execution needs an ARN and a function".into(),
        ));
    }
    if tables
        .executions
        .get(new.arn.as_str())
        .map_err(storage)?
        .is_some()
    {
        return Err(JournalError::ExecutionExists {
            arn: new.arn.clone(),
        });
    }
    if let Some(name) = &new.name {
        let existing = tables
            .names
            .get((new.function.as_str(), name.as_str()))
            .map_err(storage)?
            .map(|v| v.value().to_owned());
        if let Some(arn) = existing {
            return existing_outcome(tables, &arn, &new.input);
        }
    }
    let mut exec = Execution {
        arn: new.arn.clone(),
        function: new.function.clone(),
        name: new.name.clone(),
        status: ExecutionStatus::Running,
        result: None,
        error: None,
        start_ms: new.start_ms,
        end_ms: None,
        deadline_ms: new.deadline_ms,
        invocation_in_progress: new.invocation_in_progress,
        metering: Metering::default(),
        last_event_id: 0,
        operation_count: 0,
    };
    let op_rows = plan_operations(tables, &mut exec, &mut new.operations)?;
    let event_rows = plan_events(&mut exec, &mut new.events, now)?;
    exec.metering.bytes_journaled = new.input.len() as u64 + op_rows.bytes + event_rows.bytes;
    let exec_row = encode(&exec)?;

    // Phase 2: writes.
    let arn = exec.arn.as_str();
    tables
        .executions
        .insert(arn, exec_row.as_slice())
        .map_err(storage)?;
    tables
        .inputs
        .insert(arn, new.input.as_str())
        .map_err(storage)?;
    if let Some(name) = &exec.name {
        tables
            .names
            .insert((exec.function.as_str(), name.as_str()), arn)
            .map_err(storage)?;
    }
    tables
        .by_function
        .insert((exec.function.as_str(), exec.start_ms, arn), ())
        .map_err(storage)?;
    tables
        .running
        .insert(arn, exec.invocation_in_progress)
        .map_err(storage)?;
    tables.write_operations(arn, &op_rows)?;
    tables.write_events(arn, &event_rows)?;
    if let Some(due_ms) = exec.deadline_ms {
        let spec = TimerSpec {
            kind: TimerKind::ExecutionTimeout,
            op_id: None,
            due_ms,
        };
        tables.set_timer(arn, &spec)?;
    }
    Ok(CreateOutcome::Created(exec))
}

/// The outcome of creating a name that is taken by `arn`.
fn existing_outcome(tables: &Tables<'_>, arn: &str, input: &str) -> Result<CreateOutcome> {
    let exec = read_execution(&tables.executions, arn)?.ok_or_else(|| JournalError::Corrupt {
        table: "execution_names",
        key: arn.to_owned(),
        message: "the name leads to an execution that is not stored".into(),
    })?;
    let stored = read_input(&tables.inputs, arn)?.unwrap_or_default();
    if same_input(&stored, input) {
        Ok(CreateOutcome::Existing(exec))
    } else {
        Ok(CreateOutcome::NameConflict(exec))
    }
}

/// Whether two inputs are the same: the same text, or the same JSON value.
fn same_input(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// `apply`.
fn apply(tables: &mut Tables<'_>, arn: &str, batch: &mut Batch, now: u64) -> Result<Vec<u64>> {
    // Phase 1: checks and encoding.
    let mut exec = read_execution(&tables.executions, arn)?.ok_or_else(|| {
        JournalError::ExecutionNotFound {
            arn: arn.to_owned(),
        }
    })?;
    let update = &batch.execution;
    if exec.status.is_terminal() {
        let forbidden = update.status.is_some()
            || !batch.set_timers.is_empty()
            || !batch.add_callbacks.is_empty();
        if !batch.allow_after_end || forbidden {
            return Err(JournalError::ExecutionEnded {
                arn: arn.to_owned(),
                status: exec.status,
            });
        }
    }
    for registration in &batch.add_callbacks {
        if let Some(owner) = read_callback(&tables.callbacks, &registration.callback_id)?
            && (owner.arn != arn || owner.op_id != registration.op_id)
        {
            return Err(JournalError::CallbackIdInUse {
                callback_id: registration.callback_id.clone(),
                arn: owner.arn,
                op_id: owner.op_id,
            });
        }
    }
    let was_in_progress = exec.invocation_in_progress;
    let ended_before = ended_key(&exec);
    let op_rows = plan_operations(tables, &mut exec, &mut batch.operations)?;
    let event_rows = plan_events(&mut exec, &mut batch.events, now)?;
    let update = &mut batch.execution;
    let ends =
        update.status.is_some_and(ExecutionStatus::is_terminal) && !exec.status.is_terminal();
    if let Some(status) = update.status {
        exec.status = status;
    }
    if let Some(result) = update.result.take() {
        exec.result = Some(result);
    }
    if let Some(error) = update.error.take() {
        exec.error = Some(error);
    }
    if let Some(end_ms) = update.end_ms {
        exec.end_ms = Some(end_ms);
    } else if ends {
        exec.end_ms = Some(now);
    }
    if let Some(flag) = update.invocation_in_progress {
        exec.invocation_in_progress = flag;
    }
    exec.metering.add(&update.metering);
    exec.metering.bytes_journaled = exec
        .metering
        .bytes_journaled
        .saturating_add(op_rows.bytes + event_rows.bytes);
    let exec_row = encode(&exec)?;

    // Phase 2: writes.
    tables.write_operations(arn, &op_rows)?;
    tables.write_events(arn, &event_rows)?;
    tables
        .executions
        .insert(arn, exec_row.as_slice())
        .map_err(storage)?;
    tables.index_end(&exec, ended_before)?;
    if exec.status.is_terminal() {
        tables.running.remove(arn).map_err(storage)?;
        tables.clear_all_timers(arn)?;
    } else {
        if exec.invocation_in_progress != was_in_progress {
            tables
                .running
                .insert(arn, exec.invocation_in_progress)
                .map_err(storage)?;
        }
        for slot in &batch.clear_timers {
            tables.clear_timer(arn, slot.kind, op_column(slot.op_id.as_deref()))?;
        }
        for spec in &batch.set_timers {
            tables.set_timer(arn, spec)?;
        }
    }
    for callback_id in &batch.remove_callbacks {
        tables
            .callbacks
            .remove(callback_id.as_str())
            .map_err(storage)?;
    }
    for registration in &batch.add_callbacks {
        tables
            .callbacks
            .insert(
                registration.callback_id.as_str(),
                (arn, registration.op_id.as_str()),
            )
            .map_err(storage)?;
    }
    Ok(event_rows.rows.iter().map(|(id, _)| *id).collect())
}

/// Retention: the `ended_executions` index and the deletion of ended executions.
impl Tables<'_> {
    /// Keeps `ended_executions` in step with `exec`, whose index end time
    /// was `before` (`None`: it was not indexed).
    fn index_end(&mut self, exec: &Execution, before: Option<u64>) -> Result<()> {
        let after = ended_key(exec);
        if before == after {
            return Ok(());
        }
        let (function, arn) = (exec.function.as_str(), exec.arn.as_str());
        if let Some(end_ms) = before {
            self.ended
                .remove((function, end_ms, arn))
                .map_err(storage)?;
        }
        if let Some(end_ms) = after {
            self.ended
                .insert((function, end_ms, arn), ())
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Deletes each ended execution of `arns` and every row that refers to
    /// it; skips unknown and RUNNING ones. Returns how many were deleted.
    fn delete_ended(&mut self, arns: &[String]) -> Result<usize> {
        let mut deleted = 0;
        for arn in arns {
            let arn = arn.as_str();
            let Some(exec) = read_execution(&self.executions, arn)? else {
                continue;
            };
            if !exec.status.is_terminal() {
                continue;
            }
            // Operations, and the callback ids their CALLBACK operations registered.
            let mut op_ids = Vec::new();
            let mut callback_ids = Vec::new();
            for row in self.operations.range((arn, "")..).map_err(storage)? {
                let (key, value) = row.map_err(storage)?;
                let (row_arn, op_id) = key.value();
                if row_arn != arn {
                    break;
                }
                op_ids.push(op_id.to_owned());
                // A row that does not decode cannot name a callback: it is
                // deleted all the same rather than blocking the retention.
                if let Ok(op) = serde_json::from_slice::<Operation>(value.value())
                    && let Some(callback) = op.callback
                {
                    callback_ids.push(callback.callback_id);
                }
            }
            for op_id in &op_ids {
                self.operations
                    .remove((arn, op_id.as_str()))
                    .map_err(storage)?;
            }
            for callback_id in &callback_ids {
                let owner = read_callback(&self.callbacks, callback_id)?;
                if owner.is_some_and(|o| o.arn == arn) {
                    self.callbacks
                        .remove(callback_id.as_str())
                        .map_err(storage)?;
                }
            }
            self.history
                .retain_in((arn, 0u64)..=(arn, u64::MAX), |_, _| false)
                .map_err(storage)?;
            self.clear_all_timers(arn)?;
            self.running.remove(arn).map_err(storage)?;
            if let Some(name) = &exec.name {
                let key = (exec.function.as_str(), name.as_str());
                let owner = self
                    .names
                    .get(key)
                    .map_err(storage)?
                    .map(|v| v.value() == arn);
                if owner == Some(true) {
                    self.names.remove(key).map_err(storage)?;
                }
            }
            self.by_function
                .remove((exec.function.as_str(), exec.start_ms, arn))
                .map_err(storage)?;
            if let Some(end_ms) = ended_key(&exec) {
                self.ended
                    .remove((exec.function.as_str(), end_ms, arn))
                    .map_err(storage)?;
            }
            self.inputs.remove(arn).map_err(storage)?;
            self.executions.remove(arn).map_err(storage)?;
            deleted += 1;
        }
        Ok(deleted)
    }
}
