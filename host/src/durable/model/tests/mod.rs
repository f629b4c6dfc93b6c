//! Table-driven tests of every transition of the model: no wasm, no
//! journal, no clock. Each table row is a tuple: (case, inputs..., what
//! the plan must hold).

#![allow(clippy::type_complexity)]

mod guest;
mod host;
mod invocation;

use super::*;
use crate::journal::{
    CallbackDetails, ErrorObject, EventType, Execution, ExecutionStatus, Metering, OperationStatus,
    OperationType, StepDetails, Timer, TimerKind, WaitDetails,
};

pub(super) const NOW: u64 = 1_000_000;
pub(super) const ARN: &str = "arn:lamina:durable:f:1";

pub(super) fn op_ref(id: &str) -> OpRef {
    OpRef {
        id: id.into(),
        parent_id: None,
        name: Some("n".into()),
        sub_type: "Step".into(),
    }
}

pub(super) fn recorded(t: OperationType, status: OperationStatus) -> Operation {
    let mut o = Operation::new("1", t, status, NOW - 5_000);
    o.sub_type = Some("Step".into());
    o
}

pub(super) fn step(status: OperationStatus, attempt: u32) -> Operation {
    let mut o = recorded(OperationType::Step, status);
    o.step = Some(StepDetails {
        attempt,
        next_attempt_ms: None,
    });
    o
}

pub(super) fn error(t: &str) -> ErrorObject {
    ErrorObject {
        error_type: Some(t.into()),
        error_message: Some("m".into()),
        ..ErrorObject::default()
    }
}

pub(super) fn execution(status: ExecutionStatus, crashes: u32) -> Execution {
    Execution {
        arn: ARN.into(),
        function: "f".into(),
        name: None,
        status,
        result: None,
        error: None,
        start_ms: NOW - 60_000,
        end_ms: None,
        deadline_ms: None,
        invocation_in_progress: true,
        metering: Metering::default(),
        last_event_id: 3,
        operation_count: 1,
        code_sha256: None,
        crashes,
    }
}

/// What a plan should hold: `None` in `status` means nothing is written.
pub(super) struct Want {
    pub(super) status: Option<OperationStatus>,
    pub(super) events: &'static [EventType],
    pub(super) set: &'static [(TimerKind, u64)],
    pub(super) clear: &'static [TimerKind],
    pub(super) metered: u64,
}

pub(super) const NOTHING: Want = Want {
    status: None,
    events: &[],
    set: &[],
    clear: &[],
    metered: 0,
};

pub(super) fn check(name: &str, plan: &Plan, want: &Want) {
    let b = &plan.batch;
    match want.status {
        None => assert!(b.is_empty(), "{name}: wrote {b:?}"),
        Some(s) => {
            let o = b.operations.last().expect("an operation upsert");
            assert_eq!(o.status, s, "{name}");
            assert_eq!(plan.operation.as_ref(), Some(o), "{name}");
        }
    }
    let events: Vec<_> = b.events.iter().map(|e| e.event_type).collect();
    assert_eq!(events, want.events, "{name}");
    let set: Vec<_> = b.set_timers.iter().map(|t| (t.kind, t.due_ms)).collect();
    assert_eq!(set, want.set, "{name}");
    let clear: Vec<_> = b.clear_timers.iter().map(|t| t.kind).collect();
    assert_eq!(clear, want.clear, "{name}");
    assert_eq!(b.execution.metering.operations, want.metered, "{name}");
}

#[test]
fn error_types_have_one_wire_name_each() {
    let mut seen = std::collections::HashSet::new();
    for t in ErrorType::all() {
        assert!(seen.insert(t.as_str()), "{t} twice");
        assert_eq!(ErrorType::from_wire(t.as_str()), Some(t));
    }
    assert_eq!(ErrorType::CallbackTimeout.as_str(), "Callback.Timeout");
    assert_eq!(ErrorType::from_wire("Nope"), None);
}

#[test]
fn the_classifier() {
    use OperationStatus as S;
    let cases = [
        (OperationType::Wait, S::Started, true),
        (OperationType::Callback, S::Started, true),
        (OperationType::ChainedInvoke, S::Started, true),
        (OperationType::Step, S::Pending, true),
        (OperationType::Step, S::Ready, true),
        (OperationType::Step, S::Started, false),
        (OperationType::Wait, S::Succeeded, false),
        (OperationType::Context, S::Started, false),
        (OperationType::Execution, S::Started, false),
    ];
    for (t, s, waiting) in cases {
        assert_eq!(is_waiting(&recorded(t, s)), waiting, "{t} {s}");
    }
    for s in S::ALL {
        let open = matches!(s, S::Started | S::Pending | S::Ready);
        assert_eq!(is_completed(*s), !open, "{s}");
    }
    for s in ExecutionStatus::ALL {
        assert_eq!(has_ended(*s), *s != ExecutionStatus::Running, "{s}");
        let op = execution_op_status(*s);
        match s {
            ExecutionStatus::Running => assert_eq!(op, S::Started),
            _ => assert_eq!(op.as_str(), s.as_str(), "{s}"),
        }
    }
}
