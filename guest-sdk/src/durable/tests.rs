//! Replay logic against an in-memory journal that completes operations the
//! way the host does.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use super::handler::run_with;
use super::journal::Journal;
use super::state::mismatch;
use super::*;
use crate::durable_bindings::lamina::durable::types::{
    ErrorObject as WitErrorObject, ExecutionState, JournalError, LogLevel, OpRef, Operation,
    OperationStatus, OperationType, Outcome,
};

/// What the fake host holds for one execution.
#[derive(Default)]
struct Host {
    input: String,
    ops: Vec<Operation>,
    events: Vec<String>,
    logs: Vec<String>,
}

impl Host {
    fn op_mut(&mut self, id: &str) -> &mut Operation {
        let index = self.ops.iter().position(|op| op.id == id);
        match index {
            Some(index) => &mut self.ops[index],
            None => panic!("no operation {id}"),
        }
    }

    fn upsert(&mut self, op: &OpRef, op_type: OperationType, status: OperationStatus) {
        if let Some(existing) = self.ops.iter_mut().find(|o| o.id == op.id) {
            existing.status = status;
            return;
        }
        self.ops.push(Operation {
            id: op.id.clone(),
            parent_id: op.parent_id.clone(),
            name: op.name.clone(),
            op_type,
            sub_type: Some(op.sub_type.clone()),
            status,
            result: None,
            error: None,
            attempt: 0,
            next_attempt_ms: None,
            callback_id: None,
            wait_end_ms: None,
            replay_children: false,
        });
    }

    /// Completes every started wait and makes every pending retry ready.
    fn advance_time(&mut self) {
        for op in &mut self.ops {
            match (op.op_type, op.status) {
                (OperationType::Wait, OperationStatus::Started) => {
                    op.status = OperationStatus::Succeeded;
                }
                (OperationType::Step, OperationStatus::Pending) => {
                    op.status = OperationStatus::Ready;
                }
                _ => {}
            }
        }
    }

    /// Completes the chained invoke `id` with a result or an error type.
    fn complete_invoke(&mut self, id: &str, outcome: Result<&str, &str>) {
        let op = self.op_mut(id);
        match outcome {
            Ok(result) => {
                op.status = OperationStatus::Succeeded;
                op.result = Some(result.to_owned());
            }
            Err(error_type) => {
                op.status = OperationStatus::Failed;
                op.error = Some(WitErrorObject {
                    error_type: Some(error_type.to_owned()),
                    error_message: Some("the target failed".to_owned()),
                    error_data: None,
                    stack_trace: Vec::new(),
                });
            }
        }
    }

    fn complete_callback(&mut self, id: &str, status: OperationStatus, payload: &str) {
        let op = self.op_mut(id);
        op.status = status;
        match status {
            OperationStatus::Succeeded => op.result = Some(payload.to_owned()),
            _ => {
                op.error = Some(WitErrorObject {
                    error_type: Some(payload.to_owned()),
                    error_message: Some("from outside".to_owned()),
                    error_data: None,
                    stack_trace: Vec::new(),
                });
            }
        }
    }
}

#[derive(Clone, Default)]
struct FakeJournal(Rc<RefCell<Host>>);

impl FakeJournal {
    fn with_input(input: &str) -> Self {
        let journal = Self::default();
        journal.0.borrow_mut().input = input.to_owned();
        journal
    }

    fn host(&self) -> std::cell::RefMut<'_, Host> {
        self.0.borrow_mut()
    }

    fn events(&self) -> Vec<String> {
        self.0.borrow().events.clone()
    }

    fn event(&self, event: String) {
        self.0.borrow_mut().events.push(event);
    }
}

impl Journal for FakeJournal {
    fn load_state(&self) -> ExecutionState {
        let host = self.0.borrow();
        ExecutionState {
            arn: "arn:test".to_owned(),
            function_name: "test".to_owned(),
            input: host.input.clone(),
            operations: host.ops.clone(),
            now_ms: 0,
        }
    }

