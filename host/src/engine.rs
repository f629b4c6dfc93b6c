//! The process-wide wasmtime engine: pooling allocator, copy-on-write memory
//! initialisation, epoch interruption, the shared linker (the imports every
//! function may use: WASI and wasi:http; a kind of function with imports of
//! its own links them into a copy, see `registry`), and the on-disk cache of
//! compiled components.
//!
//! Every store yields to tokio on each epoch tick, so a guest that spins
//! shares the runtime's threads instead of holding one for its whole
//! timeout, and its deadline is checked on the same tick.

use crate::config::{EngineConfig, FunctionConfig, HostConfig};
use crate::error::LoadError;
use crate::metrics::HostMetrics;
use crate::outbound::ListenAddrs;
use crate::state::HostState;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore};
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, StoreContextMut,
    UpdateDeadline,
};

/// How often the epoch advances; timeouts are measured in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Where a loaded component's machine code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// Compiled by cranelift during this start (and written to the cache).
    Compiled,
    /// Read from the compiled-component cache.
    Cache,
}

impl CodeSource {
    /// `compiled` or `cache`, for logs and the function table.
    pub fn as_str(self) -> &'static str {
        match self {
            CodeSource::Compiled => "compiled",
            CodeSource::Cache => "cache",
        }
    }
}

/// Errors creating the engine itself.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the wasmtime engine: {0}")]
pub struct EngineError(String);

/// The engine, its linker and the host-wide instance budget.
pub struct LaminaEngine {
    engine: Engine,
    linker: Linker<HostState>,
    cache_dir: PathBuf,
    budget: InstanceBudget,
    /// Host-wide counters (compilations, cache hits, rejections).
    pub metrics: Arc<HostMetrics>,
    stop_ticker: Arc<AtomicBool>,
    pooling: bool,
    listen: ListenAddrs,
}

