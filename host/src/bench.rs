//! `lamina bench`: instantiates a component many times the way standard mode
//! does and reports the distribution of instantiate and first-call times and
//! the resident memory each live instance costs.
//!
//! A durable component is measured the way durable mode runs it: instantiate
//! (new store + instantiate from the pre-linked component), and replay: one
//! execution is started with the payload on a real redb journal in a temp
//! dir and run until it suspends (a wait or callback); then each measured
//! invocation re-runs it from the start, replaying its completed operations
//! from the journal without running their bodies, and suspends again.

use crate::config::{EngineConfig, FunctionConfig};
use crate::durable::Durable;
use crate::engine::LaminaEngine;
use crate::error::{InvokeError, LoadError};
use crate::journal::{ExecutionStatus, RedbJournal};
use crate::modes::standard::{self, Timing};
use crate::registry::{Pre, Registry};
use bytes::Bytes;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The component.
    pub component: PathBuf,
    /// Measured iterations.
    pub iterations: u32,
    /// Iterations run first and not measured.
    pub warmup: u32,
    /// Pooling allocator (true) or on-demand allocation.
    pub pooling: bool,
    /// Payload for handler functions.
    pub payload: Vec<u8>,
    /// Instances held alive at once to measure resident memory.
    pub resident_sample: u32,
    /// Where compiled code is cached (`None`: a fresh temporary directory).
    pub cache_dir: Option<PathBuf>,
    /// The function's name (durable guests may dispatch on it).
    pub function_name: String,
}

/// A latency distribution in microseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Distribution {
    /// Fastest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
}