    fn step_started(
        &self,
        op: &OpRef,
        attempt: u32,
        _wait_for_commit: bool,
    ) -> Result<(), JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::Step, OperationStatus::Started);
        host.op_mut(&op.id).attempt = attempt;
        host.events.push(format!("StepStarted {} {attempt}", op.id));
        Ok(())
    }

    fn step_succeeded(&self, op: &OpRef, attempt: u32, result: &str) -> Result<(), JournalError> {
        let mut host = self.host();
        let recorded = host.op_mut(&op.id);
        recorded.status = OperationStatus::Succeeded;
        recorded.result = Some(result.to_owned());
        host.events
            .push(format!("StepSucceeded {} {attempt} {result}", op.id));
        Ok(())
    }

    fn step_failed(
        &self,
        op: &OpRef,
        attempt: u32,
        error: &WitErrorObject,
    ) -> Result<(), JournalError> {
        let mut host = self.host();
        let recorded = host.op_mut(&op.id);
        recorded.status = OperationStatus::Failed;
        recorded.error = Some(error.clone());
        let error_type = error.error_type.clone().unwrap_or_default();
        host.events
            .push(format!("StepFailed {} {attempt} {error_type}", op.id));
        Ok(())
    }

    fn step_retry(
        &self,
        op: &OpRef,
        attempt: u32,
        _error: &WitErrorObject,
        delay_seconds: u32,
    ) -> Result<(), JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::Step, OperationStatus::Pending);
        host.op_mut(&op.id).attempt = attempt;
        host.events
            .push(format!("StepRetry {} {attempt} {delay_seconds}", op.id));
        Ok(())
    }

    fn step_poll(
        &self,
        op: &OpRef,
        attempt: u32,
        state: &str,
        delay_seconds: u32,
    ) -> Result<(), JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::Step, OperationStatus::Pending);
        let recorded = host.op_mut(&op.id);
        recorded.attempt = attempt;
        recorded.result = Some(state.to_owned());
        host.events.push(format!(
            "StepPoll {} {attempt} {state} {delay_seconds}",
            op.id
        ));
        Ok(())
    }

    fn wait_started(&self, op: &OpRef, seconds: u64) -> Result<(), JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::Wait, OperationStatus::Started);
        host.events.push(format!("WaitStarted {} {seconds}", op.id));
        Ok(())
    }

    fn callback_started(
        &self,
        op: &OpRef,
        timeout_seconds: u64,
        heartbeat_timeout_seconds: u64,
    ) -> Result<String, JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::Callback, OperationStatus::Started);
        let callback_id = format!("cb-{}", op.id);
        host.op_mut(&op.id).callback_id = Some(callback_id.clone());
        host.events.push(format!(
            "CallbackStarted {} {timeout_seconds} {heartbeat_timeout_seconds}",
            op.id
        ));
        Ok(callback_id)
    }

    fn context_started(&self, op: &OpRef) -> Result<(), JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::Context, OperationStatus::Started);
        host.events
            .push(format!("ContextStarted {} {}", op.id, op.sub_type));
        Ok(())
    }

    fn context_succeeded(
        &self,
        op: &OpRef,
        result: &str,
        replay_children: bool,
    ) -> Result<(), JournalError> {
        let mut host = self.host();
        let recorded = host.op_mut(&op.id);
        recorded.status = OperationStatus::Succeeded;
        recorded.result = Some(result.to_owned());
        recorded.replay_children = replay_children;
        let flag = if replay_children {
            " [replay children]"
        } else {
            ""
        };
        host.events
            .push(format!("ContextSucceeded {} {result}{flag}", op.id));
        Ok(())
    }

    fn context_failed(&self, op: &OpRef, error: &WitErrorObject) -> Result<(), JournalError> {
        let mut host = self.host();
        let recorded = host.op_mut(&op.id);
        recorded.status = OperationStatus::Failed;
        recorded.error = Some(error.clone());
        let error_type = error.error_type.clone().unwrap_or_default();
        host.events
            .push(format!("ContextFailed {} {error_type}", op.id));
        Ok(())
    }

    fn invoke_started(
        &self,
        op: &OpRef,
        function: &str,
        payload: &str,
        tenant_id: Option<&str>,
    ) -> Result<(), JournalError> {
        let mut host = self.host();
        host.upsert(op, OperationType::ChainedInvoke, OperationStatus::Started);
        host.events.push(format!(
            "InvokeStarted {} {function} {payload} {}",
            op.id,
            tenant_id.unwrap_or("-")
        ));
        Ok(())
    }

    fn log(&self, _level: LogLevel, message: &str) {
        self.0.borrow_mut().logs.push(message.to_owned());
    }
}

/// A short name for an outcome.
fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Succeeded(json) => format!("succeeded {json}"),
        Outcome::Failed(err) => format!("failed {}", err.error_type.clone().unwrap_or_default()),
        Outcome::Pending => "pending".to_owned(),
    }
}

/// Runs one invocation of `f` against `journal`.
fn invoke<R, F>(journal: &FakeJournal, f: F) -> String
where
    R: serde::Serialize,
    F: FnOnce(serde_json::Value, &DurableContext) -> Result<R, DurableError>,
{
    let outcome = run_with(Box::new(journal.clone()), f);
    journal.event("InvocationCompleted".to_owned());
    show(&outcome)
}

fn no_retry() -> StepConfig {
    StepConfig::new().with_retry_strategy(RetryStrategy::none())
}

#[test]
fn step_then_wait_replays_the_step() {
    let journal = FakeJournal::with_input("\"World\"");
    let runs = Rc::new(RefCell::new(0));
    let handler = |event: serde_json::Value, ctx: &DurableContext| {
        let greeting: String = ctx.step_named("greet", |_| {
            *runs.borrow_mut() += 1;
            Ok::<_, String>(format!("Hello, {}!", event.as_str().unwrap_or("?")))
        })?;
        ctx.wait(None, Duration::from_secs(2))?;
        Ok(greeting)
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded \"Hello, World!\"");
    assert_eq!(*runs.borrow(), 1);
    assert_eq!(
        journal.events(),
        [
            "StepStarted 1 1",
            "StepSucceeded 1 1 \"Hello, World!\"",
            "WaitStarted 2 2",
            "InvocationCompleted",
            "InvocationCompleted",
        ]
    );
}

#[test]
fn failed_attempts_are_retried_then_succeed() {
    let journal = FakeJournal::with_input("");
    let config = RetryConfig {
        max_attempts: 5,
        initial_delay: Duration::from_secs(2),
        backoff_rate: 3.0,
        jitter: Jitter::None,
        ..RetryConfig::default()
    };
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let step_config =
            StepConfig::new().with_retry_strategy(RetryStrategy::from_config(config.clone()));
        ctx.step_with(None, step_config, |step| {
            if step.attempt() < 3 {
                Err(ErrorObject::new("Flaky", "not yet"))
            } else {
                Ok(step.attempt())
            }
        })
    };
    for _ in 0..2 {
        assert_eq!(invoke(&journal, handler), "pending");
        journal.host().advance_time();
    }
    assert_eq!(invoke(&journal, handler), "succeeded 3");
    assert_eq!(
        journal.events(),
        [
            "StepStarted 1 1",
            "StepRetry 1 1 2",
            "InvocationCompleted",
            "StepStarted 1 2",
            "StepRetry 1 2 6",
            "InvocationCompleted",
            "StepStarted 1 3",
            "StepSucceeded 1 3 3",
            "InvocationCompleted",
        ]
    );
}

#[test]
fn a_caught_step_failure_is_replayed_without_running_the_body() {
    let journal = FakeJournal::with_input("");
    let runs = Rc::new(RefCell::new(0));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let failed = ctx.step_with(None, no_retry(), |_| {
            *runs.borrow_mut() += 1;
            Err::<(), _>(ErrorObject::new("Boom", "always"))
        });
        let error_type = match failed {
            Err(DurableError::StepFailed(err)) => err.error_type().map(str::to_owned),
            other => return other.map(|()| None),
        };
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(error_type)
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded \"Boom\"");
    assert_eq!(*runs.borrow(), 1);
}

