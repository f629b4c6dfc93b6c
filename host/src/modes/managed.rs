//! Managed mode: long-lived environments that run `init` once, serve many
//! invocations (at the same time for an async export), and scale by a stated
//! policy.
//!
//! One environment is one store with one instance, owned by one tokio task.
//! Invocations wait in a shared queue; an environment with spare capacity
//! takes the next one. A trap or timeout poisons the store (wasmtime cannot
//! cancel one concurrent call alone), so the environment is dropped: the
//! invocation that caused it gets its own error, others in flight in it get
//! `EnvironmentRecycled`, and queued ones are taken by other environments.
//! The scaler keeps `headroom` spare capacity over the peak in-flight load,
//! at most doubling the environment count per `scale_window`, and retires
//! environments idle longer than `idle_timeout` above the minimum.
//!
//! An http function (`wasi:http/proxy` 0.2) is served the same way: its
//! environments take one request at a time (like `wasmtime serve` with
//! instance reuse) and hand the response back as soon as the guest sets it;
//! the body streams while the environment finishes the call. A wasi:http
//! 0.3 service takes up to `max_concurrency` requests at once in one
//! instance, like an async handler.

use super::standard::{HandlerOutput, Timing, invocation, output};
use crate::config::ManagedConfig;
use crate::engine::{InstanceUse, LaminaEngine};
use crate::error::InvokeError;
use crate::metrics::{Histogram, LiveInstance, by_reason, header};
use crate::registry::{Function, HandleParams, HandleResults, InitResults, Pre};
use crate::runtime::instance::{
    TIMEOUT_GRACE, classify, fail, fresh_store, internal, timeout_error,
};
use crate::state::HostState;
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use http_body_util::BodyExt;
use hyper::body::Body as _;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, oneshot};
use wasmtime::Store;
use wasmtime::component::TypedFunc;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::Proxy;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p3::bindings::Service;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode as ServiceErrorCode;

/// Most scaling events kept for `/api/functions`.
const EVENTS_KEPT: usize = 256;

type Reply = oneshot::Sender<Result<(HandlerOutput, Timing), InvokeError>>;

/// The request body a managed http function reads.
pub type HttpBody = http_body_util::combinators::UnsyncBoxBody<Bytes, wasmtime_wasi_http::Error>;

/// Where the guest's response (or the error code it answered with) goes.
type HttpOut = oneshot::Sender<Result<hyper::Response<HyperOutgoingBody>, ErrorCode>>;

/// One queued invocation or http request.
enum Job {
    Invoke {
        request_id: String,
        payload: Vec<u8>,
        reply: Reply,
    },
    Http {
        /// The id the guest's log lines carry.
        request_id: String,
        /// Boxed: a request is much larger than the other variant.
        request: Box<hyper::Request<HttpBody>>,
        out: HttpOut,
        /// How the call ended (a trap, a timeout), for a guest that never
        /// set a response.
        done: oneshot::Sender<Result<(), InvokeError>>,
    },
}

impl Job {
    /// Whether the caller stopped waiting.
    fn abandoned(&self) -> bool {
        match self {
            Job::Invoke { reply, .. } => reply.is_closed(),
            Job::Http { out, .. } => out.is_closed(),
        }
    }

    /// Answers the job with `err` without running it.
    fn refuse(self, err: InvokeError) {
        match self {
            Job::Invoke { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            Job::Http { done, .. } => {
                let _ = done.send(Err(err));
            }
        }
    }
}

/// The entry point of an environment's instance.
enum Entry {
    Handler(TypedFunc<HandleParams, HandleResults>),
    Http(Proxy),
    Service(Service),
}

/// Counters of a managed function.
#[derive(Debug, Default)]
pub struct ManagedMetrics {
    /// Environments alive (starting or serving).
    pub environments_live: AtomicU64,
    /// Environments started since the host started.
    pub environments_started: AtomicU64,
    /// Time to instantiate and run `init`.
    pub init: Histogram,
    /// Environments whose init failed.
    pub init_failures: AtomicU64,
    /// Scale-up decisions.
    pub scale_ups: AtomicU64,
    /// Scale-down decisions.
    pub scale_downs: AtomicU64,
    /// Most invocations seen in flight inside one environment.
    pub max_in_flight_per_environment: AtomicU64,
    recycles: Mutex<BTreeMap<&'static str, u64>>,
}

impl ManagedMetrics {
    fn recycled(&self, reason: &'static str) {
        let mut r = self.recycles.lock().unwrap_or_else(PoisonError::into_inner);
        *r.entry(reason).or_default() += 1;
    }

