//! The writer thread of the PostgreSQL journal: group commit over one
//! connection, and the [`Rows`] of one SQL transaction.
//!
//! As with redb (`writer.rs`), every write request is queued on one channel;
//! the writer takes the first request and every request already queued (up
//! to a group limit), applies them with the backend-neutral rules
//! (`apply.rs`) inside ONE SQL transaction and commits it; only then is each
//! caller answered. The execution row is read `FOR UPDATE`, so two hosts
//! writing one execution are serialised by PostgreSQL and
//! `apply_expecting` sees the latest committed version. The group is
//! ordered by ARN (stably: one execution's requests keep their order) so
//! that the row locks of two hosts' groups are always taken in the same
//! order and cannot deadlock.
//!
//! A storage failure (lost connection, PostgreSQL down) answers the whole
//! group with that error; the next group reconnects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ::postgres::types::ToSql;
use ::postgres::{Client, Statement, Transaction};

use super::super::apply::{self, Rows};
use super::super::queue::QueuedEvent;
use super::super::tables::decode;
use super::super::writer::{Request, WriterStats};
use super::super::{CallbackRef, Execution, JournalError, Operation, Result, TimerKind, now_ms};
use super::{int, pg_error};

/// The writer thread's loop: runs until every sender is gone.
pub(super) fn run(
    config: ::postgres::Config,
    requests: async_channel::Receiver<Request>,
    stats: Arc<WriterStats>,
    max_group: usize,
) {
    let mut connection: Option<Connection> = None;
    while let Ok(first) = requests.recv_blocking() {
        let mut group = vec![first];
        while group.len() < max_group {
            match requests.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        group.sort_by(|a, b| lock_key(a).cmp(lock_key(b)));
        let started = Instant::now();
        let result = execute(&config, &mut connection, &mut group);
        stats.record(group.len() as u64, started.elapsed());
        if let Err(error) = &result {
            tracing::error!(%error, requests = group.len(), "PostgreSQL journal group commit failed");
            if connection.as_ref().is_some_and(|c| c.client.is_closed()) {
                connection = None;
            }
        }
        let failure = result.err();
        for request in group {
            request.finish(failure.as_ref());
        }
    }
}

/// The execution whose row a request locks first ("" for none).
fn lock_key(request: &Request) -> &str {
    match request {
        Request::Create { new, .. } => &new.arn,
        Request::Apply { arn, .. } => arn,
        Request::Delete { arns, .. } => arns.first().map_or("", String::as_str),
        Request::Queue { .. } => "",
    }
}

/// One connection and the statements prepared on it.
struct Connection {
    client: Client,
    statements: RefCell<HashMap<&'static str, Statement>>,
}

/// Connects (or reuses the connection), runs the group in one transaction
/// and commits it.
fn execute(
    config: &::postgres::Config,
    connection: &mut Option<Connection>,
    group: &mut [Request],
) -> Result<()> {
    if connection.as_ref().is_none_or(|c| c.client.is_closed()) {
        let client = config.connect(::postgres::NoTls).map_err(pg_error)?;
        *connection = Some(Connection {
            client,
            statements: RefCell::new(HashMap::new()),
        });
    }
    let Some(conn) = connection.as_mut() else {
        return Err(JournalError::Closed);
    };
    let txn = conn.client.transaction().map_err(pg_error)?;
    let mut rows = PgRows {
        txn: RefCell::new(txn),
        statements: &conn.statements,
    };
    let now = now_ms();
    for request in group.iter_mut() {
        match request {
            Request::Create { new, reply } => reply.record(apply::create(&mut rows, new, now))?,
            Request::Apply { arn, batch, reply } => {
                reply.record(apply::apply(&mut rows, arn, batch, now))?
            }
            Request::Delete { arns, reply } => {
                reply.record(apply::delete_ended(&mut rows, arns))?
            }
            Request::Queue { write, reply } => reply.record(apply::queue(&mut rows, write))?,
        }
    }
    rows.txn.into_inner().commit().map_err(pg_error)
}

/// The rows of one SQL write transaction.
struct PgRows<'c> {
    txn: RefCell<Transaction<'c>>,
    statements: &'c RefCell<HashMap<&'static str, Statement>>,
}

