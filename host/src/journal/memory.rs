//! The journal in memory: the same batch rules (`apply.rs`) over row maps
//! behind one lock, for tests and as the shape of a networked backend.
//!
//! Nothing is durable: the journal lives as long as the value. Every write
//! is one "transaction" under the lock; a rejection is found before any row
//! is written (see `apply.rs`), so a rejected request changes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Bound::{Excluded, Included, Unbounded};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::apply::{self, Rows};
use super::queue::{NewQueuedEvent, QueueWrite, QueuedEvent};
use super::redb::{fill_page, list_bounds};
use super::tables::decode;
use super::{
    Batch, CallbackRef, CreateOutcome, Execution, ExecutionPage, ExecutionState, HistoryEvent,
    Journal, JournalError, JournalFuture, JournalStats, ListQuery, NewExecution, Operation,
    QueuedWrite, Result, Timer, TimerKind, now_ms,
};

/// The rows of the in-memory journal, keyed like the redb tables.
#[derive(Default)]
struct MemRows {
    executions: BTreeMap<String, Vec<u8>>,
    inputs: BTreeMap<String, String>,
    names: BTreeMap<(String, String), String>,
    by_function: BTreeSet<(String, u64, String)>,
    running: BTreeMap<String, bool>,
    operations: BTreeMap<(String, String), Vec<u8>>,
    history: BTreeMap<(String, u64), Vec<u8>>,
    timers: BTreeMap<(u64, u64), (String, TimerKind, String)>,
    timer_slots: BTreeMap<(String, &'static str, String), (u64, u64)>,
    next_timer_seq: u64,
    callbacks: BTreeMap<String, (String, String)>,
    ended: BTreeSet<(String, u64, String)>,
    queued: BTreeMap<u64, QueuedEvent>,
    payloads: HashMap<u64, Vec<u8>>,
    queued_due: BTreeSet<(u64, u64)>,
    next_queued_id: u64,
}

fn decode_execution(arn: &str, row: &[u8]) -> Result<Execution> {
    decode(row, "executions", || arn.to_owned())
}

impl MemRows {
    fn get_execution(&self, arn: &str) -> Result<Option<Execution>> {
        self.executions
            .get(arn)
            .map(|row| decode_execution(arn, row))
            .transpose()
    }
}

impl Rows for MemRows {
    fn execution(&self, arn: &str) -> Result<Option<Execution>> {
        self.get_execution(arn)
    }

    fn input(&self, arn: &str) -> Result<Option<String>> {
        Ok(self.inputs.get(arn).cloned())
    }

    fn name_owner(&self, function: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .names
            .get(&(function.to_owned(), name.to_owned()))
            .cloned())
    }

    fn operation(&self, arn: &str, op_id: &str) -> Result<Option<Operation>> {
        self.operations
            .get(&(arn.to_owned(), op_id.to_owned()))
            .map(|row| decode(row, "operations", || format!("({arn}, {op_id})")))
            .transpose()
    }

    fn callback_owner(&self, callback_id: &str) -> Result<Option<CallbackRef>> {
        Ok(self
            .callbacks
            .get(callback_id)
            .map(|(arn, op_id)| CallbackRef {
                arn: arn.clone(),
                op_id: op_id.clone(),
            }))
    }

    fn put_execution(&mut self, exec: &Execution, row: &[u8]) -> Result<()> {
        self.executions.insert(exec.arn.clone(), row.to_vec());
        Ok(())
    }

    fn put_new_execution(&mut self, exec: &Execution, input: &str) -> Result<()> {
        self.inputs.insert(exec.arn.clone(), input.to_owned());
        if let Some(name) = &exec.name {
            self.names
                .insert((exec.function.clone(), name.clone()), exec.arn.clone());
        }
        self.by_function
            .insert((exec.function.clone(), exec.start_ms, exec.arn.clone()));
        Ok(())
    }

