//! What a guest can reach and how much of the host it can take: outgoing
//! HTTP only to allowlisted hosts and never to the host's own listener, CPU
//! shared on every epoch tick, durable timeouts counting only the guest's own
//! time, bounded log output, `exit` reported as such, and no symlinks out of
//! a preopened directory.

use crate::support::*;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A `lamina serve` whose log (stderr) the test can read.
struct Logged {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<u8>>>,
    _state: tempfile::TempDir,
}

impl Logged {
    /// Starts a host with `config` and log filter `filter`.
    fn start(config: &str, filter: &str) -> Logged {
        let state = tempfile::tempdir().expect("tempdir");
        let cfg = write_config(state.path(), config);
        let mut child = lamina_cmd()
            .env("LAMINA_LOG", filter)
            .env("NO_COLOR", "1")
            .arg("serve")
            .arg("--config")
            .arg(&cfg)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--state-dir")
            .arg(state.path())
            .arg("--cache-dir")
            .arg(shared_cache())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn lamina");
        let log = Arc::new(Mutex::new(Vec::new()));
        {
            let log = log.clone();
            let mut stderr = child.stderr.take().expect("stderr");
            std::thread::spawn(move || {
                let mut buf = [0u8; 64 * 1024];
                while let Ok(n) = stderr.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    log.lock().expect("log").extend_from_slice(&buf[..n]);
                }
            });
        }
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut url = None;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(i) = line.find("listening on ") {
                    url = Some(line[i + "listening on ".len()..].trim().to_string());
                }
                if line.starts_with("Metrics:") {
                    let _ = tx.send(url.clone());
                }
            }
            let _ = tx.send(None);
        });
        let url = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("lamina did not start within 300 s");
        let Some(url) = url else {
            let log = String::from_utf8_lossy(&log.lock().expect("log")).to_string();
            panic!("lamina exited before serving: {log}");
        };
        Logged {
            child,
            url,
            log,
            _state: state,
        }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().expect("log")).to_string()
    }

    /// Waits (up to 10 s) until the log holds `needle`, returning the log.
    async fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() > deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Invokes `function` with `payload` and returns the JSON answer.
    async fn invoke(&self, function: &str, payload: &Value) -> Value {
        let resp = client()
            .post(self.at(&format!("/2015-03-31/functions/{function}/invocations")))
            .body(payload.to_string())
            .send()
            .await
            .expect("invoke");
        resp.json().await.expect("json answer")
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A one-response-per-connection HTTP server on 127.0.0.1 answering every
/// request with `body`; returns its port.
fn tiny_server(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut seen = Vec::new();
            let mut buf = [0u8; 1024];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = conn.write_all(reply.as_bytes());
        }
    });
    port
}

fn faults(extra: &str) -> String {
    format!(
        "[functions.faults]\ncomponent = {}\n{extra}\n",
        toml_path(&guests().faults)
    )
}

fn denied(answer: &Value) -> bool {
    answer["error"]
        .as_str()
        .is_some_and(|e| e.contains("HttpRequestDenied"))
}

#[tokio::test]
async fn outgoing_http_is_denied_by_default() {
    let host = Logged::start(&faults(""), "warn");
    let external = "http://api.example.com/v1/things";
    let answer = host
        .invoke("faults", &json!({"action": "http-get", "url": external}))
        .await;
    assert!(denied(&answer), "{answer}");
    let own = host.at("/api/functions");
    let answer = host
        .invoke("faults", &json!({"action": "http-get", "url": own}))
        .await;
    assert!(
        denied(&answer),
        "the control plane must be out of reach: {answer}"
    );
    let log = host.wait_log(&own).await;
    for url in [external, own.as_str()] {
        assert!(
            log.lines()
                .any(|l| l.contains("outgoing HTTP request denied")
                    && l.contains("function=faults")
                    && l.contains(url)),
            "no log line for {url}: {log}"
        );
    }
}

#[tokio::test]
async fn allowlisted_hosts_are_reachable_but_never_the_host_itself() {
    let port = tiny_server("hello from the test server");
    let allow = "allowed_outbound_hosts = [\"http://127.0.0.1:*\", \"http://localhost:*\"]";
    let config = format!(
        "{}\n[functions.faults-managed]\ncomponent = {}\nmode = \"managed\"\n{allow}\n",
        faults(allow),
        toml_path(&guests().faults)
    );
    let host = Logged::start(&config, "warn");
    let own_port = host.url.rsplit(':').next().expect("port").to_string();
    for function in ["faults", "faults-managed"] {
        let url = format!("http://127.0.0.1:{port}/hello");
        let answer = host
            .invoke(function, &json!({"action": "http-get", "url": url}))
            .await;
        assert_eq!(answer["status"], 200, "{function}: {answer}");
        assert_eq!(answer["body"], "hello from the test server", "{answer}");
        // A wildcard port never opens the host's own listener, by any alias.
        for own in [
            format!("http://127.0.0.1:{own_port}/api/functions"),
            format!("http://localhost:{own_port}/healthz"),
        ] {
            let answer = host
                .invoke(function, &json!({"action": "http-get", "url": own}))
                .await;
            assert!(denied(&answer), "{function} reached {own}: {answer}");
        }
        // Not in the list at all.
        let answer = host
            .invoke(
                function,
                &json!({"action": "http-get", "url": "https://api.example.com/"}),
            )
            .await;
        assert!(denied(&answer), "{answer}");
    }
}

