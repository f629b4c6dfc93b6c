//! What a user sees from the CLI: aligned tables, human lines for commands
//! without a payload, `serve app.wasm` options, and errors without Rust
//! backtraces.

use crate::support::*;
use serde_json::Value;

/// The column where `word` starts in `line`, in characters.
fn column(line: &str, word: &str) -> usize {
    let at = line
        .find(word)
        .unwrap_or_else(|| panic!("{word:?} not in {line:?}"));
    line[..at].chars().count()
}

#[test]
fn the_startup_table_stays_aligned_with_long_names() {
    let g = guests();
    let long = "a-function-with-a-rather-long-name-for-the-table-0123456789";
    let config = format!(
        "[functions.e]\ncomponent = {}\n\n[functions.{long}]\ncomponent = {}\n",
        toml_path(&g.echo),
        toml_path(&g.echo)
    );
    let host = Lamina::with_config(&config, &[]);
    let lines: Vec<&str> = host.banner.lines().collect();
    let header = lines
        .iter()
        .find(|l| l.contains("FUNCTION") && l.contains("KIND"))
        .expect("table header");
    let short = lines
        .iter()
        .find(|l| l.trim_start().starts_with("e "))
        .expect("row of e");
    let long_row = lines
        .iter()
        .find(|l| l.contains(long) && l.contains("handler"))
        .expect("row of the long name");
    for (h, cell) in [
        ("KIND", "handler"),
        ("MODE", "standard"),
        ("ROUTE", "POST "),
    ] {
        assert_eq!(column(header, h), column(short, cell), "{}", host.banner);
        assert_eq!(column(header, h), column(long_row, cell), "{}", host.banner);
    }
}

#[tokio::test]
async fn invoke_without_a_payload_says_what_happened() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    for (kind, expected) in [
        ("DryRun", "dry run: echo exists and may be invoked"),
        ("Event", "queued: echo will run asynchronously"),
    ] {
        let url = host.url.clone();
        let out = tokio::task::spawn_blocking(move || {
            lamina_cmd()
                .args(["invoke", "echo", "--invocation-type", kind])
                .args(["--endpoint", &url])
                .output()
                .expect("run lamina invoke")
        })
        .await
        .expect("join");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{kind}: {stdout}");
        assert!(stdout.contains(expected), "{kind}: {stdout}");
    }
    // An unknown invocation type is refused before any request is sent.
    let out = lamina_cmd()
        .args(["invoke", "echo", "--invocation-type", "Later"])
        .args(["--endpoint", &host.url])
        .output()
        .expect("run lamina invoke");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("RequestResponse"), "{stderr}");
}

#[tokio::test]
async fn serve_app_wasm_takes_limits_and_dirs() {
    let g = guests();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = format!("{}::/data", data.path().display());
    let host = Lamina::start(&[
        g.faults.to_str().expect("utf8"),
        "--timeout-ms",
        "300",
        "--memory-mb",
        "24",
        "--dir",
        &dir,
        "--env",
        "GREETING=hi",
    ]);
    let resp = invoke(&host, "faults", r#"{"action":"loop"}"#, "RequestResponse").await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errorType"], "Sandbox.Timedout", "{body}");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap_or("")
            .contains("300 ms"),
        "{body}"
    );
    let resp = invoke(
        &host,
        "faults",
        r#"{"action":"alloc","mb":48}"#,
        "RequestResponse",
    )
    .await;
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errorType"], "Runtime.OutOfMemory", "{body}");
    let resp = invoke(
        &host,
        "faults",
        r#"{"action":"append","line":"from the cli"}"#,
        "RequestResponse",
    )
    .await;
    assert!(resp.status().is_success());
    let log = std::fs::read_to_string(data.path().join("events.log")).expect("events.log");
    assert_eq!(log, "from the cli\n");

    // Bad values are clear errors naming the option.
    let failed = start_fails(&[g.faults.to_str().expect("utf8"), "--env", "NOEQUALS"]);
    assert!(
        failed.stderr.contains("--env") && failed.stderr.contains("KEY=VALUE"),
        "{}",
        failed.stderr
    );
    let failed = start_fails(&[g.faults.to_str().expect("utf8"), "--dir", "/no/such/dir"]);
    assert!(
        failed.stderr.contains("/no/such/dir is not a directory"),
        "{}",
        failed.stderr
    );
    let config = write_config(
        data.path(),
        &format!("[functions.e]\ncomponent = {}\n", toml_path(&g.echo)),
    );
    let failed = start_fails(&[
        "--config",
        config.to_str().expect("utf8"),
        "--memory-mb",
        "64",
    ]);
    assert!(failed.stderr.contains("lamina.toml"), "{}", failed.stderr);
}

