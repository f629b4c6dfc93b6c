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

    fn step_started(&self, op: &OpRef, attempt: u32) -> Result<(), JournalError> {
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

    fn context_succeeded(&self, op: &OpRef, result: &str) -> Result<(), JournalError> {
        let mut host = self.host();
        let recorded = host.op_mut(&op.id);
        recorded.status = OperationStatus::Succeeded;
        recorded.result = Some(result.to_owned());
        host.events
            .push(format!("ContextSucceeded {} {result}", op.id));
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
    journal.step_started(&op, 1).ok();
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
