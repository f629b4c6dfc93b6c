//! Managed mode: one-time init paid before traffic, state kept across
//! requests, multi-concurrency inside one instance, scaling by policy, and
//! recycling of only the environment that failed.

use crate::support::*;
use serde_json::Value;
use std::time::Duration;

async fn invoke_json(
    host: &Lamina,
    name: &str,
    payload: &str,
) -> (reqwest::header::HeaderMap, Value) {
    let resp = invoke(host, name, payload, "RequestResponse").await;
    assert_eq!(resp.status(), 200);
    let headers = resp.headers().clone();
    (headers, resp.json().await.expect("json"))
}

async fn functions(host: &Lamina) -> Value {
    client()
        .get(host.at("/api/functions"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

async fn function(host: &Lamina, name: &str) -> Value {
    let all = functions(host).await;
    all["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == name).cloned())
        .expect("function listed")
}

#[tokio::test]
async fn init_runs_once_before_traffic_and_state_is_kept() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[functions.counter]\ncomponent = {c}\nmode = \"managed\"\nmin_environments = 1\nmax_environments = 1\nenv = {{ COUNTER_INIT_MS = \"1000\" }}\n\
             [functions.counter-std]\ncomponent = {c}\n",
            c = toml_path(&g.counter)
        ),
        &[],
    );
    // The host printed its URL only after the environment was initialised:
    // init has already run once, and took about a second.
    assert_eq!(
        host.metric("lamina_environment_init_seconds_count{function=\"counter\"}")
            .await,
        Some(1.0)
    );
    let init_s = host
        .metric("lamina_environment_init_seconds_sum{function=\"counter\"}")
        .await
        .unwrap_or(0.0);
    assert!(init_s >= 1.0, "init took {init_s} s");

    // The first request does not instantiate or initialise anything.
    let (headers, v) = invoke_json(&host, "counter", "{}").await;
    assert_eq!(headers["x-lamina-instantiate-us"], "0");
    let run_us: u64 = headers["x-lamina-run-us"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("number");
    assert!(
        (run_us as f64) < init_s * 1e6 / 2.0,
        "the first request ran {run_us} us: it paid init"
    );
    assert_eq!(v["count"], 1);
    assert!(
        v["table_len"].as_u64().unwrap_or(0) > 0,
        "init built the table: {v}"
    );

    // State lives on in the managed environment...
    for expected in 2..=5 {
        let (_, v) = invoke_json(&host, "counter", "{}").await;
        assert_eq!(v["count"], expected);
    }
    // ...and never in standard mode, where init does not run either.
    for _ in 0..3 {
        let (_, v) = invoke_json(&host, "counter-std", "{}").await;
        assert_eq!(v["count"], 1);
        assert_eq!(v["table_len"], 0);
    }
    assert_eq!(
        host.metric("lamina_environments_started_total{function=\"counter\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn sixty_four_invocations_in_flight_inside_one_instance() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[functions.io-wait]\ncomponent = {}\nmode = \"managed\"\nmin_environments = 1\nmax_environments = 1\nmax_concurrency = 64\n",
            toml_path(&g.io_wait)
        ),
        &[],
    );
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let url = host.at("/2015-03-31/functions/io-wait/invocations");
        tasks.push(tokio::spawn(async move {
            let r = client()
                .post(url)
                .body(r#"{"ms":1500}"#)
                .send()
                .await
                .expect("request");
            assert_eq!(r.status(), 200);
            assert!(r.headers().get("x-amz-function-error").is_none());
            r.json::<Value>().await.expect("json")
        }));
    }
    let mut max_seen = 0;
    for t in tasks {
        let v = t.await.expect("join");
        assert_eq!(v["waited_ms"], 1500);
        max_seen = max_seen.max(v["max_in_flight"].as_u64().unwrap_or(0));
    }
    // The guest itself saw all 64 in flight at once, in one instance.
    assert_eq!(max_seen, 64);
    assert_eq!(
        host.metric("lamina_environment_in_flight_max{function=\"io-wait\"}")
            .await,
        Some(64.0)
    );
    assert_eq!(
        host.metric("lamina_environments_started_total{function=\"io-wait\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn scales_up_at_most_doubling_per_window_and_back_down_when_idle() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[functions.io-wait]\ncomponent = {}\nmode = \"managed\"\nmin_environments = 1\nmax_environments = 40\n\
             max_concurrency = 4\nscale_window_ms = 1000\nidle_timeout_ms = 1000\nheadroom = 0.5\n",
            toml_path(&g.io_wait)
        ),
        &[],
    );
    let send = |n: usize, ms: u64| {
        (0..n)
            .map(|_| {
                let url = host.at("/2015-03-31/functions/io-wait/invocations");
                tokio::spawn(async move {
                    let r = client()
                        .post(url)
                        .body(format!("{{\"ms\":{ms}}}"))
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(r.status(), 200);
                    assert!(r.headers().get("x-amz-function-error").is_none());
                })
            })
            .collect::<Vec<_>>()
    };
    // A step from 10 to 100 concurrent invocations.
    let mut tasks = send(10, 3000);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tasks.extend(send(100, 3000));
    for t in tasks {
        t.await.expect("every invocation succeeds");
    }
    let f = function(&host, "io-wait").await;
    let events = f["scaling_events"].as_array().cloned().unwrap_or_default();
    let ups: Vec<&Value> = events.iter().filter(|e| e["direction"] == "up").collect();
    assert!(ups.len() >= 2, "it scaled up in steps: {events:?}");
    let peak_envs = ups
        .iter()
        .filter_map(|e| e["to"].as_u64())
        .max()
        .unwrap_or(0);
    assert!(
        peak_envs >= 8,
        "110 in flight / 4 per environment needs many: {events:?}"
    );
    for e in &ups {
        let (to, base) = (
            e["to"].as_u64().unwrap_or(0),
            e["window_base"].as_u64().unwrap_or(0),
        );
        assert!(to <= 2 * base, "more than doubled within a window: {e}");
    }
    // Idle: back down to the minimum.
    let mut live = u64::MAX;
    for _ in 0..100 {
        live = function(&host, "io-wait").await["environments"]
            .as_array()
            .map_or(0, |a| a.len() as u64);
        if live == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(live, 1, "idle environments above the minimum retire");
    assert!(
        host.metric("lamina_scale_downs_total{function=\"io-wait\"}")
            .await
            .unwrap_or(0.0)
            >= 1.0
    );
}

#[tokio::test]
async fn a_trap_recycles_only_its_environment() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[functions.faults]\ncomponent = {}\nmode = \"managed\"\nmin_environments = 2\nmax_environments = 2\ntimeout_ms = 2000\n",
            toml_path(&g.faults)
        ),
        &[],
    );
    let ids = |f: &Value| -> Vec<u64> {
        f["environments"].as_array().map_or(vec![], |a| {
            a.iter().filter_map(|e| e["id"].as_u64()).collect()
        })
    };
    let before = ids(&function(&host, "faults").await);
    assert_eq!(before.len(), 2);

    let resp = invoke(&host, "faults", r#"{"action":"trap"}"#, "RequestResponse").await;
    assert_eq!(resp.headers()["x-amz-function-error"], "Unhandled");
    let v: Value = resp.json().await.expect("json");
    assert_eq!(v["errorType"], "Runtime.Trap");

    // The next request succeeds at once (the other environment takes it).
    let (_, v) = invoke_json(&host, "faults", r#"{"action":"ok"}"#).await;
    assert_eq!(v, serde_json::json!({"ok": true}));

    // Exactly one environment was replaced; the other one lives on.
    let mut after = vec![];
    for _ in 0..50 {
        after = ids(&function(&host, "faults").await);
        if after.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(after.len(), 2, "the pool is back at its minimum");
    assert_eq!(
        before.iter().filter(|id| after.contains(id)).count(),
        1,
        "{before:?} -> {after:?}"
    );
    assert_eq!(
        host.metric("lamina_environment_recycles_total{function=\"faults\",reason=\"trap\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        host.metric("lamina_environments_started_total{function=\"faults\"}")
            .await,
        Some(3.0)
    );
}

#[tokio::test]
async fn a_failing_init_is_a_clear_error() {
    let g = guests();
    // With a minimum environment, the host refuses to start.
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &format!(
            "[functions.counter]\ncomponent = {}\nmode = \"managed\"\nenv = {{ COUNTER_INIT_MS = \"soon\" }}\n",
            toml_path(&g.counter)
        ),
    );
    let failed = start_fails(&["--config", cfg.to_str().expect("utf8")]);
    assert_ne!(failed.code, Some(0));
    assert!(
        failed.stderr.contains("could not be initialised"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("init returned an error"),
        "{}",
        failed.stderr
    );

    // With none, the host starts and each invocation gets the init error.
    let host = Lamina::with_config(
        &format!(
            "[functions.counter]\ncomponent = {}\nmode = \"managed\"\nmin_environments = 0\nenv = {{ COUNTER_INIT_MS = \"soon\" }}\n",
            toml_path(&g.counter)
        ),
        &[],
    );
    for _ in 0..2 {
        let resp = invoke(&host, "counter", "{}", "RequestResponse").await;
        assert_eq!(resp.headers()["x-amz-function-error"], "Unhandled");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["errorType"], "Runtime.InitError", "{v}");
    }
}
