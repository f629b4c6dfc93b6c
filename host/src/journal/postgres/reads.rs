//! The [`Journal`] trait on PostgreSQL: reads on pooled connections, writes
//! through the writer thread, claims in `leases.rs`.

use std::collections::HashMap;
use std::ops::Bound::{Excluded, Included, Unbounded};

use tokio_postgres::types::ToSql;

use super::super::queue::{NewQueuedEvent, QueueWrite, QueuedEvent};
use super::super::redb::{fill_page, list_bounds};
use super::super::tables::decode;
use super::super::writer::Request;
use super::super::{
    Batch, CallbackRef, Claim, CreateOutcome, Execution, ExecutionPage, ExecutionState,
    HistoryEvent, Journal, JournalError, JournalFuture, JournalStats, ListQuery, NewExecution,
    Operation, QueuedWrite, Result, Timer, TimerKind,
};
use super::{PgJournal, int, pg_error, uint};

/// A LIMIT parameter.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn decode_execution(arn: &str, row: &[u8]) -> Result<Execution> {
    decode(row, "executions", || arn.to_owned())
}

/// A timer from a `(due_ms, seq, arn, kind, op_id)` row.
pub(super) fn timer_row(row: &tokio_postgres::Row) -> Result<Timer> {
    let due_ms = uint(row.get(0));
    let seq = uint(row.get(1));
    let kind: &str = row.get(3);
    let kind: TimerKind = kind.parse().map_err(|message| JournalError::Corrupt {
        table: "timers",
        key: format!("({due_ms}, {seq})"),
        message,
    })?;
    let op_id: String = row.get(4);
    Ok(Timer {
        due_ms,
        seq,
        arn: row.get(2),
        kind,
        op_id: (!op_id.is_empty()).then_some(op_id),
    })
}

impl PgJournal {
    /// Runs one read query on a pooled connection (prepared once per connection).
    pub(in crate::journal) async fn read(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let client = self.client().await?;
        let statement = client.prepare_cached(sql).await.map_err(pg_error)?;
        client.query(&statement, params).await.map_err(pg_error)
    }

    async fn get_execution_now(&self, arn: &str) -> Result<Option<Execution>> {
        self.read("SELECT row FROM executions WHERE arn = $1", &[&arn])
            .await?
            .first()
            .map(|row| decode_execution(arn, row.get(0)))
            .transpose()
    }

    async fn list_now(&self, query: &ListQuery) -> Result<ExecutionPage> {
        let empty = ExecutionPage {
            executions: Vec::new(),
            next: None,
        };
        let function_end = query.function.as_ref().map(|f| format!("{f}\0"));
        let Some((lower, upper)) = list_bounds(query, function_end.as_deref()) else {
            return Ok(empty);
        };
        if query.limit == 0 {
            return Ok(empty);
        }
        let mut sql =
            String::from("SELECT function, start_ms, arn, row FROM executions WHERE TRUE");
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        for (bound, below) in [(lower, false), (upper, true)] {
            let (key, strict) = match bound {
                Included(k) => (k, false),
                Excluded(k) => (k, true),
                Unbounded => continue,
            };
            if key.0.contains('\0') {
                // The end of one function's range (its name and a NUL, which
                // PostgreSQL text cannot hold): the equality below bounds it.
                continue;
            }
            let op = match (below, strict) {
                (false, false) => ">=",
                (false, true) => ">",
                (true, false) => "<=",
                (true, true) => "<",
            };
            let n = params.len();
            sql.push_str(&format!(
                " AND (function, start_ms, arn) {op} (${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3
            ));
            params.push(Box::new(key.0.to_owned()));
            params.push(Box::new(int(key.1)));
            params.push(Box::new(key.2.to_owned()));
        }
        if let Some(function) = &query.function {
            params.push(Box::new(function.clone()));
            sql.push_str(&format!(" AND function = ${}", params.len()));
        }
        let order = if query.reverse { "DESC" } else { "ASC" };
        sql.push_str(&format!(
            " ORDER BY function {order}, start_ms {order}, arn {order}"
        ));
        let filtered = !query.statuses.is_empty()
            || query.started_after_ms.is_some()
            || query.started_before_ms.is_some();
        if !filtered {
            // One past the page tells whether there is a next page.
            sql.push_str(&format!(" LIMIT {}", limit(query.limit.saturating_add(1))));
        }
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let rows = self.read(&sql, &refs).await?;
        let mut execs = HashMap::new();
        let mut keys = Vec::with_capacity(rows.len());
        for row in &rows {
            let arn: String = row.get(2);
            execs.insert(arn.clone(), decode_execution(&arn, row.get(3))?);
            keys.push(Ok((row.get::<_, String>(0), uint(row.get(1)), arn)));
        }
        fill_page(query, keys.into_iter(), |arn| Ok(execs.remove(arn)))
    }