    /// Recycles by reason.
    pub fn recycles(&self) -> Vec<(&'static str, u64)> {
        let r = self.recycles.lock().unwrap_or_else(PoisonError::into_inner);
        r.iter().map(|(k, v)| (*k, *v)).collect()
    }
}

/// Appends the managed-mode series (Prometheus text) to `out`; `pools`
/// yields (function, metrics).
pub fn render_metrics<'a>(
    out: &mut String,
    pools: impl Iterator<Item = (&'a str, &'a ManagedMetrics)> + Clone,
) {
    type Get = fn(&ManagedMetrics) -> u64;
    let series: [(&str, &str, &str, Get); 6] = [
        (
            "lamina_environments_live",
            "gauge",
            "Managed environments alive per function.",
            |m| m.environments_live.load(Ordering::Relaxed),
        ),
        (
            "lamina_environments_started_total",
            "counter",
            "Managed environments started.",
            |m| m.environments_started.load(Ordering::Relaxed),
        ),
        (
            "lamina_environment_init_failures_total",
            "counter",
            "Managed environments whose init failed.",
            |m| m.init_failures.load(Ordering::Relaxed),
        ),
        (
            "lamina_environment_in_flight_max",
            "gauge",
            "Most invocations seen in flight inside one environment.",
            |m| m.max_in_flight_per_environment.load(Ordering::Relaxed),
        ),
        (
            "lamina_scale_ups_total",
            "counter",
            "Scale-up decisions.",
            |m| m.scale_ups.load(Ordering::Relaxed),
        ),
        (
            "lamina_scale_downs_total",
            "counter",
            "Scale-down decisions.",
            |m| m.scale_downs.load(Ordering::Relaxed),
        ),
    ];
    for (name, kind, help, get) in series {
        header(out, name, kind, help);
        for (f, m) in pools.clone() {
            let _ = writeln!(out, "{name}{{function=\"{f}\"}} {}", get(m));
        }
    }
    by_reason(
        out,
        "lamina_environment_recycles_total",
        "Environments recycled, by reason.",
        pools.clone().map(|(f, m)| (f, m.recycles())),
    );
    let name = "lamina_environment_init_seconds";
    header(out, name, "histogram", "Time to instantiate and run init.");
    for (f, m) in pools {
        m.init.render(out, name, &format!("function=\"{f}\""));
    }
}

/// A scaling decision, for logs and `/api/functions`.
#[derive(Debug, Clone, Serialize)]
pub struct ScalingEvent {
    /// Milliseconds since the pool started.
    pub at_ms: u64,
    /// Environments before.
    pub from: u64,
    /// Environments after.
    pub to: u64,
    /// Environments at the start of the current scaling window.
    pub window_base: u64,
    /// Peak in-flight invocations that drove it.
    pub peak_in_flight: u64,
    /// `up`, `down`, or `replace` (back up to the minimum after a recycle).
    pub direction: &'static str,
}

/// What `/api/functions` shows of one environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentInfo {
    /// Its id within the function.
    pub id: u64,
    /// Invocations in flight now.
    pub in_flight: u64,
    /// Most invocations in flight at once so far.
    pub max_in_flight: u64,
    /// Invocations served.
    pub served: u64,
    /// Whether `init` has finished.
    pub ready: bool,
    /// Milliseconds since it started.
    pub age_ms: u64,
}

struct Env {
    id: u64,
    started: Instant,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    served: AtomicU64,
    ready: AtomicBool,
    last_active: Mutex<Instant>,
    stop: Notify,
}

impl Env {
    fn touch(&self) {
        *self
            .last_active
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.last_active
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }
}

/// The environments of one managed function.
pub struct ManagedPool {
    function: Arc<Function>,
    cfg: ManagedConfig,
    engine: Arc<LaminaEngine>,
    queue_tx: async_channel::Sender<Job>,
    queue_rx: async_channel::Receiver<Job>,
    envs: Mutex<BTreeMap<u64, Arc<Env>>>,
    next_id: AtomicU64,
    in_flight: AtomicU64,
    peak: AtomicU64,
    started: Instant,
    events: Mutex<VecDeque<ScalingEvent>>,
    init_error: Mutex<Option<String>>,
    ready: Notify,
    /// Its counters.
    pub metrics: ManagedMetrics,
}

impl ManagedPool {
    /// Starts the pool for `function`: `min_environments` environments and the
    /// scaler. Returns once those environments finished `init` (or failed).
    pub async fn start(
        engine: Arc<LaminaEngine>,
        function: Arc<Function>,
        cfg: ManagedConfig,
    ) -> Result<Arc<Self>, InvokeError> {
        let refused = match function.pre {
            Pre::Handler(_) | Pre::Http(_) | Pre::HttpService(_) => None,
            Pre::Durable(_) => Some(
                "managed mode serves handler functions; a durable function runs each \
                 invocation on a fresh instance and replays from its journal, so remove \
                 `mode = \"managed\"` (durable executions already keep state between invocations)",
            ),
        };
        if let Some(message) = refused {
            return Err(InvokeError::InitFailed {
                function: function.name.to_string(),
                message: message.into(),
            });
        }
        let (queue_tx, queue_rx) = async_channel::unbounded();
        let pool = Arc::new(ManagedPool {
            function,
            cfg,
            engine,
            queue_tx,
            queue_rx,
            envs: Mutex::default(),
            next_id: AtomicU64::new(1),
            in_flight: AtomicU64::new(0),
            peak: AtomicU64::new(0),
            started: Instant::now(),
            events: Mutex::default(),
            init_error: Mutex::default(),
            ready: Notify::new(),
            metrics: ManagedMetrics::default(),
        });
        for _ in 0..pool.cfg.min_environments {
            pool.spawn_env();
        }
        // Wait until every minimum environment is ready or has failed.
        loop {
            let notified = pool.ready.notified();
            let envs = pool.env_list();
            let ready = envs
                .iter()
                .filter(|e| e.ready.load(Ordering::Relaxed))
                .count();
            if ready as u32 >= pool.cfg.min_environments {
                break;
            }
            if let Some(message) = pool.init_error() {
                return Err(InvokeError::InitFailed {
                    function: pool.function.name.to_string(),
                    message,
                });
            }
            notified.await;
        }
        tokio::spawn(scaler(Arc::downgrade(&pool)));
        Ok(pool)
    }

