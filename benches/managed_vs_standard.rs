//! What managed mode saves over standard mode, measured on the server side
//! so that the load generator (in this process, on the same machine) does
//! not cap or blur the result.
//!
//! Two workloads, each run against the real `lamina` binary once per mode,
//! alternating modes over the rounds:
//!
//! * **steady**: the `hello-http` wasi:http component under a closed loop of
//!   `LAMINA_BENCH_CLIENTS` keep-alive clients for `LAMINA_BENCH_SECS`
//!   seconds. The request is trivial, so the server is CPU-bound and the
//!   figure that matters is the server's CPU time per request (utime+stime
//!   of the `lamina` process from `/proc/PID/stat`), not req/s alone.
//! * **burst**: `LAMINA_BENCH_BURST` invocations of the `io-wait` async
//!   handler (each awaits a 20 ms timer) sent at the same moment, repeated
//!   for `LAMINA_BENCH_BURSTS` bursts: p50/p99 latency of the burst, the
//!   server's CPU per invocation and the instances it created.
//!
//! For both: instances created (standard: `lamina_instantiations_total`;
//! managed: `lamina_environments_started_total`) and the server's peak
//! resident memory (`VmHWM`).
//!
//! Run: `cargo bench -p lamina --bench managed_vs_standard`
//! (LAMINA_BENCH_SECS, LAMINA_BENCH_CLIENTS, LAMINA_BENCH_BURST,
//! LAMINA_BENCH_BURSTS and LAMINA_BENCH_ROUNDS override the defaults
//! 5, 32, 500, 5 and 3).

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

impl Server {
    /// CPU time (user + system) the server has used so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("read /proc/PID/stat (Linux only)");
        // Fields after the command name (which ends with ')'): state is
        // field 3, utime 14, stime 15 (1-based, clock ticks).
        let rest = &stat[stat.rfind(')').expect("comm") + 2..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime");
        Duration::from_secs_f64(ticks as f64 / clock_ticks())
    }

    /// The server's peak resident memory (`VmHWM`), in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("read /proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

/// `getconf CLK_TCK` (100 on Linux unless configured otherwise).
fn clock_ticks() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100.0)
    })
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

/// Instances the server created for `function` so far.
async fn instances(url: &str, mode: &str, function: &str, kind: &str) -> f64 {
    let series = match mode {
        "standard" => {
            format!("lamina_instantiations_total{{function=\"{function}\",kind=\"{kind}\"}}")
        }
        _ => format!("lamina_environments_started_total{{function=\"{function}\"}}"),
    };
    metric(url, &series).await
}

/// One measured run.
#[derive(Default)]
struct Run {
    per_s: f64,
    cpu_us: f64,
    p50_ms: f64,
    p99_ms: f64,
    instances: f64,
    rss_mib: f64,
}

