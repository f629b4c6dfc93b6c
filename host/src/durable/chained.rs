//! Chained invokes: the target of an invoke runs in the background (a
//! durable target as a child execution, any other function through an
//! [`Invoker`]: a handler function as one invocation in its mode) and the
//! operation completes when it ends.

use super::model::{ErrorType, HostTransition, plan_host};
use super::{Durable, DurableError};
use crate::engine::LaminaEngine;
use crate::journal::{
    ChainedInvokeDetails, ErrorObject, ExecutionStatus, JournalError, execution_arn,
};
use crate::modes::managed::ManagedPool;
use crate::modes::standard::{self, HandlerOutput};
use crate::registry::Function;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A function a chained invoke can run besides durable functions.
#[derive(Clone)]
pub enum InvokeTarget {
    /// A handler function in standard mode.
    Standard(Arc<Function>),
    /// A handler function in managed mode.
    Managed(Arc<ManagedPool>),
    /// Another kind of function (cannot be invoked this way).
    Other(Arc<Function>),
}

/// What [`Invoker::invoke`] returns: the target's result (JSON text) or its error.
pub type InvokeFuture<'a> = Pin<Box<dyn Future<Output = Result<String, ErrorObject>> + Send + 'a>>;

/// Runs the target of a chained invoke that is not a durable function, once.
pub trait Invoker: Send + Sync {
    /// Invokes `function` with `payload` (JSON text).
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a str) -> InvokeFuture<'a>;
}

/// The host's other functions as chained-invoke targets: handler functions
/// run once in their mode; any other kind is refused.
pub struct HandlerTargets {
    /// The engine standard-mode targets run on.
    pub engine: Arc<LaminaEngine>,
    /// The targets by name.
    pub targets: BTreeMap<String, InvokeTarget>,
}

impl Invoker for HandlerTargets {
    fn invoke<'a>(&'a self, function: &'a str, payload: &'a str) -> InvokeFuture<'a> {
        Box::pin(async move {
            let request_id = uuid::Uuid::new_v4().to_string();
            let out = match self.targets.get(function) {
                None => {
                    return Err(ErrorType::ResourceNotFound
                        .error(format!("Function not found: {function}")));
                }
                Some(InvokeTarget::Other(f)) => {
                    return Err(ErrorType::InvalidParameterValue.error(format!(
                        "function `{}` is an {} function and cannot be invoked",
                        f.name,
                        f.kind.as_str()
                    )));
                }
                Some(InvokeTarget::Standard(f)) => {
                    standard::invoke_handler(&self.engine, f, &request_id, payload.as_bytes()).await
                }
                Some(InvokeTarget::Managed(pool)) => {
                    pool.invoke(&request_id, payload.as_bytes()).await
                }
            };
            match out {
                Ok((HandlerOutput::Ok(bytes), _)) => {
                    Ok(String::from_utf8_lossy(&bytes).into_owned())
                }
                Ok((
                    HandlerOutput::FunctionError {
                        error_type,
                        error_message,
                    },
                    _,
                )) => Err(ErrorObject {
                    error_type: Some(error_type),
                    error_message: Some(error_message),
                    ..ErrorObject::default()
                }),
                Err(e) => Err(ErrorType::of_invoke_error(&e).error(e.to_string())),
            }
        })
    }
}

impl Durable {
    /// The ARN a chained invoke of `target` reports: the child execution's
    /// when the target is durable, else an id for the one invocation.
    pub(crate) fn chained_execution_arn(&self, target: &str) -> String {
        if self.functions.contains_key(target) {
            execution_arn(target)
        } else {
            format!("arn:lamina:invocation:{target}:{}", uuid::Uuid::new_v4())
        }
    }

    /// Runs the target of a chained invoke in the background and completes
    /// the operation when it ends.
    pub(crate) fn spawn_chained(
        self: &Arc<Self>,
        arn: String,
        op_id: String,
        c: ChainedInvokeDetails,
    ) {
        let me = self.clone();
        tokio::spawn(async move {
            let outcome = me.run_target(&arn, &op_id, &c).await;
            if let Err(e) = me.complete_chained(&arn, &op_id, outcome).await {
                tracing::error!(execution = %arn, op = %op_id, "completing a chained invoke: {e}");
            }
        });
    }

    /// Runs a chained invoke's target to its end.
    async fn run_target(
        self: &Arc<Self>,
        parent: &str,
        op_id: &str,
        c: &ChainedInvokeDetails,
    ) -> Result<String, ErrorObject> {
        let payload = c.input.clone().unwrap_or_else(|| "null".into());
        if let Some(f) = self.functions.get(&c.function_name).cloned() {
            // A durable target: a child execution, named after the parent
            // operation so that a restart finds it instead of starting another.
            let arn = c
                .execution_arn
                .clone()
                .unwrap_or_else(|| execution_arn(&f.name));
            let parent_id = parent.rsplit(':').next().unwrap_or(parent);
            let name: String = format!("{parent_id}-{op_id}")
                .chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || *ch == '-' || *ch == '_')
                .take(64)
                .collect();
            let child = match self.start_execution_as(&f, arn, Some(name), payload).await {
                Ok(s) => s.execution.arn,
                Err(DurableError::Journal(JournalError::ExecutionExists { arn })) => arn,
                Err(e) => return Err(ErrorType::ChainedInvokeError.error(e.to_string())),
            };
            loop {
                match self.wait_for_end(&child, Duration::from_secs(3600)).await {
                    Ok(e) if e.status == ExecutionStatus::Succeeded => {
                        return Ok(e.result.unwrap_or_else(|| "null".into()));
                    }
                    Ok(e) if e.status.is_terminal() => {
                        return Err(e.error.unwrap_or_else(|| ErrorObject {
                            error_type: Some(e.status.as_str().to_owned()),
                            error_message: Some(format!(
                                "execution {child} ended {}",
                                e.status.as_str()
                            )),
                            ..ErrorObject::default()
                        }));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(ErrorType::ChainedInvokeError.error(e.to_string())),
                }
            }
        }
        self.invoker.invoke(&c.function_name, &payload).await
    }

    /// Records the end of a chained invoke and re-invokes its execution.
    async fn complete_chained(
        self: &Arc<Self>,
        arn: &str,
        op_id: &str,
        outcome: Result<String, ErrorObject>,
    ) -> Result<(), DurableError> {
        self.invocation_finished(arn).await;
        let _g = self.lock_execution(arn).await;
        let (execution, op) = self.execution_and_op(arn, Some(op_id)).await?;
        let transition = HostTransition::InvokeEnded(outcome);
        let plan = plan_host(
            self.clock.now_ms(),
            Some(&execution),
            op.as_ref(),
            transition,
        )?;
        if plan.batch.is_empty() {
            // Ended, or the operation moved on: nothing to record.
            return Ok(());
        }
        self.journal.apply(arn, plan.batch).await?;
        self.schedule(arn);
        Ok(())
    }
}