    /// Invokes the function in one of its environments.
    pub async fn invoke(
        &self,
        request_id: &str,
        payload: &[u8],
    ) -> Result<(HandlerOutput, Timing), InvokeError> {
        let f = &self.function;
        f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        let _done = InFlight(&self.in_flight);
        let (reply, rx) = oneshot::channel();
        let job = Job::Invoke {
            request_id: request_id.to_string(),
            payload: payload.to_vec(),
            reply,
        };
        if self.queue_tx.send(job).await.is_err() {
            // Retired for a new version: the caller runs it there (not a
            // failure of this function, so neither logged nor counted).
            return Err(self.recycled_error("the pool is shut down"));
        }
        // Environments answer every job they take; the bound covers a pool
        // that cannot start any environment at all.
        let bound =
            Duration::from_millis(f.config.timeout_ms + self.cfg.init_timeout_ms) + TIMEOUT_GRACE;
        match tokio::time::timeout(bound, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_dropped)) => Err(fail(f, self.recycled_error("the environment stopped"))),
            Err(_elapsed) => match self.init_error() {
                Some(message) => Err(fail(
                    f,
                    InvokeError::InitFailed {
                        function: f.name.to_string(),
                        message,
                    },
                )),
                None => Err(fail(f, timeout_error(f))),
            },
        }
    }

    /// Serves one HTTP request in one of the environments of an http
    /// function. Returns as soon as the guest has set the response; the
    /// body streams from the environment.
    pub async fn serve_http(
        &self,
        request: hyper::Request<HttpBody>,
        request_id: &str,
    ) -> Result<(hyper::Response<HyperOutgoingBody>, Timing), InvokeError> {
        let f = &self.function;
        let start = Instant::now();
        f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        let _done = InFlight(&self.in_flight);
        let (out, response) = oneshot::channel();
        let (done, outcome) = oneshot::channel();
        let job = Job::Http {
            request_id: request_id.to_owned(),
            request: Box::new(request),
            out,
            done,
        };
        if self.queue_tx.send(job).await.is_err() {
            return Err(self.recycled_error("the pool is shut down"));
        }
        let bound =
            Duration::from_millis(f.config.timeout_ms + self.cfg.init_timeout_ms) + TIMEOUT_GRACE;
        let timing = |start: Instant| Timing {
            instantiate: Duration::ZERO,
            run: start.elapsed(),
        };
        match tokio::time::timeout(bound, response).await {
            Ok(Ok(Ok(resp))) => {
                let timeout = Duration::from_millis(f.config.timeout_ms) + TIMEOUT_GRACE;
                let resp = resp.map(|body| DrainOnDrop::new(body, timeout).boxed_unsync());
                Ok((resp, timing(start)))
            }
            Ok(Ok(Err(code))) => Err(fail(
                f,
                InvokeError::Trap {
                    function: f.name.to_string(),
                    message: format!("the guest answered with an error code: {code:?}"),
                },
            )),
            // The guest ended its call without a response: why is in `done`.
            Ok(Err(_closed)) => match outcome.await {
                Ok(Ok(())) => Err(fail(
                    f,
                    InvokeError::NoResponse {
                        function: f.name.to_string(),
                    },
                )),
                Ok(Err(e)) => Err(e),
                Err(_dropped) => Err(fail(f, self.recycled_error("the environment stopped"))),
            },
            Err(_elapsed) => match self.init_error() {
                Some(message) => Err(fail(
                    f,
                    InvokeError::InitFailed {
                        function: f.name.to_string(),
                        message,
                    },
                )),
                None => Err(fail(f, timeout_error(f))),
            },
        }
    }

    /// Environments now, for `/api/functions`.
    pub fn environments(&self) -> Vec<EnvironmentInfo> {
        self.env_list()
            .iter()
            .map(|e| EnvironmentInfo {
                id: e.id,
                in_flight: e.in_flight.load(Ordering::Relaxed),
                max_in_flight: e.max_in_flight.load(Ordering::Relaxed),
                served: e.served.load(Ordering::Relaxed),
                ready: e.ready.load(Ordering::Relaxed),
                age_ms: e.started.elapsed().as_millis() as u64,
            })
            .collect()
    }

    /// Recent scaling decisions, oldest first.
    pub fn scaling_events(&self) -> Vec<ScalingEvent> {
        let events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        events.iter().cloned().collect()
    }

    /// The settings.
    pub fn config(&self) -> &ManagedConfig {
        &self.cfg
    }

    /// Invocations not yet answered (queued or running).
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Stops taking invocations once a new version serves the function: the
    /// queued and running ones finish, then every environment ends and the
    /// scaler stops.
    pub fn retire(&self) {
        self.queue_tx.close();
    }

    /// Whether [`ManagedPool::retire`] was called: an invocation that finds
    /// the pool retired should look the function up again.
    pub fn is_retired(&self) -> bool {
        self.queue_tx.is_closed()
    }

    /// The function (and code) this pool runs.
    pub fn function(&self) -> &Arc<Function> {
        &self.function
    }

    fn env_list(&self) -> Vec<Arc<Env>> {
        let envs = self.envs.lock().unwrap_or_else(PoisonError::into_inner);
        envs.values().cloned().collect()
    }

    fn ready_count(&self) -> usize {
        let envs = self.envs.lock().unwrap_or_else(PoisonError::into_inner);
        envs.values()
            .filter(|e| e.ready.load(Ordering::Relaxed))
            .count()
    }

    fn init_error(&self) -> Option<String> {
        self.init_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn recycled_error(&self, reason: &str) -> InvokeError {
        InvokeError::EnvironmentRecycled {
            function: self.function.name.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Per-environment invocation capacity.
    fn concurrency(&self) -> u64 {
        match &self.function.pre {
            Pre::Handler(h) if h.is_async => u64::from(self.cfg.max_concurrency),
            Pre::HttpService(_) => u64::from(self.cfg.max_concurrency),
            _ => 1,
        }
    }

    fn spawn_env(self: &Arc<Self>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let env = Arc::new(Env {
            id,
            started: Instant::now(),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            served: AtomicU64::new(0),
            ready: AtomicBool::new(false),
            last_active: Mutex::new(Instant::now()),
            stop: Notify::new(),
        });
        self.envs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, env.clone());
        self.metrics
            .environments_live
            .fetch_add(1, Ordering::Relaxed);
        self.metrics
            .environments_started
            .fetch_add(1, Ordering::Relaxed);
        let pool = self.clone();
        tokio::spawn(async move {
            let reason = run_env(&pool, &env).await;
            pool.envs
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&env.id);
            pool.metrics
                .environments_live
                .fetch_sub(1, Ordering::Relaxed);
            if let Some(reason) = reason {
                pool.metrics.recycled(reason);
                tracing::info!(function = %pool.function.name, environment = env.id, reason, "environment recycled");
            }
            pool.ready.notify_waiters();
        });
    }

    fn record(&self, event: ScalingEvent) {
        tracing::info!(
            function = %self.function.name,
            direction = event.direction,
            from = event.from,
            to = event.to,
            peak_in_flight = event.peak_in_flight,
            "scaling"
        );
        match event.direction {
            "up" => self.metrics.scale_ups.fetch_add(1, Ordering::Relaxed),
            "down" => self.metrics.scale_downs.fetch_add(1, Ordering::Relaxed),
            _ => 0,
        };
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        if events.len() == EVENTS_KEPT {
            events.pop_front();
        }
        events.push_back(event);
    }
}

