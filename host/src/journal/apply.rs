//! The batch rules, independent of the storage backend.
//!
//! [`create`] and [`apply`] turn a [`NewExecution`] or a [`Batch`] plus the
//! recorded state into row writes: they assign event ids and operation
//! `seq`s, enforce the rules of ended executions (`allow_after_end`) and of
//! callback ownership, meter the journaled bytes, keep the ended-executions
//! index and the running set in step, and clear every timer of an execution
//! that ends. A backend only implements [`Rows`]: reading and writing single
//! rows inside the one write transaction it has open.
//!
//! Each request runs in two phases so that a rejection never leaves a partial
//! write in a shared transaction: first everything is read, checked and
//! encoded (every logical error happens here), then rows are only written
//! (whose only possible errors are storage errors, which abort the whole
//! transaction). See `docs/journal-format.md` ("Layering").

use std::collections::HashMap;

use super::queue::{QueueWrite, QueuedEvent};
use super::retention::ended_key;
use super::tables::encode;
use super::{
    Batch, CallbackRef, CreateOutcome, Execution, ExecutionStatus, HistoryEvent, JournalError,
    Metering, NewEvent, NewExecution, Operation, Result, TimerKind, TimerSpec,
};

/// The row reads and writes of one backend write transaction.
///
/// Reads see the transaction's own earlier writes. Writes may only fail with
/// a storage error ([`JournalError::is_storage`]), which aborts the whole
/// transaction.
pub(super) trait Rows {
    /// The execution row with this ARN.
    fn execution(&self, arn: &str) -> Result<Option<Execution>>;
    /// The input row of an execution.
    fn input(&self, arn: &str) -> Result<Option<String>>;
    /// The ARN that owns the name `(function, name)`.
    fn name_owner(&self, function: &str, name: &str) -> Result<Option<String>>;
    /// One operation row.
    fn operation(&self, arn: &str, op_id: &str) -> Result<Option<Operation>>;
    /// Which execution and operation own a callback id.
    fn callback_owner(&self, callback_id: &str) -> Result<Option<CallbackRef>>;
    /// Who holds the lease of a running execution and until when (ms), if
    /// anyone. Journals of one process keep no lease rows: `None`.
    fn lease_holder(&self, _arn: &str) -> Result<Option<(String, u64)>> {
        Ok(None)
    }

    /// Writes the execution row (`row` is `exec` encoded).
    fn put_execution(&mut self, exec: &Execution, row: &[u8]) -> Result<()>;
    /// Writes the rows of a new execution that never change: its input, its
    /// name (if any) and its listing entry (function, start time).
    fn put_new_execution(&mut self, exec: &Execution, input: &str) -> Result<()>;
    /// Sets the running-set entry (`Some(invocation in progress)`) or removes it (`None`).
    fn set_running(&mut self, arn: &str, in_progress: Option<bool>) -> Result<()>;
    /// Moves an execution's entry in the ended-executions index from end
    /// time `before` to `after` (`None`: not indexed).
    fn set_ended(
        &mut self,
        exec: &Execution,
        before: Option<u64>,
        after: Option<u64>,
    ) -> Result<()>;
    /// Writes one operation row.
    fn put_operation(&mut self, arn: &str, op_id: &str, row: &[u8]) -> Result<()>;
    /// Writes one history row.
    fn put_event(&mut self, arn: &str, event_id: u64, row: &[u8]) -> Result<()>;
    /// Sets (or moves) one timer slot (`op_id` "" for none).
    fn set_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str, due_ms: u64) -> Result<()>;
    /// Clears one timer slot (an empty slot is fine).
    fn clear_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str) -> Result<()>;
    /// Clears every timer slot of an execution.
    fn clear_all_timers(&mut self, arn: &str) -> Result<()>;
    /// Registers a callback id for an operation.
    fn put_callback(&mut self, callback_id: &str, arn: &str, op_id: &str) -> Result<()>;
    /// Unregisters a callback id.
    fn remove_callback(&mut self, callback_id: &str) -> Result<()>;

    /// The operation ids of an execution and, for each, the callback id its
    /// row names (`None` also when the row does not decode: retention
    /// deletes such rows rather than stopping on them).
    fn operation_callbacks(&self, arn: &str) -> Result<Vec<(String, Option<String>)>>;
    /// Deletes one operation row.
    fn remove_operation(&mut self, arn: &str, op_id: &str) -> Result<()>;
    /// Deletes every history row of an execution.
    fn remove_history(&mut self, arn: &str) -> Result<()>;
    /// Deletes the execution row and the rows [`Rows::put_new_execution`]
    /// wrote (the name only if it still leads to this execution).
    fn remove_execution(&mut self, exec: &Execution) -> Result<()>;

    /// The id the next queued event gets (1 for the first).
    fn next_queued_id(&self) -> Result<u64>;
    /// Stores the id the next queued event gets.
    fn set_next_queued_id(&mut self, id: u64) -> Result<()>;
    /// One queued event's metadata row.
    fn queued_event(&self, id: u64) -> Result<Option<QueuedEvent>>;
    /// Writes a queued event's metadata row (`row` is `event` encoded) and
    /// its due-order entry `(event.due_ms, event.id)`.
    fn put_queued_event(&mut self, event: &QueuedEvent, row: &[u8]) -> Result<()>;
    /// Writes a queued event's payload.
    fn put_queued_payload(&mut self, id: u64, payload: &[u8]) -> Result<()>;
    /// Deletes a due-order entry.
    fn remove_queued_due(&mut self, due_ms: u64, id: u64) -> Result<()>;
    /// Deletes a queued event's metadata row and payload.
    fn remove_queued_event(&mut self, id: u64) -> Result<()>;
}

