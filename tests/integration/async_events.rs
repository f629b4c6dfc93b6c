//! Event invokes of handler functions: queued in the journal (surviving
//! `kill -9`), retried like Lambda, bounded, and checked before they are
//! accepted.

use crate::support::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// A config serving the faults fixture as `faults` with `/data` preopened
/// at `data`, and the `[async]` settings in `async_section`.
fn config(data: &Path, async_section: &str) -> String {
    format!(
        "[async]\n{async_section}\n[functions.faults]\ncomponent = {}\ndirs = {{ \"/data\" = {} }}\n",
        toml_path(&guests().faults),
        toml_path(data)
    )
}

/// Starts a host on `state` with its config and `data/` inside.
fn start(state: tempfile::TempDir, async_section: &str) -> Lamina {
    let data = state.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let cfg = write_config(state.path(), &config(&data, async_section));
    let cfg = cfg.to_str().expect("utf8").to_string();
    Lamina::start_in(&["--config", cfg.as_str()], state, Some(shared_cache()))
}

/// The lines the fixture appended to `data/events.log`.
fn lines(state: &Path) -> Vec<String> {
    std::fs::read_to_string(state.join("data/events.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn count(lines: &[String], line: &str) -> usize {
    lines.iter().filter(|l| *l == line).count()
}

async fn event(host: &Lamina, payload: &str) -> (u16, Value) {
    let resp = invoke(host, "faults", payload, "Event").await;
    let status = resp.status().as_u16();
    let body = resp.text().await.expect("body");
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Polls until `done` holds for the appended lines, or panics after `limit`.
async fn wait_lines(
    state: &Path,
    limit: Duration,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + limit;
    loop {
        let l = lines(state);
        if done(&l) {
            return l;
        }
        assert!(
            Instant::now() < deadline,
            "gave up waiting; lines so far: {l:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn queued_events_survive_sigkill_and_run_after_restart() {
    // One at a time, 400 ms each: most of the 10 are still queued at the kill.
    let settings = "max_concurrency = 1";
    let host = start(tempfile::tempdir().expect("tempdir"), settings);
    for i in 0..10 {
        let payload = json!({ "action": "append", "line": format!("e{i}"), "ms": 400 });
        let (status, body) = event(&host, &payload.to_string()).await;
        assert_eq!(status, 202, "{body}");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = host.stop(); // SIGKILL
    let before = lines(state.path());
    assert!(
        before.len() < 10,
        "every event ran before the kill: {before:?}"
    );
    let host = start(state, settings);
    let after = wait_lines(host.state.path(), Duration::from_secs(60), |l| {
        (0..10).all(|i| count(l, &format!("e{i}")) >= 1)
    })
    .await;
    // At least once: only an event running at the kill may run twice.
    let twice = (0..10)
        .filter(|i| count(&after, &format!("e{i}")) > 1)
        .count();
    assert!(twice <= 1, "{after:?}");
}

#[tokio::test]
async fn a_failing_event_is_attempted_three_times() {
    let host = start(tempfile::tempdir().expect("tempdir"), "retry_delay_ms = 50");
    let (status, body) = event(&host, r#"{"action":"append","line":"bad","fail":true}"#).await;
    assert_eq!(status, 202, "{body}");
    let (status, _) = event(&host, r#"{"action":"append","line":"good"}"#).await;
    assert_eq!(status, 202);
    wait_lines(host.state.path(), Duration::from_secs(30), |l| {
        count(l, "bad") >= 3 && count(l, "good") >= 1
    })
    .await;
    // The retries were 50 and 100 ms apart: a fourth would have come by now.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let l = lines(host.state.path());
    assert_eq!(count(&l, "bad"), 3, "{l:?}");
    assert_eq!(count(&l, "good"), 1, "{l:?}");
    assert_eq!(
        host.metric("lamina_async_events_failed_total").await,
        Some(1.0)
    );
    assert_eq!(
        host.metric("lamina_async_events_retried_total").await,
        Some(2.0)
    );
    assert_eq!(host.metric("lamina_async_events_queued").await, Some(0.0));
}

#[tokio::test]
async fn a_full_queue_answers_429() {
    let host = start(
        tempfile::tempdir().expect("tempdir"),
        "max_queued_events = 3\nmax_concurrency = 1",
    );
    let mut statuses = Vec::new();
    let mut refused = Value::Null;
    for i in 0..5 {
        let payload = json!({ "action": "append", "line": format!("q{i}"), "ms": 3000 });
        let (status, body) = event(&host, &payload.to_string()).await;
        statuses.push(status);
        if status == 429 {
            refused = body;
        }
    }
    assert_eq!(statuses, [202, 202, 202, 429, 429]);
    assert_eq!(refused["__type"], "TooManyRequestsException", "{refused}");
    assert_eq!(
        host.metric("lamina_async_events_throttled_total").await,
        Some(2.0)
    );
}

#[tokio::test]
async fn oversized_or_malformed_events_are_refused_and_not_queued() {
    let host = start(
        tempfile::tempdir().expect("tempdir"),
        "max_event_bytes = 1000",
    );
    let big = json!({ "action": "append", "line": "x".repeat(2000) }).to_string();
    let (status, body) = event(&host, &big).await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["__type"], "RequestTooLargeException");
    let (status, body) = event(&host, r#"{"action":"append","line":"#).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "InvalidRequestContentException");
    // A valid one goes through, and only it runs.
    let (status, _) = event(&host, r#"{"action":"append","line":"ok"}"#).await;
    assert_eq!(status, 202);
    let l = wait_lines(host.state.path(), Duration::from_secs(30), |l| {
        count(l, "ok") == 1
    })
    .await;
    assert_eq!(l, ["ok"]);
    assert_eq!(
        host.metric("lamina_async_events_accepted_total").await,
        Some(1.0)
    );
}

#[tokio::test]
async fn queued_payloads_live_on_disk_not_in_memory() {
    const MIB: u64 = 1024 * 1024;
    // One event at a time, and the first sleeps: everything else waits queued.
    let host = start(tempfile::tempdir().expect("tempdir"), "max_concurrency = 1");
    let (status, _) = event(&host, r#"{"action":"append","line":"hold","ms":60000}"#).await;
    assert_eq!(status, 202);
    let before = host.rss_bytes().expect("rss");
    let payload =
        json!({ "action": "append", "line": "x", "pad": "p".repeat(512 * 1024) }).to_string();
    for _ in 0..300 {
        let (status, body) = event(&host, &payload).await;
        assert_eq!(status, 202, "{body}");
    }
    assert_eq!(host.metric("lamina_async_events_queued").await, Some(301.0));
    let grown = host.rss_bytes().expect("rss").saturating_sub(before);
    // 150 MiB of payloads are queued; the journal's page cache is 64 MiB.
    assert!(
        grown < 128 * MIB,
        "memory grew by {} MiB with 150 MiB of queued payloads",
        grown / MIB
    );
}

#[tokio::test]
async fn events_older_than_the_maximum_age_are_dropped() {
    let host = start(
        tempfile::tempdir().expect("tempdir"),
        "max_concurrency = 1\nmax_event_age_ms = 500",
    );
    let (status, _) = event(&host, r#"{"action":"append","line":"hold","ms":1500}"#).await;
    assert_eq!(status, 202);
    // Queued behind `hold`, it is 1.5 s old when its turn comes.
    let (status, _) = event(&host, r#"{"action":"append","line":"late"}"#).await;
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    while host.metric("lamina_async_events_queued").await != Some(0.0) {
        assert!(Instant::now() < deadline, "the queue did not drain");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(lines(host.state.path()), ["hold"]);
    assert_eq!(
        host.metric("lamina_async_events_expired_total").await,
        Some(1.0)
    );
}
