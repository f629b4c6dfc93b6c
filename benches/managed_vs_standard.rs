//! Load comparison of standard and managed mode on the `io-wait` example, an
//! I/O-bound async handler (each invocation awaits a 20 ms timer).
//!
//! Starts the real `lamina` binary once per mode, drives it with the same
//! closed-loop load (64 concurrent clients, 5 s, after a 1 s warm-up),
//! alternating modes over 3 rounds, and prints req/s, latency and the number
//! of instances each mode created, with the ratio managed / standard.
//!
//! Run: `cargo bench -p lamina --bench managed_vs_standard`
//! (LAMINA_BENCH_SECS, LAMINA_BENCH_CLIENTS and LAMINA_BENCH_ROUNDS override).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[path = "support/guests.rs"]
mod guests;

struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &str) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("lamina.toml");
    std::fs::write(&cfg, config).expect("write config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lamina"))
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", "127.0.0.1:0", "--state-dir"])
        .arg(dir.path())
        .env("LAMINA_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn lamina");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("lamina exited").expect("read");
        if let Some(i) = line.find("listening on ") {
            break line[i + "listening on ".len()..].trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Server {
        child,
        url,
        _dir: dir,
    }
}

struct Run {
    requests: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
    instances: f64,
}

async fn metric(url: &str, series: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

async fn drive(url: &str, clients: u64, duration: Duration) -> (u64, Vec<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()
        .expect("client");
    let stop = Arc::new(AtomicBool::new(false));
    let target = format!("{url}/2015-03-31/functions/io-wait/invocations");
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (client, stop, target) = (client.clone(), stop.clone(), target.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = client.post(&target).body(r#"{"ms":20}"#).send().await;
                    match r {
                        Ok(r)
                            if r.status() == 200
                                && r.headers().get("x-amz-function-error").is_none() =>
                        {
                            let _ = r.bytes().await;
                            lat.push(t.elapsed());
                        }
                        Ok(r) => panic!("request failed: {}", r.status()),
                        Err(e) => panic!("request failed: {e}"),
                    }
                }
                lat
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    (all.len() as u64, all)
}

async fn measure(server: &Server, mode: &str, clients: u64, secs: u64) -> Run {
    let series = match mode {
        "standard" => "lamina_instantiations_total{function=\"io-wait\",kind=\"handler\"}",
        _ => "lamina_environments_started_total{function=\"io-wait\"}",
    };
    drive(&server.url, clients, Duration::from_secs(1)).await; // warm-up
    let before = metric(&server.url, series).await;
    let start = Instant::now();
    let (requests, mut lat) = drive(&server.url, clients, Duration::from_secs(secs)).await;
    let secs = start.elapsed().as_secs_f64();
    let after = metric(&server.url, series).await;
    lat.sort();
    let q = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    let instances = if mode == "standard" {
        after - before
    } else {
        after
    };
    Run {
        requests,
        secs,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        instances,
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let secs = env_or("LAMINA_BENCH_SECS", 5);
    let clients = env_or("LAMINA_BENCH_CLIENTS", 64);
    let rounds = env_or("LAMINA_BENCH_ROUNDS", 3);
    let wasm = guests::guest("io_wait");
    let component = format!("{:?}", wasm.display().to_string());
    let standard = format!("[functions.io-wait]\ncomponent = {component}\n");
    let managed = format!(
        "[functions.io-wait]\ncomponent = {component}\nmode = \"managed\"\nmin_environments = 1\nmax_environments = 4\nmax_concurrency = 64\n"
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut results: Vec<(&str, Vec<Run>)> = vec![("standard", vec![]), ("managed", vec![])];
    for round in 0..rounds {
        for (mode, runs) in results.iter_mut() {
            let server = start(if *mode == "standard" {
                &standard
            } else {
                &managed
            });
            let run = rt.block_on(measure(&server, mode, clients, secs));
            eprintln!(
                "round {round} {mode:<8}: {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  instances {}",
                run.requests as f64 / run.secs,
                run.p50_ms,
                run.p99_ms,
                run.instances
            );
            runs.push(run);
        }
    }
    println!(
        "\nio-wait (20 ms timer per invocation), {clients} clients, {secs} s per run, median of {rounds} rounds"
    );
    println!("| mode | req/s | p50 ms | p99 ms | instances created |");
    println!("| --- | --- | --- | --- | --- |");
    let mut rps = Vec::new();
    for (mode, runs) in &results {
        let r = median(runs.iter().map(|r| r.requests as f64 / r.secs).collect());
        rps.push(r);
        println!(
            "| {mode} | {r:.0} | {:.2} | {:.2} | {:.0} |",
            median(runs.iter().map(|r| r.p50_ms).collect()),
            median(runs.iter().map(|r| r.p99_ms).collect()),
            median(runs.iter().map(|r| r.instances).collect()),
        );
    }
    println!("\nmanaged / standard req/s: {:.2}", rps[1] / rps[0]);
}