#[test]
fn an_interrupted_at_most_once_step_is_not_run_again() {
    let journal = FakeJournal::with_input("");
    // The first invocation "crashed" after StepStarted.
    journal
        .step_started(
            &OpRef {
                id: "1".to_owned(),
                parent_id: None,
                name: Some("amo".to_owned()),
                sub_type: "Step".to_owned(),
            },
            1,
            true,
        )
        .ok();
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config = no_retry().with_semantics(StepSemantics::AtMostOncePerRetry);
        ctx.step_with(Some("amo"), config, |_| -> Result<u32, String> {
            panic!("must not run again")
        })
    };
    assert_eq!(invoke(&journal, handler), "failed StepInterruptedError");
    assert_eq!(journal.events()[1], "StepFailed 1 1 StepInterruptedError");
}

#[test]
fn a_started_at_least_once_step_runs_again() {
    let journal = FakeJournal::with_input("");
    let op = OpRef {
        id: "1".to_owned(),
        parent_id: None,
        name: None,
        sub_type: "Step".to_owned(),
    };
    journal.step_started(&op, 1, false).ok();
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.step(|step| Ok::<_, String>(step.attempt()))
    };
    assert_eq!(invoke(&journal, handler), "succeeded 1");
    assert_eq!(journal.events()[1], "StepStarted 1 1");
}

#[test]
fn a_changed_operation_fails_as_non_deterministic() {
    let journal = FakeJournal::with_input("");
    let first = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.step_named("first", |_| Ok::<_, String>(1))?;
        ctx.wait(None, Duration::from_secs(1))
    };
    assert_eq!(invoke(&journal, first), "pending");
    journal.host().advance_time();
    let changed = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.step_named("first", |_| Ok::<_, String>(1))?;
        // The user swallows the error: the outcome must still fail.
        let _ = ctx.step_named("second", |_| Ok::<_, String>(2));
        Ok(())
    };
    assert_eq!(
        invoke(&journal, changed),
        "failed NonDeterministicExecution"
    );
}

#[test]
fn a_swallowed_suspension_still_suspends() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let _ = ctx.wait(None, Duration::from_secs(5));
        let after = ctx.step(|_| Ok::<_, String>(1));
        assert_eq!(after, Err(DurableError::Suspended));
        Ok(())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    assert_eq!(journal.events(), ["WaitStarted 1 5", "InvocationCompleted"]);
}

#[test]
fn wait_for_callback_records_context_callback_and_step_in_order() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.wait_for_callback::<String, String, _>(
            Some("approval"),
            |id, step| {
                step.logger().info(format!("submit {id}"));
                Ok(())
            },
            WaitForCallbackConfig::default(),
        )
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal
        .host()
        .complete_callback("1-1", OperationStatus::Succeeded, "\"yes\"");
    assert_eq!(invoke(&journal, handler), "succeeded \"yes\"");
    assert_eq!(
        journal.events(),
        [
            "ContextStarted 1 WaitForCallback",
            "CallbackStarted 1-1 0 0",
            "StepStarted 1-2 1",
            "StepSucceeded 1-2 1 null",
            "InvocationCompleted",
            "ContextSucceeded 1 \"yes\"",
            "InvocationCompleted",
        ]
    );
    assert_eq!(journal.0.borrow().logs, ["submit cb-1-1"]);
}

#[test]
fn a_timed_out_wait_for_callback_fails_its_context_and_can_be_caught() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config = WaitForCallbackConfig {
            timeout: Some(Duration::from_secs(3)),
            ..WaitForCallbackConfig::default()
        };
        match ctx.wait_for_callback::<String, String, _>(None, |_, _| Ok(()), config) {
            Err(DurableError::CallbackTimedOut(_)) => Ok("handled".to_owned()),
            other => other,
        }
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal
        .host()
        .complete_callback("1-1", OperationStatus::TimedOut, "Callback.Timeout");
    assert_eq!(invoke(&journal, handler), "succeeded \"handled\"");
    // Replaying the failed context gives the same answer.
    assert_eq!(invoke(&journal, handler), "succeeded \"handled\"");
    assert!(
        journal
            .events()
            .contains(&"ContextFailed 1 Callback.Timeout".to_owned())
    );
}

#[test]
fn child_contexts_number_their_operations_below_their_own_id() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.step(|_| Ok::<_, String>(0))?;
        ctx.run_in_child_context(Some("outer"), |child| {
            child.step(|_| Ok::<_, String>(1))?;
            child.run_in_child_context(None, |grandchild| grandchild.step(|_| Ok::<_, String>(2)))
        })
    };
    assert_eq!(invoke(&journal, handler), "succeeded 2");
    let ids: Vec<String> = journal
        .0
        .borrow()
        .ops
        .iter()
        .map(|op| op.id.clone())
        .collect();
    assert_eq!(ids, ["1", "2", "2-1", "2-2", "2-2-1"]);
    assert_eq!(journal.0.borrow().ops[4].parent_id.as_deref(), Some("2-2"));
}

#[test]
fn the_context_logger_is_silent_while_replaying() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.logger().info("before");
        ctx.step(|_| Ok::<_, String>(1))?;
        ctx.logger().info("between");
        ctx.wait(None, Duration::from_secs(1))?;
        ctx.logger().info("after");
        Ok(())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded null");
    assert_eq!(journal.0.borrow().logs, ["before", "between", "after"]);
}

#[test]
fn operations_inside_a_step_are_refused() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.step_with(None, no_retry(), |_| {
            ctx.wait(None, Duration::from_secs(1))
                .map_err(ErrorObject::from)
        })
    };
    assert_eq!(invoke(&journal, handler), "failed InvalidArgument");
}

