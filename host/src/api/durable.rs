//! The AWS durable-execution API: durable `Invoke` and everything under
//! `/2025-12-01/` (shapes and paths from the botocore Lambda model), so that
//! boto3 and the AWS CLI work with `--endpoint-url`.

use super::lambda::{InvocationType, function_error, ok_response, percent_decode, status_only};
use super::response::{Response, aws_error, json};
use super::server::ApiBody as Incoming;
use super::server::{Host, read_body};
use crate::durable::imports::MAX_PAYLOAD_BYTES;
use crate::durable::{CallbackCompletion, Durable, DurableError, shapes};
use crate::error::InvokeError;
use crate::journal::{ErrorObject, ExecutionStatus, JournalError, ListCursor, ListQuery};
use crate::registry::Function;
use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How long a RequestResponse invoke of a durable function waits for the
/// execution to end before answering that it is still running.
pub const SYNC_WAIT: Duration = Duration::from_secs(15 * 60);
/// Most items one page of a listing or history returns.
const MAX_ITEMS: usize = 1000;

fn error(e: &DurableError) -> Response {
    // An ARN the journal does not know is the caller's mistake, not ours.
    if let DurableError::Journal(JournalError::ExecutionNotFound { arn }) = e {
        return aws_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!("Durable execution not found: {arn}"),
        );
    }
    let (status, aws_type) = aws_error_of(e);
    aws_error(status, aws_type, e.to_string())
}

/// The HTTP status and AWS error type (`__type`) of a durable error.
pub fn aws_error_of(e: &DurableError) -> (StatusCode, &'static str) {
    match e {
        DurableError::NotFound(_) => (StatusCode::NOT_FOUND, "ResourceNotFoundException"),
        DurableError::Invalid(_) => (StatusCode::BAD_REQUEST, "InvalidParameterValueException"),
        DurableError::AlreadyStarted(_) => (
            StatusCode::CONFLICT,
            "DurableExecutionAlreadyStartedException",
        ),
        DurableError::CallbackTimedOut(_) => (StatusCode::BAD_REQUEST, "CallbackTimeoutException"),
        // The journal's storage is unreachable (a database outage): try again.
        DurableError::Journal(e) if e.is_storage() => (
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailableException",
        ),
        DurableError::Journal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "ServiceException"),
    }
}

fn invalid(message: impl Into<String>) -> Response {
    aws_error(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValueException",
        message,
    )
}

fn no_durable() -> Response {
    aws_error(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        "this host serves no durable functions",
    )
}

/// Checks a durable execution name: 1 to 64 of `[A-Za-z0-9_-]`.
pub fn check_execution_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(format!(
            "invalid durable execution name `{name}`: use 1 to 64 letters, digits, `-` or `_`"
        ));
    }
    Ok(())
}

/// `Invoke` of a durable function: starts (or finds, by name) an execution;
/// Event answers at once, RequestResponse waits for its end.
pub async fn invoke(
    host: &Arc<Host>,
    f: &Arc<Function>,
    invocation_type: InvocationType,
    name: Option<String>,
    payload: Bytes,
) -> Response {
    let Some(durable) = &host.durable else {
        return no_durable();
    };
    if let Some(n) = &name
        && let Err(m) = check_execution_name(n)
    {
        return invalid(m);
    }
    if invocation_type == InvocationType::DryRun {
        return status_only(StatusCode::NO_CONTENT);
    }
    let input = String::from_utf8_lossy(&payload).into_owned();
    let started = match durable.start_execution(f, name, input).await {
        Ok(s) => s,
        Err(e) => return error(&e),
    };
    let arn = started.execution.arn.clone();
    let mut resp = match invocation_type {
        InvocationType::Event | InvocationType::DryRun => status_only(StatusCode::ACCEPTED),
        InvocationType::RequestResponse => match durable.wait_for_end(&arn, SYNC_WAIT).await {
            Err(e) => return error(&e),
            Ok(e) => match e.status {
                ExecutionStatus::Succeeded => {
                    ok_response(e.result.unwrap_or_else(|| "null".into()).into_bytes())
                }
                ExecutionStatus::Running => function_error(
                    "Lamina.ExecutionStillRunning",
                    &format!(
                        "the execution is still running after {} s; poll GetDurableExecution",
                        SYNC_WAIT.as_secs()
                    ),
                ),
                status => {
                    let err = e.error.unwrap_or_default();
                    function_error(
                        err.error_type.as_deref().unwrap_or(status.as_str()),
                        err.error_message.as_deref().unwrap_or(""),
                    )
                }
            },
        },
    };
    if let Ok(v) = HeaderValue::from_str(&arn) {
        resp.headers_mut().insert("x-amz-durable-execution-arn", v);
    }
    resp
}

