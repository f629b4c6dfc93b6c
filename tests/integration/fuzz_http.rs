//! HTTP-level fuzzing of the real host: random and malformed requests
//! (methods, paths under `/2015-03-31`, `/2025-12-01` and `/api`, query
//! strings with near-valid timestamps and markers, headers, bodies with
//! invalid UTF-8, huge numbers and bad JSON, and raw bytes on a socket) sent
//! with a real client. No request may get a 5xx or no answer at all (a
//! handler panic drops the connection), and afterwards the process must
//! still answer `/healthz`. `LAMINA_FUZZ_CASES` (default 5000) and
//! `LAMINA_FUZZ_SECONDS` size it; `scripts/fuzz.sh` runs it at length.

use crate::support::*;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One request as the fuzzer draws it.
#[derive(Debug, Clone)]
enum Request {
    /// Sent with reqwest.
    Http {
        method: String,
        path: String,
        query: Vec<(String, String)>,
        headers: Vec<(String, Vec<u8>)>,
        body: Vec<u8>,
    },
    /// Written as they are to a fresh connection.
    Raw(Vec<u8>),
}

fn env_u64(key: &str) -> Option<u64> {
    std::env::var(key).ok()?.trim().parse().ok()
}

/// `%XX` for every byte.
fn escape(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// Path segments: the API's words, the live execution's ARN and callback
/// id, and garbage (escaped bytes, lone `%`, huge numbers, multi-byte text).
fn segment(arn: String, callback: String) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "functions", "invocations", "durable-executions", "history", "state", "stop",
            "durable-execution-callbacks", "succeed", "fail", "heartbeat", "echo",
            "fuzz-flow", "nope", "echo:$LATEST", "123:function:echo",
            "arn:aws:lambda:us-east-1:123456789012:function:fuzz-flow:prod", "functions%2Fecho",
            "", "..", "%", "%E2%82", "%FF%FE", "%00",
        ])
        .prop_map(str::to_string),
        2 => prop::sample::select(vec!["fuzz-flow", "chaos", "echo"]).prop_map(str::to_string),
        2 => Just(arn.replace(':', "%3A")),
        1 => Just(arn),
        1 => Just(callback),
        2 => vec(any::<u8>(), 0..16).prop_map(|b| escape(&b)),
        2 => "[a-zA-Z0-9%:._~€é-]{0,24}",
        1 => "[0-9]{20,60}",
    ]
}

/// Query values: near-valid timestamps, markers and numbers, and garbage.
fn query_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{0,20}-[0-9]{0,3}-[0-9]{0,3}T[0-9]{0,3}:[0-9]{0,3}:[0-9]{0,3}(\\.[0-9a-z€]{0,6})?(Z|\\+00:00)?",
        "[0-9]{1,16}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}(\\.[0-9a-z%€é]{0,6})?(Z|\\+00:00)?",
        "[-+]?[0-9]{0,30}(\\.[0-9]{0,12})?(e[-+]?[0-9]{1,4})?",
        "[0-9a-f]{0,80}",
        prop::sample::select(vec![
            "true",
            "false",
            "RUNNING",
            "SUCCEEDED,FAILED",
            "RUNNING,",
            "1000",
            "1001",
            "0",
            "-1",
            "NaN",
            "inf",
            "",
        ])
        .prop_map(str::to_string),
        any::<String>(),
        vec(any::<u8>(), 0..24).prop_map(|b| escape(&b)),
    ]
}

