//! Clients that close their socket right after sending a request: what the
//! host committed for it (a new durable execution, a callback completion)
//! must still be run, not left waiting for a restart.

use crate::support::*;
use serde_json::Value;
use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

fn config() -> String {
    format!(
        "[functions.bench-steps]\ncomponent = {}\ntimeout_ms = 20000\n",
        toml_path(&guests().durable_cases)
    )
}

/// Sends one complete POST on a raw socket and closes it `delay_ms` later,
/// without reading the answer (the client of the issue). Depending on when
/// the host sees the close, the request is dropped before anything is
/// committed (fine: nobody was told it was accepted) or after a commit (then
/// what was committed must still run).
fn post_and_hang_up(url: &str, path: &str, headers: &[(&str, &str)], body: &str, delay_ms: u64) {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).expect("connect");
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("write request");
    std::thread::sleep(Duration::from_millis(delay_ms));
    let _ = s.shutdown(Shutdown::Both);
}

/// Every execution of `bench-steps` (up to 1000).
async fn executions(host: &Lamina) -> Vec<Value> {
    let resp = client()
        .get(host.at("/2025-12-01/functions/bench-steps/durable-executions?MaxItems=1000"))
        .send()
        .await
        .expect("list");
    let v: Value = resp.json().await.expect("json");
    v["DurableExecutions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Whether the execution's history holds a committed callback success.
async fn callback_committed(host: &Lamina, arn: &str) -> bool {
    let v: Value = client()
        .get(host.at(&format!(
            "/2025-12-01/durable-executions/{}/history",
            arn.replace(':', "%3A")
        )))
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    v["Events"]
        .as_array()
        .is_some_and(|es| es.iter().any(|e| e["EventType"] == "CallbackSucceeded"))
}

/// Waits until no execution that `owed` says was committed is RUNNING;
/// panics with the stuck ones after `limit`. Returns the executions.
async fn wait_owed_ended(host: &Lamina, limit: Duration, owed_only: bool) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let list = executions(host).await;
        let mut stuck = Vec::new();
        for e in list.iter().filter(|e| e["Status"] == "RUNNING") {
            let arn = e["DurableExecutionArn"].as_str().expect("arn");
            if !owed_only || callback_committed(host, arn).await {
                stuck.push(arn.to_string());
            }
        }
        if stuck.is_empty() {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} executions had their request committed but are still RUNNING after \
             {limit:?}: {:?}",
            stuck.len(),
            list.len(),
            stuck.iter().take(3).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn event_invokes_whose_client_hangs_up_still_run() {
    let host = Lamina::with_config(&config(), &[]);
    let url = host.url.clone();
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    post_and_hang_up(
                        &url,
                        "/2015-03-31/functions/bench-steps/invocations",
                        &[("X-Amz-Invocation-Type", "Event")],
                        r#"{"steps":2}"#,
                        i % 4,
                    );
                }
            })
        })
        .collect();
    for s in senders {
        s.join().expect("sender");
    }
    // Let every request the host is still working on reach the journal.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Every execution that was created (committed) runs to its end.
    let list = wait_owed_ended(&host, Duration::from_secs(60), false).await;
    eprintln!(
        "{} of 100 Event invokes were committed before the hang-up",
        list.len()
    );
    assert!(
        list.len() >= 10,
        "only {} of 100 requests were committed",
        list.len()
    );
    for e in &list {
        assert_eq!(e["Status"], "SUCCEEDED", "{e}");
    }
}

#[tokio::test]
async fn callback_completions_whose_client_hangs_up_still_resume() {
    const N: usize = 40;
    let host = Lamina::with_config(&config(), &[]);
    let mut arns = Vec::new();
    for _ in 0..N {
        let resp = invoke(
            &host,
            "bench-steps",
            r#"{"steps":1,"then":"callback"}"#,
            "Event",
        )
        .await;
        assert_eq!(resp.status(), 202);
        let arn = resp
            .headers()
            .get("x-amz-durable-execution-arn")
            .and_then(|v| v.to_str().ok())
            .expect("ARN")
            .to_string();
        arns.push(arn);
    }
    // Every execution hibernates at its callback.
    let mut ids = Vec::new();
    for arn in &arns {
        let deadline = Instant::now() + Duration::from_secs(60);
        let id = loop {
            let v: Value = client()
                .get(host.at(&format!(
                    "/2025-12-01/durable-executions/{}/state",
                    arn.replace(':', "%3A")
                )))
                .send()
                .await
                .expect("state")
                .json()
                .await
                .expect("json");
            let id = v["Operations"].as_array().and_then(|ops| {
                ops.iter()
                    .find(|o| o["Type"] == "CALLBACK" && o["Status"] == "STARTED")
                    .and_then(|o| o["CallbackDetails"]["CallbackId"].as_str())
                    .map(str::to_string)
            });
            if let Some(id) = id {
                break id;
            }
            assert!(Instant::now() < deadline, "no callback for {arn}: {v}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        ids.push(id);
    }
    let url = host.url.clone();
    let sender = std::thread::spawn(move || {
        for (i, id) in ids.into_iter().enumerate() {
            post_and_hang_up(
                &url,
                &format!("/2025-12-01/durable-execution-callbacks/{id}/succeed"),
                &[],
                r#"{"approved":true}"#,
                i as u64 % 8,
            );
        }
    });
    sender.join().expect("sender");
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Every execution whose completion was committed resumes and ends.
    let list = wait_owed_ended(&host, Duration::from_secs(60), true).await;
    let done = list.iter().filter(|e| e["Status"] == "SUCCEEDED").count();
    eprintln!("{done} of {N} callback completions were committed before the hang-up");
    assert!(done >= 5, "only {done} of {N} completions were committed");
}
