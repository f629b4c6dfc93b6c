//! State shared by every context of one invocation: the loaded journal, the
//! replay flag, and whether the invocation must stop (suspension,
//! non-determinism, journal trouble).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use crate::durable::DurableError;
use crate::durable::journal::Journal;
use crate::durable_bindings::lamina::durable::types::{
    ExecutionState, JournalError, OpRef, Operation, OperationStatus, OperationType,
};

/// Why the whole invocation stops, once it must. Suspension is not here: it
/// is scoped (see [`Execution::scoped`]).
#[derive(Debug, Clone)]
enum Halt {
    /// The code and the journal disagree.
    NonDeterministic(String),
    /// The host ended the execution.
    ExecutionEnded(String),
    /// The journal refused or failed an update.
    Journal(String),
}

impl Halt {
    /// The error every later operation returns.
    fn error(&self) -> DurableError {
        match self {
            Self::NonDeterministic(message) => DurableError::NonDeterministic(message.clone()),
            Self::ExecutionEnded(message) => DurableError::ExecutionEnded(message.clone()),
            Self::Journal(message) => DurableError::Journal(message.clone()),
        }
    }
}

/// One invocation of a durable execution.
pub(crate) struct Execution {
    journal: Box<dyn Journal>,
    arn: String,
    function_name: String,
    input: String,
    /// Recorded operations by id (without the `execution` operation).
    ops: HashMap<String, Operation>,
    /// Ids of the recorded operations that had ended when the state loaded.
    ended: HashSet<String>,
    /// Ended operations the code has gone past (replayed).
    visited: RefCell<HashSet<String>>,
    replaying: Cell<bool>,
    in_step: Cell<bool>,
    halt: RefCell<Option<Halt>>,
    /// Suspension scopes, innermost last: whether code running in the scope
    /// suspended. The invocation's own scope is the first; each branch of a
    /// parallel or map runs in its own, so one branch suspending does not
    /// stop the others.
    suspended: RefCell<Vec<bool>>,
}

impl Execution {
    /// Starts an invocation from the state the journal loaded.
    pub(crate) fn new(journal: Box<dyn Journal>, state: ExecutionState) -> Self {
        let ops: HashMap<String, Operation> = state
            .operations
            .into_iter()
            .filter(|op| op.op_type != OperationType::Execution)
            .map(|op| (op.id.clone(), op))
            .collect();
        let ended = ops
            .values()
            .filter(|op| has_ended(op.status))
            .map(|op| op.id.clone())
            .collect();
        let replaying = !ops.is_empty();
        Self {
            journal,
            arn: state.arn,
            function_name: state.function_name,
            input: state.input,
            ops,
            ended,
            visited: RefCell::new(HashSet::new()),
            replaying: Cell::new(replaying),
            in_step: Cell::new(false),
            halt: RefCell::new(None),
            suspended: RefCell::new(vec![false]),
        }
    }

    /// The journal imports.
    pub(crate) fn journal(&self) -> &dyn Journal {
        self.journal.as_ref()
    }

    /// The execution's ARN.
    pub(crate) fn arn(&self) -> &str {
        &self.arn
    }

    /// The function name the execution runs under.
    pub(crate) fn function_name(&self) -> &str {
        &self.function_name
    }

    /// The execution input (JSON text).
    pub(crate) fn input(&self) -> &str {
        &self.input
    }

    /// Whether the code is still going over operations the journal has.
    pub(crate) fn is_replaying(&self) -> bool {
        self.replaying.get()
    }

    /// Errors if no operation may start now: the invocation must stop, the
    /// current scope suspended, or the call comes from inside a step body.
    pub(crate) fn check(&self) -> Result<(), DurableError> {
        if let Some(err) = self.halted() {
            return Err(err);
        }
        if self.in_step.get() {
            return Err(DurableError::InvalidArgument(
                "durable operations cannot run inside a step".to_owned(),
            ));
        }
        Ok(())
    }

    /// The error the current scope stops with, if it must stop: a halt of
    /// the whole invocation, or the suspension of the current scope.
    pub(crate) fn halted(&self) -> Option<DurableError> {
        if let Some(halt) = self.halt.borrow().as_ref() {
            return Some(halt.error());
        }
        let suspended = self.suspended.borrow().last().copied().unwrap_or(false);
        suspended.then_some(DurableError::Suspended)
    }

    /// Whether the whole invocation must stop (not just the current scope).
    pub(crate) fn must_stop(&self) -> Option<DurableError> {
        self.halt.borrow().as_ref().map(Halt::error)
    }

    /// Marks the current scope suspended and returns the suspension signal
    /// (or the invocation's halt, if it has one).
    pub(crate) fn suspend(&self) -> DurableError {
        if let Some(err) = self.must_stop() {
            return err;
        }
        if let Some(top) = self.suspended.borrow_mut().last_mut() {
            *top = true;
        }
        DurableError::Suspended
    }