fn query() -> impl Strategy<Value = Vec<(String, String)>> {
    vec(
        (
            prop_oneof![
                4 => prop::sample::select(vec![
                    "Marker", "MaxItems", "StartedAfter", "StartedBefore", "Statuses",
                    "ReverseOrder", "IncludeExecutionData", "DurableExecutionName",
                    "CheckpointToken",
                ])
                .prop_map(str::to_string),
                2 => prop::sample::select(vec!["StartedAfter", "StartedBefore"]).prop_map(str::to_string),
                1 => "[a-zA-Z%+=&]{0,12}",
            ],
            query_value(),
        ),
        0..5,
    )
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    vec(
        (
            prop::sample::select(vec![
                "x-amz-invocation-type",
                "x-amz-durable-execution-name",
                "content-type",
                "x-amz-client-context",
                "x-amz-log-type",
                "accept",
            ])
            .prop_map(str::to_string),
            prop_oneof![
                prop::sample::select(vec![
                    "Event",
                    "RequestResponse",
                    "DryRun",
                    "event",
                    "application/json",
                    "name-1",
                    "",
                ])
                .prop_map(|s| s.as_bytes().to_vec()),
                "[ -~]{0,80}".prop_map(String::into_bytes),
                vec(0x20u8..=0xFF, 0..40),
            ],
        ),
        0..4,
    )
}

/// Bodies: empty, valid JSON, JSON-ish text, invalid UTF-8, huge numbers,
/// deep nesting and a body over the host's limit.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(Vec::new()),
        3 => any::<(Option<String>, i64, f64, bool)>().prop_map(|(s, i, f, b)| {
            json!({ "ErrorType": s, "n": i, "f": f, "b": b, "callback": false })
                .to_string()
                .into_bytes()
        }),
        3 => "[\\[\\]{}\":,0-9a-zA-Z .eE+\\\\-]{0,64}".prop_map(String::into_bytes),
        2 => vec(any::<u8>(), 0..256),
        1 => (1usize..2000).prop_map(|n| format!("1{}", "0".repeat(n)).into_bytes()),
        1 => Just(b"1e999999".to_vec()),
        1 => (100usize..5000).prop_map(|n| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        1 => Just(vec![b' '; 70_000]),
    ]
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
            .prop_map(str::to_string),
        1 => "[A-Z]{1,12}",
    ]
}

/// Raw requests: garbage, and request lines with raw non-UTF-8 bytes,
/// odd versions, bad or conflicting lengths.
fn raw() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..300),
        (
            method(),
            prop::sample::select(vec!["/2015-03-31/", "/2025-12-01/", "/api/", "/"]),
            vec(any::<u8>(), 0..40),
            prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/9.9", "", "HTTP/1.1 x"]),
            prop::sample::select(vec![
                "",
                "Content-Length: 5\r\n",
                "Content-Length: -1\r\n",
                "Content-Length: 99999999999999999999999\r\n",
                "Content-Length: 3\r\nContent-Length: 4\r\n",
                "Transfer-Encoding: chunked\r\n",
                "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
            ]),
            vec(any::<u8>(), 0..40),
        )
            .prop_map(|(m, prefix, path, version, headers, body)| {
                let mut out = format!("{m} {prefix}").into_bytes();
                out.extend_from_slice(&path);
                out.extend_from_slice(
                    format!(" {version}\r\nHost: fuzz\r\n{headers}Connection: close\r\n\r\n")
                        .as_bytes(),
                );
                out.extend_from_slice(&body);
                out
            }),
    ]
}

/// Paths: the API's routes with one fuzzed segment, or random segments
/// under a random prefix.
fn path(arn: String, callback: String) -> impl Strategy<Value = String> {
    let routes = prop::sample::select(vec![
        "/2015-03-31/functions/{}/invocations",
        "/2025-12-01/durable-executions/{}",
        "/2025-12-01/durable-executions/{}/history",
        "/2025-12-01/durable-executions/{}/state",
        "/2025-12-01/durable-executions/{}/stop",
        "/2025-12-01/functions/{}/durable-executions",
        "/2025-12-01/functions/{}/durable-executions",
        "/2025-12-01/functions/{}/durable-executions",
        "/2025-12-01/durable-execution-callbacks/{}/succeed",
        "/2025-12-01/durable-execution-callbacks/{}/fail",
        "/2025-12-01/durable-execution-callbacks/{}/heartbeat",
        "/2025-12-01/durable-execution-callbacks/x/{}",
        "/api/{}",
    ]);
    prop_oneof![
        3 => (routes, segment(arn.clone(), callback.clone()))
            .prop_map(|(route, seg)| route.replace("{}", &seg)),
        1 => (
            prop::sample::select(vec!["/2015-03-31", "/2025-12-01", "/api", "", "/ui", "/healthz"]),
            vec(segment(arn, callback), 0..5),
        )
            .prop_map(|(prefix, segments)| format!("{prefix}/{}", segments.join("/"))),
    ]
}

