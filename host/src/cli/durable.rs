//! `lamina executions` and `lamina callback`: durable executions on a
//! running host, through its AWS-compatible API.

use super::CliError;
use super::table::{Table, usd};
use http_body_util::{BodyExt, Full};
use std::io::Write as _;

/// The `--endpoint` option of the commands that talk to a running host.
#[derive(Debug, clap::Args)]
pub struct Endpoint {
    /// The host's base URL.
    #[arg(
        long,
        global = true,
        default_value = "http://127.0.0.1:8080",
        env = "LAMINA_ENDPOINT"
    )]
    pub endpoint: String,
}

/// Arguments of `lamina executions`.
#[derive(Debug, clap::Args)]
pub struct ExecutionsArgs {
    /// What to show.
    #[command(subcommand)]
    pub command: ExecutionsCommand,
    /// Where the host is.
    #[command(flatten)]
    pub host: Endpoint,
}

/// `lamina executions` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum ExecutionsCommand {
    /// List the executions of a durable function (newest first).
    List {
        /// The durable function.
        function: String,
        /// Only executions with this status (RUNNING, SUCCEEDED, FAILED, TIMED_OUT, STOPPED).
        #[arg(long)]
        status: Vec<String>,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one execution: status, result or error, and metering.
    Get {
        /// The execution ARN.
        arn: String,
        /// Print the API's JSON instead of a summary.
        #[arg(long)]
        json: bool,
    },
    /// Show the history events of one execution.
    History {
        /// The execution ARN.
        arn: String,
        /// Print the API's JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stop a running execution.
    Stop {
        /// The execution ARN.
        arn: String,
        /// Print the API's JSON instead of a line.
        #[arg(long)]
        json: bool,
    },
}

/// Arguments of `lamina callback`.
#[derive(Debug, clap::Args)]
pub struct CallbackArgs {
    /// What to send.
    #[command(subcommand)]
    pub command: CallbackCommand,
    /// Where the host is.
    #[command(flatten)]
    pub host: Endpoint,
}

/// `lamina callback` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CallbackCommand {
    /// Complete a callback with a result (JSON; default `null`).
    Succeed {
        /// The callback id (or give --execution instead).
        #[arg(required_unless_present = "execution")]
        id: Option<String>,
        /// The result, as JSON.
        payload: Option<String>,
        /// Instead of a callback id: the callback this execution waits for
        /// (waiting up to 30 s for it to be created).
        #[arg(long, value_name = "ARN")]
        execution: Option<String>,
    },
    /// Complete a callback with an error.
    Fail {
        /// The callback id.
        id: String,
        /// The error type.
        #[arg(long, default_value = "CallbackFailed")]
        error_type: String,
        /// The error message.
        #[arg(long, default_value = "")]
        message: String,
    },
    /// Tell the execution the callback is still being worked on.
    Heartbeat {
        /// The callback id.
        id: String,
    },
}

pub(super) fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Sends one request; returns the JSON body, or the API's error message.
pub(super) async fn call(
    endpoint: &str,
    method: http::Method,
    path: &str,
    body: Vec<u8>,
) -> Result<serde_json::Value, CliError> {
    let url = format!("{}{path}", endpoint.trim_end_matches('/'));
    let uri: http::Uri = url
        .parse()
        .map_err(|e| CliError::Http(format!("bad endpoint URL {url}: {e}")))?;
    let mut req = hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(bytes::Bytes::from(body.clone())))
        .map_err(|e| CliError::Http(e.to_string()))?;
    super::sign::sign_request(&mut req, &body)?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<bytes::Bytes>>();
    let resp = client
        .request(req)
        .await
        .map_err(|e| CliError::Http(format!("cannot reach {endpoint}: {e}")))?;
    let status = resp.status();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| CliError::Http(format!("reading the response: {e}")))?
        .to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    if !status.is_success() {
        let kind = v["__type"].as_str().unwrap_or("error");
        let msg = v["message"].as_str().unwrap_or("");
        return Err(CliError::Http(format!("{status} {kind}: {msg}")));
    }
    Ok(v)
}

pub(super) fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

pub(super) fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default() + "\n"
}

