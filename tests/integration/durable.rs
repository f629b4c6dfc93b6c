//! Durable functions through the AWS-compatible API: the order workflow end
//! to end (hibernating at its callback), bad input leaving the journal
//! unchanged, and a SIGKILL crash in the middle of ~20 executions.

use crate::support::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// A config serving the order workflow and the durable fixture (as
/// `crash-mix`) with `/data` preopened at `data`.
fn config(data: &Path) -> String {
    let g = guests();
    format!(
        r#"
[functions.order-workflow]
component = {order}
dirs = {{ "/data" = {data} }}

[functions.crash-mix]
component = {cases}
dirs = {{ "/data" = {data} }}
timeout_ms = 20000
"#,
        order = toml_path(&g.order_workflow),
        cases = toml_path(&g.durable_cases),
        data = toml_path(data),
    )
}

/// Starts a host on `state` (with its `lamina.toml` and `data/` inside).
fn start(state: tempfile::TempDir, extra: &[&str]) -> Lamina {
    let data = state.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let cfg = write_config(state.path(), &config(&data));
    let cfg = cfg.to_str().expect("utf8").to_string();
    let mut args = vec!["--config", cfg.as_str()];
    args.extend_from_slice(extra);
    Lamina::start_in(&args, state, Some(shared_cache()))
}