#[test]
fn errors_are_one_line_without_a_backtrace() {
    let out = lamina_cmd()
        .env("RUST_BACKTRACE", "1")
        .args(["serve", "/no/such/app.wasm", "--listen", "127.0.0.1:0"])
        .output()
        .expect("run lamina serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("error: "), "{stderr}");
    assert!(stderr.contains("/no/such/app.wasm"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert!(!stderr.contains("Stack"), "{stderr}");
}

#[test]
fn a_port_in_use_suggests_listen() {
    let g = guests();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let state = tempfile::tempdir().expect("tempdir");
    let out = lamina_cmd()
        .arg("serve")
        .arg(&g.echo)
        .args(["--listen", &addr.to_string()])
        .arg("--state-dir")
        .arg(state.path())
        .arg("--cache-dir")
        .arg(shared_cache())
        .output()
        .expect("run lamina serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {addr}")),
        "{stderr}"
    );
    assert!(stderr.contains("--listen 127.0.0.1:PORT"), "{stderr}");
}

/// Runs `lamina serve app.wasm` with info logs and the compile cache in
/// `cache`, until its start-up banner is out; returns what it logged.
fn start_up_log(app: &std::path::Path, cache: &std::path::Path) -> String {
    use std::io::{BufRead, BufReader, Read};
    let state = tempfile::tempdir().expect("tempdir");
    let mut child = lamina_cmd()
        .env("LAMINA_LOG", "info")
        .env("NO_COLOR", "1")
        .arg("serve")
        .arg(app)
        .args(["--listen", "127.0.0.1:0"])
        .arg("--state-dir")
        .arg(state.path())
        .arg("--cache-dir")
        .arg(cache)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn lamina");
    let stdout = child.stdout.take().expect("stdout");
    let started = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("Metrics:"));
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut log);
    }
    assert!(started, "lamina did not start: {log}");
    log
}

#[test]
fn the_first_compile_shows_progress_and_the_cache() {
    let g = guests();
    let cache = tempfile::tempdir().expect("tempdir");
    let log = start_up_log(&g.echo, cache.path());
    let size = std::fs::metadata(&g.echo).expect("echo.wasm").len();
    let start = format!("compiling echo.wasm ({} KB)…", size.div_ceil(1024));
    assert!(log.contains(&start), "{start:?} not in {log}");
    let done = log
        .lines()
        .find(|l| l.contains("compiling echo.wasm… done in "))
        .unwrap_or_else(|| panic!("no done line in {log}"));
    assert!(
        done.contains(&format!("cached in {}", cache.path().display())),
        "{done}"
    );
    // The next start loads the cached code: nothing to compile.
    let log = start_up_log(&g.echo, cache.path());
    assert!(!log.contains("compiling echo.wasm"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_durable_start_prints_its_arn_and_callback_takes_the_execution() {
    let g = guests();
    let host = Lamina::start(&[g.order_workflow.to_str().expect("utf8")]);
    let run = |args: Vec<String>| {
        let url = host.url.clone();
        tokio::task::spawn_blocking(move || {
            lamina_cmd()
                .args(&args)
                .args(["--endpoint", &url])
                .output()
                .expect("run lamina")
        })
    };
    let out = run(vec![
        "invoke".into(),
        "order-workflow".into(),
        "--invocation-type".into(),
        "Event".into(),
        "--payload".into(),
        r#"{"orderId":"o-1","items":[{"sku":"tea","qty":2,"price":4.5}]}"#.into(),
    ])
    .await
    .expect("join");
    assert!(out.status.success(), "{out:?}");
    // The ARN alone on stdout, for ARN=$(lamina invoke ...).
    let stdout = String::from_utf8_lossy(&out.stdout);
    let arn = stdout.trim();
    assert!(
        arn.starts_with("arn:") && !arn.contains(char::is_whitespace),
        "{stdout:?}"
    );
    // Waits for the callback the execution creates, then completes it.
    let out = run(vec![
        "callback".into(),
        "succeed".into(),
        "--execution".into(),
        arn.to_string(),
        r#"{"approved":true}"#.into(),
    ])
    .await
    .expect("join");
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(": succeed sent"),
        "{out:?}"
    );
    let path = format!("/2025-12-01/durable-executions/{}", arn.replace(':', "%3A"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let e: Value = client()
            .get(host.at(&path))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        if e["Status"] != "RUNNING" {
            assert_eq!(e["Status"], "SUCCEEDED", "{e}");
            let result: Value =
                serde_json::from_str(e["Result"].as_str().expect("Result")).expect("json");
            assert_eq!(result["status"], "fulfilled", "{result}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still running: {e}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Ended: no callback to wait for, said at once.
    let out = run(vec![
        "callback".into(),
        "succeed".into(),
        "--execution".into(),
        arn.to_string(),
    ])
    .await
    .expect("join");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("waits for no callback: it is SUCCEEDED"),
        "{stderr}"
    );
}