#[test]
fn mismatch_names_both_sides() {
    let recorded = Operation {
        id: "2".to_owned(),
        parent_id: None,
        name: Some("second".to_owned()),
        op_type: OperationType::Step,
        sub_type: Some("Step".to_owned()),
        status: OperationStatus::Succeeded,
        result: None,
        error: None,
        attempt: 1,
        next_attempt_ms: None,
        callback_id: None,
        wait_end_ms: None,
        replay_children: false,
    };
    assert_eq!(
        mismatch(&recorded, OperationType::Step, "Step", Some("second")),
        None
    );
    assert_eq!(mismatch(&recorded, OperationType::Step, "Step", None), None);
    assert_eq!(
        mismatch(&recorded, OperationType::Step, "Step", Some("other")).as_deref(),
        Some(
            "operation 2 is step/Step/\"second\" in the journal but step/Step/\"other\" in the code"
        )
    );
    assert!(mismatch(&recorded, OperationType::Wait, "Wait", None).is_some());
}

#[test]
fn retry_delays_follow_the_backoff() {
    let default = RetryConfig::default();
    assert_eq!(default.delay_seconds(1, 0.0), 1);
    assert_eq!(default.delay_seconds(1, 0.999), 5);
    assert_eq!(default.delay_seconds(2, 0.999), 10);
    assert_eq!(default.delay_seconds(10, 0.999), 60);
    let half = RetryConfig {
        jitter: Jitter::Half,
        ..RetryConfig::default()
    };
    assert_eq!(half.delay_seconds(2, 0.0), 5);
    assert_eq!(half.delay_seconds(2, 1.0), 10);
    let err = ErrorObject::new("X", "y");
    assert_eq!(default.decide(&err, 6), RetryDecision::NoRetry);
    assert!(matches!(default.decide(&err, 5), RetryDecision::Retry(_)));
    assert_eq!(
        RetryStrategy::none().decide(&err, 1),
        RetryDecision::NoRetry
    );
    let only_transient = RetryConfig {
        retryable_error_types: Some(vec!["Transient".to_owned()]),
        ..RetryConfig::default()
    };
    assert_eq!(only_transient.decide(&err, 1), RetryDecision::NoRetry);
    assert!(only_transient.is_retryable(&ErrorObject::new("Transient", "")));
}

#[test]
fn a_large_child_result_is_rebuilt_from_its_children_on_replay() {
    let journal = FakeJournal::with_input("");
    let bodies = Rc::new(RefCell::new(0));
    let steps = Rc::new(RefCell::new(0));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let large: String = ctx.run_in_child_context(Some("big"), |child| {
            *bodies.borrow_mut() += 1;
            let small: String = child.step(|_| {
                *steps.borrow_mut() += 1;
                Ok::<_, String>("x".to_owned())
            })?;
            Ok(small.repeat(MAX_RESULT_BYTES + 1))
        })?;
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(large.len())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    let expected = format!("succeeded {}", MAX_RESULT_BYTES + 1);
    assert_eq!(invoke(&journal, handler), expected);
    assert_eq!((*bodies.borrow(), *steps.borrow()), (2, 1));
    assert!(
        journal
            .events()
            .contains(&"ContextSucceeded 1  [replay children]".to_owned())
    );
}

#[test]
fn an_empty_child_result_is_replayed_not_rebuilt() {
    // An empty result is a result like any other: only the journaled
    // `replay_children` flag makes a replay run the body again.
    let journal = FakeJournal::with_input("");
    let bodies = Rc::new(RefCell::new(0));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let text = ctx.run_in_child_context_raw(Some("empty"), |_| {
            *bodies.borrow_mut() += 1;
            Ok(String::new())
        })?;
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(text)
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded \"\"");
    assert_eq!(*bodies.borrow(), 1);
    assert!(journal.events().contains(&"ContextSucceeded 1 ".to_owned()));
}

#[test]
fn a_raw_child_result_is_journaled_verbatim() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.run_in_child_context_raw(None, |_| Ok("HELLO".to_owned()))
    };
    assert_eq!(invoke(&journal, handler), "succeeded \"HELLO\"");
    assert_eq!(journal.events()[1], "ContextSucceeded 1 HELLO");
}

/// A branch returning `value` at once.
fn constant<'a>(value: &'a str) -> ParallelBranch<'a, String> {
    ParallelBranch::new(move |_| Ok(value.to_owned()))
}

#[test]
fn a_waiting_branch_does_not_stop_the_others() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let batch = ctx.parallel(
            Some("p"),
            vec![
                ParallelBranch::new(|c| {
                    c.wait(None, Duration::from_secs(5))?;
                    Ok("slow".to_owned())
                }),
                ParallelBranch::new(|c| c.step(|_| Ok::<_, String>("fast".to_owned()))),
            ],
            ParallelConfig::new(),
        )?;
        // Runs only once the parallel is done.
        ctx.step(|_| Ok::<_, String>(0))?;
        Ok(batch.into_results())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded [\"slow\",\"fast\"]");
    assert_eq!(
        journal.events(),
        [
            "ContextStarted 1 Parallel",
            "ContextStarted 1-1 ParallelBranch",
            "WaitStarted 1-1-1 5",
            "ContextStarted 1-2 ParallelBranch",
            "StepStarted 1-2-1 1",
            "StepSucceeded 1-2-1 1 \"fast\"",
            "ContextSucceeded 1-2 \"fast\"",
            "InvocationCompleted",
            "ContextSucceeded 1-1 \"slow\"",
            "ContextSucceeded 1 {\"all\":[{\"index\":0,\"status\":\"SUCCEEDED\",\"result\":\"slow\"},{\"index\":1,\"status\":\"SUCCEEDED\",\"result\":\"fast\"}],\"completionReason\":\"ALL_COMPLETED\"}",
            "StepStarted 2 1",
            "StepSucceeded 2 1 0",
            "InvocationCompleted",
        ]
    );
    let parents: Vec<Option<String>> = journal
        .0
        .borrow()
        .ops
        .iter()
        .map(|op| op.parent_id.clone())
        .collect();
    assert_eq!(
        parents,
        [
            None,
            Some("1".to_owned()),
            Some("1-1".to_owned()),
            Some("1".to_owned()),
            Some("1-2".to_owned()),
            None
        ]
    );
}