    fn set_running(&mut self, arn: &str, in_progress: Option<bool>) -> Result<()> {
        match in_progress {
            Some(flag) => self.running.insert(arn.to_owned(), flag),
            None => self.running.remove(arn),
        };
        Ok(())
    }

    fn set_ended(
        &mut self,
        exec: &Execution,
        before: Option<u64>,
        after: Option<u64>,
    ) -> Result<()> {
        if let Some(end_ms) = before {
            self.ended
                .remove(&(exec.function.clone(), end_ms, exec.arn.clone()));
        }
        if let Some(end_ms) = after {
            self.ended
                .insert((exec.function.clone(), end_ms, exec.arn.clone()));
        }
        Ok(())
    }

    fn put_operation(&mut self, arn: &str, op_id: &str, row: &[u8]) -> Result<()> {
        self.operations
            .insert((arn.to_owned(), op_id.to_owned()), row.to_vec());
        Ok(())
    }

    fn put_event(&mut self, arn: &str, event_id: u64, row: &[u8]) -> Result<()> {
        self.history
            .insert((arn.to_owned(), event_id), row.to_vec());
        Ok(())
    }

    fn set_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str, due_ms: u64) -> Result<()> {
        self.clear_timer(arn, kind, op_id)?;
        let key = (due_ms, self.next_timer_seq);
        self.next_timer_seq += 1;
        self.timers
            .insert(key, (arn.to_owned(), kind, op_id.to_owned()));
        self.timer_slots
            .insert((arn.to_owned(), kind.as_str(), op_id.to_owned()), key);
        Ok(())
    }

    fn clear_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str) -> Result<()> {
        if let Some(key) =
            self.timer_slots
                .remove(&(arn.to_owned(), kind.as_str(), op_id.to_owned()))
        {
            self.timers.remove(&key);
        }
        Ok(())
    }

    fn clear_all_timers(&mut self, arn: &str) -> Result<()> {
        let slots: Vec<_> = self
            .timer_slots
            .iter()
            .filter(|((row_arn, _, _), _)| row_arn == arn)
            .map(|(slot, key)| (slot.clone(), *key))
            .collect();
        for (slot, key) in slots {
            self.timer_slots.remove(&slot);
            self.timers.remove(&key);
        }
        Ok(())
    }

    fn put_callback(&mut self, callback_id: &str, arn: &str, op_id: &str) -> Result<()> {
        self.callbacks
            .insert(callback_id.to_owned(), (arn.to_owned(), op_id.to_owned()));
        Ok(())
    }

    fn remove_callback(&mut self, callback_id: &str) -> Result<()> {
        self.callbacks.remove(callback_id);
        Ok(())
    }

    fn operation_callbacks(&self, arn: &str) -> Result<Vec<(String, Option<String>)>> {
        Ok(self
            .operations
            .range((arn.to_owned(), String::new())..)
            .take_while(|((row_arn, _), _)| row_arn == arn)
            .map(|((_, op_id), row)| {
                let callback = serde_json::from_slice::<Operation>(row)
                    .ok()
                    .and_then(|op| op.callback)
                    .map(|c| c.callback_id);
                (op_id.clone(), callback)
            })
            .collect())
    }

    fn remove_operation(&mut self, arn: &str, op_id: &str) -> Result<()> {
        self.operations.remove(&(arn.to_owned(), op_id.to_owned()));
        Ok(())
    }

    fn remove_history(&mut self, arn: &str) -> Result<()> {
        self.history.retain(|(row_arn, _), _| row_arn != arn);
        Ok(())
    }

    fn remove_execution(&mut self, exec: &Execution) -> Result<()> {
        if let Some(name) = &exec.name {
            let key = (exec.function.clone(), name.clone());
            if self.names.get(&key) == Some(&exec.arn) {
                self.names.remove(&key);
            }
        }
        self.by_function
            .remove(&(exec.function.clone(), exec.start_ms, exec.arn.clone()));
        self.inputs.remove(&exec.arn);
        self.executions.remove(&exec.arn);
        Ok(())
    }

    fn next_queued_id(&self) -> Result<u64> {
        Ok(self.next_queued_id.max(1))
    }

    fn set_next_queued_id(&mut self, id: u64) -> Result<()> {
        self.next_queued_id = id;
        Ok(())
    }

    fn queued_event(&self, id: u64) -> Result<Option<QueuedEvent>> {
        Ok(self.queued.get(&id).cloned())
    }

    fn put_queued_event(&mut self, event: &QueuedEvent, _row: &[u8]) -> Result<()> {
        self.queued.insert(event.id, event.clone());
        self.queued_due.insert((event.due_ms, event.id));
        Ok(())
    }

    fn put_queued_payload(&mut self, id: u64, payload: &[u8]) -> Result<()> {
        self.payloads.insert(id, payload.to_vec());
        Ok(())
    }

    fn remove_queued_due(&mut self, due_ms: u64, id: u64) -> Result<()> {
        self.queued_due.remove(&(due_ms, id));
        Ok(())
    }

    fn remove_queued_event(&mut self, id: u64) -> Result<()> {
        self.queued.remove(&id);
        self.payloads.remove(&id);
        Ok(())
    }
}

