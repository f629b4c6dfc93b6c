//! The redb tables of the journal, and the encoding of their rows.
//!
//! Keys are redb tuples, which compare element by element (strings by bytes,
//! integers numerically), so every prefix scan below is a contiguous range.
//! Values of the larger rows are JSON documents (`&[u8]`): self-describing,
//! tolerant of added fields, readable with any redb tool. See
//! `docs/journal-format.md`.

use redb::{ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    CallbackRef, Execution, HistoryEvent, JournalError, Operation, Result, Timer, TimerKind,
};

/// `meta`: `schema_version` and the `next_timer_seq` counter.
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// `executions`: ARN → execution JSON (without the input).
pub(super) const EXECUTIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("executions");
/// `execution_inputs`: ARN → input JSON text.
pub(super) const INPUTS: TableDefinition<&str, &str> = TableDefinition::new("execution_inputs");
/// `execution_names`: (function, name) → ARN.
pub(super) const NAMES: TableDefinition<(&str, &str), &str> =
    TableDefinition::new("execution_names");
/// `executions_by_function`: (function, start ms, ARN) → (), the listing index.
pub(super) const BY_FUNCTION: TableDefinition<(&str, u64, &str), ()> =
    TableDefinition::new("executions_by_function");
/// `running_executions`: ARN → invocation-in-progress flag, for RUNNING executions only.
pub(super) const RUNNING: TableDefinition<&str, bool> = TableDefinition::new("running_executions");
/// `operations`: (ARN, operation id) → operation JSON.
pub(super) const OPERATIONS: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("operations");
/// `history`: (ARN, event id) → event JSON.
pub(super) const HISTORY: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("history");
/// `timers`: (due ms, seq) → (ARN, kind, operation id or "").
pub(super) const TIMERS: TableDefinition<(u64, u64), (&str, &str, &str)> =
    TableDefinition::new("timers");
/// `timer_slots`: (ARN, kind, operation id or "") → (due ms, seq), to find a slot's timer.
pub(super) const TIMER_SLOTS: TableDefinition<(&str, &str, &str), (u64, u64)> =
    TableDefinition::new("timer_slots");
/// `callbacks`: callback id → (ARN, operation id).
pub(super) const CALLBACKS: TableDefinition<&str, (&str, &str)> = TableDefinition::new("callbacks");

/// The `meta` key of the schema version.
pub(super) const META_SCHEMA_VERSION: &str = "schema_version";
/// The `meta` key of the next timer sequence number.
pub(super) const META_NEXT_TIMER_SEQ: &str = "next_timer_seq";

/// Encodes a row as JSON.
pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| JournalError::Invalid(format!("cannot encode: {e}")))
}

/// Decodes a JSON row; a failure names the table and key.
pub(super) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    table: &'static str,
    key: impl FnOnce() -> String,
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| JournalError::Corrupt {
        table,
        key: key(),
        message: e.to_string(),
    })
}

/// Maps any redb error into [`JournalError::Storage`].
pub(super) fn storage(e: impl Into<redb::Error>) -> JournalError {
    JournalError::Storage(e.into().to_string())
}

/// The inverse of `apply::op_column`: "" stands for "no operation".
fn op_from_column(column: &str) -> Option<String> {
    (!column.is_empty()).then(|| column.to_owned())
}

/// Reads one execution row.
pub(super) fn read_execution(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    arn: &str,
) -> Result<Option<Execution>> {
    match table.get(arn).map_err(storage)? {
        None => Ok(None),
        Some(row) => decode(row.value(), "executions", || arn.to_owned()).map(Some),
    }
}

/// Reads one input row.
pub(super) fn read_input(
    table: &impl ReadableTable<&'static str, &'static str>,
    arn: &str,
) -> Result<Option<String>> {
    Ok(table
        .get(arn)
        .map_err(storage)?
        .map(|r| r.value().to_owned()))
}

/// Reads one operation row.
pub(super) fn read_operation(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    arn: &str,
    op_id: &str,
) -> Result<Option<Operation>> {
    match table.get((arn, op_id)).map_err(storage)? {
        None => Ok(None),
        Some(row) => decode(row.value(), "operations", || format!("({arn}, {op_id})")).map(Some),
    }
}

/// Reads every operation of an execution, in `seq` order.
pub(super) fn read_operations(
    table: &impl ReadableTable<(&'static str, &'static str), &'static [u8]>,
    arn: &str,
) -> Result<Vec<Operation>> {
    let mut ops = Vec::new();
    for row in table.range((arn, "")..).map_err(storage)? {
        let (key, value) = row.map_err(storage)?;
        let (row_arn, op_id) = key.value();
        if row_arn != arn {
            break;
        }
        let op: Operation = decode(value.value(), "operations", || format!("({arn}, {op_id})"))?;
        ops.push(op);
    }
    ops.sort_by_key(|op| op.seq);
    Ok(ops)
}

/// Decodes one history row.
pub(super) fn decode_event(arn: &str, event_id: u64, bytes: &[u8]) -> Result<HistoryEvent> {
    let mut event: HistoryEvent = decode(bytes, "history", || format!("({arn}, {event_id})"))?;
    event.event_id = event_id;
    Ok(event)
}

/// Decodes one timer row.
pub(super) fn decode_timer(key: (u64, u64), value: (&str, &str, &str)) -> Result<Timer> {
    let (due_ms, seq) = key;
    let (arn, kind, op_id) = value;
    let kind: TimerKind = kind.parse().map_err(|message| JournalError::Corrupt {
        table: "timers",
        key: format!("({due_ms}, {seq})"),
        message,
    })?;
    Ok(Timer {
        due_ms,
        seq,
        arn: arn.to_owned(),
        kind,
        op_id: op_from_column(op_id),
    })
}

/// Reads one callback row.
pub(super) fn read_callback(
    table: &impl ReadableTable<&'static str, (&'static str, &'static str)>,
    callback_id: &str,
) -> Result<Option<CallbackRef>> {
    Ok(table.get(callback_id).map_err(storage)?.map(|row| {
        let (arn, op_id) = row.value();
        CallbackRef {
            arn: arn.to_owned(),
            op_id: op_id.to_owned(),
        }
    }))
}