/// Handles a request under `/2025-12-01/`; `rest` is the path after it.
pub async fn handle(host: Arc<Host>, req: hyper::Request<Incoming>, rest: &str) -> Response {
    let Some(durable) = host.durable.clone() else {
        return no_durable();
    };
    let query = parse_query(req.uri().query().unwrap_or(""));
    let parts: Vec<String> = rest.split('/').map(percent_decode).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let method = req.method().clone();
    let result = match (&method, parts.as_slice()) {
        (&Method::GET, ["durable-executions", arn]) => get_execution(&durable, arn).await,
        (&Method::GET, ["durable-executions", arn, "history"]) => {
            history(&durable, arn, &query).await
        }
        (&Method::GET, ["durable-executions", arn, "state"]) => state(&durable, arn, &query).await,
        (&Method::POST, ["durable-executions", arn, "stop"]) => {
            let arn = arn.to_string();
            match body(&host, req).await {
                Ok(b) => stop(&durable, &arn, &b).await,
                Err(r) => Ok(r),
            }
        }
        (&Method::GET, ["functions", name, "durable-executions"]) => {
            list(&host, &durable, name, &query).await
        }
        (&Method::POST, ["durable-execution-callbacks", id, action]) => {
            let (id, action) = (id.to_string(), action.to_string());
            match body(&host, req).await {
                Ok(b) => callback(&durable, &id, &action, &b).await,
                Err(r) => Ok(r),
            }
        }
        _ => {
            return aws_error(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("unknown operation: {method} /2025-12-01/{rest}"),
            );
        }
    };
    result.unwrap_or_else(|e| error(&e))
}

async fn body(host: &Host, req: hyper::Request<Incoming>) -> Result<Bytes, Response> {
    let limit = host.config.max_body_bytes.min(MAX_PAYLOAD_BYTES + 1024);
    match read_body(req.into_body(), limit).await {
        Ok(b) => Ok(b),
        Err(InvokeError::PayloadTooLarge { .. }) => Err(aws_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestTooLargeException",
            format!("the request body must be smaller than {limit} bytes"),
        )),
        Err(e) => Err(invalid(e.to_string())),
    }
}

type Answer = Result<Response, DurableError>;

async fn get_execution(d: &Durable, arn: &str) -> Answer {
    let e = d.get(arn).await?;
    let input = d.journal().execution_input(arn).await?;
    Ok(json(
        StatusCode::OK,
        &shapes::execution_detail(&e, input.as_deref(), d.metering(&e)),
    ))
}

pub(crate) fn flag(query: &[(String, String)], key: &str) -> Result<bool, DurableError> {
    match query_value(query, key) {
        None => Ok(false),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(DurableError::Invalid(format!(
            "{key} must be true or false, not `{other}`"
        ))),
    }
}

pub(crate) fn max_items(query: &[(String, String)], default: usize) -> Result<usize, DurableError> {
    match query_value(query, "MaxItems") {
        None => Ok(default),
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_ITEMS).contains(&n) => Ok(n),
            _ => Err(DurableError::Invalid(format!(
                "MaxItems must be a number from 1 to {MAX_ITEMS}, not `{v}`"
            ))),
        },
    }
}

