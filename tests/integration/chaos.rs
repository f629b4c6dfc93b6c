//! The random `kill -9` campaign: one host on one journal, executions of
//! the `chaos` workflow (at-most-once steps that record their effects in a
//! preopened dir, a wait, a callback) started while the host is SIGKILLed at
//! random moments and restarted on the same journal and port; callbacks are
//! completed from outside as the workflows reach them. Then it counts
//!
//! - `lost`: a step or callback completion seen acknowledged (SUCCEEDED in
//!   the state, or a 200 to `succeed`) that is later missing or changed, an
//!   accepted execution that vanished, or a finished execution missing a
//!   step or with a wrong result;
//! - `duplicated`: an at-most-once step body that ran more than once
//!   (counted in the effects file);
//! - `stuck`: executions not ended within a bound after the last restart;
//!
//! prints `lost=N duplicated=N stuck=N` (and `failed=N`: ended but not
//! SUCCEEDED) and asserts all are zero. `LAMINA_CHAOS_EXECUTIONS` (default
//! 30), `LAMINA_CHAOS_KILLS` (default 3) and `LAMINA_CHAOS_SEED` (default:
//! from the clock, printed) size it; `scripts/chaos.sh` runs a long campaign.

use crate::support::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic PRNG (splitmix64), so a seed replays a campaign's
/// plan (the kill moments still race with the host, by design).
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

pub(crate) fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A `lamina serve` process on a fixed port; SIGKILLed on drop.
pub(crate) struct Host {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Host {
    /// Starts the host on `state` (journal, config, `data/`) and `port`,
    /// trying again a few times if it exits at start-up (the port can be
    /// held for a moment by a connection of another test).
    pub(crate) fn start(state: &Path, port: u16) -> Host {
        Host::start_with(state, port, &[])
    }

