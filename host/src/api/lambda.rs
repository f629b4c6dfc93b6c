//! The Lambda-compatible invoke API:
//! `POST /2015-03-31/functions/{name}/invocations` (with a `Qualifier`:
//! version or alias), so that `aws lambda invoke --endpoint-url ...` and
//! boto3 work against Lamina. The other operations under `/2015-03-31/`
//! are the control plane ([`super::control`]).

use super::response::{Response, add_request_id, add_timing, aws_error, full};
use super::server::ApiBody as Incoming;
use super::server::{Host, new_request_id, read_body};
use crate::config::FunctionKind;
use crate::deploy::Target;
use crate::durable::model::ErrorType;
use crate::error::InvokeError;
use crate::modes::standard::{self, HandlerOutput};
pub use crate::names::{function_name, qualifier_of};
use http::{HeaderValue, Method, StatusCode};
use std::sync::Arc;

/// How the caller wants the function invoked (`X-Amz-Invocation-Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvocationType {
    /// Wait for the result (200 + body).
    RequestResponse,
    /// Queue it and answer 202 at once; the function runs in the background.
    Event,
    /// Check the function and payload without running it (204).
    DryRun,
}

impl InvocationType {
    /// Parses the header value; `None` when absent means RequestResponse.
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("RequestResponse") => Ok(InvocationType::RequestResponse),
            Some("Event") => Ok(InvocationType::Event),
            Some("DryRun") => Ok(InvocationType::DryRun),
            Some(other) => Err(format!(
                "1 validation error detected: Value '{other}' at 'invocationType' failed to satisfy \
                 constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
            )),
        }
    }
}

/// Handles a request under `/2015-03-31/`; `rest` is the path after it.
pub async fn handle(host: Arc<Host>, req: hyper::Request<Incoming>, rest: &str) -> Response {
    let parts: Vec<&str> = rest.split('/').collect();
    let name = match parts.as_slice() {
        ["functions", name, "invocations"] => *name,
        _ => return super::control::handle(host, req, rest).await,
    };
    if req.method() != Method::POST {
        return aws_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "UnknownOperationException",
            "Invoke takes POST",
        );
    }
    let raw = percent_decode(name);
    let name = function_name(&raw);
    let qualifier = query_param(req.uri().query(), "Qualifier").or_else(|| qualifier_of(&raw));
    let request_id = new_request_id();
    let mut resp = invoke(host, req, &name, qualifier.as_deref(), &request_id).await;
    add_request_id(&mut resp, &request_id);
    resp
}

async fn invoke(
    host: Arc<Host>,
    req: hyper::Request<Incoming>,
    name: &str,
    qualifier: Option<&str>,
    request_id: &str,
) -> Response {
    let invocation_type = match InvocationType::parse(
        req.headers()
            .get("x-amz-invocation-type")
            .and_then(|v| v.to_str().ok()),
    ) {
        Ok(t) => t,
        Err(m) => return aws_error(StatusCode::BAD_REQUEST, "ValidationException", m),
    };
    if host.registry.get(name).is_none() {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!(
                "Function not found: {name} (this host serves: {})",
                host.registry.names()
            ),
        );
    }
    let target = match host.deploy.resolve(&host, name, qualifier).await {
        Ok(t) => t,
        Err(e) => return super::control::error_response(&e),
    };
    let mut resp = invoke_target(&host, req, &target, invocation_type, request_id).await;
    if resp.status().is_success()
        && let Ok(v) = HeaderValue::from_str(&target.version)
    {
        resp.headers_mut().insert("x-amz-executed-version", v);
    }
    resp
}