#[tokio::test]
async fn an_exact_entry_opens_the_hosts_own_address() {
    // The port is only known once the host runs, so pick a free one first.
    let port = TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let state = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        state.path(),
        &faults(&format!(
            "allowed_outbound_hosts = [\"http://127.0.0.1:{port}\"]"
        )),
    );
    let mut child = lamina_cmd()
        .arg("serve")
        .arg("--config")
        .arg(&cfg)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--state-dir")
        .arg(state.path())
        .arg("--cache-dir")
        .arg(shared_cache())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while client().get(format!("{url}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "lamina did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answer: Value = client()
        .post(format!("{url}/2015-03-31/functions/faults/invocations"))
        .body(json!({"action": "http-get", "url": format!("{url}/healthz")}).to_string())
        .send()
        .await
        .expect("invoke")
        .json()
        .await
        .expect("json");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(answer["status"], 200, "{answer}");
}

#[tokio::test]
async fn spinning_guests_do_not_freeze_the_host() {
    let config = format!(
        "{}\n[functions.echo]\ncomponent = {}\n",
        faults("timeout_ms = 10000"),
        toml_path(&guests().echo)
    );
    let host = Logged::start(&config, "warn");
    let spinners: Vec<_> = (0..8)
        .map(|_| {
            let url = host.at("/2015-03-31/functions/faults/invocations");
            tokio::spawn(async move {
                let resp = client()
                    .post(url)
                    .body(r#"{"action":"loop"}"#)
                    .send()
                    .await
                    .expect("loop request");
                resp.json::<Value>().await.expect("json")
            })
        })
        .collect();
    // Let them all get going.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let bound = Duration::from_secs(3);
    for _ in 0..3 {
        let healthz = tokio::time::timeout(bound, client().get(host.at("/healthz")).send())
            .await
            .expect("/healthz must answer within 3 s while guests spin")
            .expect("healthz");
        assert_eq!(healthz.status(), 200);
        let echo = tokio::time::timeout(bound, host.invoke("echo", &json!({"still": "here"})))
            .await
            .expect("an echo invoke must answer within 3 s while guests spin");
        assert_eq!(echo, json!({"still": "here"}));
    }
    for s in spinners {
        let answer = s.await.expect("join");
        assert_eq!(answer["errorType"], "Sandbox.Timedout", "{answer}");
    }
}

async fn durable_status(host: &Logged, arn: &str) -> Value {
    let url = host.at(&format!(
        "/2025-12-01/durable-executions/{}",
        arn.replace(':', "%3A")
    ));
    client()
        .get(url)
        .send()
        .await
        .expect("get execution")
        .json()
        .await
        .expect("json")
}

async fn start_durable(host: &Logged, function: &str, payload: &str) -> String {
    let resp = client()
        .post(host.at(&format!("/2015-03-31/functions/{function}/invocations")))
        .header("x-amz-invocation-type", "Event")
        .body(payload.to_string())
        .send()
        .await
        .expect("start");
    assert_eq!(resp.status(), 202);
    resp.headers()["x-amz-durable-execution-arn"]
        .to_str()
        .expect("arn")
        .to_string()
}

/// Waits until every execution has ended; returns their final states.
async fn wait_all(host: &Logged, arns: &[String], limit: Duration) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    let mut done = vec![Value::Null; arns.len()];
    loop {
        for (i, arn) in arns.iter().enumerate() {
            if done[i].is_null() {
                let e = durable_status(host, arn).await;
                if e["Status"] != "RUNNING" {
                    done[i] = e;
                }
            }
        }
        if done.iter().all(|d| !d.is_null()) {
            return done;
        }
        assert!(Instant::now() < deadline, "executions still running");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn durable_timeouts_count_only_the_guests_own_time() {
    let cases = toml_path(&guests().durable_cases);
    let config = format!(
        "[engine]\nmax_instances = 4\n\n[functions.bench-steps]\ncomponent = {cases}\ntimeout_ms = 200\n\n[functions.spin-forever]\ncomponent = {cases}\ntimeout_ms = 200\n"
    );
    let host = Logged::start(&config, "error");
    let payload = r#"{"steps": 300, "then": "end"}"#;
    let mut arns = Vec::new();
    for _ in 0..40 {
        arns.push(start_durable(&host, "bench-steps", payload).await);
    }
    let spin = start_durable(&host, "spin-forever", "{}").await;
    let ended = wait_all(&host, &arns, Duration::from_secs(240)).await;
    let failed: Vec<&Value> = ended
        .iter()
        .filter(|e| e["Status"] != "SUCCEEDED")
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} executions failed although only the host was busy, e.g. {}",
        failed.len(),
        ended.len(),
        failed[0]
    );
    // A guest that really spins still times out.
    let spun = wait_all(&host, &[spin], Duration::from_secs(60)).await;
    assert_eq!(spun[0]["Status"], "FAILED", "{}", spun[0]);
    assert_eq!(
        spun[0]["Error"]["ErrorType"], "Sandbox.Timedout",
        "{}",
        spun[0]
    );
}

#[tokio::test]
async fn guest_output_is_truncated_per_invocation() {
    let host = Logged::start(&faults(""), "warn,lamina::guest=info");
    let answer = host
        .invoke("faults", &json!({"action": "print", "mb": 100}))
        .await;
    assert_eq!(answer, json!({"printed_mb": 100}));
    let log = host.wait_log("guest output truncated").await;
    let logged: usize = log
        .lines()
        .filter(|l| l.contains("lamina::guest") && l.contains("stream=\"stdout\""))
        .map(|l| l.bytes().filter(|&b| b == b'x').count())
        .sum();
    let limit = 1024 * 1024;
    assert!(
        logged <= limit && logged > limit * 9 / 10,
        "the log holds {logged} bytes of guest output; the limit is {limit}"
    );
    let notice = log
        .lines()
        .find(|l| l.contains("guest output truncated"))
        .expect("a truncation notice");
    assert!(notice.contains("function=faults"), "{notice}");
    let dropped: u64 = notice
        .split("dropped_bytes=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("dropped_bytes in the notice");
    assert!(dropped >= 99 * 1024 * 1024, "{notice}");
    // The next invocation has its own budget.
    let answer = host.invoke("faults", &json!({"action": "ok"})).await;
    assert_eq!(answer, json!({"ok": true}));
}

#[tokio::test]
async fn exit_is_reported_as_an_exit_error() {
    let host = Logged::start(&faults(""), "warn");
    // WASI 0.2's `exit` carries success or failure: any non-zero code is 1.
    for code in [0, 1] {
        let answer = host
            .invoke("faults", &json!({"action": "exit", "code": code}))
            .await;
        assert_eq!(answer["errorType"], "Runtime.ExitError", "{answer}");
        let message = answer["errorMessage"].as_str().unwrap_or("");
        assert!(message.contains(&format!("status {code}")), "{message}");
    }
}

#[tokio::test]
async fn symlinks_cannot_point_out_of_a_preopened_dir() {
    let root = tempfile::tempdir().expect("tempdir");
    let data = root.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    std::fs::write(root.path().join("outside"), "secret").expect("outside");
    let host = Logged::start(
        &faults(&format!("dirs = {{ \"/data\" = {} }}", toml_path(&data))),
        "warn",
    );
    let answer = host
        .invoke("faults", &json!({"action": "symlinks", "dir": "/data"}))
        .await;
    assert_eq!(
        answer["inside"],
        json!({"ok": true, "reads": "inside"}),
        "{answer}"
    );
    assert_eq!(
        answer["inside-sub"],
        json!({"ok": true, "reads": "deeper"}),
        "{answer}"
    );
    for escaping in ["absolute", "climb", "climb-deep"] {
        assert_eq!(answer[escaping]["ok"], false, "{escaping}: {answer}");
        let error = answer[escaping]["error"].as_str().unwrap_or("");
        assert!(error.contains("not-permitted"), "{escaping}: {answer}");
        assert!(
            std::fs::symlink_metadata(data.join(escaping)).is_err(),
            "{escaping} exists on the host"
        );
    }
    assert_eq!(
        std::fs::read_link(data.join("inside")).expect("inside link"),
        std::path::PathBuf::from("target.txt")
    );
}

#[tokio::test]
async fn guest_log_lines_carry_the_request_id() {
    let config = format!(
        "{}\n[functions.faults-managed]\ncomponent = {}\nmode = \"managed\"\n\
         min_environments = 1\nmax_environments = 1\n",
        faults(""),
        toml_path(&guests().faults)
    );
    let host = Logged::start(&config, "warn,lamina::guest=info");
    for function in ["faults", "faults-managed"] {
        let resp = client()
            .post(host.at(&format!("/2015-03-31/functions/{function}/invocations")))
            .body(json!({"action": "trap"}).to_string())
            .send()
            .await
            .expect("invoke");
        let request_id = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .expect("a request id header")
            .to_string();
        let needle = format!("request_id={request_id}");
        let log = host.wait_log(&needle).await;
        // The panic message the guest wrote to stderr, with the id of the
        // invocation that wrote it.
        let line = log
            .lines()
            .find(|l| l.contains(&needle))
            .unwrap_or_else(|| panic!("no log line of {function} has {needle}:\n{log}"));
        assert!(
            line.contains("lamina::guest")
                && line.contains(&format!("function={function}"))
                && line.contains("stream=\"stderr\""),
            "{line}"
        );
    }
}