impl LaminaEngine {
    /// Creates the engine for `cfg` and starts the epoch ticker thread.
    pub fn new(cfg: &EngineConfig) -> Result<Self, EngineError> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.memory_init_cow(true);
        config.wasm_component_model(true);
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Disable);
        if cfg.pooling {
            let n = cfg.max_instances;
            let mut pool = PoolingAllocationConfig::new();
            pool.total_component_instances(n)
                .total_core_instances(n.saturating_mul(16))
                .total_memories(n.saturating_mul(2))
                .total_tables(n.saturating_mul(4))
                .total_stacks(n)
                .max_memory_size(
                    usize::try_from(cfg.max_memory_mb * 1024 * 1024).unwrap_or(usize::MAX),
                );
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(|e| EngineError(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| EngineError(format!("linking WASI: {e:#}")))?;
        // WASI 0.3 (async guests: timers, streams) beside 0.2.
        wasmtime_wasi::p3::add_to_linker(&mut linker)
            .map_err(|e| EngineError(format!("linking WASI 0.3: {e:#}")))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|e| EngineError(format!("linking wasi:http: {e:#}")))?;
        // wasi:http 0.3 (services served in managed mode, many requests at
        // once per instance).
        wasmtime_wasi_http::p3::add_to_linker(&mut linker)
            .map_err(|e| EngineError(format!("linking wasi:http 0.3: {e:#}")))?;
        crate::symlinks::guard(&mut linker)
            .map_err(|e| EngineError(format!("linking the symlink guard: {e:#}")))?;

        let stop_ticker = Arc::new(AtomicBool::new(false));
        {
            let engine = engine.clone();
            let stop = stop_ticker.clone();
            std::thread::Builder::new()
                .name("lamina-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(EPOCH_TICK);
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| EngineError(format!("starting the epoch thread: {e}")))?;
        }
        let permits = usize::try_from(cfg.max_instances).unwrap_or(usize::MAX);
        Ok(LaminaEngine {
            engine,
            linker,
            cache_dir: cfg.cache_dir.clone(),
            budget: InstanceBudget {
                shared: Arc::new(Semaphore::new(permits)),
                durable: Arc::new(Semaphore::new(permits)),
                reserved: HashMap::new(),
            },
            metrics: Arc::default(),
            stop_ticker,
            pooling: cfg.pooling,
            listen: ListenAddrs::default(),
        })
    }

    /// The wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The linker with WASI 0.2 and 0.3 and wasi:http 0.2 host functions:
    /// what every function may import.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// Whether the pooling allocator is in use.
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// Shares the instance budget out as `cfg` says: each function's
    /// `reserved_concurrency` is set aside for it alone (and caps it), the
    /// rest is shared, and durable invocations hold at most
    /// `max_durable_instances` of the shared instances.
    pub fn set_instance_limits(&mut self, cfg: &HostConfig) {
        let permits = |n: u32| Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(usize::MAX)));
        let unreserved = cfg.unreserved_instances();
        self.budget = InstanceBudget {
            shared: permits(unreserved),
            durable: permits(cfg.max_durable_instances.min(unreserved)),
            reserved: cfg
                .functions
                .iter()
                .filter_map(|f| Some((f.name.clone(), permits(f.reserved_concurrency?))))
                .collect(),
        };
    }

    /// Waits for room for one live instance of `function`: a permit per
    /// live instance, so a full pool makes requests wait instead of failing.
    /// A function with reserved instances takes one of its own; any other
    /// takes a shared one, and a durable invocation first takes one of the
    /// durable share, so replays never fill the whole shared pool.
    pub async fn acquire_instance(
        &self,
        function: &str,
        usage: InstanceUse,
    ) -> Result<InstancePermit, AcquireError> {
        let b = &self.budget;
        if let Some(own) = b.reserved.get(function) {
            let main = own.clone().acquire_owned().await?;
            return Ok(InstancePermit {
                _durable: None,
                _main: main,
            });
        }
        let durable = match usage {
            InstanceUse::Durable => Some(b.durable.clone().acquire_owned().await?),
            InstanceUse::Request => None,
        };
        let main = b.shared.clone().acquire_owned().await?;
        Ok(InstancePermit {
            _durable: durable,
            _main: main,
        })
    }

    /// Records an address the host listens on: guests never reach it
    /// unless an `allowed_outbound_hosts` entry names it exactly.
    pub fn add_listen_addr(&self, addr: std::net::SocketAddr) {
        self.listen.add(addr);
    }

    /// A fresh store for one instance of `function`, with its memory limit
    /// and a deadline of `timeout_ms` from now. The store yields to tokio on
    /// every epoch tick and traps with `Trap::Interrupt` once the deadline
    /// (moved on by the time spent waiting on the host) has passed.
    pub fn new_store(
        &self,
        name: &Arc<str>,
        cfg: &FunctionConfig,
    ) -> wasmtime::Result<Store<HostState>> {
        let mut store = Store::new(&self.engine, HostState::new(name, cfg, &self.listen)?);
        store.limiter(|s| &mut s.limiter);
        store.data_mut().deadline = Some(Instant::now() + Duration::from_millis(cfg.timeout_ms));
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(on_epoch_tick);
        Ok(store)
    }

    /// Loads the component at `path`: from the compiled cache when this exact
    /// component was compiled before by a compatible engine, else compiled now
    /// and cached. Also returns the sha256 of the component's bytes (hex).
    pub fn load_component(
        &self,
        path: &Path,
    ) -> Result<(Component, CodeSource, String), LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        check_header(path, &bytes)?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let key = self.cache_key(&sha256);
        let cached = self.cache_dir.join(format!("{key}.cwasm"));
        if cached.is_file() {
            match self.deserialize(&cached) {
                Ok(c) => {
                    self.metrics.cache_hits.fetch_add(1, Ordering::Relaxed);
                    return Ok((c, CodeSource::Cache, sha256));
                }
                Err(e) => {
                    tracing::warn!(cache = %cached.display(), "ignoring unreadable cached component: {e:#}");
                }
            }
        }
        // A large component takes a while (an 18 MB Python one about 24 s
        // on two cores): say so before, and how long it took after.
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        tracing::info!(
            target: "lamina::compile",
            "compiling {name} ({})…",
            human_size(bytes.len() as u64)
        );
        let started = std::time::Instant::now();
        let component = Component::new(&self.engine, &bytes).map_err(|e| LoadError::Compile {
            path: path.to_path_buf(),
            message: format!("{e:#}"),
        })?;
        self.metrics.compilations.fetch_add(1, Ordering::Relaxed);
        let took = started.elapsed().as_secs_f64();
        match self.write_cache(&component, &cached) {
            Ok(()) => tracing::info!(
                target: "lamina::compile",
                "compiling {name}… done in {took:.1} s (cached in {}: the next start loads it \
                 without compiling)",
                self.cache_dir.display()
            ),
            // A cache we cannot write only costs time on the next start.
            Err(e) => {
                tracing::info!(target: "lamina::compile", "compiling {name}… done in {took:.1} s");
                tracing::warn!("{e}");
            }
        }
        Ok((component, CodeSource::Compiled, sha256))
    }

    /// The cache file name of a component whose bytes have this sha256.
    fn cache_key(&self, sha256: &str) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.engine.precompile_compatibility_hash().hash(&mut h);
        format!("{sha256}-{:016x}", h.finish())
    }

    #[allow(unsafe_code)]
    fn deserialize(&self, path: &Path) -> wasmtime::Result<Component> {
        // SAFETY: the file lives in our own cache directory, was written by
        // `write_cache` from `Component::serialize` (atomically, via rename),
        // and its name binds it to the source's sha256 and this engine's
        // compatibility hash. Wasmtime additionally checks its header.
        unsafe { Component::deserialize_file(&self.engine, path) }
    }

    fn write_cache(&self, component: &Component, path: &Path) -> Result<(), LoadError> {
        let err = |message: String| LoadError::Cache {
            path: path.to_path_buf(),
            message,
        };
        std::fs::create_dir_all(&self.cache_dir).map_err(|e| err(e.to_string()))?;
        let bytes = component.serialize().map_err(|e| err(format!("{e:#}")))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes).map_err(|e| err(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
    }
}

