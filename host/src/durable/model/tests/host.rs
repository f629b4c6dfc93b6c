//! Host transitions.

use super::*;

fn timer(kind: TimerKind, op_id: Option<&str>) -> Timer {
    Timer {
        due_ms: NOW,
        seq: 1,
        arn: ARN.into(),
        kind,
        op_id: op_id.map(str::to_owned),
    }
}

#[test]
fn timers_fired() {
    use OperationStatus as S;
    let running = execution(ExecutionStatus::Running, 0);
    let mut wait = recorded(OperationType::Wait, S::Started);
    wait.wait = Some(WaitDetails {
        scheduled_end_ms: NOW - 5_000 + 30_000,
    });
    let mut callback = recorded(OperationType::Callback, S::Started);
    callback.callback = Some(CallbackDetails {
        callback_id: "cb".into(),
        timeout_s: Some(60),
        heartbeat_timeout_s: Some(5),
    });
    // (case, execution, operation, timer kind, events, runnable, ends, operation status after)
    let cases: Vec<(
        &str,
        Execution,
        Option<Operation>,
        TimerKind,
        &[EventType],
        bool,
        Option<ExecutionStatus>,
        Option<S>,
    )> = vec![
        (
            "execution timeout",
            running.clone(),
            None,
            TimerKind::ExecutionTimeout,
            &[EventType::ExecutionTimedOut],
            false,
            Some(ExecutionStatus::TimedOut),
            Some(S::TimedOut),
        ),
        (
            "wait ends",
            running.clone(),
            Some(wait.clone()),
            TimerKind::WaitEnd,
            &[EventType::WaitSucceeded],
            true,
            None,
            Some(S::Succeeded),
        ),
        (
            "step retry due",
            running.clone(),
            Some(step(S::Pending, 1)),
            TimerKind::StepRetry,
            &[],
            true,
            None,
            Some(S::Ready),
        ),
        (
            "callback times out",
            running.clone(),
            Some(callback.clone()),
            TimerKind::CallbackTimeout,
            &[EventType::CallbackTimedOut],
            true,
            None,
            Some(S::TimedOut),
        ),
        (
            "callback heartbeat missed",
            running.clone(),
            Some(callback.clone()),
            TimerKind::CallbackHeartbeat,
            &[EventType::CallbackTimedOut],
            true,
            None,
            Some(S::TimedOut),
        ),
        (
            "wait already over: only the timer goes",
            running.clone(),
            Some(recorded(OperationType::Wait, S::Succeeded)),
            TimerKind::WaitEnd,
            &[],
            false,
            None,
            None,
        ),
        (
            "execution ended: only the timer goes",
            execution(ExecutionStatus::Succeeded, 0),
            Some(wait),
            TimerKind::WaitEnd,
            &[],
            false,
            None,
            None,
        ),
    ];
    for (name, e, op, kind, events, runnable, ends, status) in cases {
        let t = timer(kind, op.as_ref().map(|o| o.id.as_str()));
        let plan = plan_host(
            NOW,
            Some(&e),
            op.as_ref(),
            HostTransition::TimerFired(t.clone()),
        )
        .expect("a timer is never refused");
        let b = &plan.batch;
        let got: Vec<_> = b.events.iter().map(|e| e.event_type).collect();
        assert_eq!(got, events, "{name}");
        assert_eq!(plan.runnable, runnable, "{name}");
        assert_eq!(plan.ends, ends, "{name}");
        assert_eq!(b.operations.last().map(|o| o.status), status, "{name}");
        assert_eq!(
            b.clear_timers[0],
            t.slot(),
            "{name}: the fired timer is removed"
        );
        assert_eq!(
            b.execution.invocation_in_progress,
            if runnable {
                Some(true)
            } else {
                ends.map(|_| false)
            },
            "{name}"
        );
        assert_eq!(b.allow_after_end, e.status.is_terminal(), "{name}");
    }
    // A callback timeout also clears the other callback timer.
    let plan = plan_host(
        NOW,
        Some(&running),
        Some(&callback),
        HostTransition::TimerFired(timer(TimerKind::CallbackTimeout, Some("1"))),
    )
    .expect("plan");
    let clear: Vec<_> = plan.batch.clear_timers.iter().map(|t| t.kind).collect();
    assert_eq!(
        clear,
        [TimerKind::CallbackTimeout, TimerKind::CallbackHeartbeat]
    );
    let error = plan.batch.operations[0].error.clone().expect("error");
    assert_eq!(error.error_type.as_deref(), Some("Callback.Timeout"));
    assert_eq!(
        error.error_message.as_deref(),
        Some("callback timed out after 60 s")
    );
}

