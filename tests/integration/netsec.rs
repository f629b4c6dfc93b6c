//! The listener under hostile or impolite clients and the control plane's
//! protection: slowloris and idle sockets are closed by timeouts and a
//! connection limit keeps `/healthz` reachable; SIGTERM drains in-flight
//! calls; crafted durable-API queries get 400s instead of panics; with
//! `[auth]` every control-plane request needs an AWS Signature Version 4
//! (the CLI signs from the environment, the dashboard logs in); without it a
//! non-loopback listen address is refused.

use crate::support::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A `lamina serve` we started ourselves (to signal it or limit its fds).
struct Spawned {
    child: Child,
    url: String,
    _state: tempfile::TempDir,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `lamina serve --config` with `config` on 127.0.0.1:0; with
/// `fd_limit`, under `ulimit -n`.
fn spawn(config: &str, fd_limit: Option<u32>) -> Spawned {
    let state = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(state.path(), config);
    let bin = env!("CARGO_BIN_EXE_lamina");
    let mut cmd = match fd_limit {
        Some(n) => {
            let mut c = std::process::Command::new("sh");
            c.arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(bin);
            c
        }
        None => std::process::Command::new(bin),
    };
    cmd.env("LAMINA_LOG", "warn")
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
        .stderr(Stdio::inherit());
    let mut child = cmd.spawn().expect("spawn lamina");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(i) = line.find("listening on ") {
            url = Some(line[i + "listening on ".len()..].trim().to_string());
        }
        if line.starts_with("Metrics:") {
            break;
        }
    }
    let url = url.expect("lamina printed its URL");
    Spawned {
        child,
        url,
        _state: state,
    }
}

fn addr(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

async fn healthz(url: &str) -> bool {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .expect("client");
    match client.get(format!("{url}/healthz")).send().await {
        Ok(r) => r.status() == 200,
        Err(_) => false,
    }
}

/// Waits until the server closes `s` (EOF or reset); false at `deadline`.
fn closed_by_server(s: &mut TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        s.set_read_timeout(Some(left)).expect("timeout");
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // a 408 or the rest of a response
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true, // reset
        }
    }
}