fn request(arn: String, callback: String) -> impl Strategy<Value = Request> {
    prop_oneof![
        6 => (
            method(),
            path(arn, callback),
            query(),
            headers(),
            body(),
        )
            .prop_map(|(method, path, query, headers, body)| Request::Http {
                method,
                path,
                query,
                headers,
                body,
            }),
        1 => raw().prop_map(Request::Raw),
    ]
}

/// What a request got: a status, or why there was none.
enum Answer {
    Status(u16, String),
    /// The URL or request could not be built on the client side.
    Unsendable,
    /// No answer: a closed connection or a timeout.
    Nothing(String),
}

async fn send_http(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    query: &[(String, String)],
    headers: &[(String, Vec<u8>)],
    body: &[u8],
) -> Answer {
    let q = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let url = if q.is_empty() {
        format!("{base}{path}")
    } else {
        format!("{base}{path}?{q}")
    };
    let (Ok(url), Ok(method)) = (
        reqwest::Url::parse(&url),
        reqwest::Method::from_bytes(method.as_bytes()),
    ) else {
        return Answer::Unsendable;
    };
    let mut req = client.request(method, url).body(body.to_vec());
    for (k, v) in headers {
        match reqwest::header::HeaderValue::from_bytes(v) {
            Ok(v) => req = req.header(k.as_str(), v),
            Err(_) => return Answer::Unsendable,
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let text = resp.text().await.unwrap_or_default();
            Answer::Status(status, text.chars().take(300).collect())
        }
        Err(e) if e.is_builder() => Answer::Unsendable,
        // The host answered before reading the whole body and closed the
        // connection while the client was still writing it.
        Err(e) if format!("{e:?}").contains("BodyWrite") => Answer::Unsendable,
        Err(e) => Answer::Nothing(format!("{e:?}")),
    }
}

/// Writes `bytes` to a fresh connection and reads the status line, if any.
fn send_raw(addr: &str, bytes: &[u8]) -> Answer {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return Answer::Nothing("cannot connect".into());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply);
    match text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
    {
        Some(code) => Answer::Status(code, text.chars().take(300).collect()),
        // Hyper may close a connection whose bytes are no request at all.
        None => Answer::Unsendable,
    }
}

