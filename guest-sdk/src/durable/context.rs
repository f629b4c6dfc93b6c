//! [`DurableContext`]: what a durable handler and its child contexts use to
//! run operations.

use std::cell::Cell;
use std::rc::Rc;

use crate::durable::logger::Logger;
use crate::durable::state::Execution;
use crate::durable_bindings::lamina::durable::types::OpRef;

/// The handle a durable handler runs its operations through: steps, waits,
/// callbacks and child contexts.
///
/// Each operation gets a deterministic id from a per-context counter:
/// `"1"`, `"2"`, … at the top level and `"{parent}-1"`, `"{parent}-2"`, …
/// inside the child context with id `parent`. The code must therefore run
/// the same operations in the same order on every replay; one that differs
/// from the journal (another kind or name at the same id) fails the
/// execution as `NonDeterministicExecution`.
pub struct DurableContext {
    exec: Rc<Execution>,
    /// The context operation this context's operations belong to.
    parent_id: Option<String>,
    /// What this context's operation ids start with: the parent id, except
    /// in a virtual context (a flat branch of a parallel or map), which
    /// has ids of its own but reports its operations to the batch.
    id_prefix: Option<String>,
    counter: Cell<u32>,
}

impl DurableContext {
    /// The top-level context of an invocation.
    pub(crate) fn root(exec: Rc<Execution>) -> Self {
        Self {
            exec,
            parent_id: None,
            id_prefix: None,
            counter: Cell::new(0),
        }
    }

    /// The context of the child context operation `parent_id`.
    pub(crate) fn child(&self, parent_id: String) -> Self {
        Self {
            exec: Rc::clone(&self.exec),
            parent_id: Some(parent_id.clone()),
            id_prefix: Some(parent_id),
            counter: Cell::new(0),
        }
    }

    /// A virtual child context: its operations get ids below `id_prefix`
    /// (an operation that is never journaled) but belong to this
    /// context's parent.
    pub(crate) fn virtual_child(&self, id_prefix: String) -> Self {
        Self {
            exec: Rc::clone(&self.exec),
            parent_id: self.parent_id.clone(),
            id_prefix: Some(id_prefix),
            counter: Cell::new(0),
        }
    }

    /// The invocation's shared state.
    pub(crate) fn exec(&self) -> &Rc<Execution> {
        &self.exec
    }

    /// Names the next operation of this context.
    pub(crate) fn next_op(&self, name: Option<&str>, sub_type: &str) -> OpRef {
        let n = self.counter.get() + 1;
        self.counter.set(n);
        OpRef {
            id: operation_id(self.id_prefix.as_deref(), n),
            parent_id: self.parent_id.clone(),
            name: name.map(str::to_owned),
            sub_type: sub_type.to_owned(),
        }
    }

    /// The execution's ARN.
    pub fn execution_arn(&self) -> &str {
        self.exec.arn()
    }

    /// The function name the execution runs under.
    pub fn function_name(&self) -> &str {
        self.exec.function_name()
    }

    /// The execution input exactly as given (JSON text).
    pub fn raw_input(&self) -> &str {
        self.exec.input()
    }

    /// The id of the child context operation this context runs in (`None`
    /// at the top level).
    pub fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_deref()
    }

    /// Whether the code is replaying operations the journal already has.
    ///
    /// True from the start of an invocation that has recorded operations
    /// until the code reaches an operation that is not recorded or has not
    /// ended yet, or has gone past every ended one.
    pub fn is_replaying(&self) -> bool {
        self.exec.is_replaying()
    }

    /// A logger that is silent while replaying (see [`Logger`]).
    pub fn logger(&self) -> Logger {
        Logger::replay_aware(Rc::clone(&self.exec))
    }
}

/// The id of the `n`th operation (1-based) of the context `parent_id`.
pub(crate) fn operation_id(parent_id: Option<&str>, n: u32) -> String {
    match parent_id {
        Some(parent) => format!("{parent}-{n}"),
        None => n.to_string(),
    }
}
