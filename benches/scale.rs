//! Criterion bench of durable throughput by journal and number of hosts:
//! 100 executions of 10 steps at the same time (the `durable-cases`
//! guest's `bench-steps` handler), reported as steps/s (criterion's
//! elements/s), in one run:
//!
//! - `scale/100x10/redb_1_host`: one host on the redb journal (fsync on);
//! - `scale/100x10/postgres_{1,2,3}_hosts`: N hosts on one PostgreSQL
//!   database (fsync on), the executions started round robin across them.
//!
//! A "host" here is a whole durable runtime with its own journal handle
//! (its own writer thread, connection pool and host id), in one process so
//! that the bench measures the journal and not HTTP. The PostgreSQL benches
//! need `LAMINA_TEST_PG_URL` (run under `scripts/postgres.sh`); without it
//! only redb runs.
//!
//! Run: `bash scripts/postgres.sh cargo bench -p lamina --bench scale`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lamina::config::{EngineConfig, FunctionConfig};
use lamina::durable::Durable;
use lamina::engine::LaminaEngine;
use lamina::journal::{ExecutionStatus, Journal, PgJournal, RedbJournal};
use lamina::registry::{Function, Registry};
use std::sync::Arc;
use std::time::Duration;

#[path = "support/guests.rs"]
mod guests;

const FUNCTION: &str = "bench-steps";

struct Hosts {
    hosts: Vec<Arc<Durable>>,
    f: Arc<Function>,
    _dir: tempfile::TempDir,
}

fn engine_and_function(dir: &std::path::Path) -> (Arc<LaminaEngine>, Arc<Function>) {
    let wasm = guests::guest("durable_cases");
    let engine = Arc::new(
        LaminaEngine::new(&EngineConfig {
            pooling: true,
            max_instances: 300,
            max_memory_mb: 128,
            cache_dir: dir.join("cache"),
        })
        .expect("engine"),
    );
    let registry = Registry::load(&engine, &[FunctionConfig::new(FUNCTION, wasm)]).expect("load");
    let f = registry.get(FUNCTION).expect("function");
    (engine, f)
}

/// A fresh database on the test server; its URL.
async fn fresh_database(url: &str) -> String {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    let name = format!("bench_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let base = url.rsplit_once('/').map_or(url, |(b, _)| b);
    format!("{base}/{name}")
}

/// `n` hosts on the journal `url` (PostgreSQL), or one on redb (`None`).
async fn hosts(url: Option<&str>, n: usize) -> Hosts {
    let dir = tempfile::tempdir().expect("tempdir");
    let (engine, f) = engine_and_function(dir.path());
    let mut hosts = Vec::new();
    for _ in 0..n {
        let journal: Arc<dyn Journal> = match url {
            Some(url) => Arc::new(PgJournal::open(url).await.expect("PostgreSQL journal")),
            None => Arc::new(RedbJournal::open_in(dir.path()).expect("redb journal")),
        };
        let durable = Durable::start(
            engine.clone(),
            journal,
            [f.clone()],
            Default::default(),
            None,
        )
        .await
        .expect("durable runtime");
        hosts.push(durable);
    }
    Hosts {
        hosts,
        f,
        _dir: dir,
    }
}

/// 100 executions of 10 steps, started round robin across the hosts, each
/// awaited to its end.
async fn run(h: &Hosts) {
    let runs = (0..100).map(|i| async move {
        let host = &h.hosts[i % h.hosts.len()];
        let started = host
            .start_execution(&h.f, None, r#"{"steps":10}"#.to_string())
            .await
            .expect("start");
        let e = host
            .wait_for_end(&started.execution.arn, Duration::from_secs(300))
            .await
            .expect("execution");
        assert_eq!(e.status, ExecutionStatus::Succeeded, "{e:?}");
    });
    futures::future::join_all(runs).await;
}

fn scale(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut g = c.benchmark_group("scale/100x10");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100 * 10));
    let redb = rt.block_on(hosts(None, 1));
    g.bench_function("redb_1_host", |b| b.to_async(&rt).iter(|| run(&redb)));
    drop(redb);
    match std::env::var("LAMINA_TEST_PG_URL") {
        Ok(url) => {
            for n in 1..=3 {
                let db = rt.block_on(fresh_database(&url));
                let h = rt.block_on(hosts(Some(&db), n));
                let id = format!("postgres_{n}_host{}", if n == 1 { "" } else { "s" });
                g.bench_function(id, |b| b.to_async(&rt).iter(|| run(&h)));
            }
        }
        Err(_) => eprintln!("scale: LAMINA_TEST_PG_URL is not set: PostgreSQL benches skipped"),
    }
    g.finish();
}

criterion_group!(benches, scale);
criterion_main!(benches);
