//! `lamina executions` and `lamina callback`: durable executions on a
//! running host, through its AWS-compatible API.

use super::CliError;
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
        /// The callback id.
        id: String,
        /// The result, as JSON.
        payload: Option<String>,
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
            let mut out = format!("{:<10} {:<24} {}\n", "STATUS", "NAME", "ARN");
            for e in v["DurableExecutions"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{:<10} {:<24} {}\n",
                    e["Status"].as_str().unwrap_or("?"),
                    e["DurableExecutionName"].as_str().unwrap_or(""),
                    e["DurableExecutionArn"].as_str().unwrap_or("")
                ));
            }
            print(&out);
        }
        ExecutionsCommand::Get { arn } => {
            let v = call(
                ep,
                http::Method::GET,
                &format!("/2025-12-01/durable-executions/{}", enc(&arn)),
                vec![],
            )
            .await?;
            print(&pretty(&v));
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
            let mut out = format!(
                "{:>4} {:<22} {:<8} {:<18} {:<16} {}\n",
                "ID", "EVENT", "OP", "SUBTYPE", "NAME", "DETAIL"
            );
            for e in v["Events"].as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{:>4} {:<22} {:<8} {:<18} {:<16} {}\n",
                    e["EventId"],
                    e["EventType"].as_str().unwrap_or("?"),
                    e["Id"].as_str().unwrap_or("-"),
                    e["SubType"].as_str().unwrap_or("-"),
                    e["Name"].as_str().unwrap_or(""),
                    detail(e)
                ));
            }
            print(&out);
        }
        ExecutionsCommand::Stop { arn } => {
            let v = call(
                ep,
                http::Method::POST,
                &format!("/2025-12-01/durable-executions/{}/stop", enc(&arn)),
                vec![],
            )
            .await?;
            print(&pretty(&v));
        }
    }
    Ok(())
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

/// Runs `lamina callback`.
pub async fn callback(args: CallbackArgs) -> Result<(), CliError> {
    let (id, action, body) = match args.command {
        CallbackCommand::Succeed { id, payload } => {
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
