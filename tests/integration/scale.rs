//! Several `lamina serve` hosts on one PostgreSQL journal, with the `chaos`
//! workflow of `chaos.rs` (at-most-once steps that record their effects in a
//! shared dir, a wait, a callback):
//!
//! - three hosts, executions started across them, one host SIGKILLed
//!   mid-run, callbacks completed through whichever host answers: every
//!   execution must end SUCCEEDED with no completed step lost and no
//!   at-most-once step run twice; the time the killed host's executions took
//!   to move on elsewhere is printed (`scale: resumed ...`);
//! - PostgreSQL stopped for a few seconds under load: requests answer with a
//!   clear error (HTTP 503 naming PostgreSQL) instead of hanging, and
//!   afterwards every execution still ends SUCCEEDED with nothing lost.
//!
//! Both need a real PostgreSQL: they are ignored unless asked for, and
//! `scripts/test-postgres.sh` runs them under `scripts/postgres.sh`.
//! `LAMINA_SCALE_EXECUTIONS` (default 300) sizes the first.

use crate::chaos::*;
use crate::support::*;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fresh database on the test server (`LAMINA_TEST_PG_URL`), so that
/// tests never see each other's executions; its URL.
async fn fresh_database() -> String {
    let url = std::env::var("LAMINA_TEST_PG_URL")
        .expect("LAMINA_TEST_PG_URL: run under scripts/postgres.sh");
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to the test PostgreSQL");
    tokio::spawn(connection);
    let name = format!("scale_{}", uuid::Uuid::new_v4().simple());
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

/// `n` hosts on one journal database, each with its own state dir.
struct Cluster {
    hosts: Vec<Option<Host>>,
    _states: Vec<tempfile::TempDir>,
}

impl Cluster {
    fn start(n: usize, journal: &str, data: &Path) -> Cluster {
        let mut hosts = Vec::new();
        let mut states = Vec::new();
        for _ in 0..n {
            let state = tempfile::tempdir().expect("tempdir");
            write_config(state.path(), &config(data));
            hosts.push(Some(Host::start_with(
                state.path(),
                free_port(),
                &["--journal", journal],
            )));
            states.push(state);
        }
        Cluster {
            hosts,
            _states: states,
        }
    }

    /// The live hosts.
    fn live(&self) -> Vec<&Host> {
        self.hosts.iter().flatten().collect()
    }
}

fn plan(executions: u64, rng: &mut Rng) -> Vec<Planned> {
    (0..executions)
        .map(|n| {
            let steps = rng.range(2, 4);
            let callback = rng.range(0, 1) == 1;
            Planned {
                n,
                input: json!({
                    "n": n,
                    "steps": steps,
                    "step_ms": rng.range(20, 150),
                    "wait": rng.range(0, 1),
                    "callback": callback,
                }),
                steps,
                callback,
                arn: None,
                ended: None,
            }
        })
        .collect()
}

/// How far an execution has got, as this test saw it: completed steps, ended.
fn progress(p: &Planned, seen: &Seen) -> (usize, bool) {
    let arn = p.arn.clone().unwrap_or_default();
    let steps = seen.steps.keys().filter(|(a, _)| *a == arn).count();
    (steps, p.ended.is_some())
}

/// The executions a killed host left unfinished, and when each moved on.
struct Killed {
    at: Instant,
    /// Index in the plan → progress at the kill.
    before: HashMap<usize, (usize, bool)>,
    /// Index in the plan → time from the kill to its first progress.
    resumed: HashMap<usize, Duration>,
}

impl Killed {
    /// Notes the unfinished executions among `on_host` now.
    fn now(plan: &[Planned], seen: &Seen, on_host: impl Iterator<Item = usize>) -> Killed {
        Killed {
            at: Instant::now(),
            before: on_host
                .filter(|&i| plan[i].arn.is_some() && plan[i].ended.is_none())
                .map(|i| (i, progress(&plan[i], seen)))
                .collect(),
            resumed: HashMap::new(),
        }
    }

    /// Records the executions that moved on since the kill.
    fn note(&mut self, plan: &[Planned], seen: &Seen) {
        for (&i, before) in &self.before {
            if progress(&plan[i], seen) != *before {
                self.resumed.entry(i).or_insert_with(|| self.at.elapsed());
            }
        }
    }
}

/// Observes through every live host in turn until every execution ended or
/// `bound` passed; `tick` runs after each pass.
async fn observe_until_done(
    client: &reqwest::Client,
    cluster: &Cluster,
    plan: &mut [Planned],
    seen: &mut Seen,
    counts: &mut Counts,
    bound: Duration,
    mut tick: impl FnMut(&[Planned], &Seen),
) {
    let deadline = Instant::now() + bound;
    let mut turn = 0;
    loop {
        let live = cluster.live();
        let host = live[turn % live.len()];
        turn += 1;
        for p in plan.iter_mut().filter(|p| p.arn.is_none()) {
            start(client, host, p).await;
        }
        observe(client, host, plan, seen, counts).await;
        tick(plan, seen);
        if plan.iter().all(|p| p.ended.is_some()) || Instant::now() > deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The final checks; panics with the report unless nothing was lost,
/// duplicated, stuck or failed.
async fn check_all(
    client: &reqwest::Client,
    host: &Host,
    plan: &[Planned],
    data: &Path,
    seen: &Seen,
    counts: &mut Counts,
    what: &str,
) {
    let effects = effects(data);
    for p in plan {
        match (&p.arn, &p.ended) {
            (None, _) => counts.stuck.push(format!("chaos-{} never accepted", p.n)),
            (Some(arn), None) => counts
                .stuck
                .push(format!("chaos-{} ({arn}) still RUNNING", p.n)),
            _ => {}
        }
        check_final(client, host, p, &effects, seen, counts).await;
    }
    let bodies: usize = effects.values().sum();
    for (kind, list) in [
        ("lost", &counts.lost),
        ("duplicated", &counts.duplicated),
        ("stuck", &counts.stuck),
        ("failed", &counts.failed),
    ] {
        for item in list.iter().take(20) {
            eprintln!("scale: {what}: {kind}: {item}");
        }
    }
    let report = format!(
        "{what}: {} executions, {} completed steps watched, {bodies} step bodies run, \
         {} callbacks completed: lost={} duplicated={} stuck={} failed={}",
        plan.len(),
        seen.steps.len(),
        seen.callbacks_acked.len(),
        counts.lost.len(),
        counts.duplicated.len(),
        counts.stuck.len(),
        counts.failed.len()
    );
    eprintln!("scale: {report}");
    println!("scale: {report}");
    assert!(!seen.steps.is_empty(), "{report}: no step was seen");
    assert_eq!(
        (
            counts.lost.len(),
            counts.duplicated.len(),
            counts.stuck.len(),
            counts.failed.len()
        ),
        (0, 0, 0, 0),
        "{report}"
    );
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh"]
async fn three_hosts_on_one_postgres_lose_nothing_when_one_is_killed() {
    let executions = std::env::var("LAMINA_SCALE_EXECUTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300u64);
    let journal = fresh_database().await;
    let data_dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = data_dir.path().to_path_buf();
    let mut cluster = Cluster::start(3, &journal, &data);
    let client = client();
    let mut rng = Rng(0x5ca1e);
    let mut plan = plan(executions, &mut rng);
    let mut seen = Seen::default();
    let mut counts = Counts::default();

    // Start every execution, round robin over the three hosts; the first
    // host is killed once a third of them are started. Its unfinished
    // executions at that moment are watched until each moves on elsewhere.
    let started_at = Instant::now();
    let kill_after = plan.len() / 3;
    let mut killed: Option<Killed> = None;
    for i in 0..plan.len() {
        let live = cluster.live();
        let host = live[i % live.len()];
        start(&client, host, &mut plan[i]).await;
        if i % 30 == 29 {
            observe(&client, host, &mut plan, &mut seen, &mut counts).await;
            if let Some(k) = &mut killed {
                k.note(&plan, &seen);
            }
        }
        if i + 1 == kill_after {
            // Let the first host get into its executions, then SIGKILL it.
            observe(&client, host, &mut plan, &mut seen, &mut counts).await;
            if let Some(h) = cluster.hosts[0].take() {
                h.kill();
            }
            let k = Killed::now(&plan, &seen, (0..kill_after).step_by(3));
            eprintln!(
                "scale: host 0 killed {:.1} s in, {} of its executions unfinished",
                started_at.elapsed().as_secs_f64(),
                k.before.len()
            );
            killed = Some(k);
        }
    }
    let mut killed = killed.expect("the kill happened");
    observe_until_done(
        &client,
        &cluster,
        &mut plan,
        &mut seen,
        &mut counts,
        Duration::from_secs(240),
        |plan, seen| killed.note(plan, seen),
    )
    .await;
    let (resumed, stalled) = (killed.resumed, killed.before.len());
    let mut times: Vec<f64> = resumed.values().map(Duration::as_secs_f64).collect();
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    let max = times.last().copied().unwrap_or(0.0);
    let report = format!(
        "resumed {} of {} executions stalled on the killed host: median {median:.2} s, \
         max {max:.2} s after the SIGKILL (lease 5 s); all done {:.1} s after the start",
        resumed.len(),
        stalled,
        started_at.elapsed().as_secs_f64()
    );
    eprintln!("scale: {report}");
    println!("scale: {report}");
    let live = cluster.live();
    check_all(
        &client,
        live[0],
        &plan,
        &data,
        &seen,
        &mut counts,
        "3 hosts, 1 killed",
    )
    .await;
    assert_eq!(resumed.len(), stalled, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh"]
async fn a_postgres_outage_fails_requests_clearly_and_loses_nothing() {
    let journal = fresh_database().await;
    let data_dir = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = data_dir.path().to_path_buf();
    let cluster = Cluster::start(2, &journal, &data);
    let client = client();
    let mut rng = Rng(0x07a6e);
    let mut plan = plan(60, &mut rng);
    let mut seen = Seen::default();
    let mut counts = Counts::default();
    for (i, p) in plan.iter_mut().enumerate().take(30) {
        let live = cluster.live();
        start(&client, live[i % live.len()], p).await;
    }

    // Stop PostgreSQL for 4 s while requests keep coming.
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut outage = std::process::Command::new("bash")
        .arg(repo.join("scripts/postgres-outage.sh"))
        .arg("4")
        .spawn()
        .expect("start the outage");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut unavailable = 0;
    let mut hung = 0;
    let mut other = Vec::new();
    let began = Instant::now();
    while began.elapsed() < Duration::from_secs(3) {
        for host in cluster.live() {
            let sent = Instant::now();
            let resp = client
                .get(host.at("/2025-12-01/functions/chaos/durable-executions?MaxItems=5"))
                .send()
                .await;
            match resp {
                Ok(r) if r.status().as_u16() == 503 => {
                    let body = r.text().await.unwrap_or_default();
                    assert!(body.contains("PostgreSQL"), "unclear 503: {body}");
                    unavailable += 1;
                }
                Ok(r) => other.push(r.status().as_u16()),
                Err(e) if e.is_timeout() => hung += 1,
                Err(e) => panic!("request failed without an answer: {e}"),
            }
            assert!(sent.elapsed() < Duration::from_secs(10));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = outage.wait().expect("outage script");
    assert!(status.success(), "the outage script failed");
    eprintln!("scale: during the outage: {unavailable} answers 503, {hung} hung, others {other:?}");
    println!(
        "scale: during a 4 s PostgreSQL outage: {unavailable} requests answered 503, {hung} hung"
    );
    assert!(unavailable > 0, "no request saw the outage: {other:?}");
    assert_eq!(hung, 0, "requests hung during the outage");

    // After the outage: the rest starts, and everything ends.
    for (i, p) in plan.iter_mut().enumerate().skip(30) {
        let live = cluster.live();
        start(&client, live[i % live.len()], p).await;
    }
    observe_until_done(
        &client,
        &cluster,
        &mut plan,
        &mut seen,
        &mut counts,
        Duration::from_secs(180),
        |_, _| {},
    )
    .await;
    let live = cluster.live();
    check_all(
        &client,
        live[0],
        &plan,
        &data,
        &seen,
        &mut counts,
        "PostgreSQL outage",
    )
    .await;
}

#[test]
fn serve_with_an_unreachable_journal_database_fails_at_start_naming_it() {
    let state = tempfile::tempdir().expect("tempdir");
    let data = state.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    write_config(state.path(), &config(&data));
    // A port nobody listens on.
    let port = free_port();
    let out = lamina_cmd()
        .arg("serve")
        .arg("--config")
        .arg(state.path().join("lamina.toml"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--state-dir")
        .arg(state.path())
        .arg("--cache-dir")
        .arg(shared_cache())
        .arg("--journal")
        .arg(format!("postgres://lamina:hunter2@127.0.0.1:{port}/lamina"))
        .output()
        .expect("run lamina");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "started without its database: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "cannot reach the journal database at postgres://lamina@127.0.0.1:{port}/lamina"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "the password leaked: {stderr}");
}
