//! What an execution used and what it would cost under the price model
//! described in `docs/durable.md` ("Metering and cost"): standard compute and
//! requests plus durable operations, data written and data retained.

use crate::journal::Execution;

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

/// What an execution used and what it costs, by item (USD).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Wall-clock time so far, in ms.
    pub wall_ms: u64,
    /// Active compute, in ms.
    pub active_compute_ms: f64,
    /// Invocations (first run and replays).
    pub invocations: u64,
    /// Billable durable operations.
    pub operations: u64,
    /// Bytes written to the journal.
    pub bytes_journaled: u64,
    /// The function's memory, in MB.
    pub memory_mb: u64,
    /// Active compute cost.
    pub compute: f64,
    /// Request cost.
    pub requests: f64,
    /// Operation cost.
    pub operation_cost: f64,
    /// Data-written cost.
    pub written: f64,
    /// Data-retained cost.
    pub retained: f64,
}

impl Usage {
    /// The total cost.
    pub fn total(&self) -> f64 {
        self.compute + self.requests + self.operation_cost + self.written + self.retained
    }
}

/// The usage of `e` at `now_ms` for a function with `memory_mb`.
pub fn usage(e: &Execution, memory_mb: u64, now_ms: u64) -> Usage {
    let m = &e.metering;
    let wall_ms = e.wall_ms(now_ms);
    let active_s = m.active_compute_us as f64 / 1e6;
    let gb = memory_mb as f64 / 1024.0;
    let bytes = m.bytes_journaled as f64;
    Usage {
        wall_ms,
        active_compute_ms: m.active_compute_us as f64 / 1000.0,
        invocations: m.invocations,
        operations: m.operations,
        bytes_journaled: m.bytes_journaled,
        memory_mb,
        compute: active_s * gb * PRICE_GB_SECOND,
        requests: m.invocations as f64 * PRICE_REQUEST,
        operation_cost: m.operations as f64 * PRICE_OPERATION,
        written: bytes / GB * PRICE_GB_WRITTEN,
        retained: bytes / GB * (wall_ms as f64 / MONTH_MS) * PRICE_GB_MONTH,
    }
}