/// A response body that, when the server drops it before its end (hyper
/// does as soon as `content-length` bytes are out; a client may hang up),
/// keeps reading what the guest still writes, so the guest's `flush` and
/// `finish` succeed instead of trapping on a closed stream (which would
/// recycle the environment). Reading stops at the end of the body or after
/// `timeout`.
struct DrainOnDrop {
    inner: Option<HyperOutgoingBody>,
    timeout: Duration,
}

impl DrainOnDrop {
    fn new(inner: HyperOutgoingBody, timeout: Duration) -> Self {
        DrainOnDrop {
            inner: Some(inner),
            timeout,
        }
    }
}

impl hyper::body::Body for DrainOnDrop {
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        match self.inner.as_mut() {
            Some(inner) => std::pin::Pin::new(inner).poll_frame(cx),
            None => std::task::Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| hyper::body::SizeHint::with_exact(0), |b| b.size_hint())
    }
}

impl Drop for DrainOnDrop {
    fn drop(&mut self) {
        let Some(mut body) = self.inner.take() else {
            return;
        };
        if body.is_end_stream() {
            return;
        }
        let timeout = self.timeout;
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let drain = async { while body.frame().await.is_some() {} };
                let _ = tokio::time::timeout(timeout, drain).await;
            });
        }
    }
}

struct InFlight<'a>(&'a AtomicU64);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Starts and initialises one environment, then serves until it is stopped
/// (returns `None`) or recycled (returns the reason).
async fn run_env(pool: &Arc<ManagedPool>, env: &Arc<Env>) -> Option<&'static str> {
    let f = &pool.function;
    let init = async {
        let (permit, start, store) = fresh_store(&pool.engine, f, InstanceUse::Request)
            .await
            .map_err(|e| e.to_string())?;
        let live = LiveInstance::new(&f.metrics);
        let (store, entry) = init_env(pool, store).await?;
        Ok::<_, String>((permit, live, start, store, entry))
    };
    let (_permit, _live, start, mut store, entry) = match init.await {
        Ok(v) => v,
        Err(message) => {
            tracing::warn!(function = %f.name, environment = env.id, "init failed: {message}");
            pool.metrics.init_failures.fetch_add(1, Ordering::Relaxed);
            *pool
                .init_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(message.clone());
            // With no environment able to serve, waiting invocations get the
            // init error now instead of waiting out their time.
            if pool.ready_count() == 0 {
                while let Ok(job) = pool.queue_rx.try_recv() {
                    let err = InvokeError::InitFailed {
                        function: f.name.to_string(),
                        message: message.clone(),
                    };
                    job.refuse(fail(f, err));
                }
            }
            return Some("init_failed");
        }
    };
    f.metrics.instantiations.fetch_add(1, Ordering::Relaxed);
    pool.metrics.init.observe(start.elapsed());
    *pool
        .init_error
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = None;
    env.ready.store(true, Ordering::Relaxed);
    env.touch();
    pool.ready.notify_waiters();
    tracing::info!(function = %f.name, environment = env.id, init_ms = start.elapsed().as_millis() as u64, "environment ready");
    let is_async = matches!(&f.pre, Pre::Handler(h) if h.is_async);
    let reason = match entry {
        Entry::Handler(handle) if is_async => serve_concurrent(pool, env, &mut store, handle).await,
        Entry::Handler(handle) => serve_sequential(pool, env, &mut store, handle).await,
        Entry::Http(proxy) => serve_http_sequential(pool, env, &mut store, proxy).await,
        Entry::Service(service) => serve_http_concurrent(pool, env, &mut store, service).await,
    };
    store.data().flush_logs();
    reason
}