    async fn load_state_now(&self, arn: &str) -> Result<ExecutionState> {
        let mut client = self.client().await?;
        let txn = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(pg_error)?;
        let row = txn
            .query_opt(
                "SELECT e.row, i.input FROM executions e
                 LEFT JOIN execution_inputs i ON i.arn = e.arn WHERE e.arn = $1",
                &[&arn],
            )
            .await
            .map_err(pg_error)?
            .ok_or_else(|| JournalError::ExecutionNotFound {
                arn: arn.to_owned(),
            })?;
        let execution = decode_execution(arn, row.get(0))?;
        let input: Option<String> = row.get(1);
        let mut operations = txn
            .query("SELECT op_id, row FROM operations WHERE arn = $1", &[&arn])
            .await
            .map_err(pg_error)?
            .iter()
            .map(|row| {
                let op_id: &str = row.get(0);
                decode::<Operation>(row.get(1), "operations", || format!("({arn}, {op_id})"))
            })
            .collect::<Result<Vec<_>>>()?;
        txn.commit().await.map_err(pg_error)?;
        operations.sort_by_key(|op| op.seq);
        Ok(ExecutionState {
            execution,
            input: input.unwrap_or_default(),
            operations,
        })
    }

    async fn history_now(
        &self,
        arn: &str,
        after: u64,
        before: Option<u64>,
        n: usize,
        reverse: bool,
    ) -> Result<Vec<HistoryEvent>> {
        if self.get_execution_now(arn).await?.is_none() {
            return Err(JournalError::ExecutionNotFound {
                arn: arn.to_owned(),
            });
        }
        let start = int(after.saturating_add(1));
        let end = int(before.unwrap_or(u64::MAX));
        if n == 0 || start >= end {
            return Ok(Vec::new());
        }
        let sql = if reverse {
            "SELECT event_id, row FROM history WHERE arn = $1 AND event_id >= $2
             AND event_id < $3 ORDER BY event_id DESC LIMIT $4"
        } else {
            "SELECT event_id, row FROM history WHERE arn = $1 AND event_id >= $2
             AND event_id < $3 ORDER BY event_id ASC LIMIT $4"
        };
        self.read(sql, &[&arn, &start, &end, &limit(n)])
            .await?
            .iter()
            .map(|row| {
                let id = uint(row.get(0));
                let mut event: HistoryEvent =
                    decode(row.get(1), "history", || format!("({arn}, {id})"))?;
                event.event_id = id;
                Ok(event)
            })
            .collect()
    }

    async fn expired_now(
        &self,
        cutoff_ms: &(dyn Fn(&str) -> Option<u64> + Send + Sync),
        n: usize,
    ) -> Result<Vec<String>> {
        let functions = self
            .read(
                "SELECT DISTINCT function FROM ended_executions ORDER BY function",
                &[],
            )
            .await?;
        let mut found = Vec::new();
        for row in functions {
            let function: String = row.get(0);
            let Some(cutoff) = cutoff_ms(&function) else {
                continue;
            };
            if found.len() >= n {
                break;
            }
            let rows = self
                .read(
                    "SELECT arn FROM ended_executions WHERE function = $1 AND end_ms < $2
                     ORDER BY end_ms, arn LIMIT $3",
                    &[&function, &int(cutoff), &limit(n - found.len())],
                )
                .await?;
            found.extend(rows.iter().map(|r| r.get::<_, String>(0)));
        }
        Ok(found)
    }
}

