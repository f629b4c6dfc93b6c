//! Guest transitions.

use super::*;

#[test]
fn guest_transitions() {
    use GuestTransition as G;
    use OperationStatus as S;
    let big = "x".repeat(MAX_PAYLOAD_BYTES + 1);
    let mut callback = recorded(OperationType::Callback, S::Started);
    callback.callback = Some(CallbackDetails {
        callback_id: "old".into(),
        timeout_s: None,
        heartbeat_timeout_s: None,
    });
    let cases: Vec<(&str, Option<Operation>, G, Result<Want, &str>)> = vec![
        (
            "step started, first attempt",
            None,
            G::StepStarted { attempt: 0 },
            Ok(Want {
                status: Some(S::Started),
                events: &[EventType::StepStarted],
                clear: &[TimerKind::StepRetry],
                metered: 1,
                ..NOTHING
            }),
        ),
        (
            "step started again after a crash: nothing new",
            Some(step(S::Started, 2)),
            G::StepStarted { attempt: 2 },
            Ok(NOTHING),
        ),
        (
            "step started for the next attempt",
            Some(step(S::Ready, 1)),
            G::StepStarted { attempt: 2 },
            Ok(Want {
                status: Some(S::Started),
                events: &[EventType::StepStarted],
                clear: &[TimerKind::StepRetry],
                metered: 1,
                ..NOTHING
            }),
        ),
        (
            "step started after it succeeded",
            Some(step(S::Succeeded, 1)),
            G::StepStarted { attempt: 2 },
            Err("step 1 has already completed"),
        ),
        (
            "step started on a wait",
            Some(recorded(OperationType::Wait, S::Started)),
            G::StepStarted { attempt: 1 },
            Err("operation 1 is a WAIT in the journal, not a STEP"),
        ),
        (
            "step succeeded",
            Some(step(S::Started, 1)),
            G::StepSucceeded {
                attempt: 1,
                result: "1".into(),
            },
            Ok(Want {
                status: Some(S::Succeeded),
                events: &[EventType::StepSucceeded],
                ..NOTHING
            }),
        ),
        (
            "step result too large",
            Some(step(S::Started, 1)),
            G::StepSucceeded {
                attempt: 1,
                result: big.clone(),
            },
            Err("the step result is 262145 bytes; the limit is 262144"),
        ),
        (
            "step failed",
            Some(step(S::Started, 1)),
            G::StepFailed {
                attempt: 1,
                error: error("E"),
            },
            Ok(Want {
                status: Some(S::Failed),
                events: &[EventType::StepFailed],
                ..NOTHING
            }),
        ),
        (
            "step retry: pending, a timer at least 1 s away",
            Some(step(S::Started, 1)),
            G::StepRetry {
                attempt: 1,
                error: error("E"),
                delay_s: 0,
            },
            Ok(Want {
                status: Some(S::Pending),
                events: &[EventType::StepFailed],
                set: &[(TimerKind::StepRetry, NOW + 1_000)],
                ..NOTHING
            }),
        ),
        (
            "step poll",
            Some(step(S::Started, 3)),
            G::StepPoll {
                attempt: 3,
                state: "{}".into(),
                delay_s: 5,
            },
            Ok(Want {
                status: Some(S::Pending),
                events: &[EventType::StepSucceeded],
                set: &[(TimerKind::StepRetry, NOW + 5_000)],
                ..NOTHING
            }),
        ),
        (
            "wait started",
            None,
            G::WaitStarted { seconds: 10 },
            Ok(Want {
                status: Some(S::Started),
                events: &[EventType::WaitStarted],
                set: &[(TimerKind::WaitEnd, NOW + 10_000)],
                metered: 1,
                ..NOTHING
            }),
        ),
        (
            "wait of 0 s",
            None,
            G::WaitStarted { seconds: 0 },
            Err("a wait lasts 1 to 31622400 seconds, not 0"),
        ),
        (
            "wait started twice",
            Some(recorded(OperationType::Wait, S::Started)),
            G::WaitStarted { seconds: 10 },
            Err("wait 1 was already started"),
        ),
        (
            "callback started with both timeouts",
            None,
            G::CallbackStarted {
                callback_id: "cb".into(),
                timeout_s: 60,
                heartbeat_timeout_s: 5,
            },
            Ok(Want {
                status: Some(S::Started),
                events: &[EventType::CallbackStarted],
                set: &[
                    (TimerKind::CallbackTimeout, NOW + 60_000),
                    (TimerKind::CallbackHeartbeat, NOW + 5_000),
                ],
                metered: 1,
                ..NOTHING
            }),
        ),
        (
            "callback started again: its recorded id, nothing new",
            Some(callback),
            G::CallbackStarted {
                callback_id: "new".into(),
                timeout_s: 0,
                heartbeat_timeout_s: 0,
            },
            Ok(NOTHING),
        ),
        (
            "callback timeout over the maximum",
            None,
            G::CallbackStarted {
                callback_id: "cb".into(),
                timeout_s: MAX_DURATION_S + 1,
                heartbeat_timeout_s: 0,
            },
            Err("a callback timeout is at most 31622400 seconds, not 31622401"),
        ),
        (
            "context started",
            None,
            G::ContextStarted,
            Ok(Want {
                status: Some(S::Started),
                events: &[EventType::ContextStarted],
                metered: 1,
                ..NOTHING
            }),
        ),
        (
            "context succeeded",
            Some(recorded(OperationType::Context, S::Started)),
            G::ContextSucceeded {
                result: "[1]".into(),
                replay_children: false,
            },
            Ok(Want {
                status: Some(S::Succeeded),
                events: &[EventType::ContextSucceeded],
                ..NOTHING
            }),
        ),
        (
            "context failed",
            Some(recorded(OperationType::Context, S::Started)),
            G::ContextFailed { error: error("E") },
            Ok(Want {
                status: Some(S::Failed),
                events: &[EventType::ContextFailed],
                ..NOTHING
            }),
        ),
        (
            "context succeeded twice",
            Some(recorded(OperationType::Context, S::Succeeded)),
            G::ContextSucceeded {
                result: "1".into(),
                replay_children: false,
            },
            Err("context 1 has already completed"),
        ),
        (
            "invoke started",
            None,
            G::InvokeStarted {
                function: "g".into(),
                child_arn: "arn:lamina:durable:g:2".into(),
                payload: "{}".into(),
                tenant_id: Some("t".into()),
            },
            Ok(Want {
                status: Some(S::Started),
                events: &[EventType::ChainedInvokeStarted],
                metered: 1,
                ..NOTHING
            }),
        ),
        (
            "invoke payload that is not JSON",
            None,
            G::InvokeStarted {
                function: "g".into(),
                child_arn: "a".into(),
                payload: "{".into(),
                tenant_id: None,
            },
            Err("the invoke payload must be JSON text"),
        ),
    ];
    for (name, rec, transition, want) in cases {
        let got = plan_guest(NOW, rec.as_ref(), &op_ref("1"), transition);
        match (got, want) {
            (Ok(plan), Ok(want)) => {
                check(name, &plan, &want);
                assert!(!plan.runnable && plan.ends.is_none(), "{name}");
            }
            (Err(r), Err(message)) => assert_eq!(r, Rejection::Invalid(message.into()), "{name}"),
            (got, _) => panic!("{name}: unexpected {got:?}"),
        }
    }
}

