//! The journal on one redb file, with a group-committing writer thread.

use std::ops::Bound::{self, Excluded, Included, Unbounded};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use ::redb::{Database, DatabaseError, ReadTransaction, ReadableDatabase, ReadableTable};
use tokio::sync::oneshot;

use super::queue::{self, NewQueuedEvent, QueueWrite, QueuedEvent};
use super::retention;
use super::tables::{
    BY_FUNCTION, CALLBACKS, EXECUTIONS, HISTORY, INPUTS, META, META_SCHEMA_VERSION, NAMES,
    OPERATIONS, RUNNING, TIMER_SLOTS, TIMERS, decode_event, decode_timer, read_callback,
    read_execution, read_input, read_operation, read_operations, storage,
};
use super::writer::{self, Reply, Request, WriterStats};
use super::{
    Batch, CallbackRef, CreateOutcome, Execution, ExecutionPage, ExecutionState, HistoryEvent,
    Journal, JournalError, JournalFuture, JournalStats, ListCursor, ListQuery, NewExecution,
    OpenError, Operation, QueuedWrite, Result, Timer,
};

/// The schema version this build reads and writes. Stored in the `meta`
/// table; a file with another version is refused at open, except version 1,
/// which is migrated (see [`migrate_from_1`]).
pub const SCHEMA_VERSION: u64 = 2;

/// Tuning of a [`RedbJournal`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedbOptions {
    /// The most write requests committed in one transaction.
    pub max_group: usize,
    /// How many write requests may wait for the writer before callers wait
    /// to enqueue (back-pressure).
    pub queue_capacity: usize,
    /// Compact the file when it is opened (redb needs exclusive access for
    /// that), giving back the space of deleted executions.
    pub compact_on_open: bool,
    /// Memory redb may use to cache pages, in bytes. Bounded so that large
    /// rows (queued event payloads, inputs) live on disk, not in memory.
    pub cache_bytes: usize,
}

