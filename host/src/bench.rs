//! `lamina bench`: instantiates a component many times the way standard mode
//! does and reports the distribution of instantiate and first-call times and
//! the resident memory each live instance costs.

use crate::config::{EngineConfig, FunctionConfig};
use crate::engine::LaminaEngine;
use crate::error::{InvokeError, LoadError};
use crate::modes::standard::{self, Timing};
use crate::registry::{Pre, Registry};
use bytes::Bytes;
use serde::Serialize;
use std::path::PathBuf;
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
}

/// Runs the benchmark.
pub async fn run(opts: &BenchOptions) -> Result<BenchReport, BenchError> {
    let tmp = tempdir()?;
    let cache_dir = opts.cache_dir.clone().unwrap_or_else(|| tmp.clone());
    let engine = LaminaEngine::new(&EngineConfig {
        pooling: opts.pooling,
        max_instances: opts.resident_sample.max(16) + 16,
        max_memory_mb: 512,
        cache_dir,
    })?;
    let start = Instant::now();
    let mut cfg = FunctionConfig::new("bench", &opts.component);
    cfg.memory_mb = 512;
    let registry = Registry::load(&engine, &[cfg])?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    let f = registry
        .get("bench")
        .cloned()
        .ok_or_else(|| BenchError::Instantiate("function not loaded".into()))?;

    let mut inst = Vec::with_capacity(opts.iterations as usize);
    let mut call = Vec::with_capacity(opts.iterations as usize);
    for i in 0..(opts.warmup + opts.iterations) {
        let timing = once(&engine, &f, &opts.payload).await?;
        if i >= opts.warmup {
            inst.push(timing.instantiate);
            call.push(timing.run);
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
    })
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
            let (resp, timing) = standard::serve_http(engine, f, req).await?;
            // Drain the body so the instance finishes before the next one.
            let _ = http_body_util::BodyExt::collect(resp.into_body()).await;
            Ok(timing)
        }
        Pre::Durable(_) => Err(durable_refused(f)),
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
            Pre::Durable(_) => {
                return Err(BenchError::Instantiate(durable_refused(f).to_string()));
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
    out.push_str(&row("first call", &r.first_call_us));
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
