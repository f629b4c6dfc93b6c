//! Criterion benches of durable executions, in process (no HTTP): the real
//! executor, the real redb journal in a temp dir (fsync on every commit) and
//! the `durable-cases` guest's `bench-steps` handler, which runs N steps.
//!
//! - `durable/checkpoint/one_execution`: one execution of 100 steps; each
//!   step is two journal commits (StepStarted, StepSucceeded). Reported per
//!   execution and as steps/s.
//! - `durable/checkpoint/100_concurrent`: 100 executions of 10 steps at the
//!   same time, so group commit shares each fsync; reported as steps/s.
//! - `durable/checkpoint/1000_concurrent`: the same with 1000 executions
//!   (at most 200 instances live at once, the rest wait for a place).
//! - `durable/replay/{10,100,1000}`: one invocation of an execution that has
//!   N completed steps and waits for a callback: load the state, replay N
//!   steps from it without running their bodies, suspend again.
//!
//! Run: `cargo bench -p lamina --bench durable`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lamina::journal::ExecutionStatus;
use std::time::Duration;

#[path = "support/durable_setup.rs"]
mod durable_setup;
#[path = "support/guests.rs"]
mod guests;
use durable_setup::{Setup, setup};

/// Runs one execution of `steps` steps to its end.
async fn run(s: &Setup, steps: u32) {
    let started = s
        .durable
        .start_execution(&s.f, None, format!(r#"{{"steps":{steps}}}"#))
        .await
        .expect("start");
    let e = s
        .durable
        .wait_for_end(&started.execution.arn, Duration::from_secs(120))
        .await
        .expect("execution");
    assert_eq!(e.status, ExecutionStatus::Succeeded, "{e:?}");
}

fn checkpoint(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s = setup(&rt, 200);
    let mut g = c.benchmark_group("durable/checkpoint");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100));
    g.bench_function("one_execution", |b| b.to_async(&rt).iter(|| run(&s, 100)));
    g.throughput(Throughput::Elements(100 * 10));
    g.bench_function("100_concurrent", |b| {
        b.to_async(&rt).iter(|| async {
            let runs = (0..100).map(|_| run(&s, 10));
            futures::future::join_all(runs).await;
        })
    });
    g.throughput(Throughput::Elements(1000 * 10));
    g.bench_function("1000_concurrent", |b| {
        b.to_async(&rt).iter(|| async {
            let runs = (0..1000).map(|_| run(&s, 10));
            futures::future::join_all(runs).await;
        })
    });
    g.finish();
}

fn replay(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s = setup(&rt, 200);
    let mut g = c.benchmark_group("durable/replay");
    g.sample_size(10);
    for steps in [10u32, 100, 1000] {
        // An execution that completed `steps` steps and now waits for a callback.
        let arn = rt.block_on(async {
            let started = s
                .durable
                .start_execution(
                    &s.f,
                    None,
                    format!(r#"{{"steps":{steps},"then":"callback"}}"#),
                )
                .await
                .expect("start");
            let arn = started.execution.arn;
            loop {
                let e = s.durable.get(&arn).await.expect("get");
                assert_eq!(e.status, ExecutionStatus::Running);
                if !e.invocation_in_progress && s.durable.active_count() == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            arn
        });
        g.throughput(Throughput::Elements(u64::from(steps)));
        g.bench_with_input(BenchmarkId::from_parameter(steps), &arn, |b, arn| {
            b.to_async(&rt)
                .iter(|| async { s.durable.invoke_now(arn).await.expect("replay") })
        });
    }
    g.finish();
}

criterion_group!(benches, checkpoint, replay);
criterion_main!(benches);