pub(crate) fn marker_u64(query: &[(String, String)]) -> Result<Option<u64>, DurableError> {
    query_value(query, "Marker")
        .map(|m| {
            parse_marker(m).ok_or_else(|| DurableError::Invalid(format!("invalid Marker `{m}`")))
        })
        .transpose()
}

async fn history(d: &Durable, arn: &str, query: &[(String, String)]) -> Answer {
    // AWS's default is true: payloads are left out only when asked.
    let include = query_value(query, "IncludeExecutionData").is_none()
        || flag(query, "IncludeExecutionData")?;
    let reverse = flag(query, "ReverseOrder")?;
    let limit = max_items(query, MAX_ITEMS)?;
    let marker = marker_u64(query)?;
    let events = if reverse {
        d.journal().history_reverse(arn, marker, limit).await?
    } else {
        d.journal().history(arn, marker.unwrap_or(0), limit).await?
    };
    let mut out = json!({
        "Events": events.iter().map(|e| shapes::history_event(e, include)).collect::<Vec<_>>(),
    });
    if events.len() == limit
        && let Some(last) = events.last()
    {
        out["NextMarker"] = json!(last.event_id.to_string());
    }
    Ok(json(StatusCode::OK, &out))
}

async fn state(d: &Durable, arn: &str, query: &[(String, String)]) -> Answer {
    let limit = max_items(query, MAX_ITEMS)?;
    let start = usize::try_from(marker_u64(query)?.unwrap_or(0)).unwrap_or(usize::MAX);
    let s = d.journal().load_state(arn).await?;
    let page: Vec<Value> = s
        .operations
        .iter()
        .skip(start)
        .take(limit)
        .map(|o| shapes::operation(o, Some(&s.input)))
        .collect();
    let mut out = json!({ "Operations": page });
    if start.saturating_add(limit) < s.operations.len() {
        out["NextMarker"] = json!((start.saturating_add(limit)).to_string());
    }
    Ok(json(StatusCode::OK, &out))
}

pub(crate) fn error_object(body: &[u8]) -> Result<Option<ErrorObject>, DurableError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| {
        DurableError::Invalid(format!(
            "the body must be an error object {{\"ErrorType\", \"ErrorMessage\", \"ErrorData\", \
             \"StackTrace\"}}: {e}"
        ))
    })
}

async fn stop(d: &Arc<Durable>, arn: &str, body: &[u8]) -> Answer {
    let error = error_object(body)?;
    let at = d.stop(arn, error).await?;
    Ok(json(
        StatusCode::OK,
        &json!({ "StopTimestamp": shapes::timestamp(at) }),
    ))
}

async fn callback(d: &Arc<Durable>, id: &str, action: &str, body: &[u8]) -> Answer {
    let completion = match action {
        "succeed" => {
            let text = std::str::from_utf8(body).map_err(|_| {
                DurableError::Invalid("the callback result must be UTF-8 JSON".into())
            })?;
            let text = if text.trim().is_empty() { "null" } else { text };
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
                return Err(DurableError::Invalid(format!(
                    "the callback result must be JSON: {e}"
                )));
            }
            if text.len() > MAX_PAYLOAD_BYTES {
                return Err(DurableError::Invalid(format!(
                    "the callback result is {} bytes; the limit is {MAX_PAYLOAD_BYTES}",
                    text.len()
                )));
            }
            CallbackCompletion::Success(text.to_string())
        }
        "fail" => CallbackCompletion::Failure(error_object(body)?.unwrap_or_default()),
        "heartbeat" => CallbackCompletion::Heartbeat,
        other => {
            return Ok(aws_error(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                format!("unknown callback action `{other}` (succeed, fail or heartbeat)"),
            ));
        }
    };
    d.complete_callback(id, completion).await?;
    Ok(json(StatusCode::OK, &json!({})))
}

