//! Managed mode for http functions: a `wasi:http/proxy` component's
//! instance is reused across requests, its `init` runs once, a trap or
//! `max_requests` recycles it, and the pool scales out under concurrent
//! load up to `max_environments`. The `http-counter` guest answers
//! `count=N inits=I instance=ID` (see examples/http-counter).

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeSet;

/// What `http-counter` answered.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answer {
    count: u64,
    inits: u64,
    instance: String,
}

fn parse(body: &str) -> Answer {
    let field = |name: &str| {
        body.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {body:?}"))
            .to_string()
    };
    Answer {
        count: field("count").parse().expect("count"),
        inits: field("inits").parse().expect("inits"),
        instance: field("instance"),
    }
}

async fn get(host: &Lamina, path: &str) -> Answer {
    let resp = client().get(host.at(path)).send().await.expect("request");
    assert_eq!(resp.status(), 200, "{path}");
    parse(&resp.text().await.expect("body"))
}

fn config(name: &str, extra: &str) -> String {
    format!(
        "[functions.{name}]\ncomponent = {}\nmode = \"managed\"\n{extra}",
        toml_path(&guests().http_counter)
    )
}

async fn environments(host: &Lamina, name: &str) -> usize {
    let all: Value = client()
        .get(host.at("/api/functions"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    all["functions"]
        .as_array()
        .and_then(|fs| fs.iter().find(|f| f["name"] == name))
        .and_then(|f| f["environments"].as_array())
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn one_instance_serves_successive_requests_and_init_runs_once() {
    let host = Lamina::with_config(
        &format!(
            "{}[functions.web-std]\ncomponent = {}\n",
            config("web", "min_environments = 1\nmax_environments = 1\n"),
            toml_path(&guests().http_counter)
        ),
        &[],
    );
    let mut seen = vec![];
    for _ in 0..3 {
        seen.push(get(&host, "/web/").await);
    }
    let counts: Vec<u64> = seen.iter().map(|a| a.count).collect();
    assert_eq!(counts, [1, 2, 3], "{seen:?}");
    assert!(seen.iter().all(|a| a.inits == 1), "{seen:?}");
    assert!(
        seen.iter().all(|a| a.instance == seen[0].instance),
        "{seen:?}"
    );
    assert_eq!(
        host.metric("lamina_environments_started_total{function=\"web\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        host.metric("lamina_environment_init_seconds_count{function=\"web\"}")
            .await,
        Some(1.0)
    );

    // The same component in standard mode: a fresh instance every time,
    // and init never runs.
    let a = get(&host, "/web-std/").await;
    let b = get(&host, "/web-std/").await;
    assert_eq!((a.count, a.inits, b.count, b.inits), (1, 0, 1, 0));
    assert_ne!(a.instance, b.instance);
}

#[tokio::test]
async fn a_trap_recycles_the_environment_and_the_next_request_works() {
    let host = Lamina::with_config(
        &config("web", "min_environments = 1\nmax_environments = 1\n"),
        &[],
    );
    let first = get(&host, "/web/").await;
    assert_eq!(first.count, 1);

    let resp = client()
        .get(host.at("/web/trap"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-lamina-error"], "trap");

    // The next request gets a fresh, initialised instance.
    let next = get(&host, "/web/").await;
    assert_eq!((next.count, next.inits), (1, 1), "{next:?}");
    assert_ne!(next.instance, first.instance);
    assert_eq!(
        host.metric("lamina_environment_recycles_total{function=\"web\",reason=\"trap\"}")
            .await,
        Some(1.0)
    );
    assert_eq!(
        host.metric("lamina_environments_started_total{function=\"web\"}")
            .await,
        Some(2.0)
    );
}

#[tokio::test]
async fn max_requests_recycles_the_environment() {
    let host = Lamina::with_config(
        &config(
            "web",
            "min_environments = 1\nmax_environments = 1\nmax_requests = 2\n",
        ),
        &[],
    );
    let a = get(&host, "/web/").await;
    let b = get(&host, "/web/").await;
    let c = get(&host, "/web/").await;
    assert_eq!((a.count, b.count, c.count), (1, 2, 1));
    assert_eq!(a.instance, b.instance);
    assert_ne!(b.instance, c.instance);
    assert_eq!(c.inits, 1);
    assert_eq!(
        host.metric("lamina_environment_recycles_total{function=\"web\",reason=\"max_requests\"}")
            .await,
        Some(1.0)
    );
}

#[tokio::test]
async fn concurrent_load_scales_out_up_to_max_environments() {
    let host = Lamina::with_config(
        &config(
            "web",
            "min_environments = 1\nmax_environments = 3\nscale_window_ms = 100\nidle_timeout_ms = 60000\n",
        ),
        &[],
    );
    assert_eq!(environments(&host, "web").await, 1);
    // 12 requests of 300 ms each at once: one environment would take 3.6 s.
    let tasks: Vec<_> = (0..12)
        .map(|_| {
            let url = host.at("/web/sleep/300");
            tokio::spawn(async move {
                let resp = client().get(url).send().await.expect("request");
                assert_eq!(resp.status(), 200);
                parse(&resp.text().await.expect("body"))
            })
        })
        .collect();
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.expect("every request succeeds"));
    }
    let instances: BTreeSet<&str> = answers.iter().map(|a| a.instance.as_str()).collect();
    assert!(
        (2..=3).contains(&instances.len()),
        "served by {} instances: {answers:?}",
        instances.len()
    );
    assert!(answers.iter().all(|a| a.inits == 1), "{answers:?}");
    // Each request ran alone in its instance: the counts per instance are
    // 1..=n with no gaps or repeats.
    for id in &instances {
        let mut counts: Vec<u64> = answers
            .iter()
            .filter(|a| a.instance == *id)
            .map(|a| a.count)
            .collect();
        counts.sort_unstable();
        let expected: Vec<u64> = (1..=counts.len() as u64).collect();
        assert_eq!(counts, expected, "instance {id}");
    }
    let started = host
        .metric("lamina_environments_started_total{function=\"web\"}")
        .await
        .unwrap_or(0.0);
    assert!((2.0..=3.0).contains(&started), "{started} started");
    assert!(environments(&host, "web").await <= 3);
    assert!(
        host.metric("lamina_scale_ups_total{function=\"web\"}")
            .await
            .unwrap_or(0.0)
            >= 1.0
    );
}

/// What `http-p3` answered.
#[derive(Debug, Clone)]
struct P3Answer {
    count: u64,
    max_in_flight: u64,
    instance: String,
}

async fn get_p3(url: String) -> P3Answer {
    let resp = client().get(&url).send().await.expect("request");
    assert_eq!(resp.status(), 200, "{url}");
    let body = resp.text().await.expect("body");
    let field = |name: &str| {
        body.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {body:?}"))
            .to_string()
    };
    P3Answer {
        count: field("count").parse().expect("count"),
        max_in_flight: field("max_in_flight").parse().expect("max_in_flight"),
        instance: field("instance"),
    }
}

fn p3_config(extra: &str) -> String {
    format!(
        "[functions.svc]\ncomponent = {}\nmode = \"managed\"\n{extra}",
        toml_path(&guests().http_p3)
    )
}

#[tokio::test]
async fn a_p3_service_serves_concurrent_requests_in_one_instance() {
    let host = Lamina::with_config(
        &p3_config("min_environments = 1\nmax_environments = 1\nmax_concurrency = 16\n"),
        &[],
    );
    let tasks: Vec<_> = (0..8)
        .map(|_| tokio::spawn(get_p3(host.at("/svc/sleep/300"))))
        .collect();
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.expect("every request succeeds"));
    }
    assert!(
        answers.iter().all(|a| a.instance == answers[0].instance),
        "one instance served all: {answers:?}"
    );
    let mut counts: Vec<u64> = answers.iter().map(|a| a.count).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=8).collect::<Vec<u64>>());
    let most = answers.iter().map(|a| a.max_in_flight).max().unwrap_or(0);
    assert!(
        most >= 2,
        "the requests overlapped in the instance: {answers:?}"
    );
    assert_eq!(
        host.metric("lamina_environments_started_total{function=\"svc\"}")
            .await,
        Some(1.0)
    );
    assert!(
        host.metric("lamina_environment_in_flight_max{function=\"svc\"}")
            .await
            .unwrap_or(0.0)
            >= 2.0
    );
    // Reused for the next request too.
    let next = get_p3(host.at("/svc/")).await;
    assert_eq!((next.count, &next.instance), (9, &answers[0].instance));
}

#[tokio::test]
async fn a_trap_in_a_p3_service_recycles_its_instance() {
    let host = Lamina::with_config(
        &p3_config("min_environments = 1\nmax_environments = 1\n"),
        &[],
    );
    let first = get_p3(host.at("/svc/")).await;
    let resp = client()
        .get(host.at("/svc/trap"))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["x-lamina-error"], "trap");
    let next = get_p3(host.at("/svc/")).await;
    assert_eq!(next.count, 1, "{next:?}");
    assert_ne!(next.instance, first.instance);
    assert_eq!(
        host.metric("lamina_environment_recycles_total{function=\"svc\",reason=\"trap\"}")
            .await,
        Some(1.0)
    );
}

#[test]
fn a_p3_service_in_standard_mode_is_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        &format!(
            "[functions.svc]\ncomponent = {}\n",
            toml_path(&guests().http_p3)
        ),
    );
    let failed = start_fails(&["--config", cfg.to_str().expect("utf8")]);
    assert_ne!(failed.code, Some(0));
    assert!(
        failed.stderr.contains("managed mode only"),
        "{}",
        failed.stderr
    );
}