#[test]
fn guest_operation_refs_are_checked() {
    let cases = [
        (
            OpRef {
                id: String::new(),
                ..op_ref("")
            },
            "operation id must be 1 to 256 bytes, got 0 bytes",
        ),
        (
            OpRef {
                name: Some("n".repeat(257)),
                ..op_ref("1")
            },
            "operation name longer than 256 bytes",
        ),
        (
            OpRef {
                sub_type: String::new(),
                ..op_ref("1")
            },
            "operation sub-type must be 1 to 64 bytes",
        ),
    ];
    for (op, message) in cases {
        let got = plan_guest(NOW, None, &op, GuestTransition::ContextStarted);
        assert_eq!(got, Err(Rejection::Invalid(message.into())));
    }
}

#[test]
fn guest_event_details_keep_their_stored_shape() {
    let details = |t: GuestTransition, rec: Option<Operation>| {
        let plan = plan_guest(NOW, rec.as_ref(), &op_ref("1"), t).expect("plan");
        serde_json::to_string(&plan.batch.events[0].details).expect("json")
    };
    let cases = [
        (
            details(GuestTransition::StepStarted { attempt: 1 }, None),
            "{}",
        ),
        (
            details(
                GuestTransition::StepSucceeded {
                    attempt: 2,
                    result: "7".into(),
                },
                Some(step(OperationStatus::Started, 2)),
            ),
            r#"{"Result":{"Payload":"7"},"RetryDetails":{"CurrentAttempt":2}}"#,
        ),
        (
            details(
                GuestTransition::StepRetry {
                    attempt: 1,
                    error: error("E"),
                    delay_s: 3,
                },
                Some(step(OperationStatus::Started, 1)),
            ),
            r#"{"Error":{"Payload":{"ErrorMessage":"m","ErrorType":"E"}},"RetryDetails":{"CurrentAttempt":1,"NextAttemptDelaySeconds":3}}"#,
        ),
        (
            details(GuestTransition::WaitStarted { seconds: 2 }, None),
            r#"{"Duration":2,"ScheduledEndTimestamp":1002.0}"#,
        ),
        (
            details(
                GuestTransition::CallbackStarted {
                    callback_id: "cb".into(),
                    timeout_s: 0,
                    heartbeat_timeout_s: 9,
                },
                None,
            ),
            r#"{"CallbackId":"cb","HeartbeatTimeout":9}"#,
        ),
        (
            details(
                GuestTransition::InvokeStarted {
                    function: "g".into(),
                    child_arn: "c".into(),
                    payload: "1".into(),
                    tenant_id: None,
                },
                None,
            ),
            r#"{"DurableExecutionArn":"c","ExecutedVersion":"$LATEST","FunctionName":"g","Input":{"Payload":"1"}}"#,
        ),
    ];
    for (got, want) in cases {
        assert_eq!(got, want);
    }
}

#[test]
fn a_succeeded_context_records_whether_replays_rerun_its_children() {
    for (result, flag) in [("", true), ("", false), ("[1]", false)] {
        let plan = plan_guest(
            NOW,
            Some(&recorded(OperationType::Context, OperationStatus::Started)),
            &op_ref("1"),
            GuestTransition::ContextSucceeded {
                result: result.into(),
                replay_children: flag,
            },
        )
        .expect("plan");
        let op = plan.operation.expect("operation");
        assert_eq!(op.replays_children(), flag, "result {result:?}");
        assert_eq!(op.result.as_deref(), Some(result));
    }
}
