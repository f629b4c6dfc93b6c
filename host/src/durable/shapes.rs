//! JSON in the shapes of the botocore Lambda model (2025-12-01 durable
//! APIs): executions, operations and history events.

use super::metering::Usage;
use crate::journal::{Execution, HistoryEvent, Operation, OperationType};
use serde_json::{Map, Value, json};

/// An AWS timestamp: seconds since the Unix epoch, with milliseconds.
pub fn timestamp(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// Longest payload a history event carries, in bytes: the `max` of
/// botocore's `OperationPayload` and `InputPayload` (6 MiB). A longer
/// `Payload` is cut to this size (at a character boundary) and its
/// `Truncated` flag set; for an `ErrorObject` the limit applies to its
/// strings together.
pub const HISTORY_PAYLOAD_LIMIT: usize = 6_291_456;

/// The ARN-like id of a function on this host.
pub fn function_arn(function: &str) -> String {
    format!("arn:lamina:lambda:local:000000000000:function:{function}")
}

/// The name an execution is reported under (every execution has one).
pub fn execution_name(e: &Execution) -> String {
    e.name
        .clone()
        .unwrap_or_else(|| e.arn.rsplit(':').next().unwrap_or(&e.arn).to_string())
}

/// An `Execution` (list entry).
pub fn execution_summary(e: &Execution) -> Value {
    let mut v = json!({
        "DurableExecutionArn": e.arn,
        "DurableExecutionName": execution_name(e),
        "FunctionArn": function_arn(&e.function),
        "Status": e.status.as_str(),
        "StartTimestamp": timestamp(e.start_ms),
    });
    if let Some(end) = e.end_ms {
        v["EndTimestamp"] = timestamp(end);
    }
    v
}

/// A `GetDurableExecutionResponse`, plus Lamina's `Metering`.
pub fn execution_detail(e: &Execution, input: Option<&str>, metering: Value) -> Value {
    let mut v = execution_summary(e);
    v["Version"] = json!("$LATEST");
    if let Some(input) = input {
        v["InputPayload"] = json!(input);
    }
    if let Some(result) = &e.result {
        v["Result"] = json!(result);
    }
    if let Some(error) = &e.error {
        v["Error"] = json!(error);
    }
    v["Metering"] = metering;
    if let Some(sha256) = &e.code_sha256 {
        v["CodeSha256"] = json!(sha256);
    }
    v
}

/// Lamina's `Metering` of an execution (`WallTimeMs`, `ActiveComputeMs`,
/// `Invocations`, `Operations`, `BytesJournaled`, `MemoryMb` and `Cost` in
/// USD by item).
pub fn metering(u: &Usage) -> Value {
    json!({
        "WallTimeMs": u.wall_ms,
        "ActiveComputeMs": u.active_compute_ms,
        "Invocations": u.invocations,
        "Operations": u.operations,
        "BytesJournaled": u.bytes_journaled,
        "MemoryMb": u.memory_mb,
        "Cost": {
            "Compute": u.compute,
            "Requests": u.requests,
            "Operations": u.operation_cost,
            "DataWritten": u.written,
            "DataRetained": u.retained,
            "Total": u.total(),
        },
    })
}

/// An `Event` of the history; without `include_data` (AWS's
/// `IncludeExecutionData=false`), input and result payloads are left out.
pub fn history_event(ev: &HistoryEvent, include_data: bool) -> Value {
    let mut m = Map::new();
    m.insert("EventType".into(), json!(ev.event_type.as_str()));
    m.insert("EventId".into(), json!(ev.event_id));
    m.insert("EventTimestamp".into(), timestamp(ev.timestamp_ms));
    for (k, v) in [
        ("Id", &ev.id),
        ("ParentId", &ev.parent_id),
        ("Name", &ev.name),
        ("SubType", &ev.sub_type),
    ] {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    let mut details = if ev.details.is_null() {
        json!({})
    } else {
        ev.details.clone()
    };
    event_payloads(&mut details, HISTORY_PAYLOAD_LIMIT);
    if !include_data {
        for key in ["Input", "Result"] {
            if let Some(obj) = details.get_mut(key).and_then(Value::as_object_mut) {
                obj.remove("Payload");
            }
        }
    }
    m.insert(format!("{}Details", ev.event_type.as_str()), details);
    Value::Object(m)
}

/// Gives every `Input`, `Result` and `Error` of event details botocore's
/// `EventInput` / `EventResult` / `EventError` shape, `{Payload, Truncated}`,
/// cutting payloads longer than `limit` bytes.
fn event_payloads(details: &mut Value, limit: usize) {
    for key in ["Input", "Result", "Error"] {
        let Some(field) = details.get_mut(key) else {
            continue;
        };
        // Details journaled before the shape was settled may hold the bare payload.
        if !field.get("Payload").is_some_and(|_| field.is_object()) {
            let payload = std::mem::take(field);
            *field = json!({ "Payload": payload });
        }
        let truncated = match field.get_mut("Payload") {
            Some(Value::String(text)) => truncate(text, limit),
            Some(Value::Object(error)) => truncate_error(error, limit),
            _ => false,
        };
        let already = field.get("Truncated").and_then(Value::as_bool) == Some(true);
        field["Truncated"] = json!(truncated || already);
    }
}

/// Cuts `text` to at most `limit` bytes at a character boundary; whether it cut.
fn truncate(text: &mut String, limit: usize) -> bool {
    if text.len() <= limit {
        return false;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    true
}

/// Cuts the strings of an `ErrorObject` (type, message, data, then stack
/// trace lines, in that order) to `limit` bytes together; whether it cut.
fn truncate_error(error: &mut Map<String, Value>, limit: usize) -> bool {
    let mut left = limit;
    let mut cut = false;
    for key in ["ErrorType", "ErrorMessage", "ErrorData"] {
        if let Some(Value::String(text)) = error.get_mut(key) {
            cut |= truncate(text, left);
            left -= text.len();
        }
    }
    if let Some(Value::Array(lines)) = error.get_mut("StackTrace") {
        let mut keep = 0;
        for line in lines.iter_mut() {
            if let Value::String(text) = line {
                if left == 0 {
                    break;
                }
                cut |= truncate(text, left);
                left -= text.len();
            }
            keep += 1;
        }
        if keep < lines.len() {
            lines.truncate(keep);
            cut = true;
        }
    }
    cut
}

/// An `Operation` of `GetDurableExecutionState`.
pub fn operation(op: &Operation, input: Option<&str>) -> Value {
    let mut v = json!({
        "Id": op.id,
        "Type": op.op_type.as_str(),
        "Status": op.status.as_str(),
        "StartTimestamp": timestamp(op.start_ms),
    });
    if let Some(p) = &op.parent_id {
        v["ParentId"] = json!(p);
    }
    if let Some(n) = &op.name {
        v["Name"] = json!(n);
    }
    if let Some(s) = &op.sub_type {
        v["SubType"] = json!(s);
    }
    if let Some(e) = op.end_ms {
        v["EndTimestamp"] = timestamp(e);
    }
    let mut d = Map::new();
    if let Some(r) = &op.result {
        d.insert("Result".into(), json!(r));
    }
    if let Some(e) = &op.error {
        d.insert("Error".into(), json!(e));
    }
    match op.op_type {
        OperationType::Execution => {
            if let Some(i) = input {
                v["ExecutionDetails"] = json!({ "InputPayload": i });
            }
        }
        OperationType::Step => {
            if let Some(s) = &op.step {
                d.insert("Attempt".into(), json!(s.attempt));
                if let Some(n) = s.next_attempt_ms {
                    d.insert("NextAttemptTimestamp".into(), timestamp(n));
                }
            }
            v["StepDetails"] = Value::Object(d);
        }
        OperationType::Wait => {
            if let Some(w) = &op.wait {
                v["WaitDetails"] =
                    json!({ "ScheduledEndTimestamp": timestamp(w.scheduled_end_ms) });
            }
        }
        OperationType::Callback => {
            if let Some(c) = &op.callback {
                d.insert("CallbackId".into(), json!(c.callback_id));
            }
            v["CallbackDetails"] = Value::Object(d);
        }
        OperationType::Context => {
            if let Some(c) = &op.context {
                d.insert("ReplayChildren".into(), json!(c.replay_children));
            }
            v["ContextDetails"] = Value::Object(d);
        }
        OperationType::ChainedInvoke => {
            v["ChainedInvokeDetails"] = Value::Object(d);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::EventType;

    fn event(event_type: EventType, details: Value) -> HistoryEvent {
        HistoryEvent {
            event_id: 1,
            event_type,
            timestamp_ms: 1_000,
            id: None,
            parent_id: None,
            name: None,
            sub_type: None,
            details,
        }
    }

    #[test]
    fn payloads_have_the_botocore_shape() {
        let started = event(
            EventType::ExecutionStarted,
            json!({ "Input": { "Payload": "{\"a\":1}" }, "ExecutionTimeout": 60 }),
        );
        let v = history_event(&started, true);
        assert_eq!(
            v["ExecutionStartedDetails"]["Input"],
            json!({ "Payload": "{\"a\":1}", "Truncated": false })
        );
        let failed = event(
            EventType::StepFailed,
            json!({ "Error": { "Payload": { "ErrorType": "E" } }, "RetryDetails": {} }),
        );
        assert_eq!(
            history_event(&failed, true)["StepFailedDetails"]["Error"],
            json!({ "Payload": { "ErrorType": "E" }, "Truncated": false })
        );
        // Without execution data the payload goes, the shape stays.
        assert_eq!(
            history_event(&started, false)["ExecutionStartedDetails"]["Input"],
            json!({ "Truncated": false })
        );
    }

    #[test]
    fn long_payloads_are_truncated_at_a_character_boundary() {
        let mut details = json!({
            "Result": { "Payload": "é".repeat(10) },
            "Error": { "Payload": {
                "ErrorType": "T",
                "ErrorMessage": "m".repeat(8),
                "StackTrace": ["a", "b"],
            } },
        });
        event_payloads(&mut details, 7);
        assert_eq!(
            details["Result"],
            json!({ "Payload": "ééé", "Truncated": true })
        );
        assert_eq!(
            details["Error"],
            json!({
                "Payload": { "ErrorType": "T", "ErrorMessage": "mmmmmm", "StackTrace": [] },
                "Truncated": true,
            })
        );
        let mut short = json!({ "Result": { "Payload": "ok" } });
        event_payloads(&mut short, 7);
        assert_eq!(short["Result"]["Truncated"], false);
    }
}