#[test]
fn a_suspended_branch_keeps_its_place_among_the_concurrent_ones() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let items = [3_u64, 1, 2];
        let batch = ctx.map(
            None,
            &items,
            |c, seconds, _| {
                c.wait(None, Duration::from_secs(*seconds))?;
                Ok(*seconds)
            },
            MapConfig::new().with_max_concurrency(2),
        )?;
        Ok(batch.into_results())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    // Items 0 and 1 wait; item 2 has not started.
    assert!(
        !journal
            .events()
            .iter()
            .any(|e| e.starts_with("ContextStarted 1-3"))
    );
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded [3,1,2]");
    let events = journal.events();
    let position = |event: &str| events.iter().position(|e| e == event);
    assert!(position("ContextStarted 1-3 MapIteration") > position("InvocationCompleted"));
    assert!(position("ContextSucceeded 1-2 1") < position("ContextStarted 1-3 MapIteration"));
}

#[test]
fn a_batch_completes_early_without_waiting_for_suspended_branches() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let batch = ctx.parallel(
            None,
            vec![
                ParallelBranch::new(|c| {
                    c.wait(None, Duration::from_secs(60))?;
                    Ok("late".to_owned())
                }),
                constant("first"),
                constant("never"),
            ],
            ParallelConfig::new().with_completion(CompletionConfig::first_successful()),
        )?;
        // The waiting branch's suspension does not leak out of the batch.
        let after: u32 = ctx.step(|_| Ok::<_, String>(7))?;
        Ok((
            batch.completion_reason.as_str(),
            batch
                .all
                .iter()
                .map(|item| item.status.as_str())
                .collect::<Vec<_>>(),
            after,
        ))
    };
    let expected = "succeeded [\"MIN_SUCCESSFUL_REACHED\",[\"STARTED\",\"SUCCEEDED\"],7]";
    assert_eq!(invoke(&journal, handler), expected);
    // A replay returns the journaled batch.
    assert_eq!(invoke(&journal, handler), expected);
}

#[test]
fn fail_fast_is_the_default_and_throw_if_error_rethrows() {
    let journal = FakeJournal::with_input("");
    let runs = Rc::new(RefCell::new(0));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let batch = ctx.parallel(
            None,
            vec![
                ParallelBranch::new(|_| Err(DurableError::failed("Boom", "no"))),
                ParallelBranch::new(|_| {
                    *runs.borrow_mut() += 1;
                    Ok(1)
                }),
            ],
            ParallelConfig::new(),
        )?;
        assert_eq!(
            batch.completion_reason,
            CompletionReason::FailureToleranceExceeded
        );
        assert_eq!(batch.total_count(), 1);
        batch.throw_if_error()?;
        Ok(0)
    };
    assert_eq!(invoke(&journal, handler), "failed Boom");
    assert_eq!(invoke(&journal, handler), "failed Boom");
    assert_eq!(*runs.borrow(), 0);
    assert_eq!(journal.events()[2], "ContextFailed 1-1 Boom");
}

#[test]
fn an_invalid_batch_config_is_refused_before_anything_is_journaled() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.parallel(
            None,
            vec![constant("a")],
            ParallelConfig::new().with_max_concurrency(0),
        )
    };
    assert_eq!(invoke(&journal, handler), "failed InvalidArgument");
    assert_eq!(journal.events(), ["InvocationCompleted"]);
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config = ParallelConfig::new()
            .with_completion(CompletionConfig::default().with_min_successful(2));
        ctx.parallel(None, vec![constant("a")], config)
    };
    assert_eq!(invoke(&journal, handler), "failed InvalidArgument");
}

#[test]
fn a_batch_too_large_to_journal_is_rebuilt_from_its_branches() {
    let journal = FakeJournal::with_input("");
    let runs = Rc::new(RefCell::new(0));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let items = [0, 1, 2];
        let batch = ctx.map(
            Some("big"),
            &items,
            |_, _, index| {
                *runs.borrow_mut() += 1;
                if index == 1 {
                    return Err(DurableError::failed("Boom", "no"));
                }
                Ok("x".repeat(MAX_RESULT_BYTES / 2))
            },
            MapConfig::new().with_completion(CompletionConfig::all_completed()),
        )?;
        ctx.wait(None, Duration::from_secs(1))?;
        Ok((
            batch.success_count(),
            batch.failure_count(),
            batch.errors()[0].error_type().map(str::to_owned),
        ))
    };
    assert_eq!(invoke(&journal, handler), "pending");
    let summary = journal.events()[7].clone();
    assert!(
        summary.starts_with("ContextSucceeded 1 {\"type\":\"MapResult\",\"replayChildren\":true")
    );
    assert!(summary.ends_with(" [replay children]"), "{summary}");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded [2,1,\"Boom\"]");
    assert_eq!(*runs.borrow(), 3);
}

#[test]
fn flat_branches_journal_their_operations_under_the_batch() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let batch = ctx.parallel(
            None,
            vec![
                ParallelBranch::named("a", |c| c.step(|_| Ok::<_, String>(1))),
                ParallelBranch::named("b", |c| {
                    c.wait(None, Duration::from_secs(1))?;
                    c.step(|_| Ok::<_, String>(2))
                }),
            ],
            ParallelConfig::new().with_nesting(Nesting::Flat),
        )?;
        Ok(batch.into_results())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded [1,2]");
    let ops: Vec<(String, Option<String>)> = journal
        .0
        .borrow()
        .ops
        .iter()
        .map(|op| (op.id.clone(), op.parent_id.clone()))
        .collect();
    let batch = Some("1".to_owned());
    assert_eq!(
        ops,
        [
            ("1".to_owned(), None),
            ("1-1-1".to_owned(), batch.clone()),
            ("1-2-1".to_owned(), batch.clone()),
            ("1-2-2".to_owned(), batch),
        ]
    );
}