/// Instantiates into the fresh `store` and runs `init`.
async fn init_env(
    pool: &ManagedPool,
    mut store: Store<HostState>,
) -> Result<(Store<HostState>, Entry), String> {
    let f = &pool.function;
    // The store checks `deadline` on every epoch tick (see `new_store`); one
    // store runs many invocations, so it is set per invocation (or to the
    // earliest of those running) and is `None` in between.
    store.data_mut().deadline =
        Some(Instant::now() + Duration::from_millis(pool.cfg.init_timeout_ms));
    let init_timeout = Duration::from_millis(pool.cfg.init_timeout_ms) + TIMEOUT_GRACE;
    let work = async {
        let (entry, init) = match &f.pre {
            Pre::Handler(pre) => {
                let instance = pre.instantiate(&mut store).await?;
                let handle = pre.handle(&mut store, &instance)?;
                (Entry::Handler(handle), pre.init(&mut store, &instance)?)
            }
            Pre::Http(pre) => {
                let instance = pre
                    .proxy
                    .instance_pre()
                    .instantiate_async(&mut store)
                    .await?;
                let proxy = Proxy::new(&mut store, &instance)?;
                let init = pre
                    .init
                    .map(|i| instance.get_typed_func::<(), InitResults>(&mut store, i))
                    .transpose()?;
                (Entry::Http(proxy), init)
            }
            Pre::HttpService(pre) => {
                let instance = pre
                    .service
                    .instance_pre()
                    .instantiate_async(&mut store)
                    .await?;
                let service = Service::new(&mut store, &instance)?;
                let init = pre
                    .init
                    .map(|i| instance.get_typed_func::<(), InitResults>(&mut store, i))
                    .transpose()?;
                (Entry::Service(service), init)
            }
            Pre::Durable(_) => {
                return Ok(Err("durable functions have no managed environments".into()));
            }
        };
        if let Some(init) = init {
            let (result,) = init.call_async(&mut store, ()).await?;
            if let Err(message) = result {
                return Ok(Err(format!("init returned an error: {message}")));
            }
        }
        Ok::<_, wasmtime::Error>(Ok(entry))
    };
    let result = tokio::time::timeout(init_timeout, work).await;
    store.data().flush_logs();
    let entry = match result {
        Err(_) => {
            return Err(format!(
                "init timed out after {} ms",
                pool.cfg.init_timeout_ms
            ));
        }
        Ok(Err(e)) => return Err(classify(f, &store, e, true).to_string()),
        Ok(Ok(Err(message))) => return Err(message),
        Ok(Ok(Ok(entry))) => entry,
    };
    store.data_mut().deadline = None;
    Ok((store, entry))
}

/// A sync export: one invocation at a time on the reused instance.
async fn serve_sequential(
    pool: &Arc<ManagedPool>,
    env: &Env,
    store: &mut Store<HostState>,
    handle: TypedFunc<HandleParams, HandleResults>,
) -> Option<&'static str> {
    let f = &pool.function;
    let timeout = Duration::from_millis(f.config.timeout_ms);
    loop {
        let job = tokio::select! {
            job = pool.queue_rx.recv() => match job {
                Ok(job) => job,
                Err(_) => return None,
            },
            () = env.stop.notified() => return None,
        };
        if job.abandoned() {
            continue;
        }
        let Job::Invoke {
            request_id,
            payload,
            reply,
        } = job
        else {
            job.refuse(internal(f, "an http request reached a handler function"));
            continue;
        };
        env.in_flight.store(1, Ordering::Relaxed);
        env.max_in_flight.fetch_max(1, Ordering::Relaxed);
        pool.metrics
            .max_in_flight_per_environment
            .fetch_max(1, Ordering::Relaxed);
        let start = Instant::now();
        store.data().new_log_budget();
        store.data().begin_request(&request_id);
        store.data_mut().deadline = Some(start + timeout);
        let params = (invocation(f, &request_id, Duration::ZERO), payload);
        let result = tokio::time::timeout(
            timeout + TIMEOUT_GRACE,
            handle.call_async(&mut *store, params),
        )
        .await;
        store.data().end_request(&request_id);
        store.data_mut().deadline = None;
        env.in_flight.store(0, Ordering::Relaxed);
        env.touch();
        let run = start.elapsed();
        let timing = Timing {
            instantiate: Duration::ZERO,
            run,
        };
        match result {
            Ok(Ok((out,))) => {
                f.metrics.run.observe(run);
                let _ = reply.send(Ok((output(f, out), timing)));
            }
            Ok(Err(e)) => {
                let err = fail(f, classify(f, store, e, false));
                let reason = err.reason();
                let _ = reply.send(Err(err));
                return Some(reason);
            }
            Err(_elapsed) => {
                let _ = reply.send(Err(fail(f, timeout_error(f))));
                return Some("timeout");
            }
        }
        let served = env.served.fetch_add(1, Ordering::Relaxed) + 1;
        if pool.cfg.max_requests.is_some_and(|m| served >= m) {
            return Some("max_requests");
        }
    }
}