async fn list(host: &Host, d: &Durable, name: &str, query: &[(String, String)]) -> Answer {
    let name = super::lambda::function_name(name);
    let durable_now = host
        .registry
        .get(&name)
        .is_some_and(|f| f.kind == crate::config::FunctionKind::Durable);
    if !durable_now && d.function(&name).is_none() {
        let what = if host.registry.get(&name).is_some() {
            "is not a durable function"
        } else {
            "does not exist"
        };
        return Err(DurableError::NotFound(format!(
            "Function not found: {name} {what}"
        )));
    }
    let mut statuses = Vec::new();
    for (k, v) in query {
        if k == "Statuses" {
            for s in v.split(',') {
                statuses.push(
                    s.parse::<ExecutionStatus>()
                        .map_err(DurableError::Invalid)?,
                );
            }
        }
    }
    let time = |key: &str| {
        query_value(query, key)
            .map(|v| {
                parse_timestamp_ms(v).ok_or_else(|| {
                    DurableError::Invalid(format!("{key} must be a timestamp, not `{v}`"))
                })
            })
            .transpose()
    };
    let after = query_value(query, "Marker")
        .map(|m| {
            decode_cursor(m).ok_or_else(|| DurableError::Invalid(format!("invalid Marker `{m}`")))
        })
        .transpose()?;
    let wanted_name = query_value(query, "DurableExecutionName");
    let page = d
        .journal()
        .list_executions(ListQuery {
            function: Some(name.clone()),
            statuses,
            started_after_ms: time("StartedAfter")?,
            started_before_ms: time("StartedBefore")?,
            reverse: flag(query, "ReverseOrder")?,
            limit: max_items(query, 100)?,
            after,
        })
        .await?;
    let list: Vec<Value> = page
        .executions
        .iter()
        .filter(|e| wanted_name.is_none_or(|n| e.name.as_deref() == Some(n)))
        .map(shapes::execution_summary)
        .collect();
    let mut out = json!({ "DurableExecutions": list });
    if let Some(next) = page.next {
        out["NextMarker"] = json!(encode_cursor(&next));
    }
    Ok(json(StatusCode::OK, &out))
}

pub(crate) fn encode_cursor(c: &ListCursor) -> String {
    hex::encode(serde_json::to_vec(c).unwrap_or_default())
}

/// Parses a query string into decoded pairs (`+` is a space).
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

pub(crate) fn query_value<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The latest timestamp accepted: 9999-12-31T23:59:59.999Z, in milliseconds.
pub(crate) const MAX_TIMESTAMP_MS: u64 = 253_402_300_799_999;

/// Parses an AWS timestamp: epoch seconds (`1764237600`, `1764237600.5`),
/// or ISO 8601 in UTC (`2026-11-27T10:00:00Z`: a four-digit year, two-digit
/// fields, an optional fraction of 1 to 9 digits, `Z`, `+00:00` or nothing). `None`
/// for anything else, for dates that do not exist, and for times before
/// 1970 or after [`MAX_TIMESTAMP_MS`]; it never panics.
pub(crate) fn parse_timestamp_ms(v: &str) -> Option<u64> {
    if let Ok(secs) = v.parse::<f64>() {
        // Rounded: the seconds the host answers (`ms / 1000.0`) times 1000 can
        // land just below the whole millisecond they came from.
        let ms = (secs * 1000.0).round();
        return (ms.is_finite() && (0.0..=MAX_TIMESTAMP_MS as f64).contains(&ms))
            .then_some(ms as u64);
    }
    let v = v
        .strip_suffix('Z')
        .or_else(|| v.strip_suffix("+00:00"))
        .unwrap_or(v);
    let (date, time) = v.split_once('T')?;
    let mut d = date.split('-');
    let (y, m, day) = (
        digits(d.next()?, 4)?,
        digits(d.next()?, 2)?,
        digits(d.next()?, 2)?,
    );
    let (hms, frac) = match time.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (time, None),
    };
    let mut t = hms.split(':');
    let (hh, mm, ss) = (
        digits(t.next()?, 2)?,
        digits(t.next()?, 2)?,
        digits(t.next()?, 2)?,
    );
    if d.next().is_some() || t.next().is_some() {
        return None;
    }
    if !(1..=12).contains(&m)
        || day < 1
        || day > days_in_month(y, m)
        || hh > 23
        || mm > 59
        || ss > 59
    {
        return None;
    }
    let frac_ms = match frac {
        None => 0,
        Some(f) if (1..=9).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()) => {
            // Only ASCII digits: byte positions are character positions.
            f.bytes()
                .chain(std::iter::repeat(b'0'))
                .take(3)
                .fold(0, |acc, b| acc * 10 + i64::from(b - b'0'))
        }
        Some(_) => return None,
    };
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil). With a
    // four-digit year every product below stays far inside i64.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + frac_ms;
    u64::try_from(ms).ok()
}