#[test]
fn custom_serdes_journal_items_and_the_whole_batch() {
    struct Tagged;
    impl Serdes<String> for Tagged {
        fn serialize(&self, value: &String) -> Result<String, ErrorObject> {
            Ok(format!("tag:{value}"))
        }
        fn deserialize(&self, text: &str) -> Result<String, ErrorObject> {
            Ok(text.trim_start_matches("tag:").to_owned())
        }
    }
    struct Count;
    impl Serdes<BatchResult<String>> for Count {
        fn serialize(&self, value: &BatchResult<String>) -> Result<String, ErrorObject> {
            Ok(value.results().len().to_string())
        }
        fn deserialize(&self, text: &str) -> Result<BatchResult<String>, ErrorObject> {
            let n: usize = text.parse().map_err(|_| ErrorObject::new("Bad", text))?;
            let items = (0..n)
                .map(|i| BatchItem::succeeded(i, "?".to_owned()))
                .collect();
            Ok(BatchResult::new(items, CompletionReason::AllCompleted))
        }
    }
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let items = ["a", "b"];
        let config = MapConfig::new().with_item_serdes(Tagged).with_serdes(Count);
        let batch = ctx.map(None, &items, |_, item, _| Ok((*item).to_owned()), config)?;
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(batch.into_results())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded [\"?\",\"?\"]");
    let events = journal.events();
    assert_eq!(events[2], "ContextSucceeded 1-1 tag:a");
    assert_eq!(events[5], "ContextSucceeded 1 2");
}

#[test]
fn batch_results_round_trip_through_json() {
    let batch = BatchResult::new(
        vec![
            BatchItem::succeeded(0, serde_json::Value::Null),
            BatchItem::failed(1, ErrorObject::new("Boom", "no").with_data("{}")),
            BatchItem::started(2),
        ],
        CompletionReason::FailureToleranceExceeded,
    );
    let json = serde_json::to_string(&batch).unwrap_or_default();
    assert_eq!(
        json,
        "{\"all\":[{\"index\":0,\"status\":\"SUCCEEDED\"},{\"index\":1,\"status\":\"FAILED\",\"error\":{\"ErrorType\":\"Boom\",\"ErrorMessage\":\"no\",\"ErrorData\":\"{}\"}},{\"index\":2,\"status\":\"STARTED\"}],\"completionReason\":\"FAILURE_TOLERANCE_EXCEEDED\"}"
    );
    let back: BatchResult<serde_json::Value> = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, batch);
    assert_eq!(back.status(), BatchItemStatus::Failed);
    assert!(back.throw_if_error().is_err());
}

#[test]
fn wait_for_condition_polls_until_the_strategy_is_done() {
    let journal = FakeJournal::with_input("");
    let checks = Rc::new(RefCell::new(Vec::new()));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let strategy = WaitStrategy::fixed(Duration::from_secs(2), |n: &u32| *n < 3);
        ctx.wait_for_condition(
            Some("poll"),
            0_u32,
            |n, check| {
                checks.borrow_mut().push((n, check.attempt()));
                Ok::<_, String>(n + 1)
            },
            WaitForConditionConfig::new(strategy),
        )
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded 3");
    assert_eq!(invoke(&journal, handler), "succeeded 3");
    assert_eq!(*checks.borrow(), [(0, 1), (1, 2), (2, 3)]);
    assert_eq!(
        journal.events(),
        [
            "StepStarted 1 1",
            "StepPoll 1 1 1 2",
            "InvocationCompleted",
            "StepStarted 1 2",
            "StepPoll 1 2 2 2",
            "InvocationCompleted",
            "StepStarted 1 3",
            "StepSucceeded 1 3 3",
            "InvocationCompleted",
            "InvocationCompleted",
        ]
    );
}

#[test]
fn a_failing_check_or_an_exhausted_strategy_fails_wait_for_condition() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let result = ctx.wait_for_condition(
            None,
            0,
            |_, _| Err::<i32, _>(ErrorObject::new("CheckError", "no")),
            WaitForConditionConfig::new(WaitStrategy::fixed(Duration::from_secs(1), |_| true)),
        );
        match result {
            Err(DurableError::WaitForConditionFailed(err)) => Ok(err.to_string()),
            other => other.map(|n| n.to_string()),
        }
    };
    assert_eq!(invoke(&journal, handler), "succeeded \"CheckError: no\"");
    assert_eq!(invoke(&journal, handler), "succeeded \"CheckError: no\"");

    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config = WaitStrategyConfig {
            max_attempts: 2,
            jitter: Jitter::None,
            ..WaitStrategyConfig::new(|_: &i32| true)
        };
        ctx.wait_for_condition(
            None,
            0,
            |n, _| Ok::<_, String>(n + 1),
            WaitForConditionConfig::new(WaitStrategy::from_config(config)),
        )
    };
    assert_eq!(invoke(&journal, handler), "pending");
    assert_eq!(journal.events()[1], "StepPoll 1 1 1 5");
    journal.host().advance_time();
    assert_eq!(
        invoke(&journal, handler),
        format!("failed {WAIT_FOR_CONDITION_EXHAUSTED}")
    );
}

#[test]
fn wait_strategy_delays_follow_the_backoff() {
    let config = WaitStrategyConfig::new(|_: &()| true);
    assert_eq!(config.delay_seconds(1, 0.999), 5);
    assert_eq!(config.delay_seconds(2, 0.999), 8);
    assert_eq!(config.delay_seconds(1, 0.0), 1);
    assert_eq!(config.delay_seconds(30, 0.999), 300);
}

