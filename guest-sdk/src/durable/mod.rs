//! Durable functions: handlers that survive crashes, wait for hours and
//! call back into the outside world, written as plain sequential Rust.
//!
//! A durable function is a component exporting world
//! `lamina:durable/durable-function`; export one with
//! [`durable_handler!`](crate::durable_handler!). An **execution** of it is
//! a sequence of **invocations**, and every invocation runs the handler
//! from the top. The handler does its work through **operations** on the
//! [`DurableContext`] it is given:
//!
//! * [`step`](DurableContext::step) runs a closure and journals its result
//!   (or its failure, after the [`RetryStrategy`] gave up);
//! * [`wait`](DurableContext::wait) sleeps for a while;
//! * [`create_callback`](DurableContext::create_callback) and
//!   [`wait_for_callback`](DurableContext::wait_for_callback) wait for an
//!   external system to complete a callback id;
//! * [`run_in_child_context`](DurableContext::run_in_child_context) groups
//!   operations under one journaled result;
//! * [`parallel`](DurableContext::parallel) and [`map`](DurableContext::map)
//!   run branches (items) as child contexts, with a concurrency limit and
//!   a [`CompletionConfig`], and return a [`BatchResult`];
//! * [`wait_for_condition`](DurableContext::wait_for_condition) polls a
//!   check until a [`WaitStrategy`] says the condition is met;
//! * [`invoke`](DurableContext::invoke) runs another function and waits for
//!   its result.
//!
//! The host journals every operation before the call returns. When a later
//! invocation replays the handler, an operation the journal has already
//! completed returns its recorded result at once, without running its body
//! again: a step's side effects happen once per attempt, not once per
//! invocation. Anything that has to wait (a timer, a retry delay, a
//! callback, an invoked function) **suspends** the execution: the operation returns
//! [`DurableError::Suspended`], the handler passes it on with `?`, the
//! invocation ends and the execution holds no instance until the host
//! re-invokes it.
//!
//! # Rules of the programming model
//!
//! * Run the same operations in the same order on every invocation:
//!   operation ids come from a per-context counter (`"1"`, `"2"`, … at the
//!   top level, `"{parent}-{n}"` in a child context). Code that runs
//!   another kind or name of operation at an id than the journal recorded
//!   fails the execution with `NonDeterministicExecution`.
//! * Put everything non-deterministic (clocks, randomness, I/O) inside
//!   steps, and no durable operation inside a step body.
//! * Errors may be caught (a failed step can be answered with a fallback),
//!   but suspension cannot: once an operation suspended, every later one
//!   returns [`DurableError::Suspended`] too and the invocation ends
//!   suspended whatever the handler returns. (Inside a branch of a
//!   parallel or map, the suspension is the branch's: the other branches
//!   still run.)
//! * Log through [`DurableContext::logger`] (silent while replaying) or,
//!   in a step, [`StepContext::logger`].
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use lamina_sdk::durable::{
//!     DurableContext, DurableError, ErrorObject, RetryStrategy, StepConfig, WaitForCallbackConfig,
//! };
//!
//! #[derive(serde::Deserialize)]
//! struct Order {
//!     id: String,
//!     amount: u64,
//! }
//!
//! #[derive(serde::Deserialize)]
//! struct Approval {
//!     approved: bool,
//! }
//!
//! fn handle(order: Order, ctx: &DurableContext) -> Result<String, DurableError> {
//!     // Runs once; replays return the journaled value.
//!     let reserved: u64 = ctx.step_with(
//!         Some("reserve"),
//!         StepConfig::new().with_retry_strategy(RetryStrategy::none()),
//!         |step| {
//!             step.logger().info(format!("reserving {} for {}", order.amount, order.id));
//!             if order.amount == 0 {
//!                 return Err(ErrorObject::new("InvalidOrder", "nothing to reserve"));
//!             }
//!             Ok(order.amount)
//!         },
//!     )?;
//!
//!     // Suspends until someone completes the callback (or an hour passed).
//!     let config = WaitForCallbackConfig {
//!         timeout: Some(Duration::from_secs(3600)),
//!         ..WaitForCallbackConfig::default()
//!     };
//!     let approval: Approval = ctx.wait_for_callback(
//!         Some("approval"),
//!         |callback_id, step| {
//!             step.logger().info(format!("approve with callback {callback_id}"));
//!             Ok::<_, String>(())
//!         },
//!         config,
//!     )?;
//!     if !approval.approved {
//!         return Ok("declined".to_owned());
//!     }
//!
//!     // A durable timer: no instance is held while it runs.
//!     ctx.wait(Some("cool-down"), Duration::from_secs(60))?;
//!     ctx.logger().info("order done");
//!     Ok(format!("charged {reserved}"))
//! }
//!
//! lamina_sdk::durable_handler!(handle);
//! ```

mod batch;
mod callback;
mod child;
mod condition;
mod context;
mod error;
mod handler;
mod invoke;
mod journal;
mod logger;
mod retry;
mod serdes;
mod state;
mod step;
mod wait;

#[cfg(test)]
mod tests;

pub use batch::{
    BatchItem, BatchItemStatus, BatchResult, CompletionConfig, CompletionReason, MapConfig,
    Nesting, ParallelBranch, ParallelConfig,
};
pub use callback::{CALLBACK_TIMEOUT, Callback, CallbackConfig};
pub use child::{MAX_RESULT_BYTES, WaitForCallbackConfig};
pub use condition::{
    WAIT_FOR_CONDITION_EXHAUSTED, WaitDecision, WaitForConditionConfig, WaitStrategy,
    WaitStrategyConfig,
};
pub use context::DurableContext;
pub use error::{DurableError, ErrorObject, StepResult, ok};
#[doc(hidden)]
pub use handler::run_durable;
pub use invoke::InvokeConfig;
pub use logger::Logger;
pub use retry::{Jitter, RetryConfig, RetryDecision, RetryStrategy};
pub use serdes::{JsonSerdes, Serdes};
pub use step::{STEP_INTERRUPTED, StepConfig, StepContext, StepSemantics, TypedStepConfig};