impl Default for RedbOptions {
    fn default() -> Self {
        RedbOptions {
            max_group: 1024,
            queue_capacity: 8192,
            compact_on_open: true,
            cache_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The journal on a redb file (see `docs/journal-format.md`).
///
/// Reads run on the calling task in their own read transaction (a snapshot);
/// writes are sent to the writer thread, which commits them in groups.
/// Dropping the journal finishes the queued writes, stops the writer and
/// closes the file.
pub struct RedbJournal {
    db: Arc<Database>,
    path: PathBuf,
    requests: async_channel::Sender<Request>,
    writer: Option<JoinHandle<()>>,
    stats: Arc<WriterStats>,
}

impl std::fmt::Debug for RedbJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbJournal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RedbJournal {
    /// The journal file's name inside the state directory.
    pub const FILE_NAME: &'static str = "journal.redb";

    /// Opens (or creates) `{state_dir}/journal.redb`, creating the directory if needed.
    pub fn open_in(state_dir: &Path) -> Result<Self, OpenError> {
        std::fs::create_dir_all(state_dir).map_err(|e| OpenError::Io {
            path: state_dir.to_owned(),
            message: e.to_string(),
        })?;
        Self::open(&state_dir.join(Self::FILE_NAME))
    }

    /// Opens (or creates) the journal file at `path` with default options.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        Self::open_with(path, RedbOptions::default())
    }

    /// Opens (or creates) the journal file at `path`: checks (or, for a new
    /// file, stores) the schema version, creates missing tables and starts
    /// the writer thread.
    pub fn open_with(path: &Path, options: RedbOptions) -> Result<Self, OpenError> {
        let mut db = ::redb::Builder::new()
            .set_cache_size(options.cache_bytes)
            .create(path)
            .map_err(|e| match e {
                DatabaseError::DatabaseAlreadyOpen => OpenError::AlreadyOpen {
                    path: path.to_owned(),
                },
                other => OpenError::Storage(format!("cannot open {}: {other}", path.display())),
            })?;
        prepare(&db, path)?;
        if options.compact_on_open {
            retention::compact(&mut db, path);
        }
        let db = Arc::new(db);
        let (requests, receiver) = async_channel::bounded(options.queue_capacity.max(1));
        let stats = Arc::new(WriterStats::default());
        let writer = {
            let db = Arc::clone(&db);
            let stats = Arc::clone(&stats);
            let max_group = options.max_group.max(1);
            std::thread::Builder::new()
                .name("lamina-journal-writer".into())
                .spawn(move || writer::run(db, receiver, stats, max_group))
                .map_err(|e| OpenError::Io {
                    path: path.to_owned(),
                    message: format!("cannot start the journal writer thread: {e}"),
                })?
        };
        Ok(RedbJournal {
            db,
            path: path.to_owned(),
            requests,
            writer: Some(writer),
            stats,
        })
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends a request to the writer and waits for its answer.
    async fn write<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(Reply::new(reply)))
            .await
            .map_err(|_| JournalError::Closed)?;
        answer.await.map_err(|_| JournalError::Closed)?
    }

    fn read(&self) -> Result<ReadTransaction> {
        self.db.begin_read().map_err(storage)
    }

    fn get_execution_now(&self, arn: &str) -> Result<Option<Execution>> {
        let txn = self.read()?;
        let table = txn.open_table(EXECUTIONS).map_err(storage)?;
        read_execution(&table, arn)
    }

    fn execution_input_now(&self, arn: &str) -> Result<Option<String>> {
        let txn = self.read()?;
        let table = txn.open_table(INPUTS).map_err(storage)?;
        read_input(&table, arn)
    }

    fn find_by_name_now(&self, function: &str, name: &str) -> Result<Option<Execution>> {
        let txn = self.read()?;
        let names = txn.open_table(NAMES).map_err(storage)?;
        let Some(arn) = names
            .get((function, name))
            .map_err(storage)?
            .map(|v| v.value().to_owned())
        else {
            return Ok(None);
        };
        read_execution(&txn.open_table(EXECUTIONS).map_err(storage)?, &arn)
    }

    fn list_executions_now(&self, query: &ListQuery) -> Result<ExecutionPage> {
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
        let txn = self.read()?;
        let index = txn.open_table(BY_FUNCTION).map_err(storage)?;
        let executions = txn.open_table(EXECUTIONS).map_err(storage)?;
        let rows = index.range((lower, upper)).map_err(storage)?;
        let rows: Box<dyn Iterator<Item = _>> = if query.reverse {
            Box::new(rows.rev())
        } else {
            Box::new(rows)
        };
        // Read lazily: the page stops one match past the limit.
        let keys = rows.map(|row| {
            let (key, _) = row.map_err(storage)?;
            let (function, start_ms, arn) = key.value();
            Ok((function.to_owned(), start_ms, arn.to_owned()))
        });
        fill_page(query, keys, |arn| read_execution(&executions, arn))
    }

    fn load_state_now(&self, arn: &str) -> Result<ExecutionState> {
        let txn = self.read()?;
        let execution = read_execution(&txn.open_table(EXECUTIONS).map_err(storage)?, arn)?
            .ok_or_else(|| not_found(arn))?;
        let input = read_input(&txn.open_table(INPUTS).map_err(storage)?, arn)?.unwrap_or_default();
        let operations = read_operations(&txn.open_table(OPERATIONS).map_err(storage)?, arn)?;
        Ok(ExecutionState {
            execution,
            input,
            operations,
        })
    }

    fn history_now(
        &self,
        arn: &str,
        after: u64,
        before: Option<u64>,
        limit: usize,
        reverse: bool,
    ) -> Result<Vec<HistoryEvent>> {
        let txn = self.read()?;
        let executions = txn.open_table(EXECUTIONS).map_err(storage)?;
        if executions.get(arn).map_err(storage)?.is_none() {
            return Err(not_found(arn));
        }
        let history = txn.open_table(HISTORY).map_err(storage)?;
        let start = after.saturating_add(1);
        let end = before.unwrap_or(u64::MAX);
        let mut events = Vec::new();
        if limit == 0 || start >= end {
            return Ok(events);
        }
        let rows = history.range((arn, start)..(arn, end)).map_err(storage)?;
        let rows: Box<dyn Iterator<Item = _>> = if reverse {
            Box::new(rows.rev())
        } else {
            Box::new(rows)
        };
        for row in rows.take(limit) {
            let (key, value) = row.map_err(storage)?;
            let (_, id) = key.value();
            events.push(decode_event(arn, id, value.value())?);
        }
        Ok(events)
    }

    fn callback_now(&self, callback_id: &str) -> Result<Option<CallbackRef>> {
        let txn = self.read()?;
        read_callback(&txn.open_table(CALLBACKS).map_err(storage)?, callback_id)
    }

    fn due_timers_now(&self, now_ms: u64, limit: usize) -> Result<Vec<Timer>> {
        let txn = self.read()?;
        let timers = txn.open_table(TIMERS).map_err(storage)?;
        let mut due = Vec::new();
        for row in timers
            .range(..=(now_ms, u64::MAX))
            .map_err(storage)?
            .take(limit)
        {
            let (key, value) = row.map_err(storage)?;
            due.push(decode_timer(key.value(), value.value())?);
        }
        Ok(due)
    }

    fn next_timer_due_now(&self) -> Result<Option<u64>> {
        let txn = self.read()?;
        let timers = txn.open_table(TIMERS).map_err(storage)?;
        Ok(timers.first().map_err(storage)?.map(|(k, _)| k.value().0))
    }

    fn recovery_now(&self) -> Result<Vec<Execution>> {
        let txn = self.read()?;
        let running = txn.open_table(RUNNING).map_err(storage)?;
        let executions = txn.open_table(EXECUTIONS).map_err(storage)?;
        let mut found = Vec::new();
        for row in running.iter().map_err(storage)? {
            let (arn, in_progress) = row.map_err(storage)?;
            if !in_progress.value() {
                continue;
            }
            let arn = arn.value();
            let exec = read_execution(&executions, arn)?.ok_or_else(|| JournalError::Corrupt {
                table: "running_executions",
                key: arn.to_owned(),
                message: "a running entry leads to an execution that is not stored".into(),
            })?;
            found.push(exec);
        }
        Ok(found)
    }
}

impl Drop for RedbJournal {
    fn drop(&mut self) {
        self.requests.close();
        if let Some(writer) = self.writer.take() {
            // The writer answers what is queued, then ends; a panic there has
            // already been reported by the panic hook.
            let _ = writer.join();
        }
    }
}

/// A key of the `executions_by_function` index.
type IndexKey<'a> = (&'a str, u64, &'a str);

/// The index range a listing scans: exact for a function (with its start-time
/// window) and the cursor; `None` if it is empty. `function_end` is the
/// function name followed by a NUL byte, the smallest name after it.
/// Fills a page of `query` from index keys `(function, start_ms, arn)` in
/// listing order (already within [`list_bounds`]): applies the time and
/// status filters, reads each execution with `get`, and stops one match past
/// the limit, setting the next-page cursor. Shared by every backend.
pub(super) fn fill_page(
    query: &ListQuery,
    keys: impl Iterator<Item = Result<(String, u64, String)>>,
    mut get: impl FnMut(&str) -> Result<Option<Execution>>,
) -> Result<ExecutionPage> {
    let mut page = ExecutionPage {
        executions: Vec::new(),
        next: None,
    };
    for key in keys {
        let (function, start_ms, arn) = key?;
        if query.started_after_ms.is_some_and(|t| start_ms < t)
            || query.started_before_ms.is_some_and(|t| start_ms >= t)
        {
            continue;
        }
        let exec = get(&arn)?.ok_or_else(|| JournalError::Corrupt {
            table: "executions_by_function",
            key: format!("({function}, {start_ms}, {arn})"),
            message: "the index leads to an execution that is not stored".into(),
        })?;
        if !query.statuses.is_empty() && !query.statuses.contains(&exec.status) {
            continue;
        }
        if page.executions.len() == query.limit {
            // One more match exists: the page ends at its last execution.
            page.next = page.executions.last().map(|e| ListCursor {
                function: e.function.clone(),
                start_ms: e.start_ms,
                arn: e.arn.clone(),
            });
            break;
        }
        page.executions.push(exec);
    }
    Ok(page)
}

pub(super) fn list_bounds<'a>(
    query: &'a ListQuery,
    function_end: Option<&'a str>,
) -> Option<(Bound<IndexKey<'a>>, Bound<IndexKey<'a>>)> {
    let (mut lower, mut upper) = match (&query.function, function_end) {
        (Some(f), Some(end)) => (
            Included((f.as_str(), query.started_after_ms.unwrap_or(0), "")),
            match query.started_before_ms {
                Some(t) => Excluded((f.as_str(), t, "")),
                None => Excluded((end, 0, "")),
            },
        ),
        _ => (Unbounded, Unbounded),
    };
    if let Some(c) = &query.after {
        let position = (c.function.as_str(), c.start_ms, c.arn.as_str());
        if query.reverse {
            upper = match upper {
                Included(x) | Excluded(x) if x < position => upper,
                _ => Excluded(position),
            };
        } else {
            lower = match lower {
                Included(x) | Excluded(x) if x > position => lower,
                _ => Excluded(position),
            };
        }
    }
    let empty = match (&lower, &upper) {
        (Included(l), Included(u)) => l > u,
        (Included(l) | Excluded(l), Included(u) | Excluded(u)) => l >= u,
        _ => false,
    };
    (!empty).then_some((lower, upper))
}

