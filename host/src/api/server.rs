//! The listener and the router.

use super::lambda;
use super::response::{self, Response, add_request_id, add_timing, text};
use crate::config::{FunctionKind, HostConfig, Mode};
use crate::deploy::{Deployer, Pools};
use crate::durable::{Durable, InvokeTarget};
use crate::engine::{EngineError, LaminaEngine};
use crate::error::{InvokeError, LoadError};
use crate::journal::RedbJournal;
use crate::metrics;
use crate::modes::async_events::{AsyncEvents, LiveTargets};
use crate::modes::managed::ManagedPool;
use crate::modes::standard;
use crate::registry::{CodeLookup, Function, Registry};
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The engine could not be created.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A function could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A managed function's environments could not be started.
    #[error(transparent)]
    Managed(InvokeError),
    /// The durable-execution journal could not be opened or read.
    #[error("durable journal: {0}")]
    Journal(#[from] crate::journal::JournalError),
    /// The durable-execution journal could not be opened.
    #[error("durable journal: {0}")]
    JournalOpen(#[from] crate::journal::OpenError),
    /// The function store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::deploy::store::StoreError),
}

/// A running host's shared state: engine, functions and settings.
pub struct Host {
    /// The engine.
    pub engine: Arc<LaminaEngine>,
    /// The live functions (`$LATEST` of each name).
    pub registry: Arc<Registry>,
    /// The settings it started with.
    pub config: HostConfig,
    /// Environment pools of managed functions, by name.
    pub pools: Arc<Pools>,
    /// The control plane: stored functions, versions and aliases.
    pub deploy: Arc<Deployer>,
    /// The durable runtime, when the host serves durable functions.
    pub durable: Option<Arc<Durable>>,
    /// The queue of asynchronous invocations, when the host serves handler functions.
    pub events: Option<Arc<AsyncEvents>>,
    /// Request authentication and dashboard sessions, when `[auth]` is configured.
    pub auth: Option<super::auth::Auth>,
}

impl Host {
    /// Creates the engine and loads every function of `config` (compiling
    /// or reading the cache: blocking work).
    pub fn new(config: HostConfig) -> Result<Self, StartError> {
        let mut engine = LaminaEngine::new(&config.engine)?;
        engine.set_instance_limits(&config);
        let engine = Arc::new(engine);
        let opened = Deployer::open(&config.state_dir, &config.functions)?;
        let registry = Arc::new(Registry::load(&engine, &opened.configs)?);
        let deploy = Arc::new(Deployer::new(opened, engine.clone(), registry.clone()));
        Ok(Host {
            auth: config.auth.clone().map(super::auth::Auth::new),
            engine,
            registry,
            config,
            pools: Arc::default(),
            deploy,
            durable: None,
            events: None,
        })
    }

    /// Opens the journal (`{state_dir}/journal.redb`) when any function is
    /// durable or a handler; starts the queue of asynchronous invocations
    /// (picking up queued events) when any is a handler, and the durable
    /// runtime when any is durable: re-invokes executions that were
    /// mid-invocation and schedules stored timers.
    pub async fn start_durable(&mut self) -> Result<(), StartError> {
        let all = self.registry.all();
        let functions: Vec<Arc<Function>> = all
            .iter()
            .filter(|f| f.kind == FunctionKind::Durable)
            .cloned()
            .collect();
        let handlers = all.iter().any(|f| f.kind == FunctionKind::Handler);
        if functions.is_empty() && !handlers {
            return Ok(());
        }
        let journal: Arc<dyn crate::journal::Journal> = match &self.config.journal_url {
            Some(url) => Arc::new(crate::journal::PgJournal::open(url).await?),
            None => {
                let dir = self.config.state_dir.clone();
                let journal = tokio::task::spawn_blocking(move || RedbJournal::open_in(&dir))
                    .await
                    .map_err(|e| crate::journal::OpenError::Storage(e.to_string()))??;
                Arc::new(journal)
            }
        };
        let targets: BTreeMap<String, InvokeTarget> = all
            .iter()
            .filter(|f| f.kind != FunctionKind::Durable)
            .map(|f| {
                let t = match (f.kind, self.pools.get(&f.name)) {
                    (FunctionKind::Handler, Some(pool)) => InvokeTarget::Managed(pool.clone()),
                    (FunctionKind::Handler, None) => InvokeTarget::Standard(f.clone()),
                    _ => InvokeTarget::Other(f.clone()),
                };
                (f.name.to_string(), t)
            })
            .collect();
        if handlers {
            let (registry, pools) = (self.registry.clone(), self.pools.clone());
            let live: LiveTargets = Arc::new(move |name: &str| {
                let f = registry.get(name)?;
                Some(match (f.kind, pools.get(name)) {
                    (FunctionKind::Handler, Some(pool)) => InvokeTarget::Managed(pool),
                    (FunctionKind::Handler, None) => InvokeTarget::Standard(f),
                    _ => InvokeTarget::Other(f),
                })
            });
            let events = AsyncEvents::start(
                self.engine.clone(),
                journal.clone(),
                targets.clone(),
                Some(live),
                self.config.async_events.clone(),
            )
            .await?;
            self.events = Some(events);
        }
        if functions.is_empty() {
            return Ok(());
        }
        let code: Arc<dyn CodeLookup> = self.deploy.clone();
        let durable =
            Durable::start(self.engine.clone(), journal, functions, targets, Some(code)).await?;
        durable.start_retention(&self.config.durable);
        self.durable = Some(durable);
        Ok(())
    }

    /// Starts the environments of every managed function and waits until
    /// their minimum environments are initialised, so the first request
    /// does not pay `init`.
    pub async fn start_managed(&mut self) -> Result<(), StartError> {
        for f in self.registry.all() {
            if let Mode::Managed(cfg) = &f.config.mode {
                let pool = ManagedPool::start(self.engine.clone(), f.clone(), cfg.clone())
                    .await
                    .map_err(StartError::Managed)?;
                self.pools.insert(&f.name, pool);
            }
        }
        Ok(())
    }

    /// Prometheus text for `/metrics`.
    pub fn render_metrics(&self) -> String {
        let functions = self.registry.all();
        let mut text = metrics::render(
            &self.engine.metrics,
            functions
                .iter()
                .map(|f| (&*f.name, f.kind.as_str(), &f.metrics)),
        );
        let pools = self.pools.all();
        crate::modes::managed::render_metrics(
            &mut text,
            pools.iter().map(|(name, p)| (name.as_str(), &p.metrics)),
        );
        text
    }

    /// The function table as JSON, for `/api/functions`.
    pub fn functions_json(&self) -> serde_json::Value {
        let list: Vec<serde_json::Value> = self
            .registry
            .all()
            .iter()
            .map(|f| {
                let mut v = serde_json::json!({
                    "name": &*f.name,
                    "kind": f.kind.as_str(),
                    "mode": if self.pools.contains_key(&f.name) { "managed" } else { "standard" },
                    "code_sha256": &f.code_sha256,
                    "component": f.config.component.display().to_string(),
                    "invocations": f.metrics.invocations.load(Ordering::Relaxed),
                    "instances_live": f.metrics.instances_live.load(Ordering::Relaxed),
                });
                let errors = f.metrics.error_counts();
                v["errors"] = errors.iter().map(|(_, n)| n).sum::<u64>().into();
                v["errors_by_reason"] =
                    serde_json::json!(errors.into_iter().collect::<BTreeMap<_, _>>());
                v["latency"] = latency_json(&f.metrics.run);
                if let Some(rec) = self.deploy.record(&f.name) {
                    v["versions"] = rec.versions.keys().copied().collect::<Vec<u64>>().into();
                    v["aliases"] = rec
                        .aliases
                        .iter()
                        .map(|(name, a)| {
                            serde_json::json!({
                                "name": name,
                                "version": a.version,
                                "weights": a.weights,
                            })
                        })
                        .collect::<Vec<_>>()
                        .into();
                }
                if let Some(pool) = self.pools.get(&f.name) {
                    v["in_flight"] = pool.in_flight().into();
                    v["environments"] = serde_json::json!(pool.environments());
                    v["scaling_events"] = serde_json::json!(pool.scaling_events());
                    v["max_concurrency"] = pool.config().max_concurrency.into();
                }
                v
            })
            .collect();
        serde_json::json!({ "functions": list })
    }
}

/// The run-time distribution of a function for `/api/functions`: count,
/// mean, and p50 and p99 as the upper bounds of their histogram buckets in
/// milliseconds (`"+Inf"` beyond the last bucket, `null` before the first
/// invocation).
fn latency_json(h: &metrics::Histogram) -> serde_json::Value {
    let q = |q: f64| match h.quantile_us(q) {
        None => serde_json::Value::Null,
        Some(u64::MAX) => "+Inf".into(),
        Some(us) => (us as f64 / 1000.0).into(),
    };
    serde_json::json!({
        "count": h.count(),
        "mean_ms": h.mean_us().map(|us| us / 1000.0),
        "p50_ms": q(0.5),
        "p99_ms": q(0.99),
    })
}

/// A request body as the API handlers see it: the connection's stream, or
/// the bytes the authentication layer already read to check their hash.
pub type ApiBody = http_body_util::Either<Incoming, http_body_util::Full<Bytes>>;

/// Serves HTTP on `listener` until `shutdown` completes, then stops
/// accepting (new connections are refused), lets in-flight requests finish
/// for up to `[server] shutdown_grace_ms` and returns.
///
/// Each connection gets hyper's header-read timeout (which also runs while a
/// keep-alive connection waits for its next request) and an idle timeout of
/// its own: with no request running and no byte moving for
/// `idle_timeout_ms` (say a client that stopped reading its response) the
/// connection is closed. At `max_connections` open connections the host
/// stops accepting until one closes.
pub async fn serve(
    host: Arc<Host>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let settings = host.config.server.clone();
    let slots = Arc::new(tokio::sync::Semaphore::new(settings.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(settings.header_read_timeout_ms));
    let idle = Duration::from_millis(settings.idle_timeout_ms);
    let mut limit_logged: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let permit = match slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if limit_logged.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                    tracing::warn!(
                        max_connections = settings.max_connections,
                        "connection limit reached: not accepting until a connection closes \
                         (raise [server] max_connections?)"
                    );
                    limit_logged = Some(Instant::now());
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    p = slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Running out of file descriptors and similar are transient.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let activity = Arc::new(Activity::new());
        let service = {
            let host = host.clone();
            let activity = activity.clone();
            hyper::service::service_fn(move |req| {
                let host = host.clone();
                let busy = activity.begin();
                async move {
                    let resp = route(host, req).await;
                    drop(busy);
                    Ok::<_, std::convert::Infallible>(resp)
                }
            })
        };
        let io = TokioIo::new(Tracked {
            inner: stream,
            activity: activity.clone(),
        });
        let conn = graceful.watch(builder.serve_connection(io, service));
        tokio::spawn(async move {
            let _slot = permit;
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    ended = &mut conn => {
                        if let Err(e) = ended {
                            tracing::debug!(%peer, "connection ended with an error: {e}");
                        }
                        break;
                    }
                    () = tokio::time::sleep(activity.until_idle(idle)) => {
                        if activity.until_idle(idle).is_zero() {
                            tracing::debug!(%peer, "closing an idle connection");
                            break;
                        }
                    }
                }
            }
        });
    }
    // Closing the listener makes new connections fail at once.
    drop(listener);
    let grace = Duration::from_millis(settings.shutdown_grace_ms);
    tracing::info!(
        "shutting down: no new connections; waiting up to {} ms for in-flight requests",
        grace.as_millis()
    );
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown grace period ({} ms) over with requests still running; dropping them",
            grace.as_millis()
        );
    }
    Ok(())
}

