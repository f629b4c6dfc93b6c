//! Retention of ended durable executions: with a retention of seconds
//! (`retention_s`), ended executions disappear from every API while a
//! RUNNING one and those of a function with the default retention stay, and
//! the journal file shrinks when it is compacted at the next start.

use crate::support::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn config() -> String {
    let cases = toml_path(&guests().durable_cases);
    format!(
        r#"
[durable]
retention_sweep_interval_s = 1

[functions.bench-steps]
component = {cases}
retention_s = 2

[functions.case-1-1]
component = {cases}
"#
    )
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A")
}

async fn get(host: &Lamina, path: &str) -> (u16, Value) {
    let resp = client().get(host.at(path)).send().await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn execution_status(host: &Lamina, arn: &str) -> (u16, Value) {
    get(
        host,
        &format!("/2025-12-01/durable-executions/{}", enc(arn)),
    )
    .await
}

/// Starts an execution of `function`; returns (HTTP status, ARN).
async fn start(host: &Lamina, function: &str, payload: &str, kind: &str) -> (u16, String) {
    let resp = client()
        .post(host.at(&format!("/2015-03-31/functions/{function}/invocations")))
        .header("x-amz-invocation-type", kind)
        .body(payload.to_string())
        .send()
        .await
        .expect("invoke");
    let status = resp.status().as_u16();
    let arn = resp
        .headers()
        .get("x-amz-durable-execution-arn")
        .and_then(|v| v.to_str().ok())
        .expect("ARN header")
        .to_string();
    (status, arn)
}

async fn listed(host: &Lamina, function: &str) -> Vec<String> {
    let (status, v) = get(
        host,
        &format!("/2025-12-01/functions/{function}/durable-executions"),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v["DurableExecutions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["DurableExecutionArn"].as_str().map(str::to_string))
        .collect()
}

fn journal_size(state: &std::path::Path) -> u64 {
    std::fs::metadata(state.join("journal.redb"))
        .expect("journal file")
        .len()
}

#[tokio::test]
async fn ended_executions_past_their_retention_are_deleted_and_the_file_shrinks() {
    let host = Lamina::with_config(&config(), &[]);
    let pad = "x".repeat(256 * 1024);
    let mut ended = Vec::new();
    for _ in 0..12 {
        let input = json!({ "steps": 3, "then": "end", "pad": pad }).to_string();
        let (status, arn) = start(&host, "bench-steps", &input, "RequestResponse").await;
        assert_eq!(status, 200);
        ended.push(arn);
    }
    let waiting_input = json!({ "steps": 2, "then": "callback" }).to_string();
    let (status, waiting) = start(&host, "bench-steps", &waiting_input, "Event").await;
    assert_eq!(status, 202);
    let (status, other) = start(&host, "case-1-1", r#"{"Input":"World"}"#, "RequestResponse").await;
    assert_eq!(status, 200);

    // Within a few sweeps every ended bench-steps execution is gone.
    let deadline = Instant::now() + Duration::from_secs(30);
    for arn in &ended {
        loop {
            let (status, v) = execution_status(&host, arn).await;
            if status == 404 {
                assert_eq!(v["__type"], "ResourceNotFoundException", "{v}");
                break;
            }
            assert_eq!(v["Status"], "SUCCEEDED", "{v}");
            assert!(Instant::now() < deadline, "{arn} was not deleted: {v}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (status, _) = get(
            &host,
            &format!("/2025-12-01/durable-executions/{}/history", enc(arn)),
        )
        .await;
        assert_ne!(status, 200, "history of a deleted execution");
    }
    // The RUNNING one and the one with the default retention (30 days) stay.
    assert_eq!(listed(&host, "bench-steps").await, vec![waiting.clone()]);
    assert_eq!(listed(&host, "case-1-1").await, vec![other.clone()]);
    let (status, v) = execution_status(&host, &waiting).await;
    assert_eq!(
        (status, v["Status"].as_str()),
        (200, Some("RUNNING")),
        "{v}"
    );
    let (status, v) = execution_status(&host, &other).await;
    assert_eq!(
        (status, v["Status"].as_str()),
        (200, Some("SUCCEEDED")),
        "{v}"
    );

    // The freed pages are given back when the journal is opened again.
    let state = host.stop();
    let before = journal_size(state.path());
    let cfg = state.path().join("lamina.toml");
    let cfg = cfg.to_str().expect("utf8").to_string();
    let host = Lamina::start_in(&["--config", &cfg], state, Some(shared_cache()));
    let after = journal_size(host.state.path());
    eprintln!(
        "journal file: {before} bytes after deleting 12 executions of 256 KiB; {after} bytes \
         after compaction at restart"
    );
    assert!(
        after * 2 < before,
        "the journal did not shrink: {before} -> {after} bytes"
    );
    let (status, v) = execution_status(&host, &waiting).await;
    assert_eq!(
        (status, v["Status"].as_str()),
        (200, Some("RUNNING")),
        "{v}"
    );
}