impl Distribution {
    fn of(mut v: Vec<Duration>) -> Self {
        v.sort();
        let at = |p: f64| {
            let i = ((v.len().saturating_sub(1)) as f64 * p).round() as usize;
            v.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e6)
        };
        Distribution {
            min: at(0.0),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}

/// The measurements.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    /// The component file.
    pub component: String,
    /// `http` or `handler`.
    pub kind: &'static str,
    /// Whether the pooling allocator was used.
    pub pooling: bool,
    /// Measured iterations.
    pub iterations: u32,
    /// Milliseconds to compile (or load from cache) and link.
    pub load_ms: f64,
    /// New store + instantiate, µs.
    pub instantiate_us: Distribution,
    /// The first (and only) call on the fresh instance, µs (http: until the
    /// response head is ready).
    pub first_call_us: Distribution,
    /// Resident memory per live instance, bytes (growth of the process RSS
    /// with `resident_sample` instances alive, divided by that number).
    pub resident_bytes_per_instance: u64,
    /// Instances held alive for the memory measurement.
    pub resident_sample: u32,
    /// Durable functions: one invocation replaying the execution's journal
    /// up to its suspension, µs (instantiate, replay, suspend, commit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay_us: Option<Distribution>,
    /// Durable functions: operations in the replayed journal (steps, waits, contexts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed_operations: Option<usize>,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The engine could not be created.
    #[error(transparent)]
    Engine(#[from] crate::engine::EngineError),
    /// The component could not be loaded.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// An invocation failed.
    #[error(transparent)]
    Invoke(#[from] InvokeError),
    /// A temporary directory could not be made.
    #[error("cannot create a temporary cache directory: {0}")]
    Io(#[from] std::io::Error),
    /// Holding instances for the memory measurement failed.
    #[error("instantiating for the memory measurement failed: {0}")]
    Instantiate(String),
    /// The durable replay measurement failed.
    #[error("durable replay: {0}")]
    Replay(String),
}

/// Runs the benchmark.
pub async fn run(opts: &BenchOptions) -> Result<BenchReport, BenchError> {
    let tmp = tempdir()?;
    let cache_dir = opts.cache_dir.clone().unwrap_or_else(|| tmp.clone());
    let engine = Arc::new(LaminaEngine::new(&EngineConfig {
        pooling: opts.pooling,
        max_instances: opts.resident_sample.max(16) + 16,
        max_memory_mb: 512,
        cache_dir,
    })?);
    let start = Instant::now();
    let mut cfg = FunctionConfig::new(&opts.function_name, &opts.component);
    cfg.memory_mb = 512;
    let registry = Registry::load(&engine, &[cfg])?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let f = registry
        .get(&opts.function_name)
        .ok_or_else(|| BenchError::Instantiate("function not loaded".into()))?;

    let mut inst = Vec::with_capacity(opts.iterations as usize);
    let mut call = Vec::with_capacity(opts.iterations as usize);
    let mut replay = None;
    if let Pre::Durable(pre) = &f.pre {
        for i in 0..(opts.warmup + opts.iterations) {
            let started = Instant::now();
            let mut store = engine
                .new_store(&f.name, &f.config)
                .map_err(|e| BenchError::Instantiate(format!("{e:#}")))?;
            pre.instantiate(&mut store)
                .await
                .map_err(|e| BenchError::Instantiate(format!("{e:#}")))?;
            if i >= opts.warmup {
                inst.push(started.elapsed());
            }
        }
        let (d, ops) = durable_replay(&engine, &f, opts, &tmp).await?;
        call = d.clone();
        replay = Some((Distribution::of(d), ops));
    } else {
        for i in 0..(opts.warmup + opts.iterations) {
            let timing = once(&engine, &f, &opts.payload).await?;
            if i >= opts.warmup {
                inst.push(timing.instantiate);
                call.push(timing.run);
            }
        }
    }
    let resident = resident_per_instance(&engine, &f, opts).await?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(BenchReport {
        component: opts.component.display().to_string(),
        kind: f.kind.as_str(),
        pooling: opts.pooling,
        iterations: opts.iterations,
        load_ms,
        instantiate_us: Distribution::of(inst),
        first_call_us: Distribution::of(call),
        resident_bytes_per_instance: resident,
        resident_sample: opts.resident_sample,
        replayed_operations: replay.as_ref().map(|(_, ops)| *ops),
        replay_us: replay.map(|(d, _)| d),
    })
}

/// Starts one execution with the payload on a redb journal in `tmp`, lets
/// it run until it suspends, then times `iterations` invocations that each
/// replay it (after `warmup` unmeasured ones). Returns the times and the
/// number of operations in its journal.
async fn durable_replay(
    engine: &Arc<LaminaEngine>,
    f: &Arc<crate::registry::Function>,
    opts: &BenchOptions,
    tmp: &std::path::Path,
) -> Result<(Vec<Duration>, usize), BenchError> {
    let err = |e: crate::durable::DurableError| BenchError::Replay(e.to_string());
    let state = tmp.join("journal");
    std::fs::create_dir_all(&state)?;
    let journal = RedbJournal::open_in(&state).map_err(|e| BenchError::Replay(e.to_string()))?;
    let durable = Durable::start(
        engine.clone(),
        Arc::new(journal),
        [f.clone()],
        Default::default(),
        None,
    )
    .await
    .map_err(|e| BenchError::Replay(e.to_string()))?;
    let payload = String::from_utf8_lossy(&opts.payload).into_owned();
    let started = durable
        .start_execution(f, None, payload)
        .await
        .map_err(err)?;
    let arn = started.execution.arn;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let e = durable.get(&arn).await.map_err(err)?;
        if e.status != ExecutionStatus::Running {
            return Err(BenchError::Replay(format!(
                "the execution ended ({:?}) before it suspended: give a --payload that makes \
                 it wait (a wait or a callback), e.g. the order workflow's order",
                e.status
            )));
        }
        if !e.invocation_in_progress && durable.active_count() == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(BenchError::Replay(
                "the execution did not suspend within 300 s".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ops = durable
        .journal()
        .load_state(&arn)
        .await
        .map(|st| st.operations.len())
        .unwrap_or_default();
    let mut times = Vec::with_capacity(opts.iterations as usize);
    for i in 0..(opts.warmup + opts.iterations) {
        let t = Instant::now();
        durable.invoke_now(&arn).await.map_err(err)?;
        if i >= opts.warmup {
            times.push(t.elapsed());
        }
    }
    Ok((times, ops))
}

async fn once(
    engine: &LaminaEngine,
    f: &std::sync::Arc<crate::registry::Function>,
    payload: &[u8],
) -> Result<Timing, InvokeError> {
    match &f.pre {
        Pre::Handler(_) => {
            let (_, timing) = standard::invoke_handler(engine, f, "bench", payload).await?;
            Ok(timing)
        }
        Pre::Http(_) => {
            let req = hyper::Request::get("http://localhost/")
                .header("host", "localhost")
                .body(http_body_util::BodyExt::map_err(
                    http_body_util::Empty::<Bytes>::new(),
                    |never: std::convert::Infallible| -> wasmtime_wasi_http::Error {
                        match never {}
                    },
                ))
                .map_err(|e| InvokeError::BadRequest {
                    message: e.to_string(),
                })?;
            let (resp, timing) = standard::serve_http(engine, f, req, "bench").await?;
            // Drain the body so the instance finishes before the next one.
            let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
            Ok(timing)
        }
        Pre::Durable(_) => Err(durable_refused(f)),
        Pre::HttpService(_) => Err(InvokeError::WrongKind {
            name: f.name.to_string(),
            kind: f.kind.as_str(),
            hint: "a wasi:http 0.3 service runs in managed mode only: serve it with \
                   `mode = \"managed\"` (benches/managed_vs_standard.rs measures managed mode)"
                .into(),
        }),
    }
}

/// RSS growth per instance with `resident_sample` instances alive (each
/// instantiated and, for handlers, called once).
async fn resident_per_instance(
    engine: &LaminaEngine,
    f: &crate::registry::Function,
    opts: &BenchOptions,
) -> Result<u64, BenchError> {
    let err = |e: wasmtime::Error| BenchError::Instantiate(format!("{e:#}"));
    let before = resident_bytes();
    let mut alive = Vec::with_capacity(opts.resident_sample as usize);
    for _ in 0..opts.resident_sample {
        let mut store = engine.new_store(&f.name, &f.config).map_err(err)?;
        match &f.pre {
            Pre::Handler(pre) => {
                let instance = pre.instantiate(&mut store).await.map_err(err)?;
                let handle = pre.handle(&mut store, &instance).map_err(err)?;
                let params = (
                    standard::invocation(f, "bench", Duration::ZERO),
                    opts.payload.clone(),
                );
                standard::call_handle(&mut store, handle, pre.is_async, params)
                    .await
                    .map_err(err)?
                    .map_err(|e| BenchError::Instantiate(e.error_message))?;
            }
            Pre::Http(pre) => {
                pre.instantiate_async(&mut store).await.map_err(err)?;
            }
            Pre::HttpService(pre) => {
                pre.service
                    .instantiate_async(&mut store)
                    .await
                    .map_err(err)?;
            }
            Pre::Durable(pre) => {
                pre.instantiate(&mut store).await.map_err(err)?;
            }
        }
        alive.push(store);
    }
    let after = resident_bytes();
    drop(alive);
    Ok(after.saturating_sub(before) / u64::from(opts.resident_sample.max(1)))
}

/// The process's resident set size (Linux `/proc/self/statm`), 0 elsewhere.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn tempdir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("lamina-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Renders the report as a small table.
pub fn render(r: &BenchReport) -> String {
    let row = |name: &str, d: &Distribution| {
        format!(
            "  {name:<16} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}\n",
            d.min, d.p50, d.p90, d.p99, d.max
        )
    };
    let mut out = format!(
        "{} ({} function, {} allocator), {} iterations, loaded in {:.0} ms\n",
        r.component,
        r.kind,
        if r.pooling { "pooling" } else { "on-demand" },
        r.iterations,
        r.load_ms
    );
    out.push_str(&format!(
        "  {:<16} {:>9} {:>9} {:>9} {:>9} {:>9}\n",
        "µs", "min", "p50", "p90", "p99", "max"
    ));
    out.push_str(&row("instantiate", &r.instantiate_us));
    match &r.replay_us {
        Some(replay) => {
            out.push_str(&row("replay invoke", replay));
            out.push_str(&format!(
                "  replay: one invocation re-running the execution over its journal of {} \
                 operations up to its suspension\n",
                r.replayed_operations.unwrap_or_default()
            ));
        }
        None => out.push_str(&row("first call", &r.first_call_us)),
    }
    out.push_str(&format!(
        "  resident memory per instance: {:.1} KiB ({} instances alive)\n",
        r.resident_bytes_per_instance as f64 / 1024.0,
        r.resident_sample
    ));
    out
}

fn durable_refused(f: &crate::registry::Function) -> InvokeError {
    InvokeError::WrongKind {
        name: f.name.to_string(),
        kind: f.kind.as_str(),
        hint: "durable functions run as executions: serve them and start executions with \
               `lamina invoke` (the journal benchmarks are in benches/durable.rs)"
            .into(),
    }
}