#[test]
fn callbacks_completed() {
    use OperationStatus as S;
    let running = execution(ExecutionStatus::Running, 0);
    let mut with_hb = recorded(OperationType::Callback, S::Started);
    with_hb.callback = Some(CallbackDetails {
        callback_id: "cb".into(),
        timeout_s: None,
        heartbeat_timeout_s: Some(5),
    });
    let plain = recorded(OperationType::Callback, S::Started);
    let complete = |e: &Execution, op: Option<&Operation>, c: CallbackCompletion| {
        plan_host(
            NOW,
            Some(e),
            op,
            HostTransition::CallbackCompleted {
                callback_id: "cb".into(),
                op_id: "1".into(),
                completion: c,
            },
        )
    };
    // (case, execution, operation, completion, result)
    let cases: Vec<(
        &str,
        &Execution,
        Option<&Operation>,
        CallbackCompletion,
        Result<(&[EventType], bool, usize), Rejection>,
    )> = vec![
        (
            "success",
            &running,
            Some(&plain),
            CallbackCompletion::Success("1".into()),
            Ok((&[EventType::CallbackSucceeded], true, 0)),
        ),
        (
            "failure",
            &running,
            Some(&plain),
            CallbackCompletion::Failure(error("E")),
            Ok((&[EventType::CallbackFailed], true, 0)),
        ),
        (
            "heartbeat moves its timer",
            &running,
            Some(&with_hb),
            CallbackCompletion::Heartbeat,
            Ok((&[], false, 1)),
        ),
        (
            "heartbeat without a heartbeat timeout",
            &running,
            Some(&plain),
            CallbackCompletion::Heartbeat,
            Ok((&[], false, 0)),
        ),
    ];
    for (name, e, op, c, want) in cases {
        let plan = complete(e, op, c);
        match (plan, want) {
            (Ok(plan), Ok((events, runnable, timers))) => {
                let got: Vec<_> = plan.batch.events.iter().map(|e| e.event_type).collect();
                assert_eq!(got, events, "{name}");
                assert_eq!(plan.runnable, runnable, "{name}");
                assert_eq!(plan.batch.set_timers.len(), timers, "{name}");
            }
            (got, want) => assert_eq!(got.map(|_| ()), want.map(|_| ()), "{name}"),
        }
    }
    let refused = [
        (
            "timed out",
            running.clone(),
            Some(recorded(OperationType::Callback, S::TimedOut)),
            Rejection::CallbackTimedOut("callback cb has timed out".into()),
        ),
        (
            "already completed",
            running.clone(),
            Some(recorded(OperationType::Callback, S::Succeeded)),
            Rejection::Invalid("callback cb is already completed (SUCCEEDED)".into()),
        ),
        (
            "execution ended",
            execution(ExecutionStatus::Stopped, 0),
            Some(plain.clone()),
            Rejection::Invalid(format!(
                "callback cb belongs to execution {ARN} which has ended (STOPPED)"
            )),
        ),
        (
            "operation missing",
            running.clone(),
            None,
            Rejection::NotFound("callback cb: its operation 1 is not in the journal".into()),
        ),
    ];
    for (name, e, op, rejection) in refused {
        let got = complete(&e, op.as_ref(), CallbackCompletion::Success("1".into()));
        assert_eq!(got, Err(rejection), "{name}");
    }
}

#[test]
fn chained_invokes_ended() {
    use OperationStatus as S;
    let running = execution(ExecutionStatus::Running, 0);
    let started = recorded(OperationType::ChainedInvoke, S::Started);
    let cases: Vec<(
        &str,
        Execution,
        Operation,
        Result<String, ErrorObject>,
        Option<EventType>,
    )> = vec![
        (
            "succeeded",
            running.clone(),
            started.clone(),
            Ok("1".into()),
            Some(EventType::ChainedInvokeSucceeded),
        ),
        (
            "failed",
            running.clone(),
            started.clone(),
            Err(error("E")),
            Some(EventType::ChainedInvokeFailed),
        ),
        (
            "already completed",
            running.clone(),
            recorded(OperationType::ChainedInvoke, S::Succeeded),
            Ok("1".into()),
            None,
        ),
        (
            "execution ended",
            execution(ExecutionStatus::Failed, 0),
            started,
            Ok("1".into()),
            None,
        ),
    ];
    for (name, e, op, outcome, event) in cases {
        let plan = plan_host(
            NOW,
            Some(&e),
            Some(&op),
            HostTransition::InvokeEnded(outcome),
        )
        .expect("never refused");
        assert_eq!(
            plan.batch.events.first().map(|e| e.event_type),
            event,
            "{name}"
        );
        assert_eq!(plan.runnable, event.is_some(), "{name}");
        assert_eq!(plan.batch.is_empty(), event.is_none(), "{name}");
    }
}

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