/// A `wasi:http/proxy` export: one request at a time on the reused
/// instance. The caller gets the response through the outparam as soon as
/// the guest sets it; the call goes on while the guest writes the body.
async fn serve_http_sequential(
    pool: &Arc<ManagedPool>,
    env: &Env,
    store: &mut Store<HostState>,
    proxy: Proxy,
) -> Option<&'static str> {
    let f = &pool.function;
    let timeout = Duration::from_millis(f.config.timeout_ms);
    loop {
        let job = tokio::select! {
            job = pool.queue_rx.recv() => match job {
                Ok(job) => job,
                Err(_) => return None,
            },
            () = env.stop.notified() => return None,
        };
        if job.abandoned() {
            continue;
        }
        let Job::Http {
            request_id,
            request,
            out,
            done,
        } = job
        else {
            job.refuse(internal(f, "an invocation reached an http function"));
            continue;
        };
        let mut view = store.data_mut().http();
        let resources = view
            .new_incoming_request(Scheme::Http, *request)
            .and_then(|req| Ok((req, view.new_response_outparam(out)?)));
        let (req, out) = match resources {
            Ok(r) => r,
            Err(e) => {
                let _ = done.send(Err(fail(f, internal(f, &format!("{e:#}")))));
                continue;
            }
        };
        env.in_flight.store(1, Ordering::Relaxed);
        env.max_in_flight.fetch_max(1, Ordering::Relaxed);
        pool.metrics
            .max_in_flight_per_environment
            .fetch_max(1, Ordering::Relaxed);
        let start = Instant::now();
        store.data().new_log_budget();
        store.data().begin_request(&request_id);
        store.data_mut().deadline = Some(start + timeout);
        let result = tokio::time::timeout(
            timeout + TIMEOUT_GRACE,
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut *store, req, out),
        )
        .await;
        store.data().end_request(&request_id);
        store.data_mut().deadline = None;
        env.in_flight.store(0, Ordering::Relaxed);
        env.touch();
        match result {
            Ok(Ok(())) => {
                f.metrics.run.observe(start.elapsed());
                let _ = done.send(Ok(()));
            }
            Ok(Err(e)) => {
                let err = fail(f, classify(f, store, e, false));
                let reason = err.reason();
                let _ = done.send(Err(err));
                return Some(reason);
            }
            Err(_elapsed) => {
                let _ = done.send(Err(fail(f, timeout_error(f))));
                return Some("timeout");
            }
        }
        let served = env.served.fetch_add(1, Ordering::Relaxed) + 1;
        if pool.cfg.max_requests.is_some_and(|m| served >= m) {
            return Some("max_requests");
        }
    }
}

/// One request of a wasi:http 0.3 service, running.
struct ServiceCall {
    /// The id the guest's log lines carry while it runs.
    request_id: String,
    out: HttpOut,
    done: oneshot::Sender<Result<(), InvokeError>>,
    start: Instant,
    deadline: Instant,
}