/// A keep-alive socket that has had one answered request and then goes quiet.
fn idle_keep_alive(address: &str) -> TcpStream {
    let mut s = TcpStream::connect(address).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !got.ends_with(b"ok\n") {
        let n = s.read(&mut buf).expect("response");
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    s
}

/// Partial headers, then silence.
fn slowloris(address: &str) -> TcpStream {
    let mut s = TcpStream::connect(address).expect("connect");
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("write");
    s
}

fn echo_config(extra: &str) -> String {
    format!(
        "{extra}\n[functions.echo]\ncomponent = {}\n",
        toml_path(&guests().echo)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn slowloris_and_idle_sockets_are_closed_while_healthz_answers() {
    let host = spawn(
        &echo_config("[server]\nheader_read_timeout_ms = 1000\nidle_timeout_ms = 1500\n"),
        None,
    );
    let address = addr(&host.url);
    let mut slow: Vec<TcpStream> = (0..50).map(|_| slowloris(&address)).collect();
    let mut idle: Vec<TcpStream> = (0..20).map(|_| idle_keep_alive(&address)).collect();
    assert!(healthz(&host.url).await, "/healthz while 70 sockets hang");
    let mut open = 0;
    let deadline = Instant::now() + Duration::from_secs(15);
    for s in slow.iter_mut().chain(idle.iter_mut()) {
        if !closed_by_server(s, deadline) {
            open += 1;
        }
    }
    assert_eq!(open, 0, "sockets the server never closed");
    assert!(healthz(&host.url).await, "/healthz after");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_stops_reading_its_response_is_cut_off_after_the_idle_timeout() {
    // The header-read timeout is long here: only the idle timeout can act.
    let host = spawn(
        &format!(
            "[host]\nmax_body_bytes = 67108864\n[server]\nheader_read_timeout_ms = 60000\n\
             idle_timeout_ms = 1000\n[functions.echo]\ncomponent = {}\n",
            toml_path(&guests().echo)
        ),
        None,
    );
    let body = format!("\"{}\"", "a".repeat(32 << 20));
    let mut s = TcpStream::connect(addr(&host.url)).expect("connect");
    write!(
        s,
        "POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .expect("head");
    s.write_all(body.as_bytes()).expect("body");
    // Read nothing for a while: the response (32 MiB) fills the socket buffers.
    std::thread::sleep(Duration::from_secs(5));
    let mut received = 0usize;
    let mut buf = vec![0u8; 1 << 16];
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let cut = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => received += n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break false;
            }
            Err(_) => break true,
        }
    };
    assert!(cut, "the connection stayed open");
    assert!(
        received < body.len(),
        "the whole response ({received} bytes) arrived: the stalled connection was not closed"
    );
    assert!(healthz(&host.url).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_limit_keeps_healthz_reachable_under_an_fd_limit() {
    // 300 idle sockets against a host with 256 file descriptors: without a
    // limit it accepts until it runs out of descriptors and never frees one.
    let host = spawn(
        &echo_config("[server]\nheader_read_timeout_ms = 1000\nmax_connections = 40\n"),
        Some(256),
    );
    let address = addr(&host.url);
    let sockets: Vec<TcpStream> = (0..300)
        .map(|_| TcpStream::connect(&address).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        healthz(&host.url).await,
        "/healthz within 40 s while 300 idle sockets queue"
    );
    drop(sockets);
    assert!(healthz(&host.url).await, "/healthz after");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_an_in_flight_call_finish_then_exits() {
    let host = spawn(
        &format!(
            "[server]\nshutdown_grace_ms = 20000\n[functions.faults]\ncomponent = {}\ntimeout_ms = 20000\n",
            toml_path(&guests().faults)
        ),
        None,
    );
    let mut host = host;
    let url = format!("{}/2015-03-31/functions/faults/invocations", host.url);
    let call = tokio::spawn(async move {
        let resp = client()
            .post(url)
            .body(r#"{"action":"sleep","ms":4000}"#)
            .send()
            .await
            .expect("the in-flight call gets an answer");
        let status = resp.status();
        (status, resp.text().await.expect("body"))
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pid = host.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(kill.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        TcpStream::connect(addr(&host.url)).is_err(),
        "new connections are refused after SIGTERM"
    );
    let (status, body) = call.await.expect("join");
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["slept_ms"], 4000, "{body}");
    let ended = Instant::now();
    loop {
        if let Some(st) = host.child.try_wait().expect("wait") {
            assert!(st.success(), "exit status {st:?}");
            break;
        }
        assert!(
            ended.elapsed() < Duration::from_secs(5),
            "the host did not exit within 5 s of the call ending"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn durable_config() -> String {
    format!(
        "[functions.bench-steps]\ncomponent = {}\n",
        toml_path(&guests().durable_cases)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn crafted_durable_queries_get_400_and_unknown_arns_404() {
    let host = Lamina::with_config(&durable_config(), &[]);
    let list = "/2025-12-01/functions/bench-steps/durable-executions";
    for query in [
        "StartedAfter=2026-01-01T00:00:00.ab%E2%82%ACZ",
        "StartedBefore=9999999999999-01-01T00:00:00Z",
        "StartedAfter=2026-02-30T00:00:00Z",
        "StartedAfter=1e400",
        "Marker=zz",
        "MaxItems=99999999999999999999999",
    ] {
        let resp = client()
            .get(host.at(&format!("{list}?{query}")))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{query}: no answer ({e})"));
        assert_eq!(resp.status(), 400, "{query}");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["__type"], "InvalidParameterValueException", "{query}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let arn = "arn:aws:lambda:us-east-1:000000000000:function:bench-steps:$LATEST/durable-execution/nope/x";
    for tail in ["", "/history", "/state"] {
        let path = format!(
            "/2025-12-01/durable-executions/{}{tail}",
            arn.replace(':', "%3A")
                .replace('/', "%2F")
                .replace('$', "%24")
        );
        let resp = client().get(host.at(&path)).send().await.expect("answer");
        assert_eq!(resp.status(), 404, "{path}");
        let v: Value = resp.json().await.expect("json");
        assert_eq!(v["__type"], "ResourceNotFoundException", "{path}");
    }
    // A real execution's state with a marker at the top of u64.
    let resp = invoke(&host, "bench-steps", r#"{"steps":2}"#, "RequestResponse").await;
    assert_eq!(resp.status(), 200);
    let arn = resp
        .headers()
        .get("x-amz-durable-execution-arn")
        .and_then(|v| v.to_str().ok())
        .expect("arn")
        .to_string();
    let enc = arn
        .replace(':', "%3A")
        .replace('/', "%2F")
        .replace('$', "%24");
    for q in [
        "Marker=18446744073709551615",
        "Marker=18446744073709551614&MaxItems=1000",
    ] {
        for tail in ["state", "history"] {
            let resp = client()
                .get(host.at(&format!("/2025-12-01/durable-executions/{enc}/{tail}?{q}")))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{tail}?{q}: no answer ({e})"));
            assert_eq!(resp.status(), 200, "{tail}?{q}");
        }
    }
}

// ---- authentication ----

const KEY: &str = "AKIDLAMINATEST000001";
const SECRET: &str = "lamina/test+secret/0123456789abcdefghij";

fn auth_config() -> String {
    format!(
        "[auth]\naccess_keys = [{{ id = \"{KEY}\", secret = \"{SECRET}\" }}]\n\
         [functions.echo]\ncomponent = {}\n[functions.bench-steps]\ncomponent = {}\n",
        toml_path(&guests().echo),
        toml_path(&guests().durable_cases)
    )
}

/// A request signed with aws-sigv4 the way an AWS SDK signs it.
fn signed(
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
    key: &str,
    secret: &str,
) -> reqwest::RequestBuilder {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let parsed: reqwest::Url = url.parse().expect("url");
    let host = format!(
        "{}:{}",
        parsed.host_str().expect("host"),
        parsed.port().expect("port")
    );
    let mut all: Vec<(&str, &str)> = vec![("host", host.as_str())];
    all.extend_from_slice(headers);
    let identity = aws_credential_types::Credentials::new(key, secret, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("lambda")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        method.as_str(),
        url,
        all.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut req = client().request(method, url).body(body.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    req
}

async fn error_type(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    (status, v["__type"].as_str().unwrap_or("").to_string())
}

#[tokio::test(flavor = "multi_thread")]
async fn control_plane_needs_a_valid_signature() {
    let host = Lamina::with_config(&auth_config(), &[]);
    let invoke_url = host.at("/2015-03-31/functions/echo/invocations");
    let h = [("content-type", "application/json")];
    // Unsigned.
    let resp = client()
        .post(&invoke_url)
        .body("{}")
        .send()
        .await
        .expect("answer");
    assert_eq!(
        error_type(resp).await,
        (403, "MissingAuthenticationTokenException".into())
    );
    for path in [
        "/metrics",
        "/api/functions",
        "/2025-12-01/functions/bench-steps/durable-executions",
    ] {
        let resp = client().get(host.at(path)).send().await.expect("answer");
        assert_eq!(resp.status(), 403, "{path}");
    }
    // Unknown key id.
    let resp = signed(
        reqwest::Method::POST,
        &invoke_url,
        &h,
        "{\"a\":1}",
        "AKIDUNKNOWN",
        SECRET,
    )
    .send()
    .await
    .expect("answer");
    assert_eq!(
        error_type(resp).await,
        (403, "UnrecognizedClientException".into())
    );
    // Right key, wrong secret.
    let resp = signed(
        reqwest::Method::POST,
        &invoke_url,
        &h,
        "{\"a\":1}",
        KEY,
        "wrong",
    )
    .send()
    .await
    .expect("answer");
    assert_eq!(
        error_type(resp).await,
        (403, "InvalidSignatureException".into())
    );
    // A body other than the one signed.
    let resp = signed(
        reqwest::Method::POST,
        &invoke_url,
        &h,
        "{\"a\":1}",
        KEY,
        SECRET,
    )
    .body("{\"a\":2}")
    .send()
    .await
    .expect("answer");
    assert_eq!(
        error_type(resp).await,
        (403, "InvalidSignatureException".into())
    );
    // Right key.
    let resp = signed(
        reqwest::Method::POST,
        &invoke_url,
        &h,
        "{\"a\":1}",
        KEY,
        SECRET,
    )
    .send()
    .await
    .expect("answer");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body").trim(), "{\"a\":1}");
    let url = host
        .at("/2025-12-01/functions/bench-steps/durable-executions?MaxItems=5&ReverseOrder=true");
    let resp = signed(reqwest::Method::GET, &url, &[], "", KEY, SECRET)
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);
    for path in ["/metrics", "/api/functions"] {
        let resp = signed(reqwest::Method::GET, &host.at(path), &[], "", KEY, SECRET)
            .send()
            .await
            .expect("answer");
        assert_eq!(resp.status(), 200, "{path}");
    }
    // Open: health, the dashboard's files.
    for path in ["/healthz", "/ui/", "/ui/login.html"] {
        let resp = client().get(host.at(path)).send().await.expect("answer");
        assert_eq!(resp.status(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_signs_with_keys_from_the_environment() {
    let host = Lamina::with_config(&auth_config(), &[]);
    let run = |args: &[&str], keys: Option<(&str, &str)>| {
        let mut cmd = lamina_cmd();
        cmd.args(args).arg("--endpoint").arg(&host.url);
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_SESSION_TOKEN");
        if let Some((k, s)) = keys {
            cmd.env("AWS_ACCESS_KEY_ID", k)
                .env("AWS_SECRET_ACCESS_KEY", s)
                .env("AWS_REGION", "eu-central-1");
        }
        cmd.output().expect("run lamina")
    };
    let out = run(
        &["invoke", "echo", "--payload", "{\"x\":7}"],
        Some((KEY, SECRET)),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "{\"x\":7}");
    let out = run(&["executions", "list", "bench-steps"], Some((KEY, SECRET)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["invoke", "echo"], None);
    assert!(!out.status.success(), "unsigned CLI call must fail");
    let out = run(&["executions", "list", "bench-steps"], Some((KEY, "wrong")));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("InvalidSignatureException"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_logs_in_with_a_cookie_and_a_csrf_header() {
    let host = Lamina::with_config(&auth_config(), &[]);
    let login = |body: String, csrf: bool| {
        let mut r = client()
            .post(host.at("/ui/login"))
            .header("content-type", "application/json")
            .body(body);
        if csrf {
            r = r.header("x-lamina-csrf", "1");
        }
        r.send()
    };
    let good = serde_json::json!({ "access_key_id": KEY, "secret_access_key": SECRET }).to_string();
    let bad = serde_json::json!({ "access_key_id": KEY, "secret_access_key": "no" }).to_string();
    assert_eq!(
        login(good.clone(), false).await.expect("answer").status(),
        403
    );
    assert_eq!(login(bad, true).await.expect("answer").status(), 403);
    let resp = login(good, true).await.expect("answer");
    assert_eq!(resp.status(), 200);
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    let cookie = set_cookie
        .split(';')
        .next()
        .expect("name=value")
        .to_string();
    let api = |csrf: bool, cookie: Option<&str>| {
        let mut r = client().get(host.at("/api/functions"));
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        if csrf {
            r = r.header("x-lamina-csrf", "1");
        }
        r.send()
    };
    assert_eq!(
        api(false, Some(&cookie)).await.expect("answer").status(),
        403
    );
    assert_eq!(api(true, None).await.expect("answer").status(), 403);
    assert_eq!(
        api(true, Some("lamina_session=forged"))
            .await
            .expect("answer")
            .status(),
        403
    );
    let resp = api(true, Some(&cookie)).await.expect("answer");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.expect("json");
    assert!(v["functions"].as_array().is_some_and(|f| f.len() == 2));
    let resp = client()
        .post(host.at("/ui/logout"))
        .header("cookie", &cookie)
        .header("x-lamina-csrf", "1")
        .send()
        .await
        .expect("answer");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        api(true, Some(&cookie)).await.expect("answer").status(),
        403
    );
}

/// Runs `lamina serve` on `listen` with `config`; returns whether it came
/// up (then killed) and its stderr so far.
fn try_listen(config: &str, extra: &[&str]) -> (bool, String) {
    let state = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(state.path(), config);
    let mut child = lamina_cmd()
        .arg("serve")
        .arg("--config")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(state.path())
        .arg("--cache-dir")
        .arg(shared_cache())
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let up = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|l| l.starts_with("Metrics:"));
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    (up, stderr)
}

#[test]
fn a_public_listen_address_needs_auth_or_insecure_listen() {
    let open = echo_config("[host]\nlisten = \"0.0.0.0:0\"\n");
    let (up, stderr) = try_listen(&open, &[]);
    assert!(!up, "served on 0.0.0.0 without auth");
    assert!(stderr.contains("--insecure-listen"), "{stderr}");
    let (up, stderr) = try_listen(&open, &["--insecure-listen"]);
    assert!(up, "{stderr}");
    assert!(stderr.contains("WITHOUT authentication"), "{stderr}");
    let with_auth = format!("[host]\nlisten = \"0.0.0.0:0\"\n{}", auth_config());
    let (up, stderr) = try_listen(&with_auth, &[]);
    assert!(up, "{stderr}");
}
