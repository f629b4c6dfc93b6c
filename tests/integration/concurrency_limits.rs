//! The instance budget shared out: durable replays cannot take every
//! instance from requests, and `reserved_concurrency` both reserves and caps.

use crate::support::*;
use serde_json::Value;
use std::time::{Duration, Instant};

#[tokio::test]
async fn echo_answers_while_durable_executions_fill_the_pool() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[engine]\nmax_instances = 4\n\
             [functions.echo]\ncomponent = {}\n\
             [functions.busy-steps]\ncomponent = {}\ntimeout_ms = 600000\n",
            toml_path(&g.echo),
            toml_path(&g.durable_cases)
        ),
        &[],
    );
    // 300 executions of 30 steps that each spin 5 ms: far more durable work
    // than 4 instances get through in a few seconds.
    let mut started = Vec::new();
    for _ in 0..300 {
        let url = host.at("/2015-03-31/functions/busy-steps/invocations");
        started.push(tokio::spawn(async move {
            let r = client()
                .post(url)
                .header("x-amz-invocation-type", "Event")
                .body(r#"{"steps":30,"ms":5}"#)
                .send()
                .await
                .expect("start");
            assert_eq!(r.status(), 202);
        }));
    }
    for s in started {
        s.await.expect("start task");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let busy = host
        .metric("lamina_durable_executions{function=\"busy-steps\",state=\"active\"}")
        .await
        .unwrap_or(0.0);
    assert!(busy > 50.0, "only {busy} executions are active");
    for i in 0..3 {
        let t = Instant::now();
        let resp = invoke(&host, "echo", &format!("{{\"i\":{i}}}"), "RequestResponse").await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().await.expect("body"), format!("{{\"i\":{i}}}"));
        let waited = t.elapsed();
        assert!(
            waited < Duration::from_secs(5),
            "echo took {waited:?} behind the durable executions"
        );
    }
}

/// The largest `instances_live` of `name` in `/api/functions`.
async fn instances_live(host: &Lamina, name: &str) -> u64 {
    let v: Value = client()
        .get(host.at("/api/functions"))
        .send()
        .await
        .expect("functions")
        .json()
        .await
        .expect("json");
    v["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == name))
        .and_then(|f| f["instances_live"].as_u64())
        .expect("instances_live")
}

#[tokio::test]
async fn reserved_concurrency_caps_the_function() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[engine]\nmax_instances = 8\n\
             [functions.faults]\ncomponent = {}\nreserved_concurrency = 2\n",
            toml_path(&g.faults)
        ),
        &[],
    );
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let url = host.at("/2015-03-31/functions/faults/invocations");
            tokio::spawn(async move {
                let r = client()
                    .post(url)
                    .body(r#"{"action":"sleep","ms":700}"#)
                    .send()
                    .await
                    .expect("invoke");
                assert_eq!(r.status(), 200);
                assert!(r.headers().get("x-amz-function-error").is_none());
            })
        })
        .collect();
    let mut peak = 0;
    while !calls.iter().all(|c| c.is_finished()) {
        peak = peak.max(instances_live(&host, "faults").await);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for c in calls {
        c.await.expect("call");
    }
    assert_eq!(
        peak, 2,
        "at most (and, under load, exactly) the 2 reserved instances run"
    );
}
