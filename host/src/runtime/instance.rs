//! One run of a fresh instance, the same for every mode: a place in the
//! instance budget, a fresh store, the function's timeout (plus a grace for
//! a guest blocked in a host call, minus the time spent waiting on the
//! host), the guest's output flushed when it ends, and a failure turned into
//! the error it stands for (timeout, trap, out of memory, `exit`).
//!
//! Standard mode runs handlers with it, durable functions their invocations;
//! managed mode keeps its instances longer but classifies failures the same
//! way.

use crate::engine::{InstancePermit, InstanceUse, LaminaEngine};
use crate::error::InvokeError;
use crate::metrics::LiveInstance;
use crate::registry::Function;
use crate::state::{HostState, HostWait, MemoryLimitExceeded};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use wasmtime::{Store, Trap};

/// Extra time the outer timer allows past the epoch deadline, for a guest
/// blocked in a host call (where epochs are not checked).
pub const TIMEOUT_GRACE: Duration = Duration::from_millis(50);

/// A wasmtime error and whether it happened while instantiating (an error
/// that is not a trap is then the host's, not the guest's).
#[derive(Debug)]
pub struct Failure {
    error: wasmtime::Error,
    instantiating: bool,
}

impl Failure {
    /// An error while instantiating or looking up the export.
    pub fn instantiating(error: wasmtime::Error) -> Self {
        Failure {
            error,
            instantiating: true,
        }
    }

    /// An error while the guest ran.
    pub fn running(error: wasmtime::Error) -> Self {
        Failure {
            error,
            instantiating: false,
        }
    }
}

/// How long a run may take: the function's timeout plus [`TIMEOUT_GRACE`],
/// not counting what its [`HostWait`] records as spent waiting on the host.
#[derive(Clone)]
pub struct TimeLimit {
    limit: Duration,
    wait: Arc<HostWait>,
}

impl TimeLimit {
    /// Runs `work` within the limit; `None` when it ran out. The timer
    /// re-arms while the host-wait total grows, until the guest's own time
    /// is used up.
    pub async fn run<F: Future>(&self, work: F) -> Option<F::Output> {
        let start = tokio::time::Instant::now();
        let mut work = std::pin::pin!(work);
        loop {
            let until = start + self.limit + self.wait.paused();
            match tokio::time::timeout_at(until, &mut work).await {
                Ok(out) => return Some(out),
                Err(_)
                    if tokio::time::Instant::now() >= start + self.limit + self.wait.paused() =>
                {
                    return None;
                }
                Err(_) => {}
            }
        }
    }
}

/// A fresh instance's store with its place in the budget, counted as live
/// until it is dropped.
pub struct FreshInstance<'f> {
    f: &'f Function,
    /// The store to instantiate into and run in.
    pub store: Store<HostState>,
    /// When the instance's clock started (before the store was created).
    pub started: Instant,
    _live: LiveInstance<'f>,
    _permit: InstancePermit,
}

impl<'f> FreshInstance<'f> {
    /// Waits for room in the instance budget (`usage` says which share) and
    /// creates a fresh store for `f`; counts the instantiation. A failure is
    /// counted as an error of `f`.
    pub async fn start(
        engine: &LaminaEngine,
        f: &'f Function,
        usage: InstanceUse,
    ) -> Result<Self, InvokeError> {
        let (permit, started, store) = fresh_store(engine, f, usage)
            .await
            .map_err(|e| fail(f, e))?;
        let live = LiveInstance::new(&f.metrics);
        f.metrics.instantiations.fetch_add(1, Ordering::Relaxed);
        Ok(FreshInstance {
            f,
            store,
            started,
            _live: live,
            _permit: permit,
        })
    }

    /// The time this run may take.
    pub fn time_limit(&self) -> TimeLimit {
        TimeLimit {
            limit: Duration::from_millis(self.f.config.timeout_ms) + TIMEOUT_GRACE,
            wait: self.store.data().host_wait.clone(),
        }
    }

    /// Ends the run that produced `result` (`None`: it ran out of time):
    /// flushes the guest's output and turns a failure into its error,
    /// counted as an error of the function.
    pub fn conclude<T>(&self, result: Option<Result<T, Failure>>) -> Result<T, InvokeError> {
        self.store.data().flush_logs();
        match result {
            None => Err(fail(self.f, timeout_error(self.f))),
            Some(Err(e)) => Err(fail(
                self.f,
                classify(self.f, &self.store, e.error, e.instantiating),
            )),
            Some(Ok(v)) => Ok(v),
        }
    }
}

/// Waits for room in the instance budget and creates a fresh store; the
/// instant is when the instance's clock starts.
pub(crate) async fn fresh_store(
    engine: &LaminaEngine,
    f: &Function,
    usage: InstanceUse,
) -> Result<(InstancePermit, Instant, Store<HostState>), InvokeError> {
    let permit = engine
        .acquire_instance(&f.name, usage)
        .await
        .map_err(|_| internal(f, "instance pool closed"))?;
    let start = Instant::now();
    let store = engine
        .new_store(&f.name, &f.config)
        .map_err(|e| internal(f, &format!("{e:#}")))?;
    Ok((permit, start, store))
}

/// Counts and logs `e` as a failed invocation of `f`, and returns it.
pub(crate) fn fail(f: &Function, e: InvokeError) -> InvokeError {
    f.metrics.error(e.reason());
    tracing::warn!(function = %f.name, reason = e.reason(), "{e}");
    e
}

/// A failure of the host to provide an instance of `f`.
pub(crate) fn internal(f: &Function, message: &str) -> InvokeError {
    InvokeError::Instantiate {
        function: f.name.to_string(),
        message: message.to_string(),
    }
}

/// `f` ran past its timeout.
pub(crate) fn timeout_error(f: &Function) -> InvokeError {
    InvokeError::Timeout {
        function: f.name.to_string(),
        timeout_ms: f.config.timeout_ms,
    }
}

/// Turns a wasmtime error into the specific failure it stands for.
pub(crate) fn classify(
    f: &Function,
    store: &Store<HostState>,
    e: wasmtime::Error,
    during_instantiate: bool,
) -> InvokeError {
    if let Some(m) = e.downcast_ref::<MemoryLimitExceeded>() {
        return InvokeError::MemoryLimit {
            function: f.name.to_string(),
            limit_mb: f.config.memory_mb,
            requested_mb: (m.desired as u64).div_ceil(1024 * 1024),
        };
    }
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return InvokeError::Exited {
            function: f.name.to_string(),
            status: exit.0,
        };
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        if *trap == Trap::Interrupt {
            return timeout_error(f);
        }
        let mut message = trap.to_string();
        if let Some(line) = store.data().stderr.last_line() {
            message = format!("{message}; the guest's last stderr line: {line}");
        }
        return InvokeError::Trap {
            function: f.name.to_string(),
            message,
        };
    }
    if during_instantiate {
        return internal(f, &format!("{e:#}"));
    }
    InvokeError::Trap {
        function: f.name.to_string(),
        message: format!("{e:#}"),
    }
}