/// A wasi:http 0.3 service: up to `max_concurrency` requests at once inside
/// one `Store::run_concurrent`. A request's response goes to its caller as
/// soon as the guest returns it; its body streams from guest tasks that keep
/// running in the store.
async fn serve_http_concurrent(
    pool: &Arc<ManagedPool>,
    env: &Env,
    store: &mut Store<HostState>,
    service: Service,
) -> Option<&'static str> {
    use wasmtime::AsContextMut;
    use wasmtime_wasi_http::handler::{ExpirationError, Prepared, Proxy as AnyProxy};
    let f = pool.function.clone();
    let timeout = Duration::from_millis(f.config.timeout_ms);
    let capacity = pool.concurrency() as usize;
    let proxy = AnyProxy::P3(service);
    // Outside `run_concurrent`, so that a trap that ends it still finds
    // the callers to answer.
    let running: Mutex<BTreeMap<u64, ServiceCall>> = Mutex::default();
    let earliest = || {
        running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .map(|c| c.deadline)
            .min()
    };
    let outcome = store
        .run_concurrent(async |accessor| {
            let mut calls = FuturesUnordered::new();
            let mut next = 0u64;
            let mut stopping = false;
            let mut stop_reason = None;
            loop {
                if stopping && calls.is_empty() {
                    // Let guest tasks still writing response bodies finish
                    // (within the function's timeout) before the store goes.
                    let tasks = std::future::poll_fn(|cx| accessor.poll_no_interesting_tasks(cx));
                    let _ = tokio::time::timeout(timeout, tasks).await;
                    return Ok(stop_reason);
                }
                tokio::select! {
                    Some((id, ran, response)) = calls.next(), if !calls.is_empty() => {
                        let call = running.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
                        let Some(call) = call else { continue };
                        let deadline = earliest();
                        accessor.with(|mut a| {
                            a.data_mut().deadline = deadline;
                            a.data_mut().end_request(&call.request_id);
                        });
                        env.in_flight.fetch_sub(1, Ordering::Relaxed);
                        env.touch();
                        let response: Result<Result<hyper::Response<HyperOutgoingBody>, wasmtime::Error>, _> = response;
                        match (ran, response) {
                            (Err(e), _) => return Err((e, Some(call.done))),
                            (Ok(_), Ok(Ok(resp))) => {
                                f.metrics.run.observe(call.start.elapsed());
                                let _ = call.out.send(Ok(resp));
                                let _ = call.done.send(Ok(()));
                            }
                            (Ok(_), Ok(Err(e))) if e.is::<ExpirationError>() => {
                                // It may still be running: take no more and
                                // recycle once the others are done.
                                let _ = call.done.send(Err(fail(&f, timeout_error(&f))));
                                stopping = true;
                                stop_reason = Some("timeout");
                                continue;
                            }
                            (Ok(_), Ok(Err(e))) if e.is::<ServiceErrorCode>() => {
                                let err = InvokeError::Trap {
                                    function: f.name.to_string(),
                                    message: format!("the guest answered with an error code: {e:#}"),
                                };
                                let _ = call.done.send(Err(fail(&f, err)));
                            }
                            // A trap (or any other failure of the call): the
                            // store is not to be trusted any more.
                            (Ok(_), Ok(Err(e))) => return Err((e, Some(call.done))),
                            (Ok(_), Err(_canceled)) => {
                                let err = InvokeError::NoResponse { function: f.name.to_string() };
                                let _ = call.done.send(Err(fail(&f, err)));
                            }
                        }
                        let served = env.served.fetch_add(1, Ordering::Relaxed) + 1;
                        if pool.cfg.max_requests.is_some_and(|m| served >= m) {
                            stopping = true;
                            stop_reason = Some("max_requests");
                        }
                    }
                    job = pool.queue_rx.recv(), if !stopping && calls.len() < capacity => {
                        let Ok(job) = job else { stopping = true; continue };
                        if job.abandoned() {
                            continue;
                        }
                        let Job::Http { request_id, request, out, done } = job else {
                            job.refuse(internal(&f, "an invocation reached an http function"));
                            continue;
                        };
                        let start = Instant::now();
                        let id = next;
                        next += 1;
                        let call = ServiceCall { request_id: request_id.clone(), out, done, start, deadline: start + timeout };
                        running.lock().unwrap_or_else(PoisonError::into_inner).insert(id, call);
                        let deadline = earliest();
                        let (tx, rx) = futures::channel::oneshot::channel();
                        let prepared = accessor.with(|mut a| {
                            a.data_mut().deadline = deadline;
                            a.data_mut().begin_request(&request_id);
                            Prepared::new(a.as_context_mut(), &proxy, *request, <HostState as WasiHttpView>::http, tx)
                        });
                        let prepared = match prepared {
                            Ok(p) => p,
                            Err(e) => {
                                let call = running.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
                                if let Some(call) = call {
                                    let _ = call.done.send(Err(fail(&f, internal(&f, &format!("{e:#}")))));
                                }
                                continue;
                            }
                        };
                        let now = env.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                        env.max_in_flight.fetch_max(now, Ordering::Relaxed);
                        pool.metrics.max_in_flight_per_environment.fetch_max(now, Ordering::Relaxed);
                        if now == 1 {
                            accessor.with(|mut a| a.data_mut().new_log_budget());
                        }
                        calls.push(async move {
                            let ran = prepared
                                .run(accessor, tokio::time::sleep(timeout + TIMEOUT_GRACE))
                                .await;
                            (id, ran, rx.await)
                        });
                    }
                    () = env.stop.notified(), if !stopping => {
                        stopping = true;
                    }
                }
            }
        })
        .await;
    env.in_flight.store(0, Ordering::Relaxed);
    let mut leftover: Vec<ServiceCall> =
        std::mem::take(&mut *running.lock().unwrap_or_else(PoisonError::into_inner))
            .into_values()
            .collect();
    let (error, mut culprit) = match outcome {
        Ok(Ok(stopped)) => return stopped,
        Ok(Err((e, culprit))) => (e, culprit),
        Err(e) => (e, None),
    };
    // The store failed as a whole: with one request in it, that one did it.
    if culprit.is_none() && leftover.len() == 1 {
        culprit = leftover.pop().map(|c| c.done);
    }
    let err = fail(&f, classify(&f, store, error, false));
    let reason = err.reason();
    if let Some(done) = culprit {
        let _ = done.send(Err(err));
    }
    for c in leftover {
        let _ = c.done.send(Err(fail(
            &f,
            pool.recycled_error(&format!("another request in it: {reason}")),
        )));
    }
    Some(reason)
}

struct Running {
    reply: Reply,
    request_id: String,
    deadline: Instant,
    start: Instant,
}