fn not_found(arn: &str) -> JournalError {
    JournalError::ExecutionNotFound {
        arn: arn.to_owned(),
    }
}

/// Checks or stores the schema version and creates every table.
fn prepare(db: &Database, path: &Path) -> Result<(), OpenError> {
    let txn = db.begin_write().map_err(storage)?;
    {
        let mut meta = txn.open_table(META).map_err(storage)?;
        let found = meta
            .get(META_SCHEMA_VERSION)
            .map_err(storage)?
            .map(|v| v.value());
        match found {
            Some(version) if version == SCHEMA_VERSION => {}
            Some(1) => migrate_from_1(&txn, &mut meta)?,
            Some(version) => {
                return Err(OpenError::SchemaVersion {
                    path: path.to_owned(),
                    found: version,
                    expected: SCHEMA_VERSION,
                });
            }
            None => {
                meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION)
                    .map_err(storage)?;
            }
        }
        txn.open_table(EXECUTIONS).map_err(storage)?;
        txn.open_table(INPUTS).map_err(storage)?;
        txn.open_table(NAMES).map_err(storage)?;
        txn.open_table(BY_FUNCTION).map_err(storage)?;
        txn.open_table(RUNNING).map_err(storage)?;
        txn.open_table(OPERATIONS).map_err(storage)?;
        txn.open_table(HISTORY).map_err(storage)?;
        txn.open_table(TIMERS).map_err(storage)?;
        txn.open_table(TIMER_SLOTS).map_err(storage)?;
        txn.open_table(CALLBACKS).map_err(storage)?;
        queue::create_tables(&txn)?;
    }
    retention::prepare_index(&txn)?;
    Ok(txn.commit().map_err(storage)?)
}

