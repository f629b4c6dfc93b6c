//! The durable-execution journal.
//!
//! The journal stores everything a durable execution leaves behind:
//! the execution itself, its operations keyed by (execution, operation id), its
//! history events keyed by (execution, event id), the execution names used for
//! idempotency, the timers ordered by due time, and the callbacks by callback id.
//!
//! The [`Journal`] trait is what the executor, the scheduler and the API layer
//! use; [`RedbJournal`] implements it on one `redb` file with group commit,
//! [`MemoryJournal`] in memory (for tests). Both apply the same write rules
//! (`apply.rs`) and differ only in how they store rows.
//! Every method returns a boxed future, so the trait is object safe
//! (`Arc<dyn Journal>`) without an `async-trait` dependency, and a future
//! networked implementation can be asynchronous all the way down. A write
//! ([`Journal::create_execution`], [`Journal::apply`]) resolves only once the
//! update is durable on disk. The on-disk format, the group-commit protocol and
//! the recovery rules are described in `docs/journal-format.md`.

mod apply;
mod error;
#[cfg(test)]
mod fuzz_tests;
mod memory;
mod postgres;
mod queue;
mod redb;
mod retention;
mod tables;
mod types;
mod writer;

#[cfg(test)]
mod tests;

use std::future::Future;
use std::pin::Pin;

pub use self::error::{JournalError, OpenError};
pub use self::memory::MemoryJournal;
pub use self::postgres::{PG_SCHEMA_VERSION, PgJournal, PgOptions};
pub use self::queue::{NewQueuedEvent, QueuedEvent};
pub use self::redb::{RedbJournal, RedbOptions, SCHEMA_VERSION};
pub use self::types::{
    Batch, CallbackDetails, CallbackRef, CallbackRegistration, ChainedInvokeDetails,
    ContextDetails, CreateOutcome, ErrorObject, EventType, Execution, ExecutionPage,
    ExecutionState, ExecutionStatus, ExecutionUpdate, Expect, HistoryEvent, JournalStats,
    ListCursor, ListQuery, Metering, NewEvent, NewExecution, Operation, OperationStatus,
    OperationType, StepDetails, Timer, TimerKind, TimerRef, TimerSpec, WaitDetails, execution_arn,
    now_ms,
};

/// A write queued by [`Journal::enqueue`].
pub struct QueuedWrite(tokio::sync::oneshot::Receiver<Result<Vec<u64>>>);

impl QueuedWrite {
    /// Wraps the receiver of a queued write's answer.
    pub fn new(answer: tokio::sync::oneshot::Receiver<Result<Vec<u64>>>) -> Self {
        QueuedWrite(answer)
    }

    /// Waits for the commit; the event ids, as [`Journal::apply`] returns them.
    pub async fn committed(self) -> Result<Vec<u64>> {
        self.0.await.map_err(|_| JournalError::Closed)?
    }
}

/// Something claimed from the journal by one owner until its lease ends
/// (see [`Journal::claim_runnable`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Claim<T> {
    /// Who holds it.
    pub owner: String,
    /// When the lease ends (ms since the epoch): after that, another owner
    /// may claim it.
    pub lease_until_ms: u64,
    /// What is claimed.
    pub item: T,
}

impl<T> Claim<T> {
    /// A claim of `item` by `owner` until `lease_until_ms`.
    pub fn new(owner: &str, lease_until_ms: u64, item: T) -> Self {
        Claim {
            owner: owner.to_owned(),
            lease_until_ms,
            item,
        }
    }
}

/// When a lease of `lease` taken at `now_ms` ends.
fn lease_end(now_ms: u64, lease: std::time::Duration) -> u64 {
    now_ms.saturating_add(u64::try_from(lease.as_millis()).unwrap_or(u64::MAX))
}

/// The result type of journal operations.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// The future every [`Journal`] method returns: boxed, `Send`, borrowing the
/// journal (and the method's borrowed arguments) for `'a`.
pub type JournalFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// The durable-execution journal: the only way the host reaches stored
/// durable state.
///
/// Writes go through [`Journal::create_execution`] and [`Journal::apply`];
/// each is atomic and durable when its future resolves. Reads see a consistent
/// snapshot of everything committed before they started.
pub trait Journal: Send + Sync {
    /// Creates an execution, its name row (if it has a name), its initial
    /// operations and history events and (if it has a deadline) its
    /// execution-timeout timer, all in one atomic write.
    ///
    /// If an execution with the same function and name exists, nothing is
    /// written: the result is [`CreateOutcome::Existing`] when its input is the
    /// same (the same text, or the same JSON value), else
    /// [`CreateOutcome::NameConflict`]. Creating an ARN that already exists is
    /// [`JournalError::ExecutionExists`].
    fn create_execution(&self, new: NewExecution) -> JournalFuture<'_, CreateOutcome>;