/// A size in bytes for people: `18.2 MB`, `312 KB`.
fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

/// What an instance is for, which decides the budget it comes from (see
/// [`LaminaEngine::acquire_instance`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceUse {
    /// A request: http, handler, managed environment, chained or queued invoke.
    Request,
    /// A durable invocation (a first run or a replay).
    Durable,
}

/// The semaphores the live instances are counted in.
struct InstanceBudget {
    /// Instances of functions without a reservation.
    shared: Arc<Semaphore>,
    /// The part of `shared` durable invocations may hold.
    durable: Arc<Semaphore>,
    /// Each reserving function's own instances.
    reserved: HashMap<String, Arc<Semaphore>>,
}

/// One live instance's place in the budget; dropping it frees the place.
pub struct InstancePermit {
    _durable: Option<OwnedSemaphorePermit>,
    _main: OwnedSemaphorePermit,
}

impl Drop for LaminaEngine {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

/// Called on every epoch tick a store's guest runs through: trap when past
/// the deadline, else let other tasks run before continuing.
fn on_epoch_tick(ctx: StoreContextMut<'_, HostState>) -> wasmtime::Result<UpdateDeadline> {
    if ctx.data().past_deadline() {
        return Ok(UpdateDeadline::Interrupt);
    }
    Ok(UpdateDeadline::YieldCustom(
        1,
        Box::pin(tokio::task::yield_now()),
    ))
}

/// Epoch ticks covering `timeout_ms` (rounded up, plus one for the partial tick).
pub fn ticks_for(timeout_ms: u64) -> u64 {
    let tick = u64::try_from(EPOCH_TICK.as_millis()).unwrap_or(10).max(1);
    timeout_ms.div_ceil(tick) + 1
}

/// Rejects files that are not WebAssembly components before wasmtime sees them,
/// so the error says what the file is.
fn check_header(path: &Path, bytes: &[u8]) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[0..4] != b"\0asm" {
        return Err(LoadError::NotWasm {
            path: path.to_path_buf(),
        });
    }
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule {
            path: path.to_path_buf(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_check_names_what_the_file_is() {
        let p = Path::new("x.wasm");
        assert!(matches!(
            check_header(p, b"hello world"),
            Err(LoadError::NotWasm { .. })
        ));
        assert!(matches!(
            check_header(p, b"\0asm\x01\0\0\0"),
            Err(LoadError::CoreModule { .. })
        ));
        assert!(check_header(p, b"\0asm\x0d\0\x01\0").is_ok());
    }

    #[test]
    fn ticks_round_up() {
        assert_eq!(ticks_for(1), 2);
        assert_eq!(ticks_for(10), 2);
        assert_eq!(ticks_for(25), 4);
    }
}
