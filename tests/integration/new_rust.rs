//! `lamina new --lang rust` projects, one per template, built with `lamina
//! build` (cargo for wasm32-wasip2) and served as-is: the handler answers
//! and fails on bad input, the durable function waits and replays, the http
//! function answers a GET. A crate without `crate-type = ["cdylib"]` gets a
//! `lamina build` error that says so.
//!
//! The projects depend on the checkout's `guest-sdk/` (`--sdk-path`), and
//! share the example guests' target directory and lock file, so the SDK and
//! its dependencies are the ones `scripts/build-guests.sh` already compiled.

use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// The example guests' cargo target directory.
fn guest_target_dir() -> PathBuf {
    std::env::var_os("LAMINA_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"))
        .join("guests")
}

/// `lamina new --lang rust NAME --template TEMPLATE` in `root`; returns the project.
fn new_project(root: &Path, name: &str, template: &str) -> PathBuf {
    let out = lamina_cmd()
        .current_dir(root)
        .args(["new", "--lang", "rust", name, "--template", template])
        .arg("--sdk-path")
        .arg(repo().join("guest-sdk"))
        .output()
        .expect("run lamina new");
    assert!(out.status.success(), "lamina new: {out:?}");
    let project = root.join(name);
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("crate-type = [\"cdylib\"]"), "{manifest}");
    // The versions the example guests were built with (cargo drops the
    // entries this crate does not use).
    std::fs::copy(
        repo().join("examples/Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    project
}

/// `lamina build . -o NAME.wasm` in `project` (the command its README gives).
fn lamina_build(project: &Path, name: &str) -> Output {
    lamina_cmd()
        .current_dir(project)
        .args(["build", ".", "-o", &format!("{name}.wasm")])
        .env("CARGO_TARGET_DIR", guest_target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .output()
        .expect("run lamina build")
}

/// Creates and builds a project, and serves its own lamina.toml.
fn built_and_served(root: &Path, name: &str, template: &str) -> (PathBuf, Lamina) {
    let project = new_project(root, name, template);
    let out = lamina_build(&project, name);
    assert!(
        out.status.success(),
        "lamina build: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("built {name}.wasm")), "{stdout}");
    let config = project.join("lamina.toml");
    let config = config.to_str().expect("utf8").to_string();
    let host = Lamina::start(&["--config", &config]);
    (project, host)
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_handler_template_builds_and_answers() {
    let root = tempfile::tempdir().expect("tempdir");
    let (project, host) = built_and_served(root.path(), "hello-rust", "handler");

    let resp = invoke(&host, "hello-rust", r#"{"name":"Ada"}"#, "RequestResponse").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-amz-function-error").is_none());
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["message"], "Hello, Ada!", "{body}");
    assert_eq!(body["functionName"], "hello-rust", "{body}");
    assert!(
        !body["requestId"].as_str().unwrap_or("").is_empty(),
        "{body}"
    );

    let resp = invoke(&host, "hello-rust", "{}", "RequestResponse").await;
    assert_eq!(
        resp.headers()
            .get("x-amz-function-error")
            .and_then(|v| v.to_str().ok()),
        Some("Unhandled")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["errorType"], "ValidationError", "{body}");
    assert_eq!(body["errorMessage"], "name is required", "{body}");
    drop(host);

    // Without crate-type = ["cdylib"] cargo writes no .wasm: the error says so.
    let manifest = project.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
    std::fs::write(&manifest, text.replace("crate-type = [\"cdylib\"]\n", "")).expect("write");
    let out = lamina_build(&project, "other");
    assert!(!out.status.success(), "a build without cdylib succeeded");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cargo built no .wasm") && stderr.contains("crate-type = [\"cdylib\"]"),
        "{stderr}"
    );
    assert!(!project.join("other.wasm").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_durable_template_waits_and_replays() {
    let root = tempfile::tempdir().expect("tempdir");
    let (_project, host) = built_and_served(root.path(), "flow-rust", "durable");

    let resp = invoke(&host, "flow-rust", r#"{"name":"Ada"}"#, "Event").await;
    assert_eq!(resp.status(), 202);
    let arn = resp
        .headers()
        .get("x-amz-durable-execution-arn")
        .and_then(|v| v.to_str().ok())
        .expect("execution ARN")
        .replace(':', "%3A");
    let deadline = Instant::now() + Duration::from_secs(60);
    let execution = loop {
        let e: Value = client()
            .get(host.at(&format!("/2025-12-01/durable-executions/{arn}")))
            .send()
            .await
            .expect("get execution")
            .json()
            .await
            .expect("json");
        if e["Status"] != "RUNNING" {
            break e;
        }
        assert!(Instant::now() < deadline, "still running: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(execution["Status"], "SUCCEEDED", "{execution}");
    let result: Value =
        serde_json::from_str(execution["Result"].as_str().expect("Result")).expect("json");
    assert_eq!(
        result,
        json!({"message": "Hello, Ada!", "shouted": "HELLO, ADA!", "steps": 2})
    );
    let history: Value = client()
        .get(host.at(&format!("/2025-12-01/durable-executions/{arn}/history")))
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    let events = history["Events"].as_array().cloned().unwrap_or_default();
    let count = |kind: &str, name: Option<&str>| {
        events
            .iter()
            .filter(|e| e["EventType"] == kind && name.is_none_or(|n| e["Name"] == n))
            .count()
    };
    // Replayed after the wait, yet the first step ran once.
    assert_eq!(count("InvocationCompleted", None), 2, "{history}");
    assert_eq!(count("StepStarted", Some("greet")), 1, "{history}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rust_http_template_answers_a_get() {
    let root = tempfile::tempdir().expect("tempdir");
    let (_project, host) = built_and_served(root.path(), "web-rust", "http");

    let resp = client()
        .get(host.at("/web-rust/hello?x=1"))
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("text");
    assert_eq!(
        text, "Hello from web-rust!\nmethod: GET\npath: /hello?x=1\n",
        "{text}"
    );
}
