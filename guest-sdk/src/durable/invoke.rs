//! Chained invokes: run another function (durable or not) and wait for its
//! result without holding an instance.

use std::fmt;
use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::serdes::{from_text, to_text};
use crate::durable::{DurableContext, DurableError, ErrorObject, Serdes};
use crate::durable_bindings::lamina::durable::types::{OperationStatus, OperationType};

/// Sub-type of chained invokes.
pub(crate) const SUB_TYPE_CHAINED_INVOKE: &str = "ChainedInvoke";

/// Settings of [`DurableContext::invoke`].
pub struct InvokeConfig<P, R> {
    /// Invoke the target for this tenant.
    pub tenant_id: Option<String>,
    /// Sends the payload as this makes it instead of JSON (the text must
    /// still be JSON: function payloads are).
    pub payload_serdes: Option<Rc<dyn Serdes<P>>>,
    /// Reads the target's result with this instead of from JSON.
    pub result_serdes: Option<Rc<dyn Serdes<R>>>,
}

impl<P, R> Default for InvokeConfig<P, R> {
    fn default() -> Self {
        Self {
            tenant_id: None,
            payload_serdes: None,
            result_serdes: None,
        }
    }
}

impl<P, R> InvokeConfig<P, R> {
    /// The default settings: no tenant, JSON.
    pub fn new() -> Self {
        Self::default()
    }

    /// Invokes the target for `tenant_id`.
    pub fn with_tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = Some(tenant_id.into());
        self
    }

    /// Serializes the payload with `serdes`.
    pub fn with_payload_serdes(mut self, serdes: impl Serdes<P> + 'static) -> Self {
        self.payload_serdes = Some(Rc::new(serdes));
        self
    }

    /// Deserializes the result with `serdes`.
    pub fn with_result_serdes(mut self, serdes: impl Serdes<R> + 'static) -> Self {
        self.result_serdes = Some(Rc::new(serdes));
        self
    }
}

impl<P, R> fmt::Debug for InvokeConfig<P, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvokeConfig")
            .field("tenant_id", &self.tenant_id)
            .field("payload_serdes", &self.payload_serdes.is_some())
            .field("result_serdes", &self.result_serdes.is_some())
            .finish()
    }
}

impl DurableContext {
    /// Invokes the function `function_name` with `payload` and returns its
    /// result (a chained invoke, operation type `CHAINED_INVOKE`).
    ///
    /// The first time, this journals the invoke and suspends: the host runs
    /// the target (a durable function as an execution of its own, any
    /// other handler function as one invocation), journals its result or
    /// error and re-invokes the handler, and the call then returns the
    /// result. A target that failed, timed out or was stopped returns
    /// [`DurableError::InvokeFailed`] with its error, on every replay
    /// alike.
    ///
    /// ```no_run
    /// use lamina_sdk::durable::{DurableContext, DurableError, InvokeConfig};
    /// use serde_json::{Value, json};
    ///
    /// fn handle(order: Value, ctx: &DurableContext) -> Result<Value, DurableError> {
    ///     let receipt: Value = ctx.invoke(
    ///         Some("charge"),
    ///         "payments",
    ///         &json!({ "order": order }),
    ///         InvokeConfig::new(),
    ///     )?;
    ///     Ok(receipt)
    /// }
    /// # lamina_sdk::durable_handler!(handle);
    /// ```
    pub fn invoke<P, R>(
        &self,
        name: Option<&str>,
        function_name: &str,
        payload: &P,
        config: InvokeConfig<P, R>,
    ) -> Result<R, DurableError>
    where
        P: Serialize,
        R: DeserializeOwned,
    {
        let exec = self.exec();
        exec.check()?;
        if function_name.is_empty() {
            return Err(DurableError::InvalidArgument(
                "the function name of an invoke must not be empty".to_owned(),
            ));
        }
        let op = self.next_op(name, SUB_TYPE_CHAINED_INVOKE);
        let Some(recorded) = exec.lookup(&op, OperationType::ChainedInvoke)? else {
            let text = to_text(
                config.payload_serdes.as_ref(),
                payload,
                "the invoke payload",
            )?;
            exec.journal()
                .invoke_started(&op, function_name, &text, config.tenant_id.as_deref())
                .map_err(|err| exec.journal_failed(err))?;
            return Err(exec.suspend());
        };
        match recorded.status {
            OperationStatus::Succeeded => from_text(
                config.result_serdes.as_ref(),
                recorded.result.as_deref().unwrap_or("null"),
                "the invoke result",
            ),
            OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {
                Err(exec.suspend())
            }
            status @ (OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped) => {
                let error = match recorded.error {
                    Some(error) => error.into(),
                    None => ErrorObject::new(
                        "ChainedInvokeFailed",
                        format!(
                            "the invoke of {function_name} (operation {}) ended {}",
                            op.id,
                            match status {
                                OperationStatus::TimedOut => "timed out",
                                OperationStatus::Stopped => "stopped",
                                OperationStatus::Cancelled => "cancelled",
                                _ => "failed",
                            }
                        ),
                    ),
                };
                Err(DurableError::InvokeFailed(error))
            }
        }
    }
}
