//! The data every instance's `Store` carries: WASI and wasi-http contexts,
//! the resource table, the memory limiter, the guest's log streams, the
//! outbound HTTP policy, the invocation deadline, and one extension slot for
//! the state a kind of function adds (durable functions keep the execution
//! their instance runs there; nothing here knows its type).

use crate::config::FunctionConfig;
use crate::guest_log::{GuestLog, LogBudget};
use crate::outbound::{ListenAddrs, OutboundPolicy, name_to_resolve};
use http_body_util::BodyExt;
use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{
    RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

/// Error returned from the limiter when a guest grows memory past its limit;
/// it travels through wasmtime as the call's error and is recognised by downcast.
#[derive(Debug, thiserror::Error)]
#[error("memory limit of {limit} bytes exceeded: the guest asked for {desired} bytes")]
pub struct MemoryLimitExceeded {
    /// The limit in bytes.
    pub limit: usize,
    /// The size the guest tried to grow to.
    pub desired: usize,
}

/// Enforces a function's memory limit on every linear memory of an instance.
#[derive(Debug)]
pub struct MemoryLimiter {
    limit: usize,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            return Err(MemoryLimitExceeded {
                limit: self.limit,
                desired,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Time an invocation spent waiting on the host (durable journal commits),
/// which does not count against its `timeout_ms`. Shared with the task that
/// enforces the outer timeout.
#[derive(Debug)]
pub struct HostWait {
    origin: Instant,
    total_us: AtomicU64,
    /// Microseconds after `origin` when the current wait began; 0 when the
    /// guest is not waiting.
    since_us: AtomicU64,
}

impl Default for HostWait {
    fn default() -> Self {
        HostWait {
            origin: Instant::now(),
            total_us: AtomicU64::new(0),
            since_us: AtomicU64::new(0),
        }
    }
}

impl HostWait {
    fn now_us(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Time spent waiting so far, including a wait in progress.
    pub fn paused(&self) -> Duration {
        let mut us = self.total_us.load(Ordering::Relaxed);
        let since = self.since_us.load(Ordering::Relaxed);
        if since > 0 {
            us += self.now_us().saturating_sub(since);
        }
        Duration::from_micros(us)
    }

    /// Awaits `f`, counting the time as host time.
    pub async fn time<F: Future>(&self, f: F) -> F::Output {
        let since = self.now_us();
        self.since_us.store(since, Ordering::Relaxed);
        let out = f.await;
        let waited = self.now_us().saturating_sub(since);
        self.total_us.fetch_add(waited, Ordering::Relaxed);
        self.since_us.store(0, Ordering::Relaxed);
        out
    }
}

/// The wasi-http hooks of one instance: outgoing requests pass the
/// function's `allowed_outbound_hosts` check before anything is sent.
struct OutboundHooks {
    function: Arc<str>,
    policy: OutboundPolicy,
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                ),
                wasmtime_wasi_http::Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> ResponseFuture {
        let policy = self.policy.clone();
        let function = self.function.clone();
        Box::new(async move {
            let uri = request.uri().clone();
            let mut verdict = policy.check(&uri, &[]);
            if verdict.is_ok()
                && let Some(name) = name_to_resolve(&uri)
            {
                // A name can point at the host itself: check its addresses too.
                let resolved: Vec<_> = tokio::net::lookup_host(name)
                    .await
                    .map(Iterator::collect)
                    .unwrap_or_default();
                verdict = policy.check(&uri, &resolved);
            }
            if let Err(why) = verdict {
                tracing::warn!(
                    function = %function,
                    url = %uri,
                    "outgoing HTTP request denied: {}",
                    why.as_str()
                );
                return Err(wasmtime_wasi_http::Error::HttpRequestDenied);
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Store data for one instance.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: OutboundHooks,
    function: Arc<str>,
    /// What the guest may still write to the log in this invocation.
    pub log_budget: Arc<LogBudget>,
    /// Time spent waiting on the host, added to the deadline.
    pub host_wait: Arc<HostWait>,
    /// The memory limiter, installed with `Store::limiter`.
    pub limiter: MemoryLimiter,
    /// The guest's standard output.
    pub stdout: GuestLog,
    /// The guest's standard error.
    pub stderr: GuestLog,
    /// When the running work must stop, checked on every epoch tick (plus
    /// the time in `host_wait`); `None` means no limit.
    pub deadline: Option<Instant>,
    /// What the code of one kind of function attaches to its instances
    /// (see [`HostState::set_extension`]); `None` for plain functions.
    extension: Option<Box<dyn Any + Send>>,
}

impl HostState {
    /// Builds the sandbox for one instance of `function`: only the env vars,
    /// directories and outbound hosts its config grants, stdio captured into
    /// the log within its limits. `listen` are the host's own addresses.
    pub fn new(
        function: &Arc<str>,
        cfg: &FunctionConfig,
        listen: &ListenAddrs,
    ) -> wasmtime::Result<Self> {
        let log_budget = LogBudget::new(cfg.max_log_bytes, cfg.max_log_lines);
        let stdout = GuestLog::new(function.clone(), "stdout", log_budget.clone());
        let stderr = GuestLog::new(function.clone(), "stderr", log_budget.clone());
        let policy = OutboundPolicy::new(&cfg.allowed_outbound_hosts, listen.clone())?;
        let mut b = WasiCtxBuilder::new();
        b.stdout(stdout.clone()).stderr(stderr.clone());
        for (k, v) in &cfg.env {
            b.env(k, v);
        }
        for (guest, host) in &cfg.dirs {
            b.preopened_dir(host, guest, FsPerms::ReadWrite)?;
        }
        let limit = usize::try_from(cfg.memory_mb * 1024 * 1024).unwrap_or(usize::MAX);
        Ok(HostState {
            wasi: b.build(),
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: OutboundHooks {
                function: function.clone(),
                policy,
            },
            function: function.clone(),
            log_budget,
            host_wait: Arc::default(),
            limiter: MemoryLimiter { limit },
            stdout,
            stderr,
            deadline: None,
            extension: None,
        })
    }

    /// Attaches `value` to this instance, replacing what was attached. Only
    /// code that knows `T` reads it back ([`HostState::extension`]): the
    /// durable imports find the execution their instance runs this way.
    pub fn set_extension<T: Any + Send>(&mut self, value: T) {
        self.extension = Some(Box::new(value));
    }

    /// The value attached with [`HostState::set_extension`], when it is a `T`.
    pub fn extension<T: Any>(&self) -> Option<&T> {
        self.extension.as_deref()?.downcast_ref()
    }

    /// [`HostState::extension`], mutable.
    pub fn extension_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.extension.as_deref_mut()?.downcast_mut()
    }

    /// Logs unterminated output lines and how much output was dropped; call
    /// once the invocation is finished.
    pub fn flush_logs(&self) {
        self.stdout.flush_partial();
        self.stderr.flush_partial();
        self.log_budget.report_and_reset(&self.function);
    }

    /// Marks the invocation `request_id` as running in this instance: the
    /// guest's output lines are logged with its id.
    pub fn begin_request(&self, request_id: &str) {
        self.log_budget.begin_request(request_id);
    }

    /// Marks the invocation `request_id` as finished in this instance.
    pub fn end_request(&self, request_id: &str) {
        self.log_budget.end_request(request_id);
    }

    /// Starts a fresh output budget for the next invocation in a reused
    /// instance (managed mode), reporting what the last one dropped.
    pub fn new_log_budget(&self) {
        self.log_budget.report_and_reset(&self.function);
    }

    /// Whether the deadline (moved on by the time spent waiting on the host)
    /// has passed.
    pub fn past_deadline(&self) -> bool {
        self.deadline
            .is_some_and(|d| Instant::now() >= d + self.host_wait.paused())
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_is_read_back_only_as_its_own_type() {
        let cfg = FunctionConfig::new("f", "f.wasm");
        let name: Arc<str> = "f".into();
        let mut state = match HostState::new(&name, &cfg, &ListenAddrs::default()) {
            Ok(s) => s,
            Err(e) => panic!("{e:#}"),
        };
        assert_eq!(state.extension::<u32>(), None);
        state.set_extension(7u32);
        assert_eq!(state.extension::<u32>(), Some(&7));
        assert_eq!(state.extension::<String>(), None);
        if let Some(v) = state.extension_mut::<u32>() {
            *v += 1;
        }
        assert_eq!(state.extension::<u32>(), Some(&8));
        state.set_extension(String::from("replaced"));
        assert_eq!(state.extension::<u32>(), None);
        assert_eq!(
            state.extension::<String>().map(String::as_str),
            Some("replaced")
        );
    }
}