/// The journal in memory (see the module documentation).
#[derive(Default)]
pub struct MemoryJournal {
    rows: Mutex<MemRows>,
    commits: AtomicU64,
}

impl std::fmt::Debug for MemoryJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryJournal").finish_non_exhaustive()
    }
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the rows under the lock (a poisoned lock is a storage error).
    fn with<T>(&self, f: impl FnOnce(&mut MemRows) -> Result<T>) -> Result<T> {
        let mut rows = self
            .rows
            .lock()
            .map_err(|_| JournalError::Storage("the in-memory journal lock is poisoned".into()))?;
        f(&mut rows)
    }

    /// Runs one write "transaction" and counts it.
    fn write<T>(&self, f: impl FnOnce(&mut MemRows) -> Result<T>) -> Result<T> {
        self.commits.fetch_add(1, Ordering::Relaxed);
        self.with(f)
    }

    fn list(rows: &MemRows, query: &ListQuery) -> Result<ExecutionPage> {
        let page = ExecutionPage {
            executions: Vec::new(),
            next: None,
        };
        let function_end = query.function.as_ref().map(|f| format!("{f}\0"));
        let Some((lower, upper)) = list_bounds(query, function_end.as_deref()) else {
            return Ok(page);
        };
        if query.limit == 0 {
            return Ok(page);
        }
        let within = |key: &(String, u64, String)| {
            let key = (key.0.as_str(), key.1, key.2.as_str());
            let above = match lower {
                Included(l) => key >= l,
                Excluded(l) => key > l,
                Unbounded => true,
            };
            let below = match upper {
                Included(u) => key <= u,
                Excluded(u) => key < u,
                Unbounded => true,
            };
            above && below
        };
        let keys: Vec<_> = rows.by_function.iter().filter(|k| within(k)).collect();
        let keys: Box<dyn Iterator<Item = _>> = if query.reverse {
            Box::new(keys.into_iter().rev())
        } else {
            Box::new(keys.into_iter())
        };
        fill_page(
            query,
            keys.map(|(f, t, a)| Ok((f.clone(), *t, a.clone()))),
            |arn| rows.get_execution(arn),
        )
    }

    fn history_now(
        &self,
        arn: &str,
        after: u64,
        before: Option<u64>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<HistoryEvent>> {
        self.with(|rows| {
            if !rows.executions.contains_key(arn) {
                return Err(JournalError::ExecutionNotFound {
                    arn: arn.to_owned(),
                });
            }
            let start = after.saturating_add(1);
            let end = before.unwrap_or(u64::MAX);
            if limit == 0 || start >= end {
                return Ok(Vec::new());
            }
            let range = rows
                .history
                .range((arn.to_owned(), start)..(arn.to_owned(), end));
            let range: Box<dyn Iterator<Item = _>> = if reverse {
                Box::new(range.rev())
            } else {
                Box::new(range)
            };
            range
                .take(limit)
                .map(|((_, id), row)| {
                    let mut event: HistoryEvent =
                        decode(row, "history", || format!("({arn}, {id})"))?;
                    event.event_id = *id;
                    Ok(event)
                })
                .collect()
        })
    }
}