/// Runs `lamina executions`.
pub async fn executions(args: ExecutionsArgs) -> Result<(), CliError> {
    let ep = &args.host.endpoint;
    match args.command {
        ExecutionsCommand::List {
            function,
            status,
            json,
        } => {
            let mut path = format!(
                "/2025-12-01/functions/{}/durable-executions?ReverseOrder=true&MaxItems=1000",
                enc(&function)
            );
            for s in &status {
                path.push_str(&format!("&Statuses={}", enc(&s.to_uppercase())));
            }
            let v = call(ep, http::Method::GET, &path, vec![]).await?;
            if json {
                print(&pretty(&v));
                return Ok(());
            }
            let mut table = Table::new(["STATUS", "NAME", "STARTED", "ARN"]);
            for e in v["DurableExecutions"].as_array().into_iter().flatten() {
                table.row([
                    e["Status"].as_str().unwrap_or("?").to_string(),
                    e["DurableExecutionName"].as_str().unwrap_or("").to_string(),
                    e["StartTimestamp"]
                        .as_f64()
                        .map(timestamp)
                        .unwrap_or_default(),
                    e["DurableExecutionArn"].as_str().unwrap_or("").to_string(),
                ]);
            }
            print(&table.render());
        }
        ExecutionsCommand::Get { arn, json } => {
            let v = call(
                ep,
                http::Method::GET,
                &format!("/2025-12-01/durable-executions/{}", enc(&arn)),
                vec![],
            )
            .await?;
            print(&if json { pretty(&v) } else { summary(&v) });
        }
        ExecutionsCommand::History { arn, json } => {
            let v = call(
                ep,
                http::Method::GET,
                &format!(
                    "/2025-12-01/durable-executions/{}/history?IncludeExecutionData=true",
                    enc(&arn)
                ),
                vec![],
            )
            .await?;
            if json {
                print(&pretty(&v));
                return Ok(());
            }
            let mut table = Table::new(["ID", "EVENT", "OP", "SUBTYPE", "NAME", "DETAIL"]).right(0);
            for e in v["Events"].as_array().into_iter().flatten() {
                table.row([
                    e["EventId"].to_string(),
                    e["EventType"].as_str().unwrap_or("?").to_string(),
                    e["Id"].as_str().unwrap_or("-").to_string(),
                    e["SubType"].as_str().unwrap_or("-").to_string(),
                    e["Name"].as_str().unwrap_or("").to_string(),
                    detail(e),
                ]);
            }
            print(&table.render());
        }
        ExecutionsCommand::Stop { arn, json } => {
            let v = call(
                ep,
                http::Method::POST,
                &format!("/2025-12-01/durable-executions/{}/stop", enc(&arn)),
                vec![],
            )
            .await?;
            if json {
                print(&pretty(&v));
            } else {
                let at = v["StopTimestamp"].as_f64().map(timestamp);
                print(&format!(
                    "stopped {arn}{}\n",
                    at.map(|t| format!(" at {t}")).unwrap_or_default()
                ));
            }
        }
    }
    Ok(())
}