    /// [`Host::start`] with more `lamina serve` arguments (e.g. `--journal URL`).
    pub(crate) fn start_with(state: &Path, port: u16, extra: &[&str]) -> Host {
        for _ in 0..10 {
            if let Some(host) = Host::try_start(state, port, extra) {
                return host;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("lamina did not start on port {port} after 10 tries");
    }

    fn try_start(state: &Path, port: u16, extra: &[&str]) -> Option<Host> {
        let config = state.join("lamina.toml");
        let mut child = lamina_cmd()
            .arg("serve")
            .arg("--config")
            .arg(&config)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--state-dir")
            .arg(state)
            .arg("--cache-dir")
            .arg(shared_cache())
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn lamina");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut ready = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !ready && line.starts_with("Metrics:") {
                    ready = true;
                    let _ = tx.send(true);
                }
            }
            let _ = tx.send(false);
        });
        let ready = rx.recv_timeout(Duration::from_secs(300)).unwrap_or(false);
        if !ready {
            let _ = child.kill();
            let status = child.wait().ok();
            eprintln!("chaos: lamina did not start on port {port} ({status:?})");
            return None;
        }
        Some(Host {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// SIGKILL, and reap the process.
    pub(crate) fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 (the host re-binds it after every kill).
pub(crate) fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub(crate) fn enc(s: &str) -> String {
    s.replace(':', "%3A")
}

/// One execution of the campaign.
pub(crate) struct Planned {
    pub(crate) n: u64,
    pub(crate) input: Value,
    pub(crate) steps: u64,
    pub(crate) callback: bool,
    /// Its ARN, once a start was answered 202.
    pub(crate) arn: Option<String>,
    /// Ended, with its final description.
    pub(crate) ended: Option<Value>,
}

/// What the campaign counted.
#[derive(Default, Debug)]
pub(crate) struct Counts {
    pub(crate) lost: Vec<String>,
    pub(crate) duplicated: Vec<String>,
    pub(crate) stuck: Vec<String>,
    pub(crate) failed: Vec<String>,
    /// At-most-once steps a kill interrupted (they fail, and the workflow goes on).
    pub(crate) interrupted: usize,
}

/// The campaign's view of the journal: what it saw acknowledged.
#[derive(Default)]
pub(crate) struct Seen {
    /// (ARN, operation id) → result of a step seen SUCCEEDED.
    pub(crate) steps: HashMap<(String, String), Value>,
    /// Callback ids whose `succeed` was answered 200.
    pub(crate) callbacks_acked: BTreeSet<String>,
    /// Callback ids already counted as lost (counted once).
    pub(crate) callbacks_lost: BTreeSet<String>,
}

/// A GET with a short timeout; `None` when the host does not answer (it may
/// be dead or restarting).
pub(crate) async fn get(client: &reqwest::Client, url: &str) -> Option<(u16, Value)> {
    let resp = client.get(url).send().await.ok()?;
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    Some((status, body))
}

/// Starts (or finds, by name) execution `p`; records its ARN on a 202.
pub(crate) async fn start(client: &reqwest::Client, host: &Host, p: &mut Planned) {
    let resp = client
        .post(host.at("/2015-03-31/functions/chaos/invocations"))
        .header("x-amz-invocation-type", "Event")
        .header("x-amz-durable-execution-name", format!("chaos-{}", p.n))
        .body(p.input.to_string())
        .send()
        .await;
    if let Ok(resp) = resp
        && resp.status().as_u16() == 202
        && let Some(arn) = resp
            .headers()
            .get("x-amz-durable-execution-arn")
            .and_then(|v| v.to_str().ok())
    {
        if let Some(old) = &p.arn {
            assert_eq!(old, arn, "execution chaos-{} changed its ARN", p.n);
        }
        p.arn = Some(arn.to_string());
    }
}

/// One look at every unfinished execution: checks what was acknowledged
/// before is still there, records newly completed steps, completes started
/// callbacks and notes executions that ended.
pub(crate) async fn observe(
    client: &reqwest::Client,
    host: &Host,
    plan: &mut [Planned],
    seen: &mut Seen,
    counts: &mut Counts,
) {
    for p in plan.iter_mut() {
        let Some(arn) = p.arn.clone() else { continue };
        if p.ended.is_some() {
            continue;
        }
        let Some((status, exec)) = get(
            client,
            &host.at(&format!("/2025-12-01/durable-executions/{}", enc(&arn))),
        )
        .await
        else {
            return; // the host is down; look again after the restart
        };
        if status == 404 {
            counts
                .lost
                .push(format!("execution chaos-{} ({arn}) vanished", p.n));
            p.ended = Some(json!({ "Status": "VANISHED" }));
            continue;
        }
        if status != 200 {
            continue;
        }
        let Some((200, state)) = get(
            client,
            &host.at(&format!(
                "/2025-12-01/durable-executions/{}/state",
                enc(&arn)
            )),
        )
        .await
        else {
            continue;
        };
        let ops = state["Operations"].as_array().cloned().unwrap_or_default();
        check_seen_steps(&arn, p.n, &ops, seen, counts);
        for op in &ops {
            if op["Type"] == "STEP" && op["Status"] == "SUCCEEDED" {
                let key = (arn.clone(), op["Id"].as_str().unwrap_or("").to_string());
                seen.steps
                    .entry(key)
                    .or_insert_with(|| op["StepDetails"]["Result"].clone());
            }
            if op["Type"] == "CALLBACK" && op["Status"] == "STARTED" {
                let id = op["CallbackDetails"]["CallbackId"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                if seen.callbacks_acked.contains(&id) && seen.callbacks_lost.insert(id.clone()) {
                    counts.lost.push(format!(
                        "callback {id} of chaos-{} was acknowledged but is STARTED again",
                        p.n
                    ));
                }
                let resp = client
                    .post(host.at(&format!(
                        "/2025-12-01/durable-execution-callbacks/{}/succeed",
                        enc(&id)
                    )))
                    .body(json!({ "approved": p.n }).to_string())
                    .send()
                    .await;
                if resp.is_ok_and(|r| r.status().as_u16() == 200) {
                    seen.callbacks_acked.insert(id);
                }
            }
        }
        if exec["Status"] != "RUNNING" {
            p.ended = Some(exec);
        }
    }
}

/// Every step of `arn` seen SUCCEEDED before must still be SUCCEEDED with
/// the same result.
fn check_seen_steps(arn: &str, n: u64, ops: &[Value], seen: &Seen, counts: &mut Counts) {
    for ((a, id), result) in &seen.steps {
        if a != arn {
            continue;
        }
        let now = ops.iter().find(|o| o["Id"].as_str() == Some(id.as_str()));
        let same = now
            .is_some_and(|o| o["Status"] == "SUCCEEDED" && &o["StepDetails"]["Result"] == result);
        let entry = format!("step {id} of chaos-{n} was SUCCEEDED ({result}) and is now {now:?}");
        if !same && !counts.lost.contains(&entry) {
            counts.lost.push(entry);
        }
    }
}

/// The final checks of an ended execution against its journal and effects.
pub(crate) async fn check_final(
    client: &reqwest::Client,
    host: &Host,
    p: &Planned,
    effects: &BTreeMap<String, usize>,
    seen: &Seen,
    counts: &mut Counts,
) {
    let (Some(arn), Some(exec)) = (&p.arn, &p.ended) else {
        return;
    };
    for name in (0..p.steps)
        .map(|i| format!("s{i}"))
        .chain(["done".to_string()])
    {
        let ran = effects
            .get(&format!("{} {name}", p.n))
            .copied()
            .unwrap_or(0);
        if ran > 1 {
            counts.duplicated.push(format!(
                "at-most-once step {name} of chaos-{} ran {ran} times",
                p.n
            ));
        }
    }
    if exec["Status"] == "VANISHED" {
        return;
    }
    if exec["Status"] != "SUCCEEDED" {
        counts
            .failed
            .push(format!("chaos-{} ended {}: {}", p.n, exec["Status"], exec));
        return;
    }
    let Some((200, state)) = get(
        client,
        &host.at(&format!(
            "/2025-12-01/durable-executions/{}/state",
            enc(arn)
        )),
    )
    .await
    else {
        counts
            .lost
            .push(format!("state of chaos-{} unreadable at the end", p.n));
        return;
    };
    let ops = state["Operations"].as_array().cloned().unwrap_or_default();
    check_seen_steps(arn, p.n, &ops, seen, counts);
    let result: Value = exec["Result"]
        .as_str()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or(Value::Null);
    let interrupted: Vec<&str> = result["interrupted"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    counts.interrupted += interrupted.len();
    let mut sum = 0u64;
    for (i, name) in (0..p.steps)
        .map(|i| (i, format!("s{i}")))
        .chain([(0, "done".to_string())])
    {
        let op = ops
            .iter()
            .find(|o| o["Type"] == "STEP" && o["Name"].as_str() == Some(name.as_str()));
        match op.map(|o| o["Status"].as_str().unwrap_or("")) {
            Some("SUCCEEDED") => sum += i,
            Some("FAILED") if interrupted.contains(&name.as_str()) => {}
            other => counts.lost.push(format!(
                "finished chaos-{} has step {name} {other:?} (interrupted: {interrupted:?})",
                p.n
            )),
        }
    }
    if result["sum"] != json!(sum) {
        counts.lost.push(format!(
            "chaos-{} returned {result} but its journal sums to {sum}",
            p.n
        ));
    }
    let approval = if p.callback {
        json!({ "approved": p.n })
    } else {
        Value::Null
    };
    if result["approval"] != approval {
        counts.lost.push(format!(
            "chaos-{} returned approval {} instead of {approval}",
            p.n, result["approval"]
        ));
    }
}

pub(crate) fn effects(data: &Path) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for line in std::fs::read_to_string(data.join("effects.log"))
        .unwrap_or_default()
        .lines()
    {
        *counts.entry(line.to_string()).or_insert(0) += 1;
    }
    counts
}

pub(crate) fn config(data: &Path) -> String {
    format!(
        r#"
[functions.chaos]
component = {cases}
dirs = {{ "/data" = {data} }}
timeout_ms = 20000
"#,
        cases = toml_path(&guests().durable_cases),
        data = toml_path(data),
    )
}

#[tokio::test]
async fn random_kill_campaign_loses_duplicates_and_strands_nothing() {
    let executions = env_u64("LAMINA_CHAOS_EXECUTIONS", 30).max(1);
    let kills = env_u64("LAMINA_CHAOS_KILLS", 3);
    let seed = env_u64(
        "LAMINA_CHAOS_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    );
    eprintln!("chaos: executions={executions} kills={kills} seed={seed}");
    let mut rng = Rng(seed);
    let state = tempfile::tempdir().expect("tempdir");
    let data: PathBuf = state.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    write_config(state.path(), &config(&data));
    let port = free_port();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");

    let mut plan: Vec<Planned> = (0..executions)
        .map(|n| {
            let steps = rng.range(2, 5);
            let callback = rng.range(0, 1) == 1;
            let input = json!({
                "n": n,
                "steps": steps,
                "step_ms": rng.range(50, 400),
                "wait": rng.range(0, 2),
                "callback": callback,
            });
            Planned {
                n,
                input,
                steps,
                callback,
                arn: None,
                ended: None,
            }
        })
        .collect();
    let mut seen = Seen::default();
    let mut counts = Counts::default();
    let epochs = kills + 1;
    let per_epoch = executions.div_ceil(epochs) as usize;
    let mut host = Host::start(state.path(), port);
    let mut killed = 0;
    for epoch in 0..epochs {
        // Start this epoch's executions at random moments while watching.
        let first = (epoch as usize * per_epoch).min(plan.len());
        let last = ((epoch as usize + 1) * per_epoch).min(plan.len());
        let run_for = Duration::from_millis(rng.range(1500, 4000));
        let began = Instant::now();
        let mut next = first;
        while began.elapsed() < run_for || next < last {
            if next < last {
                start(&client, &host, &mut plan[next]).await;
                next += 1;
            }
            for p in plan[..next].iter_mut().filter(|p| p.arn.is_none()) {
                start(&client, &host, p).await;
            }
            observe(&client, &host, &mut plan, &mut seen, &mut counts).await;
            tokio::time::sleep(Duration::from_millis(rng.range(20, 200))).await;
        }
        if epoch + 1 < epochs {
            host.kill(); // SIGKILL at a random moment of this epoch
            killed += 1;
            host = Host::start(state.path(), port);
        }
    }

    // After the last restart: every execution must end within the bound.
    let bound = Duration::from_secs(90);
    let deadline = Instant::now() + bound;
    loop {
        for p in plan.iter_mut().filter(|p| p.arn.is_none()) {
            start(&client, &host, p).await;
        }
        observe(&client, &host, &mut plan, &mut seen, &mut counts).await;
        if plan.iter().all(|p| p.ended.is_some()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let effects = effects(&data);
    for p in &plan {
        match (&p.arn, &p.ended) {
            (None, _) => counts.stuck.push(format!("chaos-{} never accepted", p.n)),
            (Some(arn), None) => counts.stuck.push(format!(
                "chaos-{} ({arn}) still RUNNING {} s after the last restart",
                p.n,
                bound.as_secs()
            )),
            _ => {}
        }
        check_final(&client, &host, p, &effects, &seen, &mut counts).await;
    }
    let steps_seen = seen.steps.len();
    let amo_effects: usize = effects.values().sum();
    eprintln!(
        "chaos: {executions} executions, {killed} kills, {steps_seen} completed steps watched, \
         {amo_effects} step bodies run, {} steps interrupted by a kill, {} callbacks completed",
        counts.interrupted,
        seen.callbacks_acked.len()
    );
    for (what, list) in [
        ("lost", &counts.lost),
        ("duplicated", &counts.duplicated),
        ("stuck", &counts.stuck),
        ("failed", &counts.failed),
    ] {
        for item in list.iter().take(20) {
            eprintln!("chaos: {what}: {item}");
        }
    }
    let report = format!(
        "lost={} duplicated={} stuck={} failed={}",
        counts.lost.len(),
        counts.duplicated.len(),
        counts.stuck.len(),
        counts.failed.len()
    );
    eprintln!("chaos: {report}");
    println!("{report}");
    assert!(
        killed >= kills && steps_seen > 0,
        "the campaign did not run: {killed} kills, {steps_seen} steps"
    );
    assert_eq!(
        (
            counts.lost.len(),
            counts.duplicated.len(),
            counts.stuck.len(),
            counts.failed.len()
        ),
        (0, 0, 0, 0),
        "{report} (seed {seed}): {counts:#?}"
    );
}
