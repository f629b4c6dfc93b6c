//! Typed details of the history events the host writes. They serialize to
//! exactly the JSON the journal has always stored (the botocore shapes of
//! `*Details`: `Input` / `Result` / `Error` wrapped in `{"Payload": ...}`,
//! timestamps as seconds with milliseconds), so stored bytes do not change.

use crate::journal::{ErrorObject, EventType, NewEvent, Operation};
use serde::Serialize;

/// A payload wrapper: botocore's `EventInput` / `EventResult` / `EventError`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Payload<T> {
    /// The payload.
    #[serde(rename = "Payload")]
    pub payload: T,
}

/// A timestamp in milliseconds, written as seconds with milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub u64);

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64 / 1000.0)
    }
}

/// `RetryDetails` of a step event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryDetails {
    /// The attempt the event is about, from 1.
    pub current_attempt: u32,
    /// The delay before the next attempt, when one is scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_delay_seconds: Option<u64>,
}

/// The details of one history event; fields that are `None` are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventDetails {
    /// An input payload (execution start, chained invoke start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Payload<String>>,
    /// A result payload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Payload<String>>,
    /// An error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Payload<ErrorObject>>,
    /// The execution timeout in seconds (ExecutionStarted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_timeout: Option<u64>,
    /// When an invocation started (InvocationCompleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timestamp: Option<Timestamp>,
    /// When an invocation ended (InvocationCompleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_timestamp: Option<Timestamp>,
    /// The invocation's request id (InvocationCompleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// A wait's duration in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<u64>,
    /// When a wait ends (WaitStarted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_end_timestamp: Option<Timestamp>,
    /// A callback's id (CallbackStarted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_id: Option<String>,
    /// A callback's timeout in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// A callback's heartbeat timeout in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heartbeat_timeout: Option<u64>,
    /// A chained invoke's target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    /// The version a chained invoke ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_version: Option<&'static str>,
    /// The ARN a chained invoke reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub durable_execution_arn: Option<String>,
    /// A chained invoke's tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// A step's attempt (and next delay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_details: Option<RetryDetails>,
}

impl EventDetails {
    /// Details carrying a result payload.
    pub fn result(text: &str) -> Self {
        EventDetails {
            result: Some(Payload {
                payload: text.to_owned(),
            }),
            ..EventDetails::default()
        }
    }

    /// Details carrying an error.
    pub fn error(error: &ErrorObject) -> Self {
        EventDetails {
            error: Some(Payload {
                payload: error.clone(),
            }),
            ..EventDetails::default()
        }
    }

    /// Details carrying an input payload.
    pub fn input(text: &str) -> Self {
        EventDetails {
            input: Some(Payload {
                payload: text.to_owned(),
            }),
            ..EventDetails::default()
        }
    }

    /// These details with `RetryDetails`.
    pub fn with_retry(mut self, retry: RetryDetails) -> Self {
        self.retry_details = Some(retry);
        self
    }

    /// The details as the journal stores them.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// An execution-level event of `event_type` with `details`.
pub fn execution_event(event_type: EventType, details: &EventDetails) -> NewEvent {
    NewEvent::new(event_type).with_details(details.to_value())
}

/// An event of `event_type` about `op` with `details`.
pub fn operation_event(event_type: EventType, op: &Operation, details: &EventDetails) -> NewEvent {
    NewEvent::for_operation(event_type, op).with_details(details.to_value())
}