#[test]
fn invoke_suspends_until_the_target_ends() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let echoed: String = ctx.invoke(
            Some("call"),
            "echo",
            &"hi",
            InvokeConfig::new().with_tenant_id("t1"),
        )?;
        let failed = ctx.invoke::<_, String>(None, "fail", &1, InvokeConfig::new());
        match failed {
            Err(DurableError::InvokeFailed(err)) => Ok(format!("{echoed} {err}")),
            other => other,
        }
    };
    assert_eq!(invoke(&journal, handler), "pending");
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().complete_invoke("1", Ok("\"hi\""));
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().complete_invoke("2", Err("TargetError"));
    let expected = "succeeded \"hi TargetError: the target failed\"";
    assert_eq!(invoke(&journal, handler), expected);
    assert_eq!(invoke(&journal, handler), expected);
    assert_eq!(
        journal.events(),
        [
            "InvokeStarted 1 echo \"hi\" t1",
            "InvocationCompleted",
            "InvocationCompleted",
            "InvokeStarted 2 fail 1 -",
            "InvocationCompleted",
            "InvocationCompleted",
            "InvocationCompleted",
        ]
    );
}

#[test]
fn callbacks_in_map_items_complete_in_any_order() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let items = ["a", "b"];
        let batch = ctx.map(
            Some("approvals"),
            &items,
            |c, item, _| {
                let answer: String = c.wait_for_callback(
                    Some(item),
                    |_, _| Ok::<_, String>(()),
                    Default::default(),
                )?;
                Ok(format!("{item}:{answer}"))
            },
            MapConfig::new(),
        )?;
        Ok(batch.into_results())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    // Both callbacks were created in the first invocation.
    journal
        .host()
        .complete_callback("1-2-1-1", OperationStatus::Succeeded, "\"yes\"");
    assert_eq!(invoke(&journal, handler), "pending");
    journal
        .host()
        .complete_callback("1-1-1-1", OperationStatus::Succeeded, "\"ok\"");
    assert_eq!(invoke(&journal, handler), "succeeded [\"a:ok\",\"b:yes\"]");
    let started = journal
        .events()
        .iter()
        .take_while(|e| *e != "InvocationCompleted")
        .filter(|e| e.starts_with("CallbackStarted"))
        .count();
    assert_eq!(started, 2);
}

#[test]
fn a_parallel_nests_inside_a_branch() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let outer = ctx.parallel(
            Some("outer"),
            vec![ParallelBranch::new(|c| {
                let inner = c.parallel(
                    Some("inner"),
                    vec![
                        ParallelBranch::new(|c| c.step(|_| Ok::<_, String>("i1".to_owned()))),
                        ParallelBranch::new(|c| {
                            c.wait(None, Duration::from_secs(1))?;
                            c.step(|_| Ok::<_, String>("i2".to_owned()))
                        }),
                    ],
                    ParallelConfig::new().with_max_concurrency(1),
                )?;
                Ok(inner.into_results())
            })],
            ParallelConfig::new(),
        )?;
        Ok(outer.into_results())
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded [[\"i1\",\"i2\"]]");
    let ops = journal.0.borrow();
    let inner = ops.ops.iter().find(|op| op.id == "1-1-1");
    assert_eq!(
        inner.and_then(|op| op.sub_type.clone()).as_deref(),
        Some("Parallel")
    );
    assert_eq!(
        inner.and_then(|op| op.parent_id.clone()).as_deref(),
        Some("1-1")
    );
}

/// Keeps only the first three characters: a lossy serialization.
struct FirstThree;

impl Serdes<String> for FirstThree {
    fn serialize(&self, value: &String) -> Result<String, ErrorObject> {
        Ok(value.chars().take(3).collect())
    }

    fn deserialize(&self, text: &str) -> Result<String, ErrorObject> {
        Ok(format!("<{text}>"))
    }
}

#[test]
fn a_step_with_a_lossy_serdes_returns_the_same_value_on_first_run_and_replay() {
    let journal = FakeJournal::with_input("");
    let seen = Rc::new(RefCell::new(Vec::new()));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config = StepConfig::new().with_serdes(FirstThree);
        let value: String =
            ctx.step_with(None, config, |_| Ok::<_, String>("abcdef".to_owned()))?;
        seen.borrow_mut().push(value.clone());
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(value)
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded \"<abc>\"");
    assert_eq!(*seen.borrow(), ["<abc>", "<abc>"]);
    assert_eq!(journal.events()[1], "StepSucceeded 1 1 abc");
}

#[test]
fn a_branch_with_a_lossy_item_serdes_returns_the_same_value_on_first_run_and_replay() {
    let journal = FakeJournal::with_input("");
    let seen = Rc::new(RefCell::new(Vec::new()));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config = ParallelConfig::new().with_item_serdes(FirstThree);
        let batch = ctx.parallel(None, vec![constant("abcdef")], config)?;
        let value = batch.into_results().concat();
        seen.borrow_mut().push(value.clone());
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(value)
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded \"<abc>\"");
    assert_eq!(*seen.borrow(), ["<abc>", "<abc>"]);
}

#[test]
fn a_step_found_started_knows_it_is_a_rerun() {
    let journal = FakeJournal::with_input("");
    let op = OpRef {
        id: "1".to_owned(),
        parent_id: None,
        name: None,
        sub_type: "Step".to_owned(),
    };
    journal.step_started(&op, 1, false).ok();
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        ctx.step(|step| Ok::<_, String>((step.attempt(), step.is_rerun())))
    };
    assert_eq!(invoke(&journal, handler), "succeeded [1,true]");
    let fresh = FakeJournal::with_input("");
    assert_eq!(invoke(&fresh, handler), "succeeded [1,false]");
}

#[test]
fn retry_and_condition_delays_round_up_alike() {
    for (millis, seconds) in [(1_500, 2), (2_200, 3), (3_000, 3), (100, 1)] {
        let retry = RetryConfig {
            initial_delay: Duration::from_millis(millis),
            jitter: Jitter::None,
            ..RetryConfig::default()
        };
        let mut condition = WaitStrategyConfig::new(|_: &()| true);
        condition.initial_delay = Duration::from_millis(millis);
        condition.jitter = Jitter::None;
        assert_eq!(retry.delay_seconds(1, 0.5), seconds, "retry {millis} ms");
        assert_eq!(
            u64::from(retry.delay_seconds(1, 0.5)),
            condition.delay_seconds(1, 0.5),
            "{millis} ms"
        );
    }
}

