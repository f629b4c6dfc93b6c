//! Facts about the invocation being served.

use std::time::{Duration, Instant};

use crate::bindings::lamina::function::types::Invocation;

/// Facts about the invocation being served, passed to every handler.
#[derive(Debug, Clone)]
pub struct Context {
    request_id: String,
    function_name: String,
    budget: Duration,
    started: Instant,
}

impl Context {
    /// Builds a context from the host's invocation record, starting the
    /// clock used by [`Context::remaining_time_ms`].
    pub(crate) fn from_invocation(invocation: Invocation) -> Self {
        Self {
            request_id: invocation.request_id,
            function_name: invocation.function_name,
            budget: Duration::from_millis(invocation.remaining_time_ms),
            started: Instant::now(),
        }
    }

    /// Unique id of this invocation (also returned to the caller).
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Name the function is registered under in the host.
    pub fn function_name(&self) -> &str {
        &self.function_name
    }

    /// Milliseconds left before the host stops this invocation.
    ///
    /// This counts down while the handler runs: it is the budget the host
    /// granted when the invocation started, less the time spent since.
    pub fn remaining_time_ms(&self) -> u64 {
        let left = self.budget.saturating_sub(self.started.elapsed());
        u64::try_from(left.as_millis()).unwrap_or(u64::MAX)
    }
}