/// `s` as a number when it is exactly `width` ASCII digits.
fn digits(s: &str, width: usize) -> Option<i64> {
    if s.len() != width || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a history or state page marker: a decimal position (1 to 20
/// ASCII digits that fit in u64).
pub(crate) fn parse_marker(m: &str) -> Option<u64> {
    if m.is_empty() || m.len() > 20 || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    m.parse().ok()
}

/// Decodes a listing page marker (hex of the cursor's JSON); `None` if it
/// is not one.
pub(crate) fn decode_cursor(m: &str) -> Option<ListCursor> {
    if m.len() > 8192 {
        return None;
    }
    serde_json::from_slice(&hex::decode(m).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(parse_timestamp_ms("0"), Some(0));
        assert_eq!(parse_timestamp_ms("1.5"), Some(1500));
        assert_eq!(
            parse_timestamp_ms("2026-11-27T10:00:00Z"),
            Some(1_795_773_600_000)
        );
        assert_eq!(
            parse_timestamp_ms("2000-03-01T00:00:00.25+00:00"),
            Some(951_868_800_250)
        );
        assert_eq!(parse_timestamp_ms("yesterday"), None);
        assert_eq!(
            parse_timestamp_ms("2026-11-27T10:00:00.123456Z"),
            Some(1_795_773_600_123)
        );
        assert_eq!(
            parse_timestamp_ms("9999-12-31T23:59:59.999Z"),
            Some(MAX_TIMESTAMP_MS)
        );
    }

    #[test]
    fn crafted_timestamps_are_refused_without_panicking() {
        for bad in [
            // A multi-byte character inside the fraction (was a char-boundary panic).
            "2026-01-01T00:00:00.ab\u{20ac}Z",
            "2026-01-01T00:00:00.\u{20ac}Z",
            "2026-01-01T00:00:00.1\u{20ac}Z",
            // A 13-digit year (was a multiply overflow).
            "9999999999999-01-01T00:00:00Z",
            "-9999999999999-01-01T00:00:00Z",
            "2026-01-01T99999999999999:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01T00:00:00+01:00",
            "+2026-01-01T00:00:00Z",
            "2026-1-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-01-01T00:00:00:00Z",
            "-1",
            "NaN",
            "inf",
            "1e300",
            "",
            "T",
            "Z",
        ] {
            assert_eq!(parse_timestamp_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn markers() {
        assert_eq!(parse_marker("0"), Some(0));
        assert_eq!(parse_marker("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            "-1",
            "+1",
            "1.0",
            "18446744073709551616",
            "\u{20ac}",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_marker(bad), None, "{bad:?}");
        }
        let c = ListCursor {
            function: "f".into(),
            start_ms: 5,
            arn: "a".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)), Some(c));
        for bad in ["", "zz", "0", "7b7d", &"a".repeat(10_000)] {
            assert_eq!(decode_cursor(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn names() {
        assert!(check_execution_name("order-42_a").is_ok());
        assert!(check_execution_name("").is_err());
        assert!(check_execution_name("a b").is_err());
        assert!(check_execution_name(&"x".repeat(65)).is_err());
    }

    #[test]
    fn queries() {
        let q = parse_query("Statuses=RUNNING&Statuses=FAILED&Marker=a%3Ab&x");
        assert_eq!(q.len(), 4);
        assert_eq!(query_value(&q, "Marker"), Some("a:b"));
    }
}
