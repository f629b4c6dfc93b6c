//! Faults stay contained: trap, endless loop, memory hog and returned errors
//! each get a specific error, and the next request succeeds.

use crate::support::*;

fn faults_host() -> Lamina {
    let g = guests();
    Lamina::with_config(
        &format!(
            "[functions.faults]\ncomponent = {}\nmemory_mb = 32\ntimeout_ms = 1000\n",
            toml_path(&g.faults)
        ),
        &[],
    )
}

async fn expect_ok(host: &Lamina) {
    let resp = invoke(host, "faults", r#"{"action":"ok"}"#, "RequestResponse").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-amz-function-error").is_none());
    let v: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(v, serde_json::json!({"ok": true}));
}

async fn expect_function_error(host: &Lamina, payload: &str, error_type: &str, needle: &str) {
    let resp = invoke(host, "faults", payload, "RequestResponse").await;
    assert_eq!(
        resp.status(),
        200,
        "Lambda answers function errors with 200"
    );
    assert_eq!(resp.headers()["x-amz-function-error"], "Unhandled");
    let v: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(v["errorType"], error_type, "{v}");
    let msg = v["errorMessage"].as_str().unwrap_or("");
    assert!(msg.contains(needle), "`{msg}` should contain `{needle}`");
}

#[tokio::test]
async fn every_fault_gets_its_own_error_and_the_host_keeps_serving() {
    let host = faults_host();
    expect_ok(&host).await;

    expect_function_error(
        &host,
        r#"{"action":"trap"}"#,
        "Runtime.Trap",
        "fault guest asked to trap",
    )
    .await;
    expect_ok(&host).await;

    expect_function_error(
        &host,
        r#"{"action":"loop"}"#,
        "Sandbox.Timedout",
        "timed out after 1000 ms",
    )
    .await;
    expect_ok(&host).await;

    expect_function_error(
        &host,
        r#"{"action":"alloc","mb":64}"#,
        "Runtime.OutOfMemory",
        "exceeded its memory limit of 32 MiB",
    )
    .await;
    expect_ok(&host).await;

    // Within the limit is fine.
    let resp = invoke(
        &host,
        "faults",
        r#"{"action":"alloc","mb":8}"#,
        "RequestResponse",
    )
    .await;
    let v: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(v["allocated_mb"], 8);

    expect_function_error(
        &host,
        r#"{"action":"error"}"#,
        "TestError",
        "fault guest returned an error",
    )
    .await;
    expect_function_error(&host, r#"{"action":"bogus"}"#, "InvalidAction", "bogus").await;
    expect_function_error(&host, r#"{"wrong":"shape"}"#, "InvalidPayload", "action").await;
    expect_ok(&host).await;

    for (reason, n) in [("trap", 1.0), ("timeout", 1.0), ("memory_limit", 1.0)] {
        assert_eq!(
            host.metric(&format!(
                "lamina_invocation_errors_total{{function=\"faults\",reason=\"{reason}\"}}"
            ))
            .await,
            Some(n),
            "{reason}"
        );
    }
    assert_eq!(
        host.metric("lamina_instances_live{function=\"faults\",kind=\"handler\"}")
            .await,
        Some(0.0)
    );
}

#[tokio::test]
async fn a_trap_never_disturbs_requests_in_flight() {
    let host = faults_host();
    let mut slow = Vec::new();
    for _ in 0..16 {
        let url = host.at("/2015-03-31/functions/faults/invocations");
        slow.push(tokio::spawn(async move {
            client()
                .post(url)
                .body(r#"{"action":"sleep","ms":400}"#)
                .send()
                .await
                .expect("request")
        }));
    }
    // Let the slow ones get going, then trap many times while they run.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let mut traps = Vec::new();
    for _ in 0..16 {
        let url = host.at("/2015-03-31/functions/faults/invocations");
        traps.push(tokio::spawn(async move {
            client()
                .post(url)
                .body(r#"{"action":"trap"}"#)
                .send()
                .await
                .expect("request")
        }));
    }
    for t in traps {
        let resp = t.await.expect("join");
        assert_eq!(resp.headers()["x-amz-function-error"], "Unhandled");
    }
    for s in slow {
        let resp = s.await.expect("join");
        assert!(resp.headers().get("x-amz-function-error").is_none());
        let v: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(v["slept_ms"], 400);
    }
}