/// An AWS timestamp (seconds since the epoch, fractional) as UTC
/// `YYYY-MM-DD HH:MM:SS`.
fn timestamp(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return String::new();
    }
    let total = secs as u64;
    let (days, rem) = (total / 86_400, total % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A human summary of `GetDurableExecution`: status, times, result or
/// error, and metering with costs as money.
fn summary(v: &serde_json::Value) -> String {
    let mut t = Table::new(["", ""]);
    let mut field = |k: &str, val: String| {
        if !val.is_empty() {
            t.row([k.to_string(), val]);
        }
    };
    let s = |key: &str| v[key].as_str().unwrap_or("").to_string();
    field("Execution", s("DurableExecutionArn"));
    field("Name", s("DurableExecutionName"));
    field("Function", s("FunctionArn"));
    field("Status", s("Status"));
    field(
        "Started",
        v["StartTimestamp"]
            .as_f64()
            .map(timestamp)
            .unwrap_or_default(),
    );
    field(
        "Ended",
        v["EndTimestamp"]
            .as_f64()
            .map(timestamp)
            .unwrap_or_default(),
    );
    field("Code sha256", s("CodeSha256"));
    field("Input", s("InputPayload"));
    field("Result", s("Result"));
    if v["Error"].is_object() {
        field(
            "Error",
            format!(
                "{}: {}",
                v["Error"]["ErrorType"].as_str().unwrap_or("?"),
                v["Error"]["ErrorMessage"].as_str().unwrap_or("")
            ),
        );
    }
    let m = &v["Metering"];
    if m.is_object() {
        let n = |key: &str| m[key].as_f64().unwrap_or(0.0);
        field("Wall time", format!("{:.1} ms", n("WallTimeMs")));
        field("Active compute", format!("{:.2} ms", n("ActiveComputeMs")));
        field("Invocations", format!("{}", n("Invocations")));
        field("Operations", format!("{}", n("Operations")));
        field("Journaled", format!("{} bytes", n("BytesJournaled")));
        let c = &m["Cost"];
        if c.is_object() {
            let parts: Vec<String> = [
                "Compute",
                "Requests",
                "Operations",
                "DataWritten",
                "DataRetained",
            ]
            .iter()
            .map(|k| {
                format!(
                    "{} {}",
                    k.to_lowercase(),
                    usd(c[*k].as_f64().unwrap_or(0.0))
                )
            })
            .collect();
            field(
                "Cost",
                format!(
                    "{} ({})",
                    usd(c["Total"].as_f64().unwrap_or(0.0)),
                    parts.join(", ")
                ),
            );
        }
    }
    // The two-column table has an empty header line: drop it.
    t.render()
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The interesting part of an event's details, for the history table.
fn detail(e: &serde_json::Value) -> String {
    let kind = e["EventType"].as_str().unwrap_or("");
    let d = &e[format!("{kind}Details")];
    let text = if let Some(id) = d["CallbackId"].as_str() {
        format!("callback id {id}")
    } else if let Some(p) = d["Result"]["Payload"].as_str() {
        format!("result {p}")
    } else if let Some(p) = d["Input"]["Payload"].as_str() {
        format!("input {p}")
    } else if d["Error"]["Payload"].is_object() {
        let err = &d["Error"]["Payload"];
        format!(
            "error {}: {}",
            err["ErrorType"].as_str().unwrap_or("?"),
            err["ErrorMessage"].as_str().unwrap_or("")
        )
    } else if let Some(s) = d["Duration"].as_u64() {
        format!("{s} s")
    } else {
        String::new()
    };
    if text.chars().count() > 80 {
        text.chars().take(77).collect::<String>() + "..."
    } else {
        text
    }
}

/// How long `callback succeed --execution` waits for the callback.
const CALLBACK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The id of the one callback execution `arn` waits for: polls its history
/// until a callback has started and not ended (up to [`CALLBACK_WAIT`]).
async fn pending_callback(endpoint: &str, arn: &str) -> Result<String, CliError> {
    let deadline = std::time::Instant::now() + CALLBACK_WAIT;
    loop {
        let status = call(
            endpoint,
            http::Method::GET,
            &format!("/2025-12-01/durable-executions/{}", enc(arn)),
            vec![],
        )
        .await?;
        let history = call(
            endpoint,
            http::Method::GET,
            &format!("/2025-12-01/durable-executions/{}/history", enc(arn)),
            vec![],
        )
        .await?;
        let events = history["Events"].as_array().cloned().unwrap_or_default();
        let ended = |op: &serde_json::Value| {
            events.iter().any(|e| {
                e["Id"] == *op
                    && matches!(
                        e["EventType"].as_str(),
                        Some("CallbackSucceeded" | "CallbackFailed" | "CallbackTimedOut")
                    )
            })
        };
        let pending: Vec<String> = events
            .iter()
            .filter(|e| e["EventType"] == "CallbackStarted" && !ended(&e["Id"]))
            .filter_map(|e| e["CallbackStartedDetails"]["CallbackId"].as_str())
            .map(str::to_string)
            .collect();
        match pending.as_slice() {
            [id] => return Ok(id.clone()),
            [] => {}
            many => {
                return Err(CliError::Http(format!(
                    "{arn} waits for {} callbacks; give one of their ids: {}",
                    many.len(),
                    many.join(", ")
                )));
            }
        }
        let state = status["Status"].as_str().unwrap_or("?");
        if state != "RUNNING" {
            return Err(CliError::Http(format!(
                "{arn} waits for no callback: it is {state}"
            )));
        }
        if std::time::Instant::now() > deadline {
            return Err(CliError::Http(format!(
                "{arn} has not started a callback in {} s",
                CALLBACK_WAIT.as_secs()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Runs `lamina callback`.
pub async fn callback(args: CallbackArgs) -> Result<(), CliError> {
    let (id, action, body) = match args.command {
        CallbackCommand::Succeed {
            id,
            payload,
            execution,
        } => {
            let (id, payload) = match (execution, id, payload) {
                (Some(arn), Some(_), Some(_)) => {
                    return Err(CliError::Http(format!(
                        "give a callback id or --execution {arn}, not both"
                    )));
                }
                // With --execution the one positional argument is the payload.
                (Some(arn), payload, None) | (Some(arn), None, payload) => {
                    (pending_callback(&args.host.endpoint, &arn).await?, payload)
                }
                (None, Some(id), payload) => (id, payload),
                (None, None, _) => {
                    return Err(CliError::Http(
                        "give a callback id or --execution ARN".into(),
                    ));
                }
            };
            let payload = payload.unwrap_or_else(|| "null".into());
            if let Err(e) = serde_json::from_str::<serde_json::Value>(&payload) {
                return Err(CliError::Http(format!(
                    "the payload must be JSON (quote strings: '\"text\"'): {e}"
                )));
            }
            (id, "succeed", payload.into_bytes())
        }
        CallbackCommand::Fail {
            id,
            error_type,
            message,
        } => {
            let body = serde_json::json!({ "ErrorType": error_type, "ErrorMessage": message });
            (id, "fail", body.to_string().into_bytes())
        }
        CallbackCommand::Heartbeat { id } => (id, "heartbeat", vec![]),
    };
    call(
        &args.host.endpoint,
        http::Method::POST,
        &format!(
            "/2025-12-01/durable-execution-callbacks/{}/{action}",
            enc(&id)
        ),
        body,
    )
    .await?;
    print(&format!("callback {id}: {action} sent\n"));
    Ok(())
}