/// What a connection is doing: requests running, and when a byte last moved.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
    running: AtomicUsize,
}

/// Marks a request as running until dropped.
struct Running(Arc<Activity>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.touch();
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Activity {
    fn new() -> Self {
        Activity {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            running: AtomicUsize::new(0),
        }
    }

    fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.last_ms.store(now, Ordering::Relaxed);
    }

    fn begin(self: &Arc<Self>) -> Running {
        self.running.fetch_add(1, Ordering::AcqRel);
        Running(self.clone())
    }

    /// How long until the connection counts as idle (zero: it is); a
    /// running request keeps it busy.
    fn until_idle(&self, idle: Duration) -> Duration {
        if self.running.load(Ordering::Acquire) > 0 {
            return idle;
        }
        let now = self.start.elapsed().as_millis() as u64;
        let quiet = Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)));
        idle.saturating_sub(quiet)
    }
}

/// A TCP stream that records when bytes move.
struct Tracked {
    inner: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

impl tokio::io::AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl tokio::io::AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Routes one request. Control-plane requests (the Lambda and durable APIs,
/// `/api/...` and `/metrics`) pass the authentication layer first when
/// `[auth]` is configured; `/healthz`, the dashboard's static files and the
/// data plane of http functions stay open (like a function URL with auth
/// type NONE).
async fn route(host: Arc<Host>, req: hyper::Request<Incoming>) -> Response {
    let path = req.uri().path().to_string();
    let mut segments = path.trim_start_matches('/').splitn(2, '/');
    let first = segments.next().unwrap_or("");
    let rest = segments.next();
    let control = match (req.method(), first) {
        (&Method::GET, "metrics") => rest.is_none(),
        (&Method::GET, "api") => rest == Some("functions"),
        (_, "2015-03-31" | "2025-12-01") => true,
        _ => false,
    };
    if control {
        let req = match super::auth::admit(&host, req).await {
            Ok(req) => req,
            Err(mut resp) => {
                // A refused request's body may be unread: close the
                // connection after the answer, so that no client sends its
                // next request on a connection the server is dropping.
                resp.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
                return resp;
            }
        };
        return control_plane(host, req, first, rest).await;
    }
    match (req.method(), first) {
        (&Method::GET, "healthz") if rest.is_none() => text(StatusCode::OK, "ok"),
        (&Method::POST, "ui")
            if host.registry.get("ui").is_none()
                && matches!(rest, Some("login") | Some("logout")) =>
        {
            super::auth::login_route(&host, req, rest == Some("logout")).await
        }
        (_, "ui") if host.registry.get("ui").is_none() => super::ui::handle(req.method(), rest),
        _ => {
            if let Some(f) = host.registry.get(first) {
                if f.kind == FunctionKind::Http {
                    let prefix_len = first.len() + 1;
                    return data_plane(host, f, req, prefix_len).await;
                }
                reject(&host);
                return error_response(&InvokeError::WrongKind {
                    name: f.name.to_string(),
                    kind: f.kind.as_str(),
                    hint: format!(
                        "invoke it with POST /2015-03-31/functions/{}/invocations",
                        f.name
                    ),
                });
            }
            if let Some(f) = host.registry.sole_http() {
                return data_plane(host, f, req, 0).await;
            }
            reject(&host);
            text(
                StatusCode::NOT_FOUND,
                format!(
                    "no function serves {path}: http functions are at /NAME/..., handler functions \
                     at POST /2015-03-31/functions/NAME/invocations; this host serves: {}",
                    host.registry.names()
                ),
            )
        }
    }
}

/// The control plane, once the request is admitted.
async fn control_plane(
    host: Arc<Host>,
    req: hyper::Request<ApiBody>,
    first: &str,
    rest: Option<&str>,
) -> Response {
    match first {
        "metrics" => {
            let mut body = host.render_metrics();
            if let Some(d) = &host.durable {
                d.render_metrics(&mut body).await;
            }
            if let Some(q) = &host.events {
                q.render_metrics(&mut body);
            }
            let mut resp = text(StatusCode::OK, body);
            resp.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            );
            resp
        }
        "api" => response::json(StatusCode::OK, &host.functions_json()),
        "2015-03-31" => lambda::handle(host, req, rest.unwrap_or("")).await,
        _ => super::durable::handle(host, req, rest.unwrap_or("")).await,
    }
}

fn reject(host: &Host) {
    host.engine
        .metrics
        .rejected_requests
        .fetch_add(1, Ordering::Relaxed);
}

/// Serves a request with an http function, stripping the `/{name}` prefix
/// (`prefix_len` bytes) so the component sees the paths it would see alone.
async fn data_plane(
    host: Arc<Host>,
    f: Arc<Function>,
    req: hyper::Request<Incoming>,
    prefix_len: usize,
) -> Response {
    let limit = host.config.max_body_bytes;
    let request_id = new_request_id();
    let declared = req
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        reject(&host);
        return error_response(&InvokeError::PayloadTooLarge { limit });
    }
    let (mut parts, body) = req.into_parts();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str())
        .unwrap_or("/");
    let stripped = &path_and_query[prefix_len.min(path_and_query.len())..];
    let stripped = if stripped.starts_with('/') {
        stripped.to_string()
    } else {
        format!("/{stripped}")
    };
    match stripped.parse::<http::Uri>() {
        Ok(uri) => parts.uri = uri,
        Err(e) => return text(StatusCode::BAD_REQUEST, format!("bad request path: {e}")),
    }
    if !parts.headers.contains_key(http::header::HOST)
        && let Ok(v) = HeaderValue::from_str(&host.config.listen.to_string())
    {
        parts.headers.insert(http::header::HOST, v);
    }
    let too_large = Arc::new(AtomicBool::new(false));
    let body = {
        let too_large = too_large.clone();
        http_body_util::Limited::new(body, limit).map_err(move |e| {
            if e.is::<http_body_util::LengthLimitError>() {
                too_large.store(true, Ordering::Relaxed);
                wasmtime_wasi_http::Error::HttpRequestBodySize(Some(limit as u64))
            } else {
                wasmtime_wasi_http::Error::InternalError(Some(e.to_string()))
            }
        })
    };
    let req = hyper::Request::from_parts(parts, body);
    // A managed http function is served by its pool (unless the pool was
    // just retired for a new standard-mode version).
    let result = match host.pools.get(&f.name).filter(|p| !p.is_retired()) {
        Some(pool) => {
            pool.serve_http(req.map(BodyExt::boxed_unsync), &request_id)
                .await
        }
        None => standard::serve_http(&host.engine, &f, req, &request_id).await,
    };
    if too_large.load(Ordering::Relaxed) {
        return error_response(&InvokeError::PayloadTooLarge { limit });
    }
    match result {
        Ok((mut resp, timing)) => {
            add_timing(&mut resp, &timing);
            add_request_id(&mut resp, &request_id);
            resp
        }
        Err(e) => {
            let mut resp = error_response(&e);
            add_request_id(&mut resp, &request_id);
            resp
        }
    }
}

