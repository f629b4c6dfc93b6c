//! Retention of ended executions: the `ended_executions` index, the scan
//! for executions past their retention, and compaction of the file at open.
//!
//! The deletion itself is a write request like any other (see
//! `writer.rs`, `Request::Delete`), so it goes through group commit and a
//! sweep never holds the writer longer than one bounded batch. See
//! `docs/journal-format.md` ("Retention").

use std::path::Path;
use std::time::Instant;

use redb::{Database, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};

use super::tables::{EXECUTIONS, META, decode, storage};
use super::{Execution, Result};

/// `ended_executions`: (function, end ms, ARN) → (), every ended execution
/// ordered by its function and end time, for the retention sweep.
pub(super) const ENDED: TableDefinition<(&str, u64, &str), ()> =
    TableDefinition::new("ended_executions");

/// The `meta` key set once `ended_executions` holds every ended execution
/// (files written before the index existed are indexed once, at open).
pub(super) const META_ENDED_INDEX: &str = "ended_index_built";

/// The end-time column of an execution's `ended_executions` key, if it has ended.
pub(super) fn ended_key(exec: &Execution) -> Option<u64> {
    exec.status
        .is_terminal()
        .then(|| exec.end_ms.unwrap_or(exec.start_ms))
}

/// Creates `ended_executions` and, the first time, fills it from the
/// `executions` table.
pub(super) fn prepare_index(txn: &WriteTransaction) -> Result<()> {
    let mut meta = txn.open_table(META).map_err(storage)?;
    let mut index = txn.open_table(ENDED).map_err(storage)?;
    if meta.get(META_ENDED_INDEX).map_err(storage)?.is_some() {
        return Ok(());
    }
    let executions = txn.open_table(EXECUTIONS).map_err(storage)?;
    let mut indexed = 0u64;
    for row in executions.iter().map_err(storage)? {
        let (arn, value) = row.map_err(storage)?;
        let arn = arn.value();
        let exec: Execution = decode(value.value(), "executions", || arn.to_owned())?;
        if let Some(end_ms) = ended_key(&exec) {
            index
                .insert((exec.function.as_str(), end_ms, arn), ())
                .map_err(storage)?;
            indexed += 1;
        }
    }
    meta.insert(META_ENDED_INDEX, 1).map_err(storage)?;
    if indexed > 0 {
        tracing::info!(
            executions = indexed,
            "indexed ended executions for retention"
        );
    }
    Ok(())
}

/// Up to `limit` ARNs of ended executions whose end is before
/// `cutoff_ms(function)` (`None`: keep every execution of that function),
/// by function, then end time.
pub(super) fn expired(
    txn: &ReadTransaction,
    cutoff_ms: &(dyn Fn(&str) -> Option<u64> + Send + Sync),
    limit: usize,
) -> Result<Vec<String>> {
    let index = txn.open_table(ENDED).map_err(storage)?;
    let mut found = Vec::new();
    // The smallest function name not visited yet.
    let mut from = String::new();
    while found.len() < limit {
        let function = match index
            .range((from.as_str(), 0u64, "")..)
            .map_err(storage)?
            .next()
        {
            None => break,
            Some(row) => row.map_err(storage)?.0.value().0.to_owned(),
        };
        if let Some(cutoff) = cutoff_ms(&function) {
            let rows = index
                .range((function.as_str(), 0u64, "")..(function.as_str(), cutoff, ""))
                .map_err(storage)?;
            for row in rows.take(limit - found.len()) {
                found.push(row.map_err(storage)?.0.value().2.to_owned());
            }
        }
        // Function names never contain NUL: this is the next name after it.
        from = format!("{function}\0");
    }
    Ok(found)
}

/// Compacts the file (exclusive access: only at open), logging its size
/// before and after. A failure is logged, not fatal: the journal works
/// uncompacted.
pub(super) fn compact(db: &mut Database, path: &Path) {
    let size = || std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let before = size();
    let started = Instant::now();
    match db.compact() {
        Ok(_) => {
            let after = size();
            tracing::info!(
                path = %path.display(),
                before_bytes = before,
                after_bytes = after,
                ms = started.elapsed().as_millis() as u64,
                "journal compacted: {before} -> {after} bytes"
            );
        }
        Err(error) => tracing::warn!(
            path = %path.display(),
            %error,
            "journal compaction failed; the file keeps its size"
        ),
    }
}