fn effects(host_state: &Path) -> Vec<String> {
    std::fs::read_to_string(host_state.join("data/effects.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

fn enc(s: &str) -> String {
    s.replace(':', "%3A")
}

/// Starts an execution; returns (status, ARN header, body).
async fn start_execution(
    host: &Lamina,
    function: &str,
    name: Option<&str>,
    payload: &str,
    kind: &str,
) -> (u16, Option<String>, Value) {
    let mut req = client()
        .post(host.at(&format!("/2015-03-31/functions/{function}/invocations")))
        .header("x-amz-invocation-type", kind)
        .body(payload.to_string());
    if let Some(n) = name {
        req = req.header("x-amz-durable-execution-name", n);
    }
    let resp = req.send().await.expect("invoke");
    let status = resp.status().as_u16();
    let arn = resp
        .headers()
        .get("x-amz-durable-execution-arn")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.text().await.expect("body");
    (
        status,
        arn,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

async fn get(host: &Lamina, path: &str) -> (u16, Value) {
    let resp = client().get(host.at(path)).send().await.expect("get");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn post(host: &Lamina, path: &str, body: &str) -> (u16, Value) {
    let resp = client()
        .post(host.at(path))
        .body(body.to_string())
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn execution(host: &Lamina, arn: &str) -> Value {
    let (status, v) = get(
        host,
        &format!("/2025-12-01/durable-executions/{}", enc(arn)),
    )
    .await;
    assert_eq!(status, 200, "GetDurableExecution {arn}: {v}");
    v
}

async fn history(host: &Lamina, arn: &str) -> Vec<Value> {
    let (status, v) = get(
        host,
        &format!(
            "/2025-12-01/durable-executions/{}/history?IncludeExecutionData=true",
            enc(arn)
        ),
    )
    .await;
    assert_eq!(status, 200, "history: {v}");
    v["Events"].as_array().cloned().unwrap_or_default()
}

/// Polls until the execution's status is not RUNNING.
async fn wait_done(host: &Lamina, arn: &str, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let e = execution(host, arn).await;
        if e["Status"] != "RUNNING" {
            return e;
        }
        assert!(Instant::now() < deadline, "{arn} still running: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls the state until a callback operation is STARTED; returns its id.
async fn wait_callback(host: &Lamina, arn: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, s) = get(
            host,
            &format!(
                "/2025-12-01/durable-executions/{}/state?CheckpointToken=x",
                enc(arn)
            ),
        )
        .await;
        let started = s["Operations"].as_array().and_then(|ops| {
            ops.iter()
                .find(|o| o["Type"] == "CALLBACK" && o["Status"] == "STARTED")
                .cloned()
        });
        if let Some(op) = started {
            return op["CallbackDetails"]["CallbackId"]
                .as_str()
                .expect("callback id")
                .to_string();
        }
        assert!(Instant::now() < deadline, "no callback started: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn cli(host: &Lamina, args: &[&str]) -> std::process::Output {
    lamina_cmd()
        .args(args)
        .arg("--endpoint")
        .arg(&host.url)
        .output()
        .expect("run lamina")
}

const ORDER: &str = r#"{"orderId":"o-1","items":[{"sku":"tea","qty":2,"price":4.5}]}"#;

#[tokio::test]
async fn order_workflow_hibernates_at_the_callback_and_resumes() {
    let host = start(tempfile::tempdir().expect("tempdir"), &[]);
    let (status, arn, _) =
        start_execution(&host, "order-workflow", Some("order-1"), ORDER, "Event").await;
    assert_eq!(status, 202);
    let arn = arn.expect("ARN header");

    let callback_id = wait_callback(&host, &arn).await;
    // Suspended: no instance for it, one waiting execution, nothing running.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let live = host
            .metric("lamina_durable_instances_live{function=\"order-workflow\"}")
            .await;
        let waiting = host
            .metric("lamina_durable_executions{function=\"order-workflow\",state=\"waiting\"}")
            .await;
        if live == Some(0.0) && waiting == Some(1.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not hibernating: live {live:?}, waiting {waiting:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(execution(&host, &arn).await["Status"], "RUNNING");

    // The same name and input is the same execution; other input is a conflict.
    let (status, again, _) =
        start_execution(&host, "order-workflow", Some("order-1"), ORDER, "Event").await;
    assert_eq!(status, 202);
    assert_eq!(again.as_deref(), Some(arn.as_str()));
    let (status, _, err) = start_execution(
        &host,
        "order-workflow",
        Some("order-1"),
        r#"{"orderId":"other","items":[{"sku":"x","qty":1,"price":1}]}"#,
        "Event",
    )
    .await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["__type"], "DurableExecutionAlreadyStartedException");

    let out = cli(
        &host,
        &["callback", "succeed", &callback_id, r#"{"approved":true}"#],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let done = wait_done(&host, &arn, Duration::from_secs(30)).await;
    assert_eq!(done["Status"], "SUCCEEDED", "{done}");
    let result: Value =
        serde_json::from_str(done["Result"].as_str().expect("result")).expect("json");
    assert_eq!(result["status"], "fulfilled");
    assert!(
        result["trackingNumber"]
            .as_str()
            .is_some_and(|t| t.starts_with("TRK-")),
        "{result}"
    );
    let m = &done["Metering"];
    assert_eq!(m["Invocations"], 2, "{m}");
    assert!(
        m["ActiveComputeMs"].as_f64() < m["WallTimeMs"].as_f64(),
        "{m}"
    );
    assert!(m["Cost"]["Total"].as_f64().is_some_and(|c| c > 0.0), "{m}");

    // Each completed step body ran exactly once across the two invocations.
    let lines = effects(host.state.path());
    assert_eq!(count(&lines, "validate-order o-1"), 1, "{lines:?}");
    assert_eq!(count(&lines, "await-payment o-1"), 1, "{lines:?}");
    assert_eq!(count(&lines, "fulfill-order o-1"), 1, "{lines:?}");

    let events = history(&host, &arn).await;
    let types: Vec<&str> = events
        .iter()
        .filter_map(|e| e["EventType"].as_str())
        .collect();
    assert_eq!(types.first(), Some(&"ExecutionStarted"));
    assert_eq!(types.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "InvocationCompleted")
            .count(),
        2,
        "{types:?}"
    );
    let validate = events
        .iter()
        .filter(|e| e["Name"] == "validate-order" && e["EventType"] == "StepStarted")
        .count();
    assert_eq!(validate, 1, "{types:?}");

    let out = cli(&host, &["executions", "list", "order-workflow"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains(&arn) && text.contains("SUCCEEDED"),
        "{text}"
    );
    // `executions get` summarises, costs as money (never `2e-7`).
    let out = cli(&host, &["executions", "get", &arn]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let cost = text
        .lines()
        .find(|l| l.starts_with("Cost "))
        .unwrap_or_else(|| panic!("no Cost line: {text}"));
    assert!(cost.contains("$0.") && !cost.contains("e-"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("Status ") && l.ends_with("SUCCEEDED")),
        "{text}"
    );

    // A declined payment (callback failure) ends the order as declined.
    let (_, arn2, _) = start_execution(
        &host,
        "order-workflow",
        None,
        r#"{"orderId":"o-2","items":[{"sku":"tea","qty":1,"price":4.5}]}"#,
        "Event",
    )
    .await;
    let arn2 = arn2.expect("ARN");
    let id2 = wait_callback(&host, &arn2).await;
    let out = cli(
        &host,
        &["callback", "fail", &id2, "--error-type", "PaymentDeclined"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let done = wait_done(&host, &arn2, Duration::from_secs(30)).await;
    let result: Value =
        serde_json::from_str(done["Result"].as_str().expect("result")).expect("json");
    assert_eq!(result["status"], "declined", "{done}");
    assert_eq!(count(&effects(host.state.path()), "fulfill-order o-2"), 0);
}

#[tokio::test]
async fn bad_input_gets_aws_errors_and_leaves_the_journal_unchanged() {
    let host = start(
        tempfile::tempdir().expect("tempdir"),
        &["--max-body-bytes", "4096"],
    );
    let (status, arn, body) =
        start_execution(&host, "order-workflow", Some("bad-1"), ORDER, "Event").await;
    assert_eq!(status, 202, "{body}");
    let arn = arn.expect("ARN");
    let callback_id = wait_callback(&host, &arn).await;
    // Wait for the end of the invocation that created the callback, so the
    // history only changes if a bad request changes it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let before = loop {
        let events = history(&host, &arn).await;
        if events
            .last()
            .is_some_and(|e| e["EventType"] == "InvocationCompleted")
        {
            break events;
        }
        assert!(
            Instant::now() < deadline,
            "the invocation did not end: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let list = "/2025-12-01/functions/order-workflow/durable-executions";
    let (_, listed) = get(&host, list).await;

    let cases: Vec<(u16, &str, (u16, Value))> = vec![
        (
            404,
            "ResourceNotFoundException",
            get(
                &host,
                "/2025-12-01/durable-executions/arn%3Alamina%3Adurable%3Aorder-workflow%3Anope",
            )
            .await,
        ),
        (
            404,
            "ResourceNotFoundException",
            post(
                &host,
                "/2025-12-01/durable-execution-callbacks/no-such-callback/succeed",
                "{}",
            )
            .await,
        ),
        (
            400,
            "InvalidParameterValueException",
            post(
                &host,
                &format!("/2025-12-01/durable-execution-callbacks/{callback_id}/succeed"),
                "{not json",
            )
            .await,
        ),
        (
            400,
            "InvalidParameterValueException",
            post(
                &host,
                &format!("/2025-12-01/durable-execution-callbacks/{callback_id}/fail"),
                "[1,2]",
            )
            .await,
        ),
        (
            413,
            "RequestTooLargeException",
            post(
                &host,
                &format!("/2025-12-01/durable-execution-callbacks/{callback_id}/succeed"),
                &format!("\"{}\"", "x".repeat(10_000)),
            )
            .await,
        ),
        (
            404,
            "ResourceNotFoundException",
            get(&host, "/2025-12-01/functions/nope/durable-executions").await,
        ),
        (
            400,
            "InvalidParameterValueException",
            get(&host, &format!("{list}?Statuses=SLEEPING")).await,
        ),
    ];
    for (want, kind, (status, body)) in cases {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["__type"], kind, "{body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    for (payload, name, want, kind) in [
        (
            "{oops",
            Some("bad-2"),
            400,
            "InvalidRequestContentException",
        ),
        (
            ORDER,
            Some("no spaces allowed"),
            400,
            "InvalidParameterValueException",
        ),
        (
            r#"{"orderId":"o-1","items":[{"sku":"tea","qty":3,"price":4.5}]}"#,
            Some("bad-1"),
            409,
            "DurableExecutionAlreadyStartedException",
        ),
    ] {
        let (status, arn_header, body) =
            start_execution(&host, "order-workflow", name, payload, "Event").await;
        assert_eq!(
            (status, body["__type"].as_str()),
            (want, Some(kind)),
            "{body}"
        );
        assert!(arn_header.is_none());
    }
    let big = format!(r#"{{"orderId":"{}","items":[]}}"#, "x".repeat(5000));
    let (status, _, body) = start_execution(&host, "order-workflow", None, &big, "Event").await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (413, Some("RequestTooLargeException"))
    );

    // Nothing above reached the journal.
    assert_eq!(history(&host, &arn).await, before);
    assert_eq!(get(&host, list).await.1, listed);
    assert_eq!(execution(&host, &arn).await["Status"], "RUNNING");

    // A callback on a finished execution is refused, and changes nothing.
    let (status, body) = post(
        &host,
        &format!("/2025-12-01/durable-executions/{}/stop", enc(&arn)),
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let stopped = history(&host, &arn).await;
    let (status, body) = post(
        &host,
        &format!("/2025-12-01/durable-execution-callbacks/{callback_id}/succeed"),
        r#"{"approved":true}"#,
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidParameterValueException")),
        "{body}"
    );
    let (status, body) = post(
        &host,
        &format!("/2025-12-01/durable-executions/{}/stop", enc(&arn)),
        "",
    )
    .await;
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidParameterValueException")),
        "{body}"
    );
    assert_eq!(history(&host, &arn).await, stopped);
    assert_eq!(execution(&host, &arn).await["Status"], "STOPPED");
}

#[tokio::test]
async fn sigkill_mid_flight_loses_no_completed_step() {
    let host = start(tempfile::tempdir().expect("tempdir"), &[]);
    // n % 4 picks the wait before the slow step (none, 1 s, 2 s, 4 s);
    // n % 3 picks the slow step's semantics (at-most-once, at-least-once, none).
    let mut arns = Vec::new();
    for n in 0..20u32 {
        let wait = [0, 1, 2, 4][(n % 4) as usize];
        let slow = ["amo", "alo", "none"][(n % 3) as usize];
        let input = json!({ "n": n, "wait": wait, "slow": slow, "slow_ms": 3000 }).to_string();
        let (status, arn, body) = start_execution(
            &host,
            "crash-mix",
            Some(&format!("mix-{n}")),
            &input,
            "Event",
        )
        .await;
        assert_eq!(status, 202, "{body}");
        arns.push((n, slow, arn.expect("ARN")));
    }
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let state = host.stop(); // SIGKILL
    let before = effects(state.path());
    let host = start(state, &[]);

    let mut interrupted_amo = 0;
    let mut unfinished = 0;
    let mut results = HashMap::new();
    for (n, slow, arn) in &arns {
        let done = wait_done(&host, arn, Duration::from_secs(60)).await;
        assert_eq!(done["Status"], "SUCCEEDED", "execution {n}: {done}");
        let result: Value =
            serde_json::from_str(done["Result"].as_str().expect("result")).expect("json");
        results.insert(*n, (slow.to_string(), result));
        if count(&before, &format!("{n} c")) == 0 {
            unfinished += 1;
        }
    }
    let after = effects(host.state.path());
    for (n, (slow, result)) in &results {
        assert_eq!(
            count(&after, &format!("{n} a")),
            1,
            "step a of {n} re-ran: {after:?}"
        );
        assert_eq!(
            count(&after, &format!("{n} c")),
            1,
            "step c of {n}: {after:?}"
        );
        let slow_before = count(&before, &format!("{n} slow"));
        let slow_after = count(&after, &format!("{n} slow"));
        let slow_done_before = count(&before, &format!("{n} c")) == 1;
        match slow.as_str() {
            "amo" => {
                // At most once: never re-run; interrupted iff the kill hit it.
                assert_eq!(
                    slow_after, 1,
                    "at-most-once step of {n} ran {slow_after} times"
                );
                let hit = slow_before == 1 && !slow_done_before;
                assert_eq!(result["interrupted"], hit, "execution {n}: {result}");
                if hit {
                    interrupted_amo += 1;
                }
            }
            "alo" => {
                assert!(slow_after >= 1, "{n}");
                assert_eq!(result["interrupted"], false);
            }
            _ => assert_eq!(slow_after, 0),
        }
    }
    assert!(
        interrupted_amo > 0,
        "the kill interrupted no at-most-once step: {before:?}"
    );
    assert!(
        unfinished >= 10,
        "only {unfinished} executions were in flight at the kill"
    );
}

#[tokio::test]
async fn replay_that_disagrees_with_the_journal_fails_as_non_deterministic() {
    let cases = toml_path(&guests().durable_cases);
    let config = |second: &str| {
        format!(
            "[functions.nondet]\ncomponent = {cases}\nenv = {{ NONDET_SECOND = \"{second}\" }}\n"
        )
    };
    let state = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(state.path(), &config("second"));
    let cfg = cfg.to_str().expect("utf8").to_string();
    let host = Lamina::start_in(&["--config", &cfg], state, Some(shared_cache()));
    let (status, arn, body) =
        start_execution(&host, "nondet", None, r#"{"wait": 2}"#, "Event").await;
    assert_eq!(status, 202, "{body}");
    let arn = arn.expect("ARN");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !history(&host, &arn)
        .await
        .iter()
        .any(|e| e["EventType"] == "WaitStarted")
    {
        assert!(
            Instant::now() < deadline,
            "the execution never reached its wait"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Restart inside the wait with the second step renamed: when the
    // journaled timer fires, the replay meets the journaled step "second"
    // where the code now has "other".
    let state = host.stop();
    write_config(state.path(), &config("other"));
    let host = Lamina::start_in(&["--config", &cfg], state, Some(shared_cache()));
    let done = wait_done(&host, &arn, Duration::from_secs(30)).await;
    assert_eq!(done["Status"], "FAILED", "{done}");
    assert_eq!(
        done["Error"]["ErrorType"], "NonDeterministicExecution",
        "{done}"
    );
    let message = done["Error"]["ErrorMessage"].as_str().unwrap_or_default();
    for part in ["operation 2", "\"second\"", "\"other\""] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    let events = history(&host, &arn).await;
    let steps = events
        .iter()
        .filter(|e| e["EventType"] == "StepStarted")
        .count();
    assert_eq!(steps, 2, "no step ran during the failed replay: {events:?}");
}

#[tokio::test]
async fn suspending_with_nothing_outstanding_fails_instead_of_hanging() {
    let cases = toml_path(&guests().durable_cases);
    let host = Lamina::with_config(
        &format!("[functions.suspend-forever]\ncomponent = {cases}\n"),
        &[],
    );
    let (status, arn, body) =
        start_execution(&host, "suspend-forever", None, "{}", "RequestResponse").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["errorType"], "Lamina.SuspendedWithoutWait", "{body}");
    let done = execution(&host, &arn.expect("ARN")).await;
    assert_eq!(done["Status"], "FAILED", "{done}");
}

#[tokio::test]
async fn a_step_rerun_after_a_kill_has_one_step_started_per_attempt() {
    let host = start(tempfile::tempdir().expect("tempdir"), &[]);
    let input = json!({ "n": 7, "wait": 0, "slow": "alo", "slow_ms": 4000 }).to_string();
    let (status, arn, body) =
        start_execution(&host, "crash-mix", Some("rerun"), &input, "Event").await;
    assert_eq!(status, 202, "{body}");
    let arn = arn.expect("ARN");
    // Kill while the at-least-once step `slow` runs: its StepStarted is
    // committed and its body has begun.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let events = history(&host, &arn).await;
        let started = events
            .iter()
            .any(|e| e["EventType"] == "StepStarted" && e["Name"] == "slow");
        if started && count(&effects(host.state.path()), "7 slow") == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "step slow never started: {events:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let state = host.stop(); // SIGKILL
    assert_eq!(
        count(&effects(state.path()), "7 c"),
        0,
        "the kill came late"
    );
    let host = start(state, &[]);
    let done = wait_done(&host, &arn, Duration::from_secs(60)).await;
    assert_eq!(done["Status"], "SUCCEEDED", "{done}");
    // The interrupted attempt ran again ...
    assert_eq!(count(&effects(host.state.path()), "7 slow"), 2);
    // ... and is recorded as one attempt: one StepStarted, one StepSucceeded.
    let events = history(&host, &arn).await;
    let slow: Vec<&str> = events
        .iter()
        .filter(|e| e["Name"] == "slow")
        .filter_map(|e| e["EventType"].as_str())
        .collect();
    assert_eq!(slow, ["StepStarted", "StepSucceeded"], "{events:#?}");
    let attempt = events
        .iter()
        .find(|e| e["EventType"] == "StepSucceeded" && e["Name"] == "slow")
        .map(|e| e["StepSucceededDetails"]["RetryDetails"]["CurrentAttempt"].clone());
    assert_eq!(attempt, Some(json!(1)), "{events:#?}");
}

#[tokio::test]
async fn history_payloads_have_the_botocore_shape_by_default() {
    let host = start(tempfile::tempdir().expect("tempdir"), &[]);
    let input = json!({ "n": 1, "wait": 0, "slow": "none" }).to_string();
    let (status, arn, body) =
        start_execution(&host, "crash-mix", None, &input, "RequestResponse").await;
    assert_eq!(status, 200, "{body}");
    let arn = arn.expect("ARN");
    // Without IncludeExecutionData (AWS's default is true).
    let (status, v) = get(
        &host,
        &format!("/2025-12-01/durable-executions/{}/history", enc(&arn)),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let events = v["Events"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        events[0]["ExecutionStartedDetails"]["Input"],
        json!({ "Payload": input, "Truncated": false }),
        "{events:#?}"
    );
    let mut shaped = 0;
    for e in &events {
        let details = &e[format!("{}Details", e["EventType"].as_str().unwrap_or(""))];
        for key in ["Input", "Result", "Error"] {
            if let Some(field) = details.get(key) {
                assert!(
                    field.get("Payload").is_some() && field["Truncated"] == false,
                    "{key} of {e}"
                );
                shaped += 1;
            }
        }
    }
    assert!(shaped >= 4, "{events:#?}"); // input, 2 step results, execution result
}

#[tokio::test]
async fn a_lossy_serializer_gives_the_same_value_on_first_run_and_replay() {
    let cases = toml_path(&guests().durable_cases);
    let host = Lamina::with_config(
        &format!("[functions.lossy-serdes]\ncomponent = {cases}\n"),
        &[],
    );
    let (status, arn, body) = start_execution(&host, "lossy-serdes", None, "{}", "Event").await;
    assert_eq!(status, 202, "{body}");
    let arn = arn.expect("ARN");
    let done = wait_done(&host, &arn, Duration::from_secs(30)).await;
    assert_eq!(done["Status"], "SUCCEEDED", "{done}");
    let result: Value =
        serde_json::from_str(done["Result"].as_str().unwrap_or_default()).expect("result JSON");
    // What the code saw before the wait (journaled by step `seen`) and in
    // the replay after it: both the values read back from the journal.
    assert_eq!(result["first_run"], json!(["<abc>", "<uvw>"]), "{result}");
    assert_eq!(result["replay"], result["first_run"], "{result}");
    let events = history(&host, &arn).await;
    let seen_runs = events
        .iter()
        .filter(|e| e["EventType"] == "StepStarted" && e["Name"] == "seen")
        .count();
    assert_eq!(
        seen_runs, 1,
        "the replay did not run `seen` again: {events:?}"
    );
    assert!(
        events.iter().any(|e| e["EventType"] == "WaitSucceeded"),
        "the result came from the replay after the wait: {events:?}"
    );
}

#[tokio::test]
async fn get_durable_execution_shows_the_code_sha256_it_started_with() {
    use sha2::Digest;
    let component = &guests().durable_cases;
    let expected = hex::encode(sha2::Sha256::digest(
        std::fs::read(component).expect("read the component"),
    ));
    let host = Lamina::with_config(
        &format!(
            "[functions.suspend-forever]\ncomponent = {}\n",
            toml_path(component)
        ),
        &[],
    );
    let (status, arn, body) =
        start_execution(&host, "suspend-forever", None, "{}", "RequestResponse").await;
    assert_eq!(status, 200, "{body}");
    let e = execution(&host, &arn.expect("ARN")).await;
    assert_eq!(e["CodeSha256"], json!(expected), "{e}");
}

/// The durable fixture as `spin-forever` (every invocation spins until its
/// 1 s timeout: a crash) on `state`.
fn start_spinner(state: tempfile::TempDir) -> Lamina {
    let cfg = write_config(
        state.path(),
        &format!(
            "[functions.spin-forever]\ncomponent = {}\ntimeout_ms = 1000\n",
            toml_path(&guests().durable_cases)
        ),
    );
    let cfg = cfg.to_str().expect("utf8").to_string();
    Lamina::start_in(&["--config", cfg.as_str()], state, Some(shared_cache()))
}

/// The InvocationCompleted events of an execution (here: one per crash).
async fn invocations(host: &Lamina, arn: &str) -> usize {
    history(host, arn)
        .await
        .iter()
        .filter(|e| e["EventType"] == "InvocationCompleted")
        .count()
}

#[tokio::test]
async fn three_crashes_in_a_row_fail_the_execution_across_a_restart() {
    let host = start_spinner(tempfile::tempdir().expect("tempdir"));
    let (status, arn, body) = start_execution(&host, "spin-forever", None, "{}", "Event").await;
    assert_eq!(status, 202, "{body}");
    let arn = arn.expect("ARN");
    // Wait for the first crash to be recorded, then kill the host.
    let deadline = Instant::now() + Duration::from_secs(30);
    while invocations(&host, &arn).await == 0 {
        assert!(Instant::now() < deadline, "no crash recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let e = execution(&host, &arn).await;
    assert_eq!(e["Status"], "RUNNING", "{e}");
    let state = host.stop(); // SIGKILL
    let host = start_spinner(state);
    let done = wait_done(&host, &arn, Duration::from_secs(60)).await;
    assert_eq!(done["Status"], "FAILED", "{done}");
    // The crash before the restart counts: three crashes in all, not 1 + 3.
    assert_eq!(invocations(&host, &arn).await, 3, "{done}");
}