impl PgRows<'_> {
    /// The prepared statement for `sql` (prepared once per connection).
    fn statement(&self, sql: &'static str) -> Result<Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let s = self.txn.borrow_mut().prepare(sql).map_err(pg_error)?;
        self.statements.borrow_mut().insert(sql, s.clone());
        Ok(s)
    }

    fn query(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<::postgres::Row>> {
        let s = self.statement(sql)?;
        self.txn.borrow_mut().query(&s, params).map_err(pg_error)
    }

    fn query_opt(
        &self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<::postgres::Row>> {
        let s = self.statement(sql)?;
        self.txn
            .borrow_mut()
            .query_opt(&s, params)
            .map_err(pg_error)
    }

    fn exec(&self, sql: &'static str, params: &[&(dyn ToSql + Sync)]) -> Result<()> {
        let s = self.statement(sql)?;
        self.txn
            .borrow_mut()
            .execute(&s, params)
            .map(drop)
            .map_err(pg_error)
    }
}

impl Rows for PgRows<'_> {
    fn execution(&self, arn: &str) -> Result<Option<Execution>> {
        // The lock serialises the writers of one execution across hosts.
        self.query_opt(
            "SELECT row FROM executions WHERE arn = $1 FOR UPDATE",
            &[&arn],
        )?
        .map(|row| decode(row.get::<_, &[u8]>(0), "executions", || arn.to_owned()))
        .transpose()
    }

    fn input(&self, arn: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt("SELECT input FROM execution_inputs WHERE arn = $1", &[&arn])?
            .map(|row| row.get(0)))
    }

    fn name_owner(&self, function: &str, name: &str) -> Result<Option<String>> {
        Ok(self
            .query_opt(
                "SELECT arn FROM execution_names WHERE function = $1 AND name = $2",
                &[&function, &name],
            )?
            .map(|row| row.get(0)))
    }

    fn operation(&self, arn: &str, op_id: &str) -> Result<Option<Operation>> {
        self.query_opt(
            "SELECT row FROM operations WHERE arn = $1 AND op_id = $2",
            &[&arn, &op_id],
        )?
        .map(|row| {
            decode(row.get::<_, &[u8]>(0), "operations", || {
                format!("({arn}, {op_id})")
            })
        })
        .transpose()
    }

    fn callback_owner(&self, callback_id: &str) -> Result<Option<CallbackRef>> {
        Ok(self
            .query_opt(
                "SELECT arn, op_id FROM callbacks WHERE callback_id = $1",
                &[&callback_id],
            )?
            .map(|row| CallbackRef {
                arn: row.get(0),
                op_id: row.get(1),
            }))
    }

    fn lease_holder(&self, arn: &str) -> Result<Option<(String, u64)>> {
        Ok(self
            .query_opt(
                "SELECT owner, lease_until_ms FROM running_executions
                 WHERE arn = $1 AND owner IS NOT NULL FOR SHARE",
                &[&arn],
            )?
            .map(|row| {
                (
                    row.get::<_, String>(0),
                    u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
                )
            }))
    }

    fn put_execution(&mut self, exec: &Execution, row: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO executions (arn, function, start_ms, row) VALUES ($1, $2, $3, $4)
             ON CONFLICT (arn) DO UPDATE SET row = EXCLUDED.row",
            &[&exec.arn, &exec.function, &int(exec.start_ms), &row],
        )
    }

    fn put_new_execution(&mut self, exec: &Execution, input: &str) -> Result<()> {
        self.exec(
            "INSERT INTO execution_inputs (arn, input) VALUES ($1, $2)
             ON CONFLICT (arn) DO UPDATE SET input = EXCLUDED.input",
            &[&exec.arn, &input],
        )?;
        if let Some(name) = &exec.name {
            self.exec(
                "INSERT INTO execution_names (function, name, arn) VALUES ($1, $2, $3)
                 ON CONFLICT (function, name) DO UPDATE SET arn = EXCLUDED.arn",
                &[&exec.function, name, &exec.arn],
            )?;
        }
        Ok(())
    }

    fn set_running(&mut self, arn: &str, in_progress: Option<bool>) -> Result<()> {
        match in_progress {
            Some(flag) => self.exec(
                "INSERT INTO running_executions (arn, in_progress) VALUES ($1, $2)
                 ON CONFLICT (arn) DO UPDATE SET in_progress = EXCLUDED.in_progress",
                &[&arn, &flag],
            ),
            None => self.exec("DELETE FROM running_executions WHERE arn = $1", &[&arn]),
        }
    }

    fn set_ended(
        &mut self,
        exec: &Execution,
        before: Option<u64>,
        after: Option<u64>,
    ) -> Result<()> {
        if let Some(end_ms) = before {
            self.exec(
                "DELETE FROM ended_executions WHERE function = $1 AND end_ms = $2 AND arn = $3",
                &[&exec.function, &int(end_ms), &exec.arn],
            )?;
        }
        if let Some(end_ms) = after {
            self.exec(
                "INSERT INTO ended_executions (function, end_ms, arn) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&exec.function, &int(end_ms), &exec.arn],
            )?;
        }
        Ok(())
    }

    fn put_operation(&mut self, arn: &str, op_id: &str, row: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO operations (arn, op_id, row) VALUES ($1, $2, $3)
             ON CONFLICT (arn, op_id) DO UPDATE SET row = EXCLUDED.row",
            &[&arn, &op_id, &row],
        )
    }

    fn put_event(&mut self, arn: &str, event_id: u64, row: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO history (arn, event_id, row) VALUES ($1, $2, $3)",
            &[&arn, &int(event_id), &row],
        )
    }

    fn set_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str, due_ms: u64) -> Result<()> {
        // A moved timer is a new timer: a new sequence number and no lease.
        self.exec(
            "INSERT INTO timers (arn, kind, op_id, due_ms, seq)
             VALUES ($1, $2, $3, $4, nextval('timer_seq'))
             ON CONFLICT (arn, kind, op_id) DO UPDATE SET due_ms = EXCLUDED.due_ms,
                 seq = EXCLUDED.seq, owner = NULL, lease_until_ms = 0",
            &[&arn, &kind.as_str(), &op_id, &int(due_ms)],
        )
    }

    fn clear_timer(&mut self, arn: &str, kind: TimerKind, op_id: &str) -> Result<()> {
        self.exec(
            "DELETE FROM timers WHERE arn = $1 AND kind = $2 AND op_id = $3",
            &[&arn, &kind.as_str(), &op_id],
        )
    }

    fn clear_all_timers(&mut self, arn: &str) -> Result<()> {
        self.exec("DELETE FROM timers WHERE arn = $1", &[&arn])
    }

    fn put_callback(&mut self, callback_id: &str, arn: &str, op_id: &str) -> Result<()> {
        self.exec(
            "INSERT INTO callbacks (callback_id, arn, op_id) VALUES ($1, $2, $3)
             ON CONFLICT (callback_id) DO UPDATE SET arn = EXCLUDED.arn, op_id = EXCLUDED.op_id",
            &[&callback_id, &arn, &op_id],
        )
    }

    fn remove_callback(&mut self, callback_id: &str) -> Result<()> {
        self.exec(
            "DELETE FROM callbacks WHERE callback_id = $1",
            &[&callback_id],
        )
    }

    fn operation_callbacks(&self, arn: &str) -> Result<Vec<(String, Option<String>)>> {
        Ok(self
            .query("SELECT op_id, row FROM operations WHERE arn = $1", &[&arn])?
            .into_iter()
            .map(|row| {
                let callback = serde_json::from_slice::<Operation>(row.get::<_, &[u8]>(1))
                    .ok()
                    .and_then(|op| op.callback)
                    .map(|c| c.callback_id);
                (row.get::<_, String>(0), callback)
            })
            .collect())
    }

    fn remove_operation(&mut self, arn: &str, op_id: &str) -> Result<()> {
        self.exec(
            "DELETE FROM operations WHERE arn = $1 AND op_id = $2",
            &[&arn, &op_id],
        )
    }

    fn remove_history(&mut self, arn: &str) -> Result<()> {
        self.exec("DELETE FROM history WHERE arn = $1", &[&arn])
    }

    fn remove_execution(&mut self, exec: &Execution) -> Result<()> {
        if let Some(name) = &exec.name {
            self.exec(
                "DELETE FROM execution_names WHERE function = $1 AND name = $2 AND arn = $3",
                &[&exec.function, name, &exec.arn],
            )?;
        }
        self.exec("DELETE FROM execution_inputs WHERE arn = $1", &[&exec.arn])?;
        self.exec("DELETE FROM executions WHERE arn = $1", &[&exec.arn])
    }

    fn next_queued_id(&self) -> Result<u64> {
        let id = self
            .query_opt(
                "SELECT value FROM queue_meta WHERE key = 'next_event_id' FOR UPDATE",
                &[],
            )?
            .map_or(1, |row| row.get::<_, i64>(0));
        Ok(u64::try_from(id).unwrap_or(1).max(1))
    }

    fn set_next_queued_id(&mut self, id: u64) -> Result<()> {
        self.exec(
            "INSERT INTO queue_meta (key, value) VALUES ('next_event_id', $1)
             ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            &[&int(id)],
        )
    }

    fn queued_event(&self, id: u64) -> Result<Option<QueuedEvent>> {
        self.query_opt("SELECT row FROM queued_events WHERE id = $1", &[&int(id)])?
            .map(|row| decode(row.get::<_, &[u8]>(0), "queued_events", || id.to_string()))
            .transpose()
    }

    fn put_queued_event(&mut self, event: &QueuedEvent, row: &[u8]) -> Result<()> {
        self.exec(
            "INSERT INTO queued_events (id, due_ms, row) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET due_ms = EXCLUDED.due_ms, row = EXCLUDED.row",
            &[&int(event.id), &int(event.due_ms), &row],
        )
    }

    fn put_queued_payload(&mut self, id: u64, payload: &[u8]) -> Result<()> {
        self.exec(
            "UPDATE queued_events SET payload = $2 WHERE id = $1",
            &[&int(id), &payload],
        )
    }

    fn remove_queued_due(&mut self, _due_ms: u64, _id: u64) -> Result<()> {
        // The due time is a column of the event's row: nothing apart to remove.
        Ok(())
    }

    fn remove_queued_event(&mut self, id: u64) -> Result<()> {
        self.exec("DELETE FROM queued_events WHERE id = $1", &[&int(id)])
    }
}