/// A future that is already resolved.
fn ready<'a, T: Send + 'a>(result: Result<T>) -> JournalFuture<'a, T> {
    Box::pin(std::future::ready(result))
}

impl Journal for MemoryJournal {
    fn create_execution(&self, mut new: NewExecution) -> JournalFuture<'_, CreateOutcome> {
        ready(self.write(|rows| apply::create(rows, &mut new, now_ms())))
    }

    fn get_execution<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<Execution>> {
        ready(self.with(|rows| rows.get_execution(arn)))
    }

    fn execution_input<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<String>> {
        ready(self.with(|rows| Ok(rows.inputs.get(arn).cloned())))
    }

    fn find_by_name<'a>(
        &'a self,
        function: &'a str,
        name: &'a str,
    ) -> JournalFuture<'a, Option<Execution>> {
        ready(self.with(|rows| match rows.name_owner(function, name)? {
            Some(arn) => rows.get_execution(&arn),
            None => Ok(None),
        }))
    }

    fn list_executions(&self, query: ListQuery) -> JournalFuture<'_, ExecutionPage> {
        ready(self.with(|rows| Self::list(rows, &query)))
    }

    fn load_state<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, ExecutionState> {
        ready(self.with(|rows| {
            let execution =
                rows.get_execution(arn)?
                    .ok_or_else(|| JournalError::ExecutionNotFound {
                        arn: arn.to_owned(),
                    })?;
            let input = rows.inputs.get(arn).cloned().unwrap_or_default();
            let mut operations = rows
                .operations
                .range((arn.to_owned(), String::new())..)
                .take_while(|((row_arn, _), _)| row_arn == arn)
                .map(|((_, op_id), row)| {
                    decode::<Operation>(row, "operations", || format!("({arn}, {op_id})"))
                })
                .collect::<Result<Vec<_>>>()?;
            operations.sort_by_key(|op| op.seq);
            Ok(ExecutionState {
                execution,
                input,
                operations,
            })
        }))
    }

    fn operation<'a>(
        &'a self,
        arn: &'a str,
        op_id: &'a str,
    ) -> JournalFuture<'a, Option<Operation>> {
        ready(self.with(|rows| rows.operation(arn, op_id)))
    }

    fn apply<'a>(&'a self, arn: &'a str, mut batch: Batch) -> JournalFuture<'a, Vec<u64>> {
        ready(self.write(|rows| apply::apply(rows, arn, &mut batch, now_ms())))
    }

    fn enqueue<'a>(&'a self, arn: &'a str, mut batch: Batch) -> JournalFuture<'a, QueuedWrite> {
        let result = self.write(|rows| apply::apply(rows, arn, &mut batch, now_ms()));
        let (sender, answer) = tokio::sync::oneshot::channel();
        // The receiver is alive: it is in the QueuedWrite returned below.
        let _ = sender.send(result);
        ready(Ok(QueuedWrite::new(answer)))
    }

    fn history<'a>(
        &'a self,
        arn: &'a str,
        after_event_id: u64,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        ready(self.history_now(arn, after_event_id, None, limit, false))
    }

    fn history_reverse<'a>(
        &'a self,
        arn: &'a str,
        before_event_id: Option<u64>,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        ready(self.history_now(arn, 0, before_event_id, limit, true))
    }

    fn callback<'a>(&'a self, callback_id: &'a str) -> JournalFuture<'a, Option<CallbackRef>> {
        ready(self.with(|rows| rows.callback_owner(callback_id)))
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> JournalFuture<'_, Vec<Timer>> {
        ready(self.with(|rows| {
            Ok(rows
                .timers
                .range(..=(now_ms, u64::MAX))
                .take(limit)
                .map(|(&(due_ms, seq), (arn, kind, op_id))| Timer {
                    due_ms,
                    seq,
                    arn: arn.clone(),
                    kind: *kind,
                    op_id: (!op_id.is_empty()).then(|| op_id.clone()),
                })
                .collect())
        }))
    }

    fn next_timer_due(&self) -> JournalFuture<'_, Option<u64>> {
        ready(self.with(|rows| Ok(rows.timers.keys().next().map(|k| k.0))))
    }

    fn executions_needing_recovery(&self) -> JournalFuture<'_, Vec<Execution>> {
        ready(self.with(|rows| {
            let mut found = Vec::new();
            for (arn, in_progress) in &rows.running {
                if !in_progress {
                    continue;
                }
                let exec = rows
                    .get_execution(arn)?
                    .ok_or_else(|| JournalError::Corrupt {
                        table: "running_executions",
                        key: arn.clone(),
                        message: "a running entry leads to an execution that is not stored".into(),
                    })?;
                found.push(exec);
            }
            Ok(found)
        }))
    }

    fn stats(&self) -> JournalStats {
        let commits = self.commits.load(Ordering::Relaxed);
        JournalStats {
            commits,
            requests: commits,
            largest_group: u64::from(commits > 0),
            commit_us: 0,
        }
    }

    fn expired_executions<'a>(
        &'a self,
        cutoff_ms: &'a (dyn Fn(&str) -> Option<u64> + Send + Sync),
        limit: usize,
    ) -> JournalFuture<'a, Vec<String>> {
        ready(self.with(|rows| {
            let mut cutoffs: HashMap<&str, Option<u64>> = HashMap::new();
            Ok(rows
                .ended
                .iter()
                .filter(|(function, end_ms, _)| {
                    let cutoff = *cutoffs
                        .entry(function.as_str())
                        .or_insert_with(|| cutoff_ms(function));
                    cutoff.is_some_and(|c| *end_ms < c)
                })
                .take(limit)
                .map(|(_, _, arn)| arn.clone())
                .collect())
        }))
    }

    fn delete_executions(&self, arns: Vec<String>) -> JournalFuture<'_, usize> {
        ready(self.write(|rows| apply::delete_ended(rows, &arns)))
    }

    fn queue_event(&self, event: NewQueuedEvent) -> JournalFuture<'_, u64> {
        let mut write = QueueWrite::Add(event);
        ready(self.write(|rows| apply::queue(rows, &mut write)))
    }

    fn retry_queued_event(&self, id: u64, attempts: u32, due_ms: u64) -> JournalFuture<'_, ()> {
        let mut write = QueueWrite::Retry {
            id,
            attempts,
            due_ms,
        };
        ready(self.write(|rows| apply::queue(rows, &mut write).map(drop)))
    }

    fn remove_queued_event(&self, id: u64) -> JournalFuture<'_, ()> {
        let mut write = QueueWrite::Remove(id);
        ready(self.write(|rows| apply::queue(rows, &mut write).map(drop)))
    }

    fn queued_events(&self, limit: usize) -> JournalFuture<'_, Vec<QueuedEvent>> {
        ready(self.with(|rows| {
            Ok(rows
                .queued_due
                .iter()
                .take(limit)
                .filter_map(|(_, id)| rows.queued.get(id).cloned())
                .collect())
        }))
    }

    fn queued_event_payload(&self, id: u64) -> JournalFuture<'_, Option<Vec<u8>>> {
        ready(self.with(|rows| Ok(rows.payloads.get(&id).cloned())))
    }

    fn queued_event_count(&self) -> JournalFuture<'_, u64> {
        ready(self.with(|rows| Ok(rows.queued.len() as u64)))
    }
}
