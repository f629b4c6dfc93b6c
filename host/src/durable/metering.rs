//! What an execution used and what it would cost under the price model
//! described in `docs/durable.md` ("Metering and cost"): standard compute and
//! requests plus durable operations, data written and data retained.

use crate::journal::Execution;
use serde_json::{Value, json};

/// USD per GB-second of active compute.
pub const PRICE_GB_SECOND: f64 = 0.000_016_666_7;
/// USD per request (invocation): $0.20 per million.
pub const PRICE_REQUEST: f64 = 0.20 / 1e6;
/// USD per durable operation: $8.00 per million.
pub const PRICE_OPERATION: f64 = 8.00 / 1e6;
/// USD per GB written to the journal.
pub const PRICE_GB_WRITTEN: f64 = 0.25;
/// USD per GB-month retained.
pub const PRICE_GB_MONTH: f64 = 0.15;

const GB: f64 = 1024.0 * 1024.0 * 1024.0;
const MONTH_MS: f64 = 30.0 * 24.0 * 3600.0 * 1000.0;

/// The metering of `e` at `now_ms` for a function with `memory_mb`, as JSON
/// (`WallTimeMs`, `ActiveComputeMs`, `Invocations`, `Operations`,
/// `BytesJournaled` and `Cost` in USD by item).
pub fn metering_json(e: &Execution, memory_mb: u64, now_ms: u64) -> Value {
    let m = &e.metering;
    let wall_ms = e.wall_ms(now_ms);
    let active_s = m.active_compute_us as f64 / 1e6;
    let gb = memory_mb as f64 / 1024.0;
    let bytes = m.bytes_journaled as f64;
    let compute = active_s * gb * PRICE_GB_SECOND;
    let requests = m.invocations as f64 * PRICE_REQUEST;
    let operations = m.operations as f64 * PRICE_OPERATION;
    let written = bytes / GB * PRICE_GB_WRITTEN;
    let retained = bytes / GB * (wall_ms as f64 / MONTH_MS) * PRICE_GB_MONTH;
    json!({
        "WallTimeMs": wall_ms,
        "ActiveComputeMs": m.active_compute_us as f64 / 1000.0,
        "Invocations": m.invocations,
        "Operations": m.operations,
        "BytesJournaled": m.bytes_journaled,
        "MemoryMb": memory_mb,
        "Cost": {
            "Compute": compute,
            "Requests": requests,
            "Operations": operations,
            "DataWritten": written,
            "DataRetained": retained,
            "Total": compute + requests + operations + written + retained,
        },
    })
}
