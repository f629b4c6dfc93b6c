//! JSON in the shapes of the botocore Lambda model (2025-12-01 durable
//! APIs): executions, operations and history events.

use crate::journal::{ErrorObject, Execution, HistoryEvent, Operation, OperationType};
use serde_json::{Map, Value, json};

/// An AWS timestamp: seconds since the Unix epoch, with milliseconds.
pub fn timestamp(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// An `EventResult` carrying `payload`.
pub fn event_result(payload: &str) -> Value {
    json!({ "Payload": payload })
}

/// An `EventError` carrying `error`.
pub fn event_error(error: &ErrorObject) -> Value {
    json!({ "Payload": error })
}

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
    v
}

/// An `Event` of the history; without `include_data`, input and result
/// payloads are left out (as AWS does unless `IncludeExecutionData` is set).
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