/// The shape of a path, for grouping findings: its first segments, with
/// the ids (after `durable-executions`, `functions` and
/// `durable-execution-callbacks`) and anything that is not one of the API's
/// words as `*`.
fn shape(path: &str) -> String {
    const WORDS: &[&str] = &[
        "",
        "2015-03-31",
        "2025-12-01",
        "api",
        "ui",
        "healthz",
        "invocations",
        "history",
        "state",
        "stop",
        "succeed",
        "fail",
        "heartbeat",
    ];
    const BEFORE_ID: &[&str] = &[
        "functions",
        "durable-executions",
        "durable-execution-callbacks",
    ];
    let mut previous = "";
    path.split('/')
        .take(5)
        .map(|s| {
            if BEFORE_ID.contains(&previous) {
                previous = "";
                "*"
            } else {
                previous = s;
                if WORDS.contains(&s) || BEFORE_ID.contains(&s) {
                    s
                } else {
                    "*"
                }
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn config() -> String {
    let g = guests();
    format!(
        r#"
[host]
max_body_bytes = 65536

[functions.echo]
component = {echo}

[functions.fuzz-flow]
component = {cases}

[functions.chaos]
component = {cases}
"#,
        echo = toml_path(&g.echo),
        cases = toml_path(&g.durable_cases),
    )
}

#[test]
fn random_malformed_requests_get_no_5xx_and_leave_the_host_serving() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let host = Lamina::with_config(&config(), &[]);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        // A fresh connection per request: the host may close one after
        // answering early, and a pooled one could then look unanswered.
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let addr = host.url.trim_start_matches("http://").to_string();

    // A live execution waiting at a callback, so that its ARN and callback
    // id are in the fuzzer's pool.
    let (arn, callback) = rt.block_on(async {
        let resp = client
            .post(host.at("/2015-03-31/functions/chaos/invocations"))
            .header("x-amz-invocation-type", "Event")
            .body(json!({ "n": 1, "steps": 0, "callback": true }).to_string())
            .send()
            .await
            .expect("start");
        let arn = resp
            .headers()
            .get("x-amz-durable-execution-arn")
            .and_then(|v| v.to_str().ok())
            .expect("ARN")
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state: Value = client
                .get(host.at(&format!(
                    "/2025-12-01/durable-executions/{}/state",
                    arn.replace(':', "%3A")
                )))
                .send()
                .await
                .expect("state")
                .json()
                .await
                .unwrap_or(Value::Null);
            let id = state["Operations"].as_array().and_then(|ops| {
                ops.iter()
                    .find_map(|o| o["CallbackDetails"]["CallbackId"].as_str())
                    .map(str::to_string)
            });
            if let Some(id) = id {
                break (arn, id);
            }
            assert!(Instant::now() < deadline, "no callback: {state}");
            std::thread::sleep(Duration::from_millis(50));
        }
    });

    let cases = env_u64("LAMINA_FUZZ_CASES").unwrap_or(5000).max(1) as u32;
    let deadline = env_u64("LAMINA_FUZZ_SECONDS").map(|s| Instant::now() + Duration::from_secs(s));
    let strategy = request(arn.clone(), callback.clone());
    // (answer, method, path shape) → (count, first example).
    let findings: Mutex<BTreeMap<String, (u64, String)>> = Mutex::new(BTreeMap::new());
    let tried = std::sync::atomic::AtomicU64::new(0);
    loop {
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&strategy, |req| {
            tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let (answer, key_of) = match &req {
                Request::Http {
                    method,
                    path,
                    query,
                    headers,
                    body,
                } => (
                    rt.block_on(send_http(
                        &client, &host.url, method, path, query, headers, body,
                    )),
                    format!("{method} {}", shape(path)),
                ),
                Request::Raw(bytes) => (send_raw(&addr, bytes), "raw".to_string()),
            };
            let finding = match answer {
                Answer::Status(code, text) if code >= 500 => {
                    Some((format!("{code} {key_of}"), text))
                }
                Answer::Nothing(why) => Some((format!("no answer {key_of}"), why)),
                _ => None,
            };
            if let Some((key, why)) = finding {
                let mut f = findings.lock().expect("findings");
                let entry = f
                    .entry(key)
                    .or_insert_with(|| (0, format!("{req:?} -> {why}")));
                entry.0 += 1;
            }
            Ok(())
        });
        assert!(result.is_ok(), "{result:?}");
        if deadline.is_none_or(|d| Instant::now() >= d) {
            break;
        }
    }

    let health = rt.block_on(async {
        client
            .get(host.at("/healthz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let findings = findings.into_inner().expect("findings");
    let tried = tried.into_inner();
    eprintln!(
        "fuzz http-requests: {tried} inputs tried, {} kinds of failure",
        findings.len()
    );
    for (key, (count, example)) in &findings {
        eprintln!("fuzz http-requests: {count} x {key}: {example}");
    }
    assert_eq!(
        health.ok(),
        Some(200),
        "the host stopped answering /healthz"
    );
    assert!(
        findings.is_empty(),
        "{} kinds of request got a 5xx or no answer: {:#?}",
        findings.len(),
        findings
    );
}
