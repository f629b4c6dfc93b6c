//! Host transitions of an invocation's end, stop and start.

use super::*;

fn ended(outcome: InvocationOutcome, waiting: bool, again: bool) -> InvocationEnd {
    InvocationEnd {
        outcome,
        start_ms: NOW - 2_000,
        end_ms: NOW - 1_000,
        run_us: 900,
        request_id: "r".into(),
        waiting,
        again,
    }
}

#[test]
fn invocations_ended() {
    use InvocationOutcome as O;
    let crash = || O::Crashed(error("Runtime.Trap"));
    // (case, end, crashes before, events, runnable, retry after, ends, crashes after)
    let cases: Vec<(
        &str,
        InvocationEnd,
        u32,
        &[EventType],
        bool,
        Option<u64>,
        Option<ExecutionStatus>,
        Option<u32>,
    )> = vec![
        (
            "succeeded",
            ended(O::Succeeded("1".into()), false, false),
            0,
            &[
                EventType::InvocationCompleted,
                EventType::ExecutionSucceeded,
            ],
            false,
            None,
            Some(ExecutionStatus::Succeeded),
            None,
        ),
        (
            "failed",
            ended(O::Failed(error("E")), false, false),
            0,
            &[EventType::InvocationCompleted, EventType::ExecutionFailed],
            false,
            None,
            Some(ExecutionStatus::Failed),
            None,
        ),
        (
            "pending and waiting",
            ended(O::Pending, true, false),
            2,
            &[EventType::InvocationCompleted],
            false,
            None,
            None,
            Some(0),
        ),
        (
            "pending, something completed meanwhile",
            ended(O::Pending, false, true),
            0,
            &[EventType::InvocationCompleted],
            true,
            None,
            None,
            Some(0),
        ),
        (
            "pending with nothing to wait for",
            ended(O::Pending, false, false),
            0,
            &[EventType::InvocationCompleted, EventType::ExecutionFailed],
            false,
            None,
            Some(ExecutionStatus::Failed),
            None,
        ),
        (
            "first crash",
            ended(crash(), true, false),
            0,
            &[EventType::InvocationCompleted],
            false,
            Some(500),
            None,
            Some(1),
        ),
        (
            "second crash",
            ended(crash(), true, false),
            1,
            &[EventType::InvocationCompleted],
            false,
            Some(1_000),
            None,
            Some(2),
        ),
        (
            "crash with a completion meanwhile",
            ended(crash(), true, true),
            0,
            &[EventType::InvocationCompleted],
            true,
            None,
            None,
            Some(1),
        ),
        (
            "third crash in a row",
            ended(crash(), true, false),
            2,
            &[EventType::InvocationCompleted, EventType::ExecutionFailed],
            false,
            None,
            Some(ExecutionStatus::Failed),
            Some(3),
        ),
    ];
    for (name, end, before, events, runnable, retry_ms, ends, crashes) in cases {
        let e = execution(ExecutionStatus::Running, before);
        let plan = plan_host(NOW, Some(&e), None, HostTransition::InvocationEnded(end))
            .expect("never refused");
        let b = &plan.batch;
        let got: Vec<_> = b.events.iter().map(|e| e.event_type).collect();
        assert_eq!(got, events, "{name}");
        assert_eq!(plan.runnable, runnable, "{name}");
        assert_eq!(
            plan.retry_after,
            retry_ms.map(std::time::Duration::from_millis),
            "{name}"
        );
        assert_eq!(plan.ends, ends, "{name}");
        assert_eq!(b.execution.status, ends, "{name}");
        assert_eq!(b.execution.crashes, crashes, "{name}");
        assert_eq!(b.execution.metering.invocations, 1, "{name}");
        assert_eq!(b.execution.metering.active_compute_us, 900, "{name}");
        if ends.is_some() {
            assert_eq!(b.operations[0].id, EXECUTION_OP_ID, "{name}");
            assert_eq!(b.execution.invocation_in_progress, Some(false), "{name}");
        }
        let fallback = plan.if_ended.as_ref().expect("bookkeeping");
        assert!(fallback.allow_after_end, "{name}");
        assert_eq!(fallback.events, b.events[..1], "{name}");
    }
    let crashed = plan_host(
        NOW,
        Some(&execution(ExecutionStatus::Running, 0)),
        None,
        HostTransition::InvocationEnded(ended(crash(), true, false)),
    )
    .expect("plan");
    assert_eq!(
        serde_json::to_string(&crashed.batch.events[0].details).expect("json"),
        r#"{"EndTimestamp":999.0,"Error":{"Payload":{"ErrorMessage":"m","ErrorType":"Runtime.Trap"}},"RequestId":"r","StartTimestamp":998.0}"#
    );
    let lazy = ended(O::Pending, true, false);
    assert!(!lazy.needs_execution());
    assert!(ended(O::Pending, false, false).needs_execution());
    assert!(ended(crash(), true, true).needs_execution());
}

#[test]
fn stops() {
    let running = execution(ExecutionStatus::Running, 0);
    let plan = plan_host(NOW, Some(&running), None, HostTransition::Stopped(None)).expect("plan");
    assert_eq!(plan.ends, Some(ExecutionStatus::Stopped));
    let error = plan.batch.execution.error.clone().expect("error");
    assert_eq!(error.error_type.as_deref(), Some("ExecutionStopped"));
    assert_eq!(plan.batch.operations[0].status, OperationStatus::Stopped);
    let given = ErrorType::ParentStopped.error("its parent was stopped");
    let plan = plan_host(
        NOW,
        Some(&running),
        None,
        HostTransition::Stopped(Some(given.clone())),
    )
    .expect("plan");
    assert_eq!(plan.batch.execution.error, Some(given));
    let ended = execution(ExecutionStatus::Succeeded, 0);
    assert_eq!(
        plan_host(NOW, Some(&ended), None, HostTransition::Stopped(None)),
        Err(Rejection::Invalid(format!(
            "execution {ARN} has already ended (SUCCEEDED)"
        )))
    );
}

#[test]
fn starts() {
    let new = plan_start(
        NOW,
        ExecutionStart {
            arn: ARN.into(),
            function: "f".into(),
            name: "n".into(),
            input: "{}".into(),
            timeout_s: 60,
            code_sha256: Some("ab".into()),
        },
    );
    assert_eq!(new.deadline_ms, Some(NOW + 60_000));
    assert!(new.invocation_in_progress);
    assert_eq!(new.operations[0].id, EXECUTION_OP_ID);
    assert_eq!(
        serde_json::to_string(&new.events[0].details).expect("json"),
        r#"{"ExecutionTimeout":60,"Input":{"Payload":"{}"}}"#
    );
}