/// Schema 1 to 2: version 2 adds the queue of asynchronous invocations
/// (`queued_events`, `queued_event_payloads`, `queued_events_due`,
/// `queue_meta`); the existing tables are unchanged. The new tables are
/// created by [`prepare`] in the same transaction as the version change.
fn migrate_from_1(
    txn: &::redb::WriteTransaction,
    meta: &mut ::redb::Table<'_, &'static str, u64>,
) -> Result<()> {
    queue::create_tables(txn)?;
    meta.insert(META_SCHEMA_VERSION, SCHEMA_VERSION)
        .map_err(storage)?;
    tracing::info!("journal schema migrated from version 1 to {SCHEMA_VERSION}");
    Ok(())
}

impl Journal for RedbJournal {
    fn create_execution(&self, new: NewExecution) -> JournalFuture<'_, CreateOutcome> {
        Box::pin(self.write(|reply| Request::Create { new, reply }))
    }

    fn get_execution<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<Execution>> {
        Box::pin(async move { self.get_execution_now(arn) })
    }

    fn execution_input<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<String>> {
        Box::pin(async move { self.execution_input_now(arn) })
    }

    fn find_by_name<'a>(
        &'a self,
        function: &'a str,
        name: &'a str,
    ) -> JournalFuture<'a, Option<Execution>> {
        Box::pin(async move { self.find_by_name_now(function, name) })
    }

    fn list_executions(&self, query: ListQuery) -> JournalFuture<'_, ExecutionPage> {
        Box::pin(async move { self.list_executions_now(&query) })
    }

    fn load_state<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, ExecutionState> {
        Box::pin(async move { self.load_state_now(arn) })
    }

    fn operation<'a>(
        &'a self,
        arn: &'a str,
        op_id: &'a str,
    ) -> JournalFuture<'a, Option<Operation>> {
        Box::pin(async move {
            let txn = self.read()?;
            let table = txn.open_table(OPERATIONS).map_err(storage)?;
            read_operation(&table, arn, op_id)
        })
    }

    fn apply<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, Vec<u64>> {
        let arn = arn.to_owned();
        Box::pin(self.write(move |reply| Request::Apply { arn, batch, reply }))
    }

    fn enqueue<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, QueuedWrite> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            self.requests
                .send(Request::Apply {
                    arn,
                    batch,
                    reply: Reply::new(reply),
                })
                .await
                .map_err(|_| JournalError::Closed)?;
            Ok(QueuedWrite::new(answer))
        })
    }

    fn history<'a>(
        &'a self,
        arn: &'a str,
        after_event_id: u64,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        Box::pin(async move { self.history_now(arn, after_event_id, None, limit, false) })
    }

    fn history_reverse<'a>(
        &'a self,
        arn: &'a str,
        before_event_id: Option<u64>,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        Box::pin(async move { self.history_now(arn, 0, before_event_id, limit, true) })
    }

    fn callback<'a>(&'a self, callback_id: &'a str) -> JournalFuture<'a, Option<CallbackRef>> {
        Box::pin(async move { self.callback_now(callback_id) })
    }

    fn due_timers(&self, now_ms: u64, limit: usize) -> JournalFuture<'_, Vec<Timer>> {
        Box::pin(async move { self.due_timers_now(now_ms, limit) })
    }

    fn next_timer_due(&self) -> JournalFuture<'_, Option<u64>> {
        Box::pin(async move { self.next_timer_due_now() })
    }

    fn executions_needing_recovery(&self) -> JournalFuture<'_, Vec<Execution>> {
        Box::pin(async move { self.recovery_now() })
    }

    fn stats(&self) -> JournalStats {
        self.stats.snapshot()
    }

    fn expired_executions<'a>(
        &'a self,
        cutoff_ms: &'a (dyn Fn(&str) -> Option<u64> + Send + Sync),
        limit: usize,
    ) -> JournalFuture<'a, Vec<String>> {
        Box::pin(async move { retention::expired(&self.read()?, cutoff_ms, limit) })
    }

    fn delete_executions(&self, arns: Vec<String>) -> JournalFuture<'_, usize> {
        Box::pin(self.write(|reply| Request::Delete { arns, reply }))
    }

    fn queue_event(&self, event: NewQueuedEvent) -> JournalFuture<'_, u64> {
        Box::pin(self.write(|reply| Request::Queue {
            write: QueueWrite::Add(event),
            reply,
        }))
    }

    fn retry_queued_event(&self, id: u64, attempts: u32, due_ms: u64) -> JournalFuture<'_, ()> {
        Box::pin(async move {
            self.write(|reply| Request::Queue {
                write: QueueWrite::Retry {
                    id,
                    attempts,
                    due_ms,
                },
                reply,
            })
            .await
            .map(drop)
        })
    }

    fn remove_queued_event(&self, id: u64) -> JournalFuture<'_, ()> {
        Box::pin(async move {
            self.write(|reply| Request::Queue {
                write: QueueWrite::Remove(id),
                reply,
            })
            .await
            .map(drop)
        })
    }

    fn queued_events(&self, limit: usize) -> JournalFuture<'_, Vec<QueuedEvent>> {
        Box::pin(async move { queue::read_due(&self.read()?, limit) })
    }

    fn queued_event_payload(&self, id: u64) -> JournalFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move { queue::read_payload(&self.read()?, id) })
    }

    fn queued_event_count(&self) -> JournalFuture<'_, u64> {
        Box::pin(async move { queue::count(&self.read()?) })
    }
}
