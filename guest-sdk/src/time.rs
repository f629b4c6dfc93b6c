//! Timers for async handlers, on the WASI 0.3 monotonic clock.

use std::time::Duration;

use crate::clock_bindings::wasi::clocks::monotonic_clock;

/// Waits until `duration` has elapsed, without blocking the instance.
///
/// This awaits `wasi:clocks/monotonic-clock@0.3.0#wait-for`, a
/// component-model `async` import: while the timer runs, the host is free to
/// start or resume other invocations of the same instance. It is meant for
/// handlers exported with [`async_handler!`](crate::async_handler!); a
/// synchronous handler cannot await it.
///
/// Durations longer than `u64::MAX` nanoseconds (about 584 years) are
/// clamped to that.
///
/// ```no_run
/// use std::time::Duration;
///
/// use lamina_sdk::{Context, FunctionError};
///
/// async fn handle(_event: serde_json::Value, _ctx: Context) -> Result<&'static str, FunctionError> {
///     lamina_sdk::sleep(Duration::from_millis(10)).await;
///     Ok("rested")
/// }
///
/// lamina_sdk::async_handler!(handle);
/// ```
pub async fn sleep(duration: Duration) {
    let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
    monotonic_clock::wait_for(nanos).await;
}
