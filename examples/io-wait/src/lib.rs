//! An async Lamina function that awaits a timer, reporting how many
//! invocations its instance was running at the same time.
//!
//! The payload is a JSON object; `ms` (a non-negative integer, default 100)
//! is how long to wait. The handler awaits [`lamina_sdk::sleep`] (the WASI
//! 0.3 monotonic clock's `wait-for`) and answers
//!
//! ```text
//! {"waited_ms": N, "in_flight": K, "max_in_flight": M}
//! ```
//!
//! where `K` is how many invocations (this one included) were waiting inside
//! this instance when this one started waiting, and `M` the most this
//! instance has ever seen at once (so far). A host that runs 64 invocations
//! concurrently in one instance sees `max_in_flight` reach 64; a host that
//! runs them one after another, or each in its own instance, sees 1.
//!
//! A payload that is not JSON, or an `ms` that is not a non-negative
//! integer, is answered with error `InvalidPayload`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lamina_sdk::{Context, FunctionError};
use serde_json::{Value, json};

/// Wait used when the payload has no `ms`.
const DEFAULT_MS: u64 = 100;

/// Invocations currently waiting inside this instance.
static IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

/// The largest value `IN_FLIGHT` has had.
static MAX_IN_FLIGHT: AtomicU64 = AtomicU64::new(0);

async fn handle(event: Value, _ctx: Context) -> Result<Value, FunctionError> {
    let ms = match event.get("ms") {
        None => DEFAULT_MS,
        Some(ms) => ms.as_u64().ok_or_else(|| {
            FunctionError::new("InvalidPayload", "\"ms\" must be a non-negative integer")
        })?,
    };

    let guard = InFlight::enter();
    lamina_sdk::sleep(Duration::from_millis(ms)).await;
    let (in_flight, max_in_flight) = (guard.in_flight, MAX_IN_FLIGHT.load(Ordering::Relaxed));
    drop(guard);

    Ok(json!({
        "waited_ms": ms,
        "in_flight": in_flight,
        "max_in_flight": max_in_flight,
    }))
}

/// Counts one invocation in flight for as long as it lives, so that an
/// invocation the host cancels mid-wait is not counted forever.
struct InFlight {
    /// Invocations in flight (this one included) when this one entered.
    in_flight: u64,
}

impl InFlight {
    fn enter() -> Self {
        let in_flight = IN_FLIGHT.fetch_add(1, Ordering::Relaxed) + 1;
        MAX_IN_FLIGHT.fetch_max(in_flight, Ordering::Relaxed);
        Self { in_flight }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

lamina_sdk::async_handler!(handle);