impl Journal for PgJournal {
    fn create_execution(&self, new: NewExecution) -> JournalFuture<'_, CreateOutcome> {
        Box::pin(self.write(move |reply| Request::Create { new, reply }))
    }

    fn get_execution<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<Execution>> {
        Box::pin(self.get_execution_now(arn))
    }

    fn execution_input<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, Option<String>> {
        Box::pin(async move {
            Ok(self
                .read("SELECT input FROM execution_inputs WHERE arn = $1", &[&arn])
                .await?
                .first()
                .map(|row| row.get(0)))
        })
    }

    fn find_by_name<'a>(
        &'a self,
        function: &'a str,
        name: &'a str,
    ) -> JournalFuture<'a, Option<Execution>> {
        Box::pin(async move {
            self.read(
                "SELECT e.arn, e.row FROM execution_names n JOIN executions e ON e.arn = n.arn
                 WHERE n.function = $1 AND n.name = $2",
                &[&function, &name],
            )
            .await?
            .first()
            .map(|row| decode_execution(row.get(0), row.get(1)))
            .transpose()
        })
    }

    fn list_executions(&self, query: ListQuery) -> JournalFuture<'_, ExecutionPage> {
        Box::pin(async move { self.list_now(&query).await })
    }

    fn load_state<'a>(&'a self, arn: &'a str) -> JournalFuture<'a, ExecutionState> {
        Box::pin(self.load_state_now(arn))
    }

    fn operation<'a>(
        &'a self,
        arn: &'a str,
        op_id: &'a str,
    ) -> JournalFuture<'a, Option<Operation>> {
        Box::pin(async move {
            self.read(
                "SELECT row FROM operations WHERE arn = $1 AND op_id = $2",
                &[&arn, &op_id],
            )
            .await?
            .first()
            .map(|row| decode(row.get(0), "operations", || format!("({arn}, {op_id})")))
            .transpose()
        })
    }

    fn apply<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, Vec<u64>> {
        let arn = arn.to_owned();
        Box::pin(self.write(move |reply| Request::Apply { arn, batch, reply }))
    }

    fn enqueue<'a>(&'a self, arn: &'a str, batch: Batch) -> JournalFuture<'a, QueuedWrite> {
        let arn = arn.to_owned();
        Box::pin(async move {
            let (reply, answer) = tokio::sync::oneshot::channel();
            self.requests
                .send(Request::Apply {
                    arn,
                    batch,
                    reply: super::Reply::new(reply),
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
        Box::pin(self.history_now(arn, after_event_id, None, limit, false))
    }

    fn history_reverse<'a>(
        &'a self,
        arn: &'a str,
        before_event_id: Option<u64>,
        limit: usize,
    ) -> JournalFuture<'a, Vec<HistoryEvent>> {
        Box::pin(self.history_now(arn, 0, before_event_id, limit, true))
    }

    fn callback<'a>(&'a self, callback_id: &'a str) -> JournalFuture<'a, Option<CallbackRef>> {
        Box::pin(async move {
            Ok(self
                .read(
                    "SELECT arn, op_id FROM callbacks WHERE callback_id = $1",
                    &[&callback_id],
                )
                .await?
                .first()
                .map(|row| CallbackRef {
                    arn: row.get(0),
                    op_id: row.get(1),
                }))
        })
    }

    fn due_timers(&self, now_ms: u64, n: usize) -> JournalFuture<'_, Vec<Timer>> {
        Box::pin(async move {
            self.read(
                "SELECT due_ms, seq, arn, kind, op_id FROM timers WHERE due_ms <= $1
                 ORDER BY due_ms, seq LIMIT $2",
                &[&int(now_ms), &limit(n)],
            )
            .await?
            .iter()
            .map(timer_row)
            .collect()
        })
    }

    fn next_timer_due(&self) -> JournalFuture<'_, Option<u64>> {
        Box::pin(async move {
            Ok(self
                .read("SELECT MIN(due_ms) FROM timers", &[])
                .await?
                .first()
                .and_then(|row| row.get::<_, Option<i64>>(0))
                .map(uint))
        })
    }

    fn executions_needing_recovery(&self) -> JournalFuture<'_, Vec<Execution>> {
        Box::pin(async move {
            self.read(
                "SELECT e.arn, e.row FROM running_executions r JOIN executions e ON e.arn = r.arn
                 WHERE r.in_progress ORDER BY r.arn",
                &[],
            )
            .await?
            .iter()
            .map(|row| decode_execution(row.get(0), row.get(1)))
            .collect()
        })
    }

    fn claim_runnable<'a>(
        &'a self,
        owner: &'a str,
        lease: std::time::Duration,
        limit: usize,
    ) -> JournalFuture<'a, Vec<Claim<Execution>>> {
        Box::pin(self.claim_runnable_now(owner, lease, limit))
    }

    fn claim_due_timers<'a>(
        &'a self,
        owner: &'a str,
        now_ms: u64,
        lease: std::time::Duration,
        limit: usize,
    ) -> JournalFuture<'a, Vec<Claim<Timer>>> {
        Box::pin(self.claim_due_timers_now(owner, now_ms, lease, limit))
    }

    fn lease_execution<'a>(
        &'a self,
        owner: &'a str,
        arn: &'a str,
        lease: std::time::Duration,
    ) -> JournalFuture<'a, bool> {
        Box::pin(self.lease_execution_now(owner, arn, lease))
    }

    fn release_execution<'a>(&'a self, owner: &'a str, arn: &'a str) -> JournalFuture<'a, ()> {
        Box::pin(self.release_execution_now(owner, arn))
    }

    fn claim_queued_event<'a>(
        &'a self,
        owner: &'a str,
        id: u64,
        lease: std::time::Duration,
    ) -> JournalFuture<'a, bool> {
        Box::pin(async move {
            let rows = self
                .read(
                    "UPDATE queued_events SET owner = $1, lease_until_ms = $3
                     WHERE id = $2 AND (owner IS NULL OR owner = $1 OR lease_until_ms < $4)
                     RETURNING id",
                    &[
                        &owner,
                        &int(id),
                        &super::lease_until(lease),
                        &int(super::super::now_ms()),
                    ],
                )
                .await?;
            Ok(!rows.is_empty())
        })
    }

    fn is_shared(&self) -> bool {
        true
    }

    fn stats(&self) -> JournalStats {
        self.stats.snapshot()
    }

    fn expired_executions<'a>(
        &'a self,
        cutoff_ms: &'a (dyn Fn(&str) -> Option<u64> + Send + Sync),
        limit: usize,
    ) -> JournalFuture<'a, Vec<String>> {
        Box::pin(self.expired_now(cutoff_ms, limit))
    }

    fn delete_executions(&self, arns: Vec<String>) -> JournalFuture<'_, usize> {
        Box::pin(self.write(move |reply| Request::Delete { arns, reply }))
    }

    fn queue_event(&self, event: NewQueuedEvent) -> JournalFuture<'_, u64> {
        Box::pin(self.write(move |reply| Request::Queue {
            write: QueueWrite::Add(event),
            reply,
        }))
    }

    fn retry_queued_event(&self, id: u64, attempts: u32, due_ms: u64) -> JournalFuture<'_, ()> {
        Box::pin(async move {
            self.write(move |reply| Request::Queue {
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
            self.write(move |reply| Request::Queue {
                write: QueueWrite::Remove(id),
                reply,
            })
            .await
            .map(drop)
        })
    }

    fn queued_events(&self, n: usize) -> JournalFuture<'_, Vec<QueuedEvent>> {
        Box::pin(async move {
            self.read(
                "SELECT id, row FROM queued_events ORDER BY due_ms, id LIMIT $1",
                &[&limit(n)],
            )
            .await?
            .iter()
            .map(|row| {
                let id = uint(row.get(0));
                decode(row.get(1), "queued_events", || id.to_string())
            })
            .collect()
        })
    }

    fn queued_event_payload(&self, id: u64) -> JournalFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move {
            Ok(self
                .read(
                    "SELECT payload FROM queued_events WHERE id = $1",
                    &[&int(id)],
                )
                .await?
                .first()
                .and_then(|row| row.get::<_, Option<Vec<u8>>>(0)))
        })
    }

    fn queued_event_count(&self) -> JournalFuture<'_, u64> {
        Box::pin(async move {
            Ok(self
                .read("SELECT COUNT(*) FROM queued_events", &[])
                .await?
                .first()
                .map_or(0, |row| uint(row.get(0))))
        })
    }
}