/// Invokes what a name and qualifier resolved to.
async fn invoke_target(
    host: &Arc<Host>,
    req: hyper::Request<Incoming>,
    target: &Target,
    invocation_type: InvocationType,
    request_id: &str,
) -> Response {
    let f = &target.function;
    let name = &*f.name;
    if f.kind == FunctionKind::Http {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            format!(
                "function `{name}` is an {} function: send HTTP requests to /{name}/",
                f.kind.as_str()
            ),
        );
    }
    let execution_name = req
        .headers()
        .get("x-amz-durable-execution-name")
        .map(|v| v.to_str().map(str::to_string));
    let limit = host.config.max_body_bytes;
    let payload = match read_body(req.into_body(), limit).await {
        Ok(b) => b,
        Err(InvokeError::PayloadTooLarge { .. }) => {
            return aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                format!("Request must be smaller than {limit} bytes for the Invoke operation"),
            );
        }
        Err(e) => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                e.to_string(),
            );
        }
    };
    // Lambda passes an empty payload as an empty JSON object.
    let payload = if payload.iter().all(u8::is_ascii_whitespace) {
        bytes::Bytes::from_static(b"{}")
    } else {
        payload
    };
    if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidRequestContentException",
            format!("Could not parse request body into json: {e}"),
        );
    }
    if f.kind == FunctionKind::Durable {
        let name = match execution_name.transpose() {
            Ok(n) => n,
            Err(_) => {
                return aws_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidParameterValueException",
                    "X-Amz-Durable-Execution-Name must be ASCII text",
                );
            }
        };
        return super::durable::invoke(host, f, invocation_type, name, payload).await;
    }
    if execution_name.is_some() {
        return aws_error(
            StatusCode::BAD_REQUEST,
            "InvalidParameterValueException",
            format!(
                "X-Amz-Durable-Execution-Name is only valid for durable functions; `{name}` is a {} function",
                f.kind.as_str()
            ),
        );
    }
    match invocation_type {
        InvocationType::DryRun => status_only(StatusCode::NO_CONTENT),
        InvocationType::Event => queue_event(host, &f.name, request_id, payload).await,
        InvocationType::RequestResponse => match run(host, target, request_id, &payload).await {
            Ok((output, timing)) => {
                let mut resp = match output {
                    HandlerOutput::Ok(body) => ok_response(body),
                    HandlerOutput::FunctionError {
                        error_type,
                        error_message,
                    } => function_error(&error_type, &error_message),
                };
                add_timing(&mut resp, &timing);
                resp
            }
            Err(e) => invoke_error(&e),
        },
    }
}

/// Queues an asynchronous invocation: 202 once it is committed to the
/// journal, 413 when the payload is over the event limit, 429 when the
/// queue is full.
async fn queue_event(host: &Host, name: &str, request_id: &str, payload: bytes::Bytes) -> Response {
    use crate::modes::async_events::QueueError;
    let Some(queue) = &host.events else {
        return aws_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceException",
            "this host has no queue for asynchronous invocations",
        );
    };
    let limit = queue.config().max_event_bytes;
    if payload.len() > limit {
        return aws_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            format!(
                "the payload is {} bytes; asynchronous invocations take at most {limit} bytes",
                payload.len()
            ),
        );
    }
    match queue.accept(name, request_id, payload.to_vec()).await {
        Ok(_) => status_only(StatusCode::ACCEPTED),
        Err(e @ QueueError::Full { .. }) => aws_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequestsException",
            e.to_string(),
        ),
        Err(e) => aws_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceException",
            e.to_string(),
        ),
    }
}

/// Runs a handler function in its mode. An invocation that reached a
/// managed pool just as a new version replaced it (and the pool was
/// retired before taking it) runs on what serves the name now.
async fn run(
    host: &Host,
    target: &Target,
    request_id: &str,
    payload: &[u8],
) -> Result<(HandlerOutput, standard::Timing), InvokeError> {
    let f = &target.function;
    let Some(pool) = &target.pool else {
        return standard::invoke_handler(&host.engine, f, request_id, payload).await;
    };
    let current;
    let pool = if pool.is_retired()
        && let Some(now) = host.pools.get(&f.name)
    {
        current = now;
        &current
    } else {
        pool
    };
    let out = pool.invoke(request_id, payload).await;
    if matches!(out, Err(InvokeError::EnvironmentRecycled { .. })) && pool.is_retired() {
        if let Some(now) = host.pools.get(&f.name) {
            return now.invoke(request_id, payload).await;
        }
        let now = host.registry.get(&f.name).unwrap_or_else(|| f.clone());
        return standard::invoke_handler(&host.engine, &now, request_id, payload).await;
    }
    out
}

/// A 200 JSON response with Lambda's headers.
pub(crate) fn ok_response(body: Vec<u8>) -> Response {
    let mut resp = hyper::Response::new(full(body));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp.headers_mut().insert(
        "x-amz-executed-version",
        HeaderValue::from_static("$LATEST"),
    );
    resp
}

