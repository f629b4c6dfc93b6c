//! The queue of asynchronous (Event) invocations of handler functions:
//! its tables, its rows and its reads (the writes are rules in `apply.rs`).
//!
//! An event is three rows: its metadata (`queued_events`, small JSON,
//! rewritten on every retry), its payload (`queued_event_payloads`, written
//! once) and its place in the due order (`queued_events_due`). The payload
//! lives only here, so queued events cost disk, not memory.

use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::tables::{decode, storage};
use super::{JournalError, Result};

/// `queued_events`: event id → metadata JSON ([`QueuedEvent`]).
pub(super) const QUEUED_EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("queued_events");
/// `queued_event_payloads`: event id → the payload bytes.
pub(super) const QUEUED_EVENT_PAYLOADS: TableDefinition<u64, &[u8]> =
    TableDefinition::new("queued_event_payloads");
/// `queued_events_due`: (due ms, event id) → (), the order events run in.
pub(super) const QUEUED_EVENTS_DUE: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("queued_events_due");
/// `queue_meta`: `next_event_id`.
pub(super) const QUEUE_META: TableDefinition<&str, u64> = TableDefinition::new("queue_meta");

/// The `queue_meta` key of the id the next queued event gets.
pub(super) const NEXT_EVENT_ID: &str = "next_event_id";

/// An asynchronous invocation to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQueuedEvent {
    /// The function to invoke.
    pub function: String,
    /// The request id the caller was given.
    pub request_id: String,
    /// The payload (JSON bytes).
    pub payload: Vec<u8>,
    /// When it was accepted (ms since the epoch); also its first due time.
    pub enqueued_ms: u64,
}

/// A stored asynchronous invocation, without its payload
/// ([`super::Journal::queued_event_payload`] reads it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueuedEvent {
    /// Its id, in order of acceptance.
    pub id: u64,
    /// The function to invoke.
    pub function: String,
    /// The request id the caller was given.
    pub request_id: String,
    /// When it was accepted (ms since the epoch).
    pub enqueued_ms: u64,
    /// Attempts made so far (failed ones: a successful attempt deletes it).
    pub attempts: u32,
    /// When it may run next (ms since the epoch).
    pub due_ms: u64,
}

/// A write to the queue.
pub(super) enum QueueWrite {
    /// Stores a new event; answers its id.
    Add(NewQueuedEvent),
    /// Records a failed attempt and when to try again.
    Retry {
        /// The event.
        id: u64,
        /// Attempts made so far.
        attempts: u32,
        /// When to try again.
        due_ms: u64,
    },
    /// Deletes an event (done, given up or too old); unknown ids are fine.
    Remove(u64),
}

/// Creates the queue's tables (a new file, or the migration from schema 1).
pub(super) fn create_tables(txn: &WriteTransaction) -> Result<()> {
    txn.open_table(QUEUED_EVENTS).map_err(storage)?;
    txn.open_table(QUEUED_EVENT_PAYLOADS).map_err(storage)?;
    txn.open_table(QUEUED_EVENTS_DUE).map_err(storage)?;
    txn.open_table(QUEUE_META).map_err(storage)?;
    Ok(())
}

/// Decodes one `queued_events` row.
pub(super) fn decode_event(id: u64, bytes: &[u8]) -> Result<QueuedEvent> {
    decode(bytes, "queued_events", || id.to_string())
}

/// Up to `limit` queued events, the earliest due first.
pub(super) fn read_due(txn: &redb::ReadTransaction, limit: usize) -> Result<Vec<QueuedEvent>> {
    let due = txn.open_table(QUEUED_EVENTS_DUE).map_err(storage)?;
    let events = txn.open_table(QUEUED_EVENTS).map_err(storage)?;
    let mut out = Vec::new();
    for row in due.iter().map_err(storage)?.take(limit) {
        let (key, _) = row.map_err(storage)?;
        let (due_ms, id) = key.value();
        let stored = events
            .get(id)
            .map_err(storage)?
            .ok_or_else(|| JournalError::Corrupt {
                table: "queued_events_due",
                key: format!("({due_ms}, {id})"),
                message: "the due index leads to an event that is not stored".into(),
            })?;
        out.push(decode_event(id, stored.value())?);
    }
    Ok(out)
}

/// The payload of a queued event, if it is stored.
pub(super) fn read_payload(txn: &redb::ReadTransaction, id: u64) -> Result<Option<Vec<u8>>> {
    let payloads = txn.open_table(QUEUED_EVENT_PAYLOADS).map_err(storage)?;
    Ok(payloads
        .get(id)
        .map_err(storage)?
        .map(|v| v.value().to_vec()))
}

/// How many events are queued.
pub(super) fn count(txn: &redb::ReadTransaction) -> Result<u64> {
    let events = txn.open_table(QUEUED_EVENTS).map_err(storage)?;
    events.len().map_err(storage)
}
