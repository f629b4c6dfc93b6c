//! Criterion benches of the request path without HTTP: a fresh instance per
//! invocation (standard mode) with the pooling allocator and with on-demand
//! allocation, and a warm invocation of a reused instance (managed mode).
//!
//! Each iteration of a standard-mode bench is what one request costs inside
//! the host: take a permit, new store, instantiate from the pre-linked
//! component, call, drop. `hello-http` is called with a `GET /` and its
//! response body drained; `echo` with the payload `{"a":1}`.
//!
//! Run: `cargo bench -p lamina --bench instantiate`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{Criterion, criterion_group, criterion_main};
use lamina::config::{EngineConfig, FunctionConfig, ManagedConfig};
use lamina::engine::LaminaEngine;
use lamina::modes::managed::ManagedPool;
use lamina::modes::standard;
use lamina::registry::{Function, Registry};
use std::sync::Arc;

#[path = "support/guests.rs"]
mod guests;
use guests::guest;

fn load(pooling: bool, name: &str) -> (Arc<LaminaEngine>, Arc<Function>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = Arc::new(
        LaminaEngine::new(&EngineConfig {
            pooling,
            max_instances: 100,
            max_memory_mb: 128,
            cache_dir: dir.path().to_path_buf(),
        })
        .expect("engine"),
    );
    let registry = Registry::load(
        &engine,
        &[FunctionConfig::new(name, guest(&name.replace('-', "_")))],
    )
    .expect("load");
    let f = registry.get(name).expect("function");
    (engine, f, dir)
}

fn http_request() -> hyper::Request<
    http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, wasmtime_wasi_http::Error>,
> {
    use http_body_util::BodyExt;
    hyper::Request::get("http://localhost/")
        .header("host", "localhost")
        .body(
            http_body_util::Empty::<bytes::Bytes>::new()
                .map_err(
                    |never: std::convert::Infallible| -> wasmtime_wasi_http::Error {
                        match never {}
                    },
                )
                .boxed_unsync(),
        )
        .expect("request")
}

fn standard_mode(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("standard");
    for (pooling, alloc) in [(true, "pooling"), (false, "on-demand")] {
        let (engine, f, _dir) = load(pooling, "echo");
        group.bench_function(format!("echo/{alloc}"), |b| {
            b.to_async(&rt).iter(|| async {
                let (out, _) = standard::invoke_handler(&engine, &f, "bench", b"{\"a\":1}")
                    .await
                    .expect("invoke");
                out
            })
        });
        let (engine, f, _dir) = load(pooling, "hello-http");
        group.bench_function(format!("hello-http/{alloc}"), |b| {
            b.to_async(&rt).iter(|| async {
                let (resp, _) = standard::serve_http(&engine, &f, http_request(), "bench")
                    .await
                    .expect("serve");
                http_body_util::BodyExt::collect(resp.into_body())
                    .await
                    .expect("body")
            })
        });
    }
    group.finish();
}

fn managed_mode(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (engine, f, _dir) = load(true, "echo");
    let cfg = ManagedConfig {
        min_environments: 1,
        max_environments: 1,
        ..ManagedConfig::default()
    };
    let pool = rt
        .block_on(ManagedPool::start(engine, f, cfg))
        .expect("pool");
    c.bench_function("managed/echo/warm-invoke", |b| {
        b.to_async(&rt).iter(|| async {
            let (out, _) = pool.invoke("bench", b"{\"a\":1}").await.expect("invoke");
            out
        })
    });
}

criterion_group!(benches, standard_mode, managed_mode);
criterion_main!(benches);