    /// The execution with this ARN, if any (without its input: see
    /// [`Journal::execution_input`]).
    fn get_execution<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<Execution>>;

    /// The input (JSON text) of the execution with this ARN, if any.
    fn execution_input<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<String>>;

    /// The execution of `function` that was started with this unique name, if any.
    fn find_by_name<'a>(
        &'a self,
        function: &'a str,
        name: &'a str,
    ) -> JournalFuture<'a, Option<Execution>>;

    /// A page of executions matching `query`, ordered by (function, start
    /// time, ARN), descending when `query.reverse`.
    fn list_executions(&self, query: ListQuery) -> JournalFuture<'_, ExecutionPage>;

    /// Everything a replay needs: the execution, its input and all its
    /// operations in the order they were first recorded.
    /// An unknown ARN is [`JournalError::ExecutionNotFound`].
    fn load_state<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, ExecutionState>;

    /// One operation of an execution, if it is recorded, without reading
    /// the others (for host-side completions of one operation).
    fn operation<'a>(
        &'a self,
        arn: &'a str,
        op_id: &'a str,
    ) -> JournalFuture<'a, Option<Operation>>;

    /// Applies one atomic batch of updates to one execution (see [`Batch`])
    /// and returns the event ids assigned to `batch.events`, in order.
    fn apply<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, Vec<u64>>;

    /// [`Journal::apply`] if the execution is still as the caller read it
    /// (its last event id is `expect.last_event_id`), else
    /// [`JournalError::Conflict`] and nothing is written. With several
    /// writers of one execution (several hosts on one database), the loser
    /// of a race re-reads and re-plans instead of overwriting.
    fn apply_expecting<'a>(
        &'a self,
        arn: &'a str,
        mut batch: Batch,
        expect: Expect,
    ) -> JournalFuture<'a, Vec<u64>> {
        batch.expect = Some(expect);
        self.apply(arn, batch)
    }

    /// Queues `batch` like [`Journal::apply`] but resolves as soon as it is
    /// queued behind every write queued before it, not when it is
    /// committed: a later write of the same caller commits after it (maybe
    /// in the same transaction). [`QueuedWrite::committed`] tells how it
    /// ended.
    fn enqueue<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, QueuedWrite>;

    /// Up to `limit` history events of the execution with ids greater than
    /// `after_event_id` (0 for the start), in ascending id order.
    /// An unknown ARN is [`JournalError::ExecutionNotFound`].
    fn history<'a>(
        &'a self,
        arn: &'a str,
        after_event_id: u64,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>>;

    /// Up to `limit` history events with ids smaller than `before_event_id`
    /// (`None` for the end), in descending id order.
    /// An unknown ARN is [`JournalError::ExecutionNotFound`].
    fn history_reverse<'a>(
        &'a self,
        arn: &'a str,
        before_event_id: Option<u64>,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>>;

    /// The execution and operation a callback id belongs to, if it was registered.
    fn callback<'a>(&'a self, callback_id: &'a str) -> JournalFuture<'a, Option<CallbackRef>>;

    /// Up to `limit` timers due at or before `now_ms`, earliest first.
    /// Reading a timer does not remove it: the batch that handles it does.
    fn due_timers(&self, now_ms: u64, limit: usize) -> JournalFuture<'_, Vec<Timer>>;

    /// The due time of the earliest timer, if there is any timer.
    fn next_timer_due(&self) -> JournalFuture<'_, Option<u64>>;

    /// The RUNNING executions whose `invocation_in_progress` flag is set: on
    /// start, the host re-invokes each of them (see `docs/journal-format.md`).
    fn executions_needing_recovery(&self) -> JournalFuture<'_, Vec<Execution>>;

    /// Claims up to `limit` executions that need an invocation (RUNNING,
    /// with `invocation_in_progress` set) for `owner` for `lease`: until the
    /// lease ends no other owner is granted them.
    ///
    /// The redb and in-memory journals serve one process, which owns every
    /// execution: they grant every claim (to whoever asks, each time it asks)
    /// and keep no lease rows. A journal shared by several hosts stores the
    /// owner and lease end and skips what another owner holds.
    fn claim_runnable<'a>(
        &'a self,
        owner: &'a str,
        lease: std::time::Duration,
        limit: usize,
    ) -> JournalFuture<'a, Vec<Claim<Execution>>> {
        Box::pin(async move {
            let until_ms = lease_end(now_ms(), lease);
            let mut found = self.executions_needing_recovery().await?;
            found.truncate(limit);
            Ok(found
                .into_iter()
                .map(|item| Claim::new(owner, until_ms, item))
                .collect())
        })
    }

    /// Claims up to `limit` timers due at or before `now_ms`, earliest
    /// first, for `owner` for `lease` (see [`Journal::claim_runnable`]: the
    /// redb and in-memory journals grant every claim to their one process).
    /// A claimed timer is still removed by the batch that handles it.
    fn claim_due_timers<'a>(
        &'a self,
        owner: &'a str,
        now_ms: u64,
        lease: std::time::Duration,
        limit: usize,
    ) -> JournalFuture<'a, Vec<Claim<Timer>>> {
        Box::pin(async move {
            let until_ms = lease_end(now_ms, lease);
            Ok(self
                .due_timers(now_ms, limit)
                .await?
                .into_iter()
                .map(|item| Claim::new(owner, until_ms, item))
                .collect())
        })
    }

    /// Takes or renews `owner`'s lease on the running execution `arn` until
    /// `lease` from now: granted (true) when nobody holds it, `owner` holds
    /// it, or the holder's lease has ended; false when another owner holds a
    /// live lease or the execution is not running. The redb and in-memory
    /// journals grant every lease (their one process owns everything).
    fn lease_execution<'a>(
        &'a self,
        owner: &'a str,
        arn: &'a str,
        lease: std::time::Duration,
    ) -> JournalFuture<'a, bool> {
        let _ = (owner, arn, lease);
        Box::pin(std::future::ready(Ok(true)))
    }

    /// Gives up `owner`'s lease on `arn` (if it holds it), so that another
    /// owner may claim the execution at once.
    fn release_execution<'a>(&'a self, owner: &'a str, arn: &'a str) -> JournalFuture<'a, ()> {
        let _ = (owner, arn);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Claims queued event `id` for `owner` for `lease` before running it:
    /// false when another owner holds a live claim (a journal shared by
    /// several hosts); the redb and in-memory journals grant every claim.
    fn claim_queued_event<'a>(
        &'a self,
        owner: &'a str,
        id: u64,
        lease: std::time::Duration,
    ) -> JournalFuture<'a, bool> {
        let _ = (owner, id, lease);
        Box::pin(std::future::ready(Ok(true)))
    }

    /// Whether several hosts may share this journal (leases are real and
    /// other hosts write to it); false for the redb and in-memory journals.
    fn is_shared(&self) -> bool {
        false
    }

    /// Counters of the write path (commits, requests, group sizes).
    fn stats(&self) -> JournalStats;

    /// Up to `limit` ARNs of ended executions that ended before
    /// `cutoff_ms(function)` (`None`: keep every execution of that
    /// function), by function, then end time. For the retention sweep.
    fn expired_executions<'a>(
        &'a self,
        cutoff_ms: &'a (dyn Fn(&str) -> Option<u64> + Send + Sync),
        limit: usize,
    ) -> JournalFuture<'a, Vec<String>>;

    /// Deletes these executions and every row that refers to them (input,
    /// operations, history, name, listing entry, callbacks, timers) in one
    /// atomic write, and returns how many were deleted. Unknown ARNs and
    /// executions still RUNNING are skipped. Freed pages are reused by
    /// later writes; the file shrinks when it is compacted at open.
    fn delete_executions(&self, arns: Vec<String>) -> JournalFuture<'_, usize>;

    /// Stores an asynchronous invocation (payload included) in the queue;
    /// resolves with its id once committed. It is due at once.
    fn queue_event(&self, event: NewQueuedEvent) -> JournalFuture<'_, u64>;

    /// Records a failed attempt of queued event `id`: its attempt count and
    /// when it is due again. An unknown id is [`JournalError::Invalid`].
    fn retry_queued_event(&self, id: u64, attempts: u32, due_ms: u64) -> JournalFuture<'_, ()>;

    /// Deletes queued event `id` and its payload (an unknown id is fine).
    fn remove_queued_event(&self, id: u64) -> JournalFuture<'_, ()>;

    /// Up to `limit` queued events (without payloads), the earliest due first.
    fn queued_events(&self, limit: usize) -> JournalFuture<'_, Vec<QueuedEvent>>;

    /// The payload of queued event `id`, if it is stored.
    fn queued_event_payload(&self, id: u64) -> JournalFuture<'_, Option<Vec<u8>>>;

    /// How many events are queued.
    fn queued_event_count(&self) -> JournalFuture<'_, u64>;
}
