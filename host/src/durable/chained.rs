//! Chained invokes: the target of an invoke runs in the background (a
//! durable target as a child execution, a handler function as one
//! invocation in its mode) and the operation completes when it ends.

use super::shapes::{event_error, event_result};
use super::{Durable, DurableError};
use crate::api::lambda::error_type_of;
use crate::journal::{
    Batch, ChainedInvokeDetails, ErrorObject, EventType, ExecutionStatus, JournalError, NewEvent,
    OperationStatus, execution_arn, now_ms,
};
use crate::modes::managed::ManagedPool;
use crate::modes::standard::{self, HandlerOutput};
use crate::registry::Function;
use serde_json::json;
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
        let fail = |t: &str, m: String| ErrorObject {
            error_type: Some(t.into()),
            error_message: Some(m),
            ..ErrorObject::default()
        };
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
                Err(e) => return Err(fail("ChainedInvokeError", e.to_string())),
            };
            loop {
                match self.wait_for_end(&child, Duration::from_secs(3600)).await {
                    Ok(e) if e.status == ExecutionStatus::Succeeded => {
                        return Ok(e.result.unwrap_or_else(|| "null".into()));
                    }
                    Ok(e) if e.status.is_terminal() => {
                        return Err(e.error.unwrap_or_else(|| {
                            fail(
                                e.status.as_str(),
                                format!("execution {child} ended {}", e.status.as_str()),
                            )
                        }));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(fail("ChainedInvokeError", e.to_string())),
                }
            }
        }
        let request_id = uuid::Uuid::new_v4().to_string();
        let out = match self.targets.get(&c.function_name) {
            None => {
                return Err(fail(
                    "ResourceNotFoundException",
                    format!("Function not found: {}", c.function_name),
                ));
            }
            Some(InvokeTarget::Other(f)) => {
                return Err(fail(
                    "InvalidParameterValueException",
                    format!(
                        "function `{}` is an {} function and cannot be invoked",
                        f.name,
                        f.kind.as_str()
                    ),
                ));
            }
            Some(InvokeTarget::Standard(f)) => {
                standard::invoke_handler(&self.engine, f, &request_id, payload.as_bytes()).await
            }
            Some(InvokeTarget::Managed(pool)) => pool.invoke(&request_id, payload.as_bytes()).await,
        };
        match out {
            Ok((HandlerOutput::Ok(bytes), _)) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Ok((
                HandlerOutput::FunctionError {
                    error_type,
                    error_message,
                },
                _,
            )) => Err(fail(&error_type, error_message)),
            Err(e) => Err(fail(error_type_of(&e), e.to_string())),
        }
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
        if execution.status.is_terminal() {
            return Ok(());
        }
        let Some(mut op) = op else {
            return Ok(());
        };
        if op.status != OperationStatus::Started {
            return Ok(());
        }
        op.end_ms = Some(now_ms());
        let mut b = Batch::default();
        match outcome {
            Ok(result) => {
                op.status = OperationStatus::Succeeded;
                b.events.push(
                    NewEvent::for_operation(EventType::ChainedInvokeSucceeded, &op)
                        .with_details(json!({ "Result": event_result(&result) })),
                );
                op.result = Some(result);
            }
            Err(error) => {
                op.status = OperationStatus::Failed;
                b.events.push(
                    NewEvent::for_operation(EventType::ChainedInvokeFailed, &op)
                        .with_details(json!({ "Error": event_error(&error) })),
                );
                op.error = Some(error);
            }
        }
        b.operations.push(op);
        b.execution.invocation_in_progress = Some(true);
        self.journal.apply(arn, b).await?;
        self.schedule(arn);
        Ok(())
    }
}