    /// Runs `body` in a suspension scope of its own; returns what it
    /// returned and whether it suspended.
    pub(crate) fn scoped<R>(&self, body: impl FnOnce() -> R) -> (R, bool) {
        self.suspended.borrow_mut().push(false);
        let result = body();
        let suspended = self.suspended.borrow_mut().pop().unwrap_or(false);
        (result, suspended)
    }

    /// Marks the execution non-deterministic (this wins over everything).
    fn fail_non_deterministic(&self, message: String) -> DurableError {
        let halt = Halt::NonDeterministic(message);
        let err = halt.error();
        *self.halt.borrow_mut() = Some(halt);
        err
    }

    /// Records a refused journal call and returns the error for it.
    pub(crate) fn journal_failed(&self, err: JournalError) -> DurableError {
        let halt = match err {
            JournalError::ExecutionEnded(message) => Halt::ExecutionEnded(message),
            JournalError::Invalid(message) => Halt::Journal(format!("invalid update: {message}")),
            JournalError::Storage(message) => Halt::Journal(format!("storage failed: {message}")),
        };
        let mut slot = self.halt.borrow_mut();
        match slot.as_ref() {
            Some(kept @ Halt::NonDeterministic(_)) => kept.error(),
            _ => {
                let err = halt.error();
                *slot = Some(halt);
                err
            }
        }
    }

    /// Runs a step body, during which durable operations are refused.
    pub(crate) fn in_step<R>(&self, body: impl FnOnce() -> R) -> R {
        self.in_step.set(true);
        let result = body();
        self.in_step.set(false);
        result
    }

    /// The recorded status of operation `id`, without counting it as
    /// reached (for reading the state of a child the code has replayed).
    pub(crate) fn recorded_status(&self, id: &str) -> Option<OperationStatus> {
        self.ops.get(id).map(|op| op.status)
    }

    /// Looks up the recorded operation for `op`, checking that the code
    /// asks for the same kind of operation the journal recorded.
    pub(crate) fn lookup(
        &self,
        op: &OpRef,
        op_type: OperationType,
    ) -> Result<Option<Operation>, DurableError> {
        let Some(recorded) = self.ops.get(&op.id) else {
            self.replaying.set(false);
            return Ok(None);
        };
        if let Some(message) = mismatch(recorded, op_type, &op.sub_type, op.name.as_deref()) {
            return Err(self.fail_non_deterministic(message));
        }
        self.visit(recorded);
        Ok(Some(recorded.clone()))
    }

    /// Tracks replay progress when the code reaches a recorded operation.
    fn visit(&self, op: &Operation) {
        if !has_ended(op.status) {
            // A running child context is replayed through its children.
            if op.op_type != OperationType::Context {
                self.replaying.set(false);
            }
            return;
        }
        let mut visited = self.visited.borrow_mut();
        visited.insert(op.id.clone());
        if op.op_type == OperationType::Context {
            // Its children are not run again: count them as replayed too.
            let prefix = format!("{}-", op.id);
            visited.extend(
                self.ended
                    .iter()
                    .filter(|id| id.starts_with(&prefix))
                    .cloned(),
            );
        }
        if visited.len() >= self.ended.len() {
            self.replaying.set(false);
        }
    }
}

/// Whether an operation in this status has ended.
pub(crate) fn has_ended(status: OperationStatus) -> bool {
    matches!(
        status,
        OperationStatus::Succeeded
            | OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped
    )
}

/// Explains how the recorded operation differs from the one the code asks
/// for, or `None` if they match. Names are compared only when both sides
/// have one, sub-types only when the journal has one.
pub(crate) fn mismatch(
    recorded: &Operation,
    op_type: OperationType,
    sub_type: &str,
    name: Option<&str>,
) -> Option<String> {
    let type_differs = recorded.op_type != op_type;
    let sub_type_differs = recorded.sub_type.as_deref().is_some_and(|s| s != sub_type);
    let name_differs = matches!((recorded.name.as_deref(), name), (Some(a), Some(b)) if a != b);
    if !(type_differs || sub_type_differs || name_differs) {
        return None;
    }
    Some(format!(
        "operation {} is {} in the journal but {} in the code",
        recorded.id,
        describe(
            recorded.op_type,
            recorded.sub_type.as_deref(),
            recorded.name.as_deref()
        ),
        describe(op_type, Some(sub_type), name),
    ))
}

/// `type/sub-type/name`, with `-` for what is missing.
fn describe(op_type: OperationType, sub_type: Option<&str>, name: Option<&str>) -> String {
    let op_type = match op_type {
        OperationType::Execution => "execution",
        OperationType::Context => "context",
        OperationType::Step => "step",
        OperationType::Wait => "wait",
        OperationType::Callback => "callback",
        OperationType::ChainedInvoke => "chained-invoke",
    };
    let name = name.map_or_else(|| "-".to_owned(), |name| format!("{name:?}"));
    format!("{op_type}/{}/{name}", sub_type.unwrap_or("-"))
}
