//! Durable executions at scale, outside criterion (one run each):
//!
//! - `durable/scale/{100,1000}x10`: N executions of 10 steps at once, with
//!   what the journal's single writer did meanwhile (commits, requests per
//!   commit, how busy it was), to see where the time of
//!   `durable/checkpoint/*_concurrent` goes.
//! - `durable/suspended`: host memory per suspended execution: starts N executions of the
//!   `durable-cases` fixture's `bench-steps` (`{"steps": 1, "then":
//!   "callback"}`: one step, then a wait for a callback), waits until every
//!   one of them has suspended (no invocation running or owed), and reports
//!   how much the process's resident memory grew per execution, next to the
//!   journal file's size per execution.
//!
//! The real executor and the real redb journal in a temp dir, as in
//! `benches/durable.rs`.
//!
//! Run: `cargo bench -p lamina --bench durable_scale` (N = 10,000; set
//! `LAMINA_SUSPENDED=N` for another count).

#![allow(missing_docs)]

use std::time::{Duration, Instant};

#[path = "support/durable_setup.rs"]
mod durable_setup;
#[path = "support/guests.rs"]
mod guests;
use durable_setup::{Setup, setup, with_writer_stats};

/// The resident memory of this process, in bytes (Linux `/proc`).
fn resident() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// Starts `n` executions that suspend, `batch` at a time, and waits until
/// none of them is running or owed an invocation.
async fn suspend(s: &Setup, n: usize, batch: usize) {
    let mut started = 0;
    while started < n {
        let k = batch.min(n - started);
        let starts = (0..k).map(|_| {
            s.durable
                .start_execution(&s.f, None, r#"{"steps":1,"then":"callback"}"#.to_string())
        });
        for r in futures::future::join_all(starts).await {
            r.expect("start");
        }
        started += k;
        while s.durable.active_count() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Runs `n` executions of 10 steps at once and prints steps/s.
async fn steps(s: &Setup, n: usize) {
    let t = Instant::now();
    let runs = (0..n).map(|_| async {
        let started = s
            .durable
            .start_execution(&s.f, None, r#"{"steps":10}"#.to_string())
            .await
            .expect("start");
        s.durable
            .wait_for_end(&started.execution.arn, Duration::from_secs(300))
            .await
            .expect("execution")
    });
    for e in futures::future::join_all(runs).await {
        assert_eq!(e.status, lamina::journal::ExecutionStatus::Succeeded);
    }
    let took = t.elapsed();
    println!(
        "durable/scale/{n}x10: {:.1} ms, {:.0} steps/s",
        took.as_secs_f64() * 1e3,
        (n * 10) as f64 / took.as_secs_f64()
    );
}

fn main() {
    let n: usize = std::env::var("LAMINA_SUSPENDED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let s = setup(&rt, 200);
    for n in [100, 1000] {
        rt.block_on(steps(&s, n)); // warm-up
        let what = format!("durable/scale/{n}x10");
        rt.block_on(with_writer_stats(&s, &what, steps(&s, n)));
    }
    // Warm up: every pool slot, the journal's first pages, the runtime's maps.
    rt.block_on(suspend(&s, 1_000, 500));
    let before = resident();
    let t = Instant::now();
    rt.block_on(with_writer_stats(&s, "suspending", suspend(&s, n, 500)));
    let took = t.elapsed();
    let after = resident();
    let journal: u64 = std::fs::read_dir(s.dir.path())
        .expect("journal dir")
        .filter_map(|e| e.ok()?.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    println!(
        "durable/suspended: {n} executions suspended in {:.2} s; resident +{:.1} MiB, \
         {:.0} bytes per suspended execution; journal {:.0} bytes per execution",
        took.as_secs_f64(),
        after.saturating_sub(before) as f64 / (1024.0 * 1024.0),
        after.saturating_sub(before) as f64 / n as f64,
        journal as f64 / (n + 1_000) as f64,
    );
}