/// An async export: up to `max_concurrency` invocations at once inside one
/// `Store::run_concurrent`.
async fn serve_concurrent(
    pool: &Arc<ManagedPool>,
    env: &Env,
    store: &mut Store<HostState>,
    handle: TypedFunc<HandleParams, HandleResults>,
) -> Option<&'static str> {
    let f = pool.function.clone();
    let timeout = Duration::from_millis(f.config.timeout_ms);
    let capacity = pool.concurrency() as usize;
    let running: Mutex<HashMap<u64, Running>> = Mutex::default();
    let outcome = store
        .run_concurrent(async |accessor| {
            let mut calls = FuturesUnordered::new();
            let mut next = 0u64;
            let mut stopping = false;
            let mut stop_reason = None;
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                if stopping && calls.is_empty() {
                    return Ok(stop_reason);
                }
                tokio::select! {
                    Some((id, result)) = calls.next(), if !calls.is_empty() => {
                        let done: Option<Running> = running.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
                        env.in_flight.fetch_sub(1, Ordering::Relaxed);
                        env.touch();
                        let Some(done) = done else { continue };
                        accessor.with(|mut a| a.data_mut().end_request(&done.request_id));
                        let run = done.start.elapsed();
                        let timing = Timing { instantiate: Duration::ZERO, run };
                        match result {
                            Ok((out,)) => {
                                f.metrics.run.observe(run);
                                let _ = done.reply.send(Ok((output(&f, out), timing)));
                                let served = env.served.fetch_add(1, Ordering::Relaxed) + 1;
                                if pool.cfg.max_requests.is_some_and(|m| served >= m) {
                                    stopping = true;
                                    stop_reason = Some("max_requests");
                                }
                            }
                            Err(e) => {
                                // The store is unusable now: hand the error back
                                // and let the environment be recycled.
                                return Err((e, Some(done.reply)));
                            }
                        }
                    }
                    job = pool.queue_rx.recv(), if !stopping && calls.len() < capacity => {
                        let Ok(job) = job else { stopping = true; continue };
                        if job.abandoned() {
                            continue;
                        }
                        let Job::Invoke { request_id, payload, reply } = job else {
                            job.refuse(internal(&f, "an http request reached a handler function"));
                            continue;
                        };
                        let start = Instant::now();
                        let deadline = start + timeout;
                        let id = next;
                        next += 1;
                        running.lock().unwrap_or_else(PoisonError::into_inner).insert(id, Running { reply, request_id: request_id.clone(), deadline, start });
                        let now = env.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
                        env.max_in_flight.fetch_max(now, Ordering::Relaxed);
                        pool.metrics.max_in_flight_per_environment.fetch_max(now, Ordering::Relaxed);
                        let earliest = running.lock().unwrap_or_else(PoisonError::into_inner).values().map(|r| r.deadline).min();
                        accessor.with(|mut a| {
                            a.data_mut().deadline = earliest;
                            if now == 1 {
                                a.data_mut().new_log_budget();
                            }
                            a.data_mut().begin_request(&request_id);
                        });
                        let params = (invocation(&f, &request_id, Duration::ZERO), payload);
                        let call = handle.call_concurrent(accessor, params);
                        calls.push(async move { (id, call.await) });
                    }
                    () = env.stop.notified(), if !stopping => {
                        stopping = true;
                    }
                    _ = tick.tick() => {
                        let now = Instant::now();
                        let mut running = running.lock().unwrap_or_else(PoisonError::into_inner);
                        let expired: Option<u64> = running.iter().find(|(_, r)| now >= r.deadline + TIMEOUT_GRACE).map(|(id, _)| *id);
                        if let Some(id) = expired {
                            let r = running.remove(&id);
                            return Err((wasmtime::Error::from(wasmtime::Trap::Interrupt), r.map(|r| r.reply)));
                        }
                        let earliest = running.values().map(|r| r.deadline).min();
                        drop(running);
                        accessor.with(|mut a| a.data_mut().deadline = earliest);
                    }
                }
            }
        })
        .await;
    let leftover: Vec<Running> = running
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain()
        .map(|(_, r)| r)
        .collect();
    env.in_flight.store(0, Ordering::Relaxed);
    let (error, culprit) = match outcome {
        Ok(Ok(stopped)) => return stopped,
        Ok(Err((e, culprit))) => (e, culprit),
        Err(e) => (e, None),
    };
    let err = fail(&f, classify(&f, store, error, false));
    let reason = err.reason();
    if let Some(reply) = culprit {
        let _ = reply.send(Err(err));
    }
    for r in leftover {
        let _ = r.reply.send(Err(fail(
            &f,
            pool.recycled_error(&format!("another invocation in it: {reason}")),
        )));
    }
    Some(reason)
}

/// Follows the load: keeps `headroom` spare capacity over the peak in-flight
/// count, at most doubling per window, retiring idle environments.
async fn scaler(pool: std::sync::Weak<ManagedPool>) {
    let Some(p) = pool.upgrade() else { return };
    let window = Duration::from_millis(p.cfg.scale_window_ms);
    let period = (window / 10).clamp(Duration::from_millis(10), Duration::from_millis(250));
    let mut window_start = Instant::now();
    let mut window_base = p.env_list().len().max(1) as u64;
    drop(p);
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        let Some(p) = pool.upgrade() else { return };
        if p.is_retired() {
            return;
        }
        let live = p.env_list();
        let count = live.len() as u64;
        let in_flight = p.in_flight.load(Ordering::Relaxed);
        let peak = p.peak.swap(in_flight, Ordering::Relaxed).max(in_flight);
        if window_start.elapsed() >= window {
            window_start = Instant::now();
            window_base = count.max(1);
        }
        let slots = (peak as f64 * (1.0 + p.cfg.headroom)).ceil() as u64;
        let per_env = p.concurrency();
        let min = u64::from(p.cfg.min_environments);
        let max = u64::from(p.cfg.max_environments);
        let wanted = slots.div_ceil(per_env).clamp(min, max);
        if wanted > count {
            // Failing init: retry only while someone is waiting, one
            // environment at a time; waiting requests get the init error.
            if p.init_error().is_some() && (count > 0 || in_flight == 0) {
                continue;
            }
            let target = wanted.min(window_base.saturating_mul(2)).max(min.min(max));
            if target > count {
                for _ in count..target {
                    p.spawn_env();
                }
                p.record(ScalingEvent {
                    at_ms: p.started.elapsed().as_millis() as u64,
                    from: count,
                    to: target,
                    window_base,
                    peak_in_flight: peak,
                    direction: if count < min { "replace" } else { "up" },
                });
            }
        } else if count > wanted.max(min) {
            let idle = Duration::from_millis(p.cfg.idle_timeout_ms);
            let mut retired = 0;
            for e in &live {
                if count - retired <= wanted.max(min) {
                    break;
                }
                if e.ready.load(Ordering::Relaxed)
                    && e.in_flight.load(Ordering::Relaxed) == 0
                    && e.idle_for() >= idle
                {
                    e.stop.notify_one();
                    retired += 1;
                }
            }
            if retired > 0 {
                p.record(ScalingEvent {
                    at_ms: p.started.elapsed().as_millis() as u64,
                    from: count,
                    to: count - retired,
                    window_base,
                    peak_in_flight: peak,
                    direction: "down",
                });
            }
        }
    }
}
