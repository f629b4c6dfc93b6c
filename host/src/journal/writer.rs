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
//! The batch rules (event ids, timers, callback ownership, metering, ...)
//! are not here: `apply.rs` turns each request into row writes through the
//! [`Rows`] trait, which [`Tables`] implements on the transaction's tables.
//! A rejection is found before any row is written, so it never leaves a
//! partial write in the shared transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use redb::{Database, Durability, ReadableTable, Table, WriteTransaction};
use tokio::sync::oneshot;

use super::apply::{self, Rows};
use super::queue::{
    NEXT_EVENT_ID, QUEUE_META, QUEUED_EVENT_PAYLOADS, QUEUED_EVENTS, QUEUED_EVENTS_DUE, QueueWrite,
    QueuedEvent, decode_event,
};
use super::retention::ENDED;
use super::tables::{
    BY_FUNCTION, CALLBACKS, EXECUTIONS, HISTORY, INPUTS, META, META_NEXT_TIMER_SEQ, NAMES,
    OPERATIONS, RUNNING, TIMER_SLOTS, TIMERS, read_callback, read_execution, read_input,
    read_operation, storage,
};
use super::{
    Batch, CallbackRef, CreateOutcome, Execution, JournalError, JournalStats, NewExecution,
    Operation, Result, TimerKind, now_ms,
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
    pub(super) fn finish(self, failure: Option<&JournalError>) {
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
    pub(super) fn record(&mut self, result: Result<T>) -> Result<()> {
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
    /// Counts one committed (or failed) group of `size` requests.
    pub(super) fn record(&self, size: u64, elapsed: std::time::Duration) {
        let elapsed = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.requests.fetch_add(size, Ordering::Relaxed);
        self.largest_group.fetch_max(size, Ordering::Relaxed);
        self.commit_us.fetch_add(elapsed, Ordering::Relaxed);
    }

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
    let size = group.len() as u64;
    stats.record(size, started.elapsed());
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
                Request::Create { new, reply } => {
                    reply.record(apply::create(&mut tables, new, now))?
                }
                Request::Apply { arn, batch, reply } => {
                    reply.record(apply::apply(&mut tables, arn, batch, now))?
                }
                Request::Delete { arns, reply } => {
                    reply.record(apply::delete_ended(&mut tables, arns))?
                }
                Request::Queue { write, reply } => {
                    reply.record(apply::queue(&mut tables, write))?
                }
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
    /// The queue of asynchronous invocations (see `queue.rs`).
    queued: Table<'txn, u64, &'static [u8]>,
    queued_payloads: Table<'txn, u64, &'static [u8]>,
    queued_due: Table<'txn, (u64, u64), ()>,
    queue_meta: Table<'txn, &'static str, u64>,
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
            queued: txn.open_table(QUEUED_EVENTS).map_err(storage)?,
            queued_payloads: txn.open_table(QUEUED_EVENT_PAYLOADS).map_err(storage)?,
            queued_due: txn.open_table(QUEUED_EVENTS_DUE).map_err(storage)?,
            queue_meta: txn.open_table(QUEUE_META).map_err(storage)?,
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
    fn clear_timer_row(&mut self, arn: &str, kind: TimerKind, op_id: &str) -> Result<()> {
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
    fn set_timer_row(
        &mut self,
        arn: &str,
        kind: TimerKind,
        op_id: &str,
        due_ms: u64,
    ) -> Result<()> {
        self.clear_timer_row(arn, kind, op_id)?;
        let key = (due_ms, self.next_timer_seq);
        self.next_timer_seq += 1;
        self.seq_dirty = true;
        self.timers
            .insert(key, (arn, kind.as_str(), op_id))
            .map_err(storage)?;
        self.timer_slots
            .insert((arn, kind.as_str(), op_id), key)
            .map_err(storage)?;
        Ok(())
    }

    /// Clears every timer slot of an execution.
    fn clear_all_timer_rows(&mut self, arn: &str) -> Result<()> {
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
}

/// The row writes of the batch rules, on the transaction's tables.
impl Rows for Tables<'_> {
    fn execution(&self, arn: &str) -> Result<Option<Execution>> {
        read_execution(&self.executions, arn)
    }

    fn input(&self, arn: &str) -> Result<Option<String>> {
        read_input(&self.inputs, arn)
    }

    fn name_owner(&self, function: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .names
            .get((function, name))
            .map_err(storage)?
            .map(|v| v.value().to_owned()))
    }

    fn operation(&self, arn: &str, op_id: &str) -> Result<Option<Operation>> {
        read_operation(&self.operations, arn, op_id)
    }

    fn callback_owner(&self, callback_id: &str) -> Result<Option<CallbackRef>> {
        read_callback(&self.callbacks, callback_id)
    }

    fn put_execution(&mut self, exec: &Execution, row: &[u8]) -> Result<()> {
        self.executions
            .insert(exec.arn.as_str(), row)
            .map_err(storage)?;
        Ok(())
    }

    fn put_new_execution(&mut self, exec: &Execution, input: &str) -> Result<()> {
        let arn = exec.arn.as_str();
        self.inputs.insert(arn, input).map_err(storage)?;
        if let Some(name) = &exec.name {
            self.names
                .insert((exec.function.as_str(), name.as_str()), arn)
                .map_err(storage)?;
        }
        self.by_function
            .insert((exec.function.as_str(), exec.start_ms, arn), ())
            .map_err(storage)?;
        Ok(())
    }

    fn set_running(&mut self, arn: &str, in_progress: Option<bool>) -> Result<()> {
        match in_progress {
            Some(flag) => self.running.insert(arn, flag).map_err(storage)?,
            None => self.running.remove(arn).map_err(storage)?,
        };
        Ok(())
    }

    fn set_ended(
        &mut self,
        exec: &Execution,
        before: Option<u64>,
        after: Option<u64>,
    ) -> Result<()> {
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

    fn put_operation(&mut self, arn: &str, op_id: &str, row: &[u8]) -> Result<()> {
        self.operations.insert((arn, op_id), row).map_err(storage)?;
        Ok(())
    }

    fn put_event(&mut self, arn: &str, event_id: u64, row: &[u8]) -> Result<()> {
        self.history.insert((arn, event_id), row).map_err(storage)?;
        Ok(())
    }

    fn set_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str, due_ms: u64) -> Result<()> {
        self.set_timer_row(arn, kind, op_id, due_ms)
    }

    fn clear_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str) -> Result<()> {
        self.clear_timer_row(arn, kind, op_id)
    }

    fn clear_all_timers(&mut self, arn: &str) -> Result<()> {
        self.clear_all_timer_rows(arn)
    }

    fn put_callback(&mut self, callback_id: &str, arn: &str, op_id: &str) -> Result<()> {
        self.callbacks
            .insert(callback_id, (arn, op_id))
            .map_err(storage)?;
        Ok(())
    }

    fn remove_callback(&mut self, callback_id: &str) -> Result<()> {
        self.callbacks.remove(callback_id).map_err(storage)?;
        Ok(())
    }

    fn operation_callbacks(&self, arn: &str) -> Result<Vec<(String, Option<String>)>> {
        let mut ops = Vec::new();
        for row in self.operations.range((arn, "")..).map_err(storage)? {
            let (key, value) = row.map_err(storage)?;
            let (row_arn, op_id) = key.value();
            if row_arn != arn {
                break;
            }
            let callback = serde_json::from_slice::<Operation>(value.value())
                .ok()
                .and_then(|op| op.callback)
                .map(|c| c.callback_id);
            ops.push((op_id.to_owned(), callback));
        }
        Ok(ops)
    }

    fn remove_operation(&mut self, arn: &str, op_id: &str) -> Result<()> {
        self.operations.remove((arn, op_id)).map_err(storage)?;
        Ok(())
    }

    fn remove_history(&mut self, arn: &str) -> Result<()> {
        self.history
            .retain_in((arn, 0u64)..=(arn, u64::MAX), |_, _| false)
            .map_err(storage)
    }

    fn remove_execution(&mut self, exec: &Execution) -> Result<()> {
        let (function, arn) = (exec.function.as_str(), exec.arn.as_str());
        if let Some(name) = &exec.name {
            let key = (function, name.as_str());
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
            .remove((function, exec.start_ms, arn))
            .map_err(storage)?;
        self.inputs.remove(arn).map_err(storage)?;
        self.executions.remove(arn).map_err(storage)?;
        Ok(())
    }

    fn next_queued_id(&self) -> Result<u64> {
        Ok(self
            .queue_meta
            .get(NEXT_EVENT_ID)
            .map_err(storage)?
            .map_or(1, |v| v.value()))
    }

    fn set_next_queued_id(&mut self, id: u64) -> Result<()> {
        self.queue_meta.insert(NEXT_EVENT_ID, id).map_err(storage)?;
        Ok(())
    }

    fn queued_event(&self, id: u64) -> Result<Option<QueuedEvent>> {
        match self.queued.get(id).map_err(storage)? {
            Some(row) => decode_event(id, row.value()).map(Some),
            None => Ok(None),
        }
    }

    fn put_queued_event(&mut self, event: &QueuedEvent, row: &[u8]) -> Result<()> {
        self.queued.insert(event.id, row).map_err(storage)?;
        self.queued_due
            .insert((event.due_ms, event.id), ())
            .map_err(storage)?;
        Ok(())
    }

    fn put_queued_payload(&mut self, id: u64, payload: &[u8]) -> Result<()> {
        self.queued_payloads.insert(id, payload).map_err(storage)?;
        Ok(())
    }

    fn remove_queued_due(&mut self, due_ms: u64, id: u64) -> Result<()> {
        self.queued_due.remove((due_ms, id)).map_err(storage)?;
        Ok(())
    }

    fn remove_queued_event(&mut self, id: u64) -> Result<()> {
        self.queued.remove(id).map_err(storage)?;
        self.queued_payloads.remove(id).map_err(storage)?;
        Ok(())
    }
}