/// A function error in Lambda's shape: 200, `X-Amz-Function-Error: Unhandled`,
/// body `{"errorType", "errorMessage"}`.
pub(crate) fn function_error(error_type: &str, error_message: &str) -> Response {
    let body = serde_json::json!({ "errorType": error_type, "errorMessage": error_message });
    let mut resp = ok_response(body.to_string().into_bytes());
    resp.headers_mut().insert(
        "x-amz-function-error",
        HeaderValue::from_static("Unhandled"),
    );
    resp
}

/// Maps a failed invocation to Lambda's answer: faults of the function itself
/// (trap, timeout, memory) are function errors; the rest are API errors.
fn invoke_error(e: &InvokeError) -> Response {
    let error_type = match e {
        InvokeError::Trap { .. }
        | InvokeError::Exited { .. }
        | InvokeError::NoResponse { .. }
        | InvokeError::Timeout { .. }
        | InvokeError::MemoryLimit { .. }
        | InvokeError::EnvironmentRecycled { .. }
        | InvokeError::InitFailed { .. } => error_type_of(e),
        InvokeError::UnknownFunction { .. } => {
            return aws_error(
                StatusCode::NOT_FOUND,
                "ResourceNotFoundException",
                e.to_string(),
            );
        }
        InvokeError::WrongKind { .. } | InvokeError::BadRequest { .. } => {
            return aws_error(
                StatusCode::BAD_REQUEST,
                "InvalidParameterValueException",
                e.to_string(),
            );
        }
        InvokeError::PayloadTooLarge { .. } => {
            return aws_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestTooLargeException",
                e.to_string(),
            );
        }
        InvokeError::Instantiate { .. } => {
            return aws_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceException",
                e.to_string(),
            );
        }
    };
    function_error(error_type, &e.to_string())
}

/// Lambda's `errorType` for a failed invocation (`Runtime.Trap`,
/// `Sandbox.Timedout`, ...).
pub fn error_type_of(e: &InvokeError) -> &'static str {
    ErrorType::of_invoke_error(e).as_str()
}

/// An empty response with `status`.
pub(crate) fn status_only(status: StatusCode) -> Response {
    let mut resp = hyper::Response::new(full(bytes::Bytes::new()));
    *resp.status_mut() = status;
    resp
}

/// The value of `key` in a query string (percent-decoded).
pub(crate) fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| percent_decode(&v.replace('+', " ")))
        .filter(|v| !v.is_empty())
}

/// Decodes `%XX` escapes in a path segment (ARNs arrive as `arn%3Aaws%3A...`).
pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns() {
        assert_eq!(function_name("echo"), "echo");
        assert_eq!(function_name("echo:$LATEST"), "echo");
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:echo:prod"),
            "echo"
        );
        assert_eq!(
            percent_decode("arn%3Aaws%3Afunction%3Aecho"),
            "arn:aws:function:echo"
        );
        assert_eq!(percent_decode("a%2"), "a%2");
    }

    #[test]
    fn qualifiers() {
        assert_eq!(qualifier_of("echo"), None);
        assert_eq!(qualifier_of("echo:prod").as_deref(), Some("prod"));
        assert_eq!(
            qualifier_of("arn:aws:lambda:us-east-1:123456789012:function:echo:3").as_deref(),
            Some("3")
        );
        assert_eq!(
            qualifier_of("arn:aws:lambda:us-east-1:123456789012:function:echo"),
            None
        );
        assert_eq!(qualifier_of("123456789012:function:echo"), None);
        assert_eq!(
            query_param(Some("a=1&Qualifier=%24LATEST"), "Qualifier").as_deref(),
            Some("$LATEST")
        );
        assert_eq!(query_param(None, "Qualifier"), None);
    }

    #[test]
    fn invocation_types() {
        assert_eq!(
            InvocationType::parse(None),
            Ok(InvocationType::RequestResponse)
        );
        assert_eq!(
            InvocationType::parse(Some("Event")),
            Ok(InvocationType::Event)
        );
        assert!(InvocationType::parse(Some("Sometimes")).is_err());
    }
}