fn quantile(lat: &mut [Duration], p: f64) -> f64 {
    lat.sort();
    lat.get(((lat.len() as f64 - 1.0) * p) as usize)
        .map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// A closed loop of `clients` keep-alive clients on `target` for `duration`.
async fn steady(target: &str, clients: u64, duration: Duration) -> Vec<Duration> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()
        .expect("client");
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (client, stop, target) = (client.clone(), stop.clone(), target.to_string());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    match client.get(&target).send().await {
                        Ok(r) if r.status() == 200 => {
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
    all
}

async fn measure_steady(server: &Server, mode: &str, clients: u64, secs: u64) -> Run {
    let target = format!("{}/hello-http/", server.url);
    steady(&target, clients, Duration::from_secs(1)).await; // warm-up
    let (cpu0, inst0) = (
        server.cpu(),
        instances(&server.url, mode, "hello-http", "http").await,
    );
    let start = Instant::now();
    let mut lat = steady(&target, clients, Duration::from_secs(secs)).await;
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = server.cpu() - cpu0;
    let inst = instances(&server.url, mode, "hello-http", "http").await;
    let n = lat.len() as f64;
    Run {
        per_s: n / elapsed,
        cpu_us: cpu.as_secs_f64() * 1e6 / n,
        p50_ms: quantile(&mut lat, 0.5),
        p99_ms: quantile(&mut lat, 0.99),
        // Managed: the environments alive serve everything (created before
        // the run plus any the run added); standard: one per request.
        instances: if mode == "standard" {
            inst - inst0
        } else {
            inst
        },
        rss_mib: server.peak_rss_mib(),
    }
}

async fn measure_burst(server: &Server, mode: &str, burst: u64, bursts: u64) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(burst as usize)
        .build()
        .expect("client");
    let target = format!("{}/2015-03-31/functions/io-wait/invocations", server.url);
    let fire = |n: u64| {
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let (client, target) = (client.clone(), target.clone());
                tokio::spawn(async move {
                    let t = Instant::now();
                    let r = client
                        .post(&target)
                        .body(r#"{"ms":20}"#)
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(r.status(), 200);
                    assert!(
                        r.headers().get("x-amz-function-error").is_none(),
                        "invocation failed"
                    );
                    let _ = r.bytes().await;
                    t.elapsed()
                })
            })
            .collect();
        async move {
            let mut lat = Vec::new();
            for t in tasks {
                lat.push(t.await.expect("request task"));
            }
            lat
        }
    };
    fire(burst).await; // warm-up: connections open, environments scaled
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (cpu0, inst0) = (
        server.cpu(),
        instances(&server.url, mode, "io-wait", "handler").await,
    );
    let start = Instant::now();
    let mut lat = Vec::new();
    for _ in 0..bursts {
        lat.extend(fire(burst).await);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = server.cpu() - cpu0;
    let inst = instances(&server.url, mode, "io-wait", "handler").await;
    let n = lat.len() as f64;
    Run {
        per_s: n / elapsed,
        cpu_us: cpu.as_secs_f64() * 1e6 / n,
        p50_ms: quantile(&mut lat, 0.5),
        p99_ms: quantile(&mut lat, 0.99),
        instances: if mode == "standard" {
            inst - inst0
        } else {
            inst
        },
        rss_mib: server.peak_rss_mib(),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn table(title: &str, rate: &str, results: &[(&str, Vec<Run>)]) {
    println!("\n{title}");
    println!(
        "| mode | {rate} | server CPU µs/request | p50 ms | p99 ms | instances created | peak RSS MiB |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (mode, runs) in results {
        let m = |f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
        println!(
            "| {mode} | {:.0} | {:.1} | {:.2} | {:.2} | {:.0} | {:.0} |",
            m(|r| r.per_s),
            m(|r| r.cpu_us),
            m(|r| r.p50_ms),
            m(|r| r.p99_ms),
            m(|r| r.instances),
            m(|r| r.rss_mib),
        );
    }
    let cpu = |i: usize| median(results[i].1.iter().map(|r| r.cpu_us).collect());
    println!(
        "\nserver CPU per request, standard / managed: {:.2}",
        cpu(0) / cpu(1)
    );
}

fn main() {
    let secs = env_or("LAMINA_BENCH_SECS", 5);
    let clients = env_or("LAMINA_BENCH_CLIENTS", 32);
    let burst = env_or("LAMINA_BENCH_BURST", 500);
    let bursts = env_or("LAMINA_BENCH_BURSTS", 5);
    let rounds = env_or("LAMINA_BENCH_ROUNDS", 3);
    let path = |stem: &str| format!("{:?}", guests::guest(stem).display().to_string());
    let (hello, io_wait) = (path("hello_http"), path("io_wait"));
    let config = |mode: &str| match mode {
        "standard" => format!(
            "[functions.hello-http]\ncomponent = {hello}\n[functions.io-wait]\ncomponent = {io_wait}\n"
        ),
        _ => format!(
            "[functions.hello-http]\ncomponent = {hello}\nmode = \"managed\"\n\
             [functions.io-wait]\ncomponent = {io_wait}\nmode = \"managed\"\nmax_concurrency = 64\n"
        ),
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut steady_runs: Vec<(&str, Vec<Run>)> = vec![("standard", vec![]), ("managed", vec![])];
    let mut burst_runs: Vec<(&str, Vec<Run>)> = vec![("standard", vec![]), ("managed", vec![])];
    for round in 0..rounds {
        for i in 0..2 {
            let mode = steady_runs[i].0;
            // A fresh server per workload, so peak RSS is the workload's own.
            let server = start(&config(mode));
            let s = rt.block_on(measure_steady(&server, mode, clients, secs));
            drop(server);
            let server = start(&config(mode));
            let b = rt.block_on(measure_burst(&server, mode, burst, bursts));
            drop(server);
            eprintln!(
                "round {round} {mode:<8} steady: {:>7.0} req/s {:>6.1} µs CPU/req p99 {:>6.2} ms, {} instances, {:.0} MiB | \
                 burst: p99 {:>7.2} ms {:>6.1} µs CPU/req, {} instances, {:.0} MiB",
                s.per_s,
                s.cpu_us,
                s.p99_ms,
                s.instances,
                s.rss_mib,
                b.p99_ms,
                b.cpu_us,
                b.instances,
                b.rss_mib
            );
            steady_runs[i].1.push(s);
            burst_runs[i].1.push(b);
        }
    }
    table(
        &format!(
            "steady: hello-http, {clients} keep-alive clients, {secs} s per run, median of {rounds} rounds"
        ),
        "req/s",
        &steady_runs,
    );
    table(
        &format!(
            "burst: io-wait (20 ms timer), {bursts} bursts of {burst} invocations at once, median of {rounds} rounds"
        ),
        "invocations/s",
        &burst_runs,
    );
}
