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