/// The plain-text error response for a failed data-plane request.
pub fn error_response(e: &InvokeError) -> Response {
    let status = match e {
        InvokeError::UnknownFunction { .. } => StatusCode::NOT_FOUND,
        InvokeError::WrongKind { .. } | InvokeError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        InvokeError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        InvokeError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        InvokeError::Trap { .. }
        | InvokeError::Exited { .. }
        | InvokeError::MemoryLimit { .. }
        | InvokeError::NoResponse { .. } => StatusCode::BAD_GATEWAY,
        InvokeError::Instantiate { .. }
        | InvokeError::EnvironmentRecycled { .. }
        | InvokeError::InitFailed { .. } => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut resp = text(status, e.to_string());
    if let Ok(v) = HeaderValue::from_str(e.reason()) {
        resp.headers_mut().insert("x-lamina-error", v);
    }
    resp
}

/// A new random request id (UUID v4 text).
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Reads a whole request body, refusing more than `limit` bytes.
pub async fn read_body<B>(body: B, limit: usize) -> Result<Bytes, InvokeError>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match http_body_util::Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(InvokeError::PayloadTooLarge { limit })
        }
        Err(e) => Err(InvokeError::BadRequest {
            message: format!("could not read the request body: {e}"),
        }),
    }
}

/// Binds `addr`, returning the listener and the address actually bound.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, SocketAddr)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    Ok((listener, local))
}
