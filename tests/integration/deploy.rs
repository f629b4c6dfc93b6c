//! The control plane on the real binary: code updates without a restart,
//! bad code refused with the old code still serving, versions and aliases
//! surviving a restart, zero failed requests across updates, `lamina deploy`.

use crate::support::*;
use lamina::deploy::base64;
use serde_json::{Value, json};

fn functions_url(host: &Lamina, rest: &str) -> String {
    host.at(&format!("/2015-03-31/functions{rest}"))
}

async fn send(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let mut req = client().request(method, url);
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn code(path: &std::path::Path) -> String {
    base64::encode(&std::fs::read(path).expect("read guest"))
}

/// Invokes `name` (with `qualifier`); returns the body and ExecutedVersion.
async fn call(host: &Lamina, name: &str, qualifier: Option<&str>) -> (u16, Value, String) {
    let q = qualifier
        .map(|q| format!("?Qualifier={q}"))
        .unwrap_or_default();
    let resp = client()
        .post(functions_url(host, &format!("/{name}/invocations{q}")))
        .body(r#"{"action":"ok"}"#)
        .send()
        .await
        .expect("invoke");
    let status = resp.status().as_u16();
    let version = resp
        .headers()
        .get("x-amz-executed-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, body, version)
}

#[tokio::test]
async fn update_code_without_restart_and_bad_code_keeps_the_old_code() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    let (status, body, version) = call(&host, "echo", None).await;
    assert_eq!(
        (status, &body, version.as_str()),
        (200, &json!({"action":"ok"}), "$LATEST")
    );

    let (status, cfg) = send(
        reqwest::Method::PUT,
        functions_url(&host, "/echo/code"),
        Some(json!({ "ZipFile": code(&g.faults) })),
    )
    .await;
    assert_eq!(status, 200, "{cfg}");
    assert_eq!(cfg["Lamina"]["Kind"], "handler");
    let (_, body, _) = call(&host, "echo", None).await;
    assert_eq!(body, json!({"ok": true}), "the new code serves at once");

    for (bad, reason) in [
        (base64::encode(b"hello"), "not a WebAssembly file"),
        (
            base64::encode(b"\0asm\x01\0\0\0"),
            "core WebAssembly module",
        ),
        (base64::encode(b"\0asm\x0d\0\x01\0"), "exports none of"),
        ("%%%".to_string(), "not base64"),
    ] {
        let (status, err) = send(
            reqwest::Method::PUT,
            functions_url(&host, "/echo/code"),
            Some(json!({ "ZipFile": bad })),
        )
        .await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["__type"], "InvalidParameterValueException");
        let message = err["message"].as_str().unwrap_or("");
        assert!(message.contains(reason), "{message}");
        let (_, body, _) = call(&host, "echo", None).await;
        assert_eq!(body, json!({"ok": true}), "the previous code still serves");
    }
    let (status, err) = send(
        reqwest::Method::PUT,
        functions_url(&host, "/echo/configuration"),
        Some(json!({ "MemorySize": 100_000 })),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["message"]
            .as_str()
            .unwrap_or("")
            .contains("max_memory_mb"),
        "{err}"
    );
    let (_, body, _) = call(&host, "echo", None).await;
    assert_eq!(
        body,
        json!({"ok": true}),
        "the previous settings still serve"
    );
    let (status, err) = send(reqwest::Method::GET, functions_url(&host, "/nope"), None).await;
    assert_eq!(status, 404);
    assert_eq!(err["__type"], "ResourceNotFoundException");
}

#[tokio::test]
async fn versions_and_aliases_survive_a_restart() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    let (status, cfg) = send(
        reqwest::Method::POST,
        functions_url(&host, ""),
        Some(json!({
            "FunctionName": "pinned",
            "Role": "arn:aws:iam::000000000000:role/x",
            "Code": { "ZipFile": code(&g.faults) },
            "Publish": true,
            "Timeout": 4,
        })),
    )
    .await;
    assert_eq!(status, 201, "{cfg}");
    assert_eq!(cfg["Version"], "1");
    let (status, _) = send(
        reqwest::Method::PUT,
        functions_url(&host, "/pinned/code"),
        Some(json!({ "ZipFile": code(&g.echo) })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, alias) = send(
        reqwest::Method::POST,
        functions_url(&host, "/pinned/aliases"),
        Some(json!({ "Name": "prod", "FunctionVersion": "1" })),
    )
    .await;
    assert_eq!(status, 201, "{alias}");
    let (status, again) = send(
        reqwest::Method::POST,
        functions_url(&host, "/pinned/aliases"),
        Some(json!({ "Name": "prod", "FunctionVersion": "1" })),
    )
    .await;
    assert_eq!(status, 409, "{again}");

    let state = host.stop();
    let args = [g.echo.to_str().expect("utf8")];
    let host = Lamina::start_in(&args, state, Some(shared_cache()));
    let (_, body, version) = call(&host, "pinned", Some("prod")).await;
    assert_eq!((body, version.as_str()), (json!({"ok": true}), "1"));
    let (_, body, version) = call(&host, "pinned", None).await;
    assert_eq!(
        (body, version.as_str()),
        (json!({"action":"ok"}), "$LATEST")
    );
    let (status, list) = send(reqwest::Method::GET, functions_url(&host, "/"), None).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = list["Functions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["FunctionName"].as_str())
        .collect();
    assert_eq!(names, ["echo", "pinned"]);
    let (_, got) = send(
        reqwest::Method::GET,
        functions_url(&host, "/pinned/configuration?Qualifier=1"),
        None,
    )
    .await;
    assert_eq!(got["Timeout"], 4);

    let (status, _) = send(
        reqwest::Method::DELETE,
        functions_url(&host, "/pinned"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _, _) = call(&host, "pinned", None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn requests_keep_succeeding_across_five_code_updates() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for _ in 0..8 {
        let url = functions_url(&host, "/echo/invocations");
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let resp = client().post(&url).body(r#"{"action":"ok"}"#).send().await;
                match resp {
                    Ok(r)
                        if r.status() == 200
                            && r.headers().get("x-amz-function-error").is_none() =>
                    {
                        ok += 1
                    }
                    Ok(r) => failed.push(format!("{} {:?}", r.status(), r.text().await)),
                    Err(e) => failed.push(e.to_string()),
                }
            }
            (ok, failed)
        }));
    }
    for i in 0..5 {
        let next = if i % 2 == 0 { &g.faults } else { &g.echo };
        let (status, err) = send(
            reqwest::Method::PUT,
            functions_url(&host, "/echo/code"),
            Some(json!({ "ZipFile": code(next) })),
        )
        .await;
        assert_eq!(status, 200, "{err}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed) = (0, Vec::new());
    for w in workers {
        let (o, f) = w.await.expect("worker");
        ok += o;
        failed.extend(f);
    }
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert!(ok > 20, "only {ok} requests");
}

#[tokio::test]
async fn lamina_deploy_creates_publishes_and_moves_the_alias() {
    let g = guests();
    let host = Lamina::start(&[g.echo.to_str().expect("utf8")]);
    let run = |args: &[&str]| {
        let out = lamina_cmd()
            .args(args)
            .args(["--endpoint", &host.url])
            .output()
            .expect("run lamina");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let faults = g.faults.to_str().expect("utf8");
    let echo = g.echo.to_str().expect("utf8");
    let out = run(&["deploy", "svc", faults, "--alias", "prod"]);
    assert!(
        out.contains("created svc") && out.contains("alias prod -> version 1"),
        "{out}"
    );
    let out = run(&["deploy", "svc", echo, "--publish"]);
    assert!(
        out.contains("updated svc") && out.contains("version 2"),
        "{out}"
    );
    let (_, body, version) = call(&host, "svc", Some("prod")).await;
    assert_eq!((body, version.as_str()), (json!({"ok": true}), "1"));
    let out = run(&["deploy", "svc", echo, "--alias", "prod"]);
    assert!(out.contains("alias prod -> version 2"), "{out}");
    let (_, body, version) = call(&host, "svc", Some("prod")).await;
    assert_eq!((body, version.as_str()), (json!({"action": "ok"}), "2"));
    let out = run(&["versions", "svc"]);
    assert!(out.contains("$LATEST") && out.contains("prod"), "{out}");
    let out = run(&["functions", "list"]);
    assert!(out.contains("svc") && out.contains("echo"), "{out}");
    run(&["functions", "delete", "svc"]);
    let out = run(&["functions", "list"]);
    assert!(!out.contains("svc"), "{out}");
}

#[tokio::test]
async fn the_control_plane_needs_a_signature_when_auth_is_configured() {
    let g = guests();
    let (key, secret) = ("AKIDLAMINADEPLOY0001", "deploy/test+secret/0123456789");
    let host = Lamina::with_config(
        &format!(
            "[auth]\naccess_keys = [{{ id = \"{key}\", secret = \"{secret}\" }}]\n\
             [functions.echo]\ncomponent = {}\n",
            toml_path(&g.echo)
        ),
        &[],
    );
    for (method, path, body) in [
        (reqwest::Method::GET, "", None),
        (
            reqwest::Method::PUT,
            "/echo/code",
            Some(json!({ "ZipFile": code(&g.faults) })),
        ),
        (reqwest::Method::DELETE, "/echo", None),
        (
            reqwest::Method::POST,
            "",
            Some(json!({ "FunctionName": "x", "Code": { "ZipFile": code(&g.echo) } })),
        ),
    ] {
        let (status, err) = send(method.clone(), functions_url(&host, path), body).await;
        assert_eq!(status, 403, "{method} {path}: {err}");
        assert_eq!(err["__type"], "MissingAuthenticationTokenException");
    }
    // `lamina deploy` signs with the key from the environment.
    let deploy = |key: &str| {
        lamina_cmd()
            .args(["deploy", "echo", g.faults.to_str().expect("utf8")])
            .args(["--endpoint", &host.url])
            .env("AWS_ACCESS_KEY_ID", key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .output()
            .expect("run lamina")
    };
    let out = deploy("AKIDNOSUCHKEY");
    assert!(!out.status.success(), "an unknown key deployed");
    let out = deploy(key);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("updated echo"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Code larger than an invocation payload (max_body_bytes, 6 MiB) is
    // accepted by the signed control plane: echo plus a 7 MiB custom section.
    let mut big = std::fs::read(&g.echo).expect("read");
    let payload = vec![0u8; 7 << 20];
    let name = b"padding";
    let mut size = (1 + name.len() + payload.len()) as u64;
    big.push(0);
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        big.push(if size == 0 { byte } else { byte | 0x80 });
        if size == 0 {
            break;
        }
    }
    big.push(name.len() as u8);
    big.extend_from_slice(name);
    big.extend_from_slice(&payload);
    let big_path = host.state.path().join("big.wasm");
    std::fs::write(&big_path, &big).expect("write");
    let out = lamina_cmd()
        .args(["deploy", "big", big_path.to_str().expect("utf8")])
        .args(["--endpoint", &host.url])
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .output()
        .expect("run lamina");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts a `bench-steps` execution that waits on callback `resume`;
/// returns its ARN and callback id once the callback exists.
async fn waiting_execution(host: &Lamina) -> (String, String) {
    let resp = client()
        .post(functions_url(host, "/bench-steps/invocations"))
        .header("x-amz-invocation-type", "Event")
        .body(r#"{"steps":2,"then":"callback"}"#)
        .send()
        .await
        .expect("invoke");
    assert_eq!(resp.status(), 202);
    let arn = resp
        .headers()
        .get("x-amz-durable-execution-arn")
        .and_then(|v| v.to_str().ok())
        .expect("execution arn")
        .to_string();
    let enc = arn.replace(':', "%3A");
    for _ in 0..600 {
        let (_, state) = send(
            reqwest::Method::GET,
            host.at(&format!(
                "/2025-12-01/durable-executions/{enc}/state?CheckpointToken=t"
            )),
            None,
        )
        .await;
        let callback = state["Operations"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|op| op["CallbackDetails"]["CallbackId"].as_str());
        if let Some(id) = callback {
            return (arn, id.to_string());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("execution {arn} never waited on its callback");
}

#[tokio::test]
async fn the_replay_check_flags_a_renamed_callback_and_moves_compatible_executions() {
    let g = guests();
    let host = Lamina::with_config(
        &format!(
            "[functions.bench-steps]\ncomponent = {}\n",
            toml_path(&g.durable_cases)
        ),
        &[],
    );
    let (arn, callback) = waiting_execution(&host).await;
    let original = std::fs::read(&g.durable_cases).expect("read");
    let renamed = {
        let text = b"tepsthenresume";
        let at = original
            .windows(text.len())
            .position(|w| w == text)
            .expect("the callback name is in the component");
        let mut r = original.clone();
        r[at + text.len() - 1] = b'X';
        r
    };
    let renamed_path = host.state.path().join("renamed.wasm");
    std::fs::write(&renamed_path, &renamed).expect("write");
    let deploy = |file: &std::path::Path, extra: &[&str]| {
        lamina_cmd()
            .args([
                "deploy",
                "bench-steps",
                file.to_str().expect("utf8"),
                "--check-replay",
            ])
            .args(extra)
            .args(["--endpoint", &host.url])
            .output()
            .expect("run lamina")
    };
    let out = deploy(&renamed_path, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "a divergent deployment went ahead: {stdout}"
    );
    assert!(
        stdout.contains("DIVERGENT") && stdout.contains(&arn) && stdout.contains("resume"),
        "{stdout}"
    );
    let (_, cfg) = send(
        reqwest::Method::GET,
        functions_url(&host, "/bench-steps"),
        None,
    )
    .await;
    assert_eq!(
        cfg["Configuration"]["Lamina"]["CodeSha256Hex"].as_str(),
        Some(lamina_sha(&original).as_str()),
        "nothing moved"
    );
    let out = deploy(&g.durable_cases, &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("COMPATIBLE") && stdout.contains("0 divergent"),
        "{stdout}"
    );
    let out = deploy(&renamed_path, &["--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (_, execution) = send(
        reqwest::Method::GET,
        host.at(&format!(
            "/2025-12-01/durable-executions/{}",
            arn.replace(':', "%3A")
        )),
        None,
    )
    .await;
    assert_eq!(
        execution["Status"], "RUNNING",
        "the check changed nothing: {execution}"
    );
    assert_eq!(
        execution["CodeSha256"].as_str(),
        Some(lamina_sha(&original).as_str()),
        "the execution kept its code"
    );

    // Compatible new code (a change bench-steps never reaches) with
    // --move-compatible: the execution moves to it and completes on it.
    let compatible = {
        let text = b"NONDET_SECOND";
        let at = original
            .windows(text.len())
            .position(|w| w == text)
            .expect("the env var name is in the component");
        let mut c = original.clone();
        c[at + text.len() - 1] = b'X';
        c
    };
    let compatible_path = host.state.path().join("compatible.wasm");
    std::fs::write(&compatible_path, &compatible).expect("write");
    let out = deploy(&compatible_path, &["--move-compatible"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("moved to the new code"), "{stdout}");
    let exec_url = host.at(&format!(
        "/2025-12-01/durable-executions/{}",
        arn.replace(':', "%3A")
    ));
    let (_, execution) = send(reqwest::Method::GET, exec_url.clone(), None).await;
    assert_eq!(
        execution["CodeSha256"].as_str(),
        Some(lamina_sha(&compatible).as_str()),
        "{execution}"
    );
    let resp = client()
        .post(host.at(&format!(
            "/2025-12-01/durable-execution-callbacks/{callback}/succeed"
        )))
        .body("\"ok\"")
        .send()
        .await
        .expect("callback");
    assert_eq!(resp.status(), 200);
    for _ in 0..600 {
        let (_, execution) = send(reqwest::Method::GET, exec_url.clone(), None).await;
        if execution["Status"] != "RUNNING" {
            assert_eq!(execution["Status"], "SUCCEEDED", "{execution}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the moved execution did not complete");
}

fn lamina_sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
