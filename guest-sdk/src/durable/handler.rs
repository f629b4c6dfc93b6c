//! Runs a durable handler for one invocation and turns what it returned
//! into the `outcome` the host expects; the
//! [`durable_handler!`](crate::durable_handler!) macro that exports it.

use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::journal::{Journal, WitJournal};
use crate::durable::state::Execution;
use crate::durable::{DurableContext, DurableError, ErrorObject};
use crate::durable_bindings::lamina::durable::types::Outcome;

/// Runs `f` against the host's journal. Used by
/// [`durable_handler!`](crate::durable_handler!).
#[doc(hidden)]
pub fn run_durable<E, R, F>(f: F) -> Outcome
where
    E: DeserializeOwned,
    R: Serialize,
    F: FnOnce(E, &DurableContext) -> Result<R, DurableError>,
{
    run_with(Box::new(WitJournal), f)
}

/// Runs `f` against `journal`.
pub(crate) fn run_with<E, R, F>(journal: Box<dyn Journal>, f: F) -> Outcome
where
    E: DeserializeOwned,
    R: Serialize,
    F: FnOnce(E, &DurableContext) -> Result<R, DurableError>,
{
    let state = journal.load_state();
    let exec = Rc::new(Execution::new(journal, state));
    let input = exec.input().trim();
    let input = if input.is_empty() { "null" } else { input };
    let event: E = match serde_json::from_str(input) {
        Ok(event) => event,
        Err(err) => {
            return failed(ErrorObject::new(
                "InvalidPayload",
                format!("input could not be parsed: {err}"),
            ));
        }
    };
    let ctx = DurableContext::root(Rc::clone(&exec));
    let result = f(event, &ctx);
    outcome(exec.halted(), result)
}

/// The outcome of an invocation: a halt (suspension, non-determinism,
/// journal trouble) wins over whatever the handler returned.
fn outcome<R: Serialize>(halt: Option<DurableError>, result: Result<R, DurableError>) -> Outcome {
    let result = match halt {
        Some(halt) => Err(halt),
        None => result,
    };
    match result {
        Ok(value) => match serde_json::to_string(&value) {
            Ok(json) => Outcome::Succeeded(json),
            Err(err) => failed(ErrorObject::new(
                "InvalidOutput",
                format!("output could not be serialized: {err}"),
            )),
        },
        Err(DurableError::Suspended | DurableError::ExecutionEnded(_)) => Outcome::Pending,
        Err(err) => failed(err.error_object()),
    }
}

/// A failed outcome.
fn failed(error: ErrorObject) -> Outcome {
    Outcome::Failed(error.into())
}

/// Exports a durable function as this component's `lamina:durable/handler`
/// (world `lamina:durable/durable-function`).
///
/// The argument is a function (or closure) with the shape
///
/// ```text
/// fn(event: E, ctx: &DurableContext) -> Result<R, DurableError>
/// where E: serde::de::DeserializeOwned, R: serde::Serialize
/// ```
///
/// Every invocation runs it from the top: `event` is the execution input
/// parsed from JSON (empty input is `null`; input that does not parse fails
/// the execution with `InvalidPayload`), and operations the journal already
/// has return their recorded results. `Ok(r)` ends the execution with `r`
/// as JSON; [`DurableError::Suspended`] (or any suspension the handler
/// swallowed) makes the host re-invoke later; a non-determinism anywhere
/// fails it with `NonDeterministicExecution`; any other error fails it with
/// [`DurableError::error_object`].
///
/// ```no_run
/// use lamina_sdk::durable::{DurableContext, DurableError};
///
/// fn handle(name: String, ctx: &DurableContext) -> Result<String, DurableError> {
///     ctx.step(|_| Ok::<_, String>(format!("Hello, {name}!")))
/// }
///
/// lamina_sdk::durable_handler!(handle);
/// ```
///
/// Use it once per component, at module level, and not together with the
/// `lamina:function` macros.
#[macro_export]
macro_rules! durable_handler {
    ($handler:expr $(,)?) => {
        const _: () = {
            struct LaminaDurableHandler;

            impl $crate::__private::durable::Guest for LaminaDurableHandler {
                fn handle() -> $crate::__private::durable::Outcome {
                    $crate::__private::durable::run_durable($handler)
                }
            }

            $crate::__private::durable::export!(
                LaminaDurableHandler with_types_in $crate::durable_bindings
            );
        };
    };
}