/// The operation-id column of timer slots: "" stands for "no operation".
pub(super) fn op_column(op_id: Option<&str>) -> &str {
    op_id.unwrap_or("")
}

/// Encoded rows to write, keyed by `K`, and their total size.
struct Encoded<K> {
    rows: Vec<(K, Vec<u8>)>,
    bytes: u64,
}

impl Encoded<u64> {
    fn write(&self, rows: &mut impl Rows, arn: &str) -> Result<()> {
        for (id, bytes) in &self.rows {
            rows.put_event(arn, *id, bytes)?;
        }
        Ok(())
    }
}

impl Encoded<String> {
    fn write(&self, rows: &mut impl Rows, arn: &str) -> Result<()> {
        for (id, bytes) in &self.rows {
            rows.put_operation(arn, id, bytes)?;
        }
        Ok(())
    }
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
    rows: &impl Rows,
    exec: &mut Execution,
    ops: &mut [Operation],
) -> Result<Encoded<String>> {
    let mut seqs: HashMap<String, u64> = HashMap::new();
    let mut encoded_rows = Vec::with_capacity(ops.len());
    let mut bytes = 0u64;
    for op in ops.iter_mut() {
        if op.id.is_empty() {
            return Err(JournalError::Invalid("an operation has an empty id".into()));
        }
        op.seq = match seqs.get(&op.id) {
            Some(seq) => *seq,
            None => match rows.operation(&exec.arn, &op.id)? {
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
        encoded_rows.push((op.id.clone(), encoded));
    }
    Ok(Encoded {
        rows: encoded_rows,
        bytes,
    })
}

/// `create_execution`.
pub(super) fn create(
    rows: &mut impl Rows,
    new: &mut NewExecution,
    now: u64,
) -> Result<CreateOutcome> {
    // Phase 1: checks and encoding.
    if new.arn.is_empty() || new.function.is_empty() {
        return Err(JournalError::Invalid(
            "an execution needs an ARN and a function".into(),
        ));
    }
    if rows.execution(&new.arn)?.is_some() {
        return Err(JournalError::ExecutionExists {
            arn: new.arn.clone(),
        });
    }
    if let Some(name) = &new.name
        && let Some(arn) = rows.name_owner(&new.function, name)?
    {
        return existing_outcome(rows, &arn, &new.input);
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
        code_sha256: new.code_sha256.clone(),
        crashes: 0,
    };
    let op_rows = plan_operations(rows, &mut exec, &mut new.operations)?;
    let event_rows = plan_events(&mut exec, &mut new.events, now)?;
    exec.metering.bytes_journaled = new.input.len() as u64 + op_rows.bytes + event_rows.bytes;
    let exec_row = encode(&exec)?;

    // Phase 2: writes.
    let arn = exec.arn.as_str();
    rows.put_execution(&exec, &exec_row)?;
    rows.put_new_execution(&exec, &new.input)?;
    rows.set_running(arn, Some(exec.invocation_in_progress))?;
    op_rows.write(rows, arn)?;
    event_rows.write(rows, arn)?;
    if let Some(due_ms) = exec.deadline_ms {
        rows.set_timer(arn, TimerKind::ExecutionTimeout, "", due_ms)?;
    }
    Ok(CreateOutcome::Created(exec))
}

/// The outcome of creating a name that is taken by `arn`.
fn existing_outcome(rows: &impl Rows, arn: &str, input: &str) -> Result<CreateOutcome> {
    let exec = rows.execution(arn)?.ok_or_else(|| JournalError::Corrupt {
        table: "execution_names",
        key: arn.to_owned(),
        message: "the name leads to an execution that is not stored".into(),
    })?;
    let stored = rows.input(arn)?.unwrap_or_default();
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
pub(super) fn apply(
    rows: &mut impl Rows,
    arn: &str,
    batch: &mut Batch,
    now: u64,
) -> Result<Vec<u64>> {
    // Phase 1: checks and encoding.
    let mut exec = rows
        .execution(arn)?
        .ok_or_else(|| JournalError::ExecutionNotFound {
            arn: arn.to_owned(),
        })?;
    if let Some(expect) = batch.expect
        && expect.last_event_id != exec.last_event_id
    {
        return Err(JournalError::Conflict {
            arn: arn.to_owned(),
            expected: expect.last_event_id,
            found: exec.last_event_id,
        });
    }
    if let Some(owner) = &batch.fence
        && let Some((holder, _)) = rows.lease_holder(arn)?
        && holder != *owner
    {
        return Err(JournalError::LeaseLost {
            arn: arn.to_owned(),
            owner: owner.clone(),
            holder,
        });
    }
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
        if let Some(owner) = rows.callback_owner(&registration.callback_id)?
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
    let op_rows = plan_operations(rows, &mut exec, &mut batch.operations)?;
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
    if let Some(crashes) = update.crashes {
        exec.crashes = crashes;
    }
    if let Some(code) = update.code_sha256.take() {
        exec.code_sha256 = Some(code);
    }
    exec.metering.add(&update.metering);
    exec.metering.bytes_journaled = exec
        .metering
        .bytes_journaled
        .saturating_add(op_rows.bytes + event_rows.bytes);
    let exec_row = encode(&exec)?;

    // Phase 2: writes.
    op_rows.write(rows, arn)?;
    event_rows.write(rows, arn)?;
    rows.put_execution(&exec, &exec_row)?;
    let ended_after = ended_key(&exec);
    if ended_before != ended_after {
        rows.set_ended(&exec, ended_before, ended_after)?;
    }
    if exec.status.is_terminal() {
        rows.set_running(arn, None)?;
        rows.clear_all_timers(arn)?;
    } else {
        if exec.invocation_in_progress != was_in_progress {
            rows.set_running(arn, Some(exec.invocation_in_progress))?;
        }
        for slot in &batch.clear_timers {
            rows.clear_timer(arn, slot.kind, op_column(slot.op_id.as_deref()))?;
        }
        for spec in &batch.set_timers {
            set_timer(rows, arn, spec)?;
        }
    }
    for callback_id in &batch.remove_callbacks {
        rows.remove_callback(callback_id)?;
    }
    for registration in &batch.add_callbacks {
        rows.put_callback(&registration.callback_id, arn, &registration.op_id)?;
    }
    Ok(event_rows.rows.iter().map(|(id, _)| *id).collect())
}

/// Sets one timer of a batch.
fn set_timer(rows: &mut impl Rows, arn: &str, spec: &TimerSpec) -> Result<()> {
    rows.set_timer(
        arn,
        spec.kind,
        op_column(spec.op_id.as_deref()),
        spec.due_ms,
    )
}

/// `delete_executions`: deletes each ended execution of `arns` and every row
/// that refers to it; skips unknown and RUNNING ones. Returns how many were
/// deleted.
pub(super) fn delete_ended(rows: &mut impl Rows, arns: &[String]) -> Result<usize> {
    let mut deleted = 0;
    for arn in arns {
        let arn = arn.as_str();
        let Some(exec) = rows.execution(arn)? else {
            continue;
        };
        if !exec.status.is_terminal() {
            continue;
        }
        let ops = rows.operation_callbacks(arn)?;
        for (op_id, _) in &ops {
            rows.remove_operation(arn, op_id)?;
        }
        for callback_id in ops.iter().filter_map(|(_, callback)| callback.as_deref()) {
            let owner = rows.callback_owner(callback_id)?;
            if owner.is_some_and(|o| o.arn == arn) {
                rows.remove_callback(callback_id)?;
            }
        }
        rows.remove_history(arn)?;
        rows.clear_all_timers(arn)?;
        rows.set_running(arn, None)?;
        if let Some(end_ms) = ended_key(&exec) {
            rows.set_ended(&exec, Some(end_ms), None)?;
        }
        rows.remove_execution(&exec)?;
        deleted += 1;
    }
    Ok(deleted)
}

/// A write to the queue of asynchronous invocations; the answer is the
/// event id. Ids are never reused; an unknown id is `Invalid` for a retry
/// and fine for a removal.
pub(super) fn queue(rows: &mut impl Rows, write: &mut QueueWrite) -> Result<u64> {
    match write {
        QueueWrite::Add(new) => {
            let id = rows.next_queued_id()?;
            let event = QueuedEvent {
                id,
                function: std::mem::take(&mut new.function),
                request_id: std::mem::take(&mut new.request_id),
                enqueued_ms: new.enqueued_ms,
                attempts: 0,
                due_ms: new.enqueued_ms,
            };
            let row = encode(&event)?;
            rows.set_next_queued_id(id + 1)?;
            rows.put_queued_event(&event, &row)?;
            rows.put_queued_payload(id, &new.payload)?;
            Ok(id)
        }
        QueueWrite::Retry {
            id,
            attempts,
            due_ms,
        } => {
            let id = *id;
            let Some(mut event) = rows.queued_event(id)? else {
                return Err(JournalError::Invalid(format!("no queued event {id}")));
            };
            let old_due = event.due_ms;
            event.attempts = *attempts;
            event.due_ms = *due_ms;
            let row = encode(&event)?;
            rows.remove_queued_due(old_due, id)?;
            rows.put_queued_event(&event, &row)?;
            Ok(id)
        }
        QueueWrite::Remove(id) => {
            let id = *id;
            if let Some(event) = rows.queued_event(id)? {
                rows.remove_queued_event(id)?;
                rows.remove_queued_due(event.due_ms, id)?;
            }
            Ok(id)
        }
    }
}
