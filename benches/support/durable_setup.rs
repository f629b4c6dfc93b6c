//! Shared by the durable benches: the real executor on a real redb journal
//! in a temp dir, serving the `durable-cases` fixture's `bench-steps`.

// Each bench includes this module and uses part of it.
#![allow(dead_code)]

use lamina::config::{EngineConfig, FunctionConfig};
use lamina::durable::Durable;
use lamina::engine::LaminaEngine;
use lamina::registry::{Function, Registry};
use std::sync::Arc;

/// The handler of `durable-cases` the benches run.
pub const FUNCTION: &str = "bench-steps";

/// A durable runtime serving `bench-steps`, and the temp dir of its journal.
pub struct Setup {
    /// The durable runtime.
    pub durable: Arc<Durable>,
    /// The function.
    pub f: Arc<Function>,
    /// The journal (for its write counters).
    pub journal: Arc<lamina::journal::RedbJournal>,
    /// The temp dir holding the journal (removed on drop).
    pub dir: tempfile::TempDir,
}

/// Starts a durable runtime with room for `max_instances` live instances.
pub fn setup(rt: &tokio::runtime::Runtime, max_instances: u32) -> Setup {
    let wasm = super::guests::guest("durable_cases");
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(
        LaminaEngine::new(&EngineConfig {
            pooling: true,
            max_instances,
            max_memory_mb: 128,
            cache_dir: dir.path().join("cache"),
        })
        .expect("engine"),
    );
    let registry = Registry::load(&engine, &[FunctionConfig::new(FUNCTION, wasm)]).expect("load");
    let f = registry.get(FUNCTION).expect("function");
    let journal = Arc::new(lamina::journal::RedbJournal::open_in(dir.path()).expect("journal"));
    let durable = rt
        .block_on(Durable::start(
            engine,
            journal.clone(),
            [f.clone()],
            Default::default(),
            None,
        ))
        .expect("durable runtime");
    Setup {
        durable,
        f,
        journal,
        dir,
    }
}

/// Runs `work` and prints to stderr what the journal's single writer did
/// meanwhile: commits, requests per commit, and how busy it was.
pub async fn with_writer_stats<F: std::future::Future>(
    s: &Setup,
    what: &str,
    work: F,
) -> F::Output {
    use lamina::journal::Journal;
    let before = s.journal.stats();
    let t = std::time::Instant::now();
    let out = work.await;
    let wall = t.elapsed();
    let after = s.journal.stats();
    let commits = after.commits - before.commits;
    let requests = after.requests - before.requests;
    let busy_us = after.commit_us - before.commit_us;
    eprintln!(
        "{what}: {commits} commits, {:.1} requests per commit, writer busy {:.0}% of {:.1} ms",
        requests as f64 / commits.max(1) as f64,
        busy_us as f64 * 100.0 / wall.as_micros().max(1) as f64,
        wall.as_secs_f64() * 1e3,
    );
    out
}