#[test]
fn fixed_retries_and_limited_fixed_polling() {
    let err = ErrorObject::new("Flaky", "again");
    let retry = RetryStrategy::fixed(Duration::from_millis(1_500), 3);
    assert_eq!(
        retry.decide(&err, 1),
        RetryDecision::Retry(Duration::from_secs(2))
    );
    assert_eq!(
        retry.decide(&err, 2),
        RetryDecision::Retry(Duration::from_secs(2))
    );
    assert_eq!(retry.decide(&err, 3), RetryDecision::NoRetry);
    let poll = WaitStrategy::fixed(Duration::from_secs(1), |n: &u32| *n < 10).with_max_attempts(2);
    assert_eq!(
        poll.decide(&0, 1).ok(),
        Some(WaitDecision::ContinueAfter(Duration::from_secs(1)))
    );
    let exhausted = poll.decide(&0, 2).err();
    assert!(
        exhausted.is_some_and(|e| e.is_type("WaitForConditionExhausted")),
        "a state still polling after the last check fails"
    );
    assert_eq!(poll.decide(&10, 2).ok(), Some(WaitDecision::Done));
}

#[test]
fn wait_for_callback_tells_timeouts_by_status_not_by_error_type() {
    let handler = |_: serde_json::Value, ctx: &DurableContext| match ctx
        .wait_for_callback::<String, String, _>(
            None,
            |_, _| Ok(()),
            WaitForCallbackConfig::default(),
        ) {
        Err(DurableError::CallbackTimedOut(_)) => Ok("timed out".to_owned()),
        Err(DurableError::CallbackFailed(_)) => Ok("failed".to_owned()),
        other => other,
    };
    // A completer may fail a callback with any error type, even one that
    // reads like a timeout: it is a failure.
    let failed = FakeJournal::with_input("");
    assert_eq!(invoke(&failed, handler), "pending");
    failed
        .host()
        .complete_callback("1-1", OperationStatus::Failed, "Callback.Timeout");
    assert_eq!(invoke(&failed, handler), "succeeded \"failed\"");
    assert_eq!(invoke(&failed, handler), "succeeded \"failed\"");
    // A callback the host timed out is a timeout whatever its error says.
    let timed_out = FakeJournal::with_input("");
    assert_eq!(invoke(&timed_out, handler), "pending");
    timed_out
        .host()
        .complete_callback("1-1", OperationStatus::TimedOut, "SomeTimeout");
    assert_eq!(invoke(&timed_out, handler), "succeeded \"timed out\"");
    assert_eq!(invoke(&timed_out, handler), "succeeded \"timed out\"");
}

#[test]
fn callback_results_read_with_a_serdes() {
    struct Wrapped;
    impl Serdes<String> for Wrapped {
        fn serialize(&self, value: &String) -> Result<String, ErrorObject> {
            Ok(format!("wrapped:{value}"))
        }
        fn deserialize(&self, text: &str) -> Result<String, ErrorObject> {
            text.strip_prefix("wrapped:")
                .map(str::to_owned)
                .ok_or_else(|| ErrorObject::new("SerdesError", "not wrapped"))
        }
    }
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let callback = ctx.create_callback(
            None,
            CallbackConfig::new().with_timeout(Duration::from_secs(5)),
        )?;
        let direct = callback.result_with_serdes(&Wrapped)?;
        let config = WaitForCallbackConfig::new()
            .with_timeout(Duration::from_secs(5))
            .with_retry_strategy(RetryStrategy::fixed(Duration::from_secs(1), 2));
        let waited =
            ctx.wait_for_callback_with_serdes(None, |_, _| Ok::<_, String>(()), config, &Wrapped)?;
        Ok(format!("{direct}+{waited}"))
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal
        .host()
        .complete_callback("1", OperationStatus::Succeeded, "wrapped:a");
    assert_eq!(invoke(&journal, handler), "pending");
    journal
        .host()
        .complete_callback("2-1", OperationStatus::Succeeded, "wrapped:b");
    assert_eq!(invoke(&journal, handler), "succeeded \"a+b\"");
}

#[test]
fn bodies_that_cannot_fail_need_no_error_type() {
    let journal = FakeJournal::with_input("");
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let a = ctx.step(|_| ok(1))?;
        let b = ctx.step_named("b", |step| -> StepResult<_> {
            let n: u32 = serde_json::from_str("2")?;
            Ok(n + step.attempt() - 1)
        })?;
        let state = ctx.wait_for_condition(
            None,
            0u32,
            |n, _| ok(n + 1),
            WaitForConditionConfig::new(WaitStrategy::custom(|_, _| WaitDecision::Done)),
        )?;
        Ok(a + b + state)
    };
    assert_eq!(invoke(&journal, handler), "succeeded 4");
}

#[test]
fn a_condition_state_with_a_lossy_serdes_is_the_same_on_first_run_and_replay() {
    let journal = FakeJournal::with_input("");
    let seen = Rc::new(RefCell::new(Vec::new()));
    let handler = |_: serde_json::Value, ctx: &DurableContext| {
        let config =
            WaitForConditionConfig::new(WaitStrategy::custom(|_: &String, _| WaitDecision::Done))
                .with_serdes(FirstThree);
        let state =
            ctx.wait_for_condition(None, String::new(), |_, _| ok("abcdef".to_owned()), config)?;
        seen.borrow_mut().push(state.clone());
        ctx.wait(None, Duration::from_secs(1))?;
        Ok(state)
    };
    assert_eq!(invoke(&journal, handler), "pending");
    journal.host().advance_time();
    assert_eq!(invoke(&journal, handler), "succeeded \"<abc>\"");
    assert_eq!(*seen.borrow(), ["<abc>", "<abc>"]);
}
