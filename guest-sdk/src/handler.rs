//! Adapters from plain Rust functions to the generated `handler` export,
//! and the [`handler!`](crate::handler!) / [`raw_handler!`](crate::raw_handler!)
//! macros that install them.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::lamina::function::types::{FunctionError as WitFunctionError, Invocation};
use crate::{Context, FunctionError};

/// Error type reported when the payload does not deserialize into the
/// handler's input type.
pub(crate) const INVALID_PAYLOAD: &str = "InvalidPayload";

/// Error type reported when the handler's output does not serialize to JSON.
pub(crate) const INVALID_OUTPUT: &str = "InvalidOutput";

/// Runs a JSON handler: deserializes `payload`, calls `f`, serializes its
/// output.
#[doc(hidden)]
pub fn invoke_json<E, O, F>(
    invocation: Invocation,
    payload: &[u8],
    f: F,
) -> Result<Vec<u8>, WitFunctionError>
where
    E: DeserializeOwned,
    O: Serialize,
    F: FnOnce(E, &Context) -> Result<O, FunctionError>,
{
    let ctx = Context::from_invocation(invocation);
    let event: E = serde_json::from_slice(payload).map_err(|err| {
        FunctionError::new(
            INVALID_PAYLOAD,
            format!("payload could not be parsed: {err}"),
        )
    })?;
    let output = f(event, &ctx)?;
    serde_json::to_vec(&output).map_err(|err| {
        FunctionError::new(
            INVALID_OUTPUT,
            format!("output could not be serialized: {err}"),
        )
        .into()
    })
}

/// Runs a raw-bytes handler.
#[doc(hidden)]
pub fn invoke_raw<F>(
    invocation: Invocation,
    payload: &[u8],
    f: F,
) -> Result<Vec<u8>, WitFunctionError>
where
    F: FnOnce(&[u8], &Context) -> Result<Vec<u8>, FunctionError>,
{
    let ctx = Context::from_invocation(invocation);
    Ok(f(payload, &ctx)?)
}

/// Exports a JSON function as this component's `lamina:function/handler`.
///
/// The argument is a function (or closure) with the shape
///
/// ```text
/// fn(event: E, ctx: &Context) -> Result<O, FunctionError>
/// where E: serde::de::DeserializeOwned, O: serde::Serialize
/// ```
///
/// For each invocation the payload is deserialized from JSON into `E`; if
/// that fails the caller gets a [`FunctionError`] of type `InvalidPayload`
/// whose message includes serde's explanation. The function's `Ok` value is
/// serialized to JSON as the response (type `InvalidOutput` if that fails);
/// its `Err` value is returned to the caller as is. A panic becomes a trap.
///
/// Use the macro once per component, at module level.
///
/// ```no_run
/// use lamina_sdk::{Context, FunctionError};
///
/// fn handle(event: serde_json::Value, _ctx: &Context) -> Result<serde_json::Value, FunctionError> {
///     Ok(event)
/// }
///
/// lamina_sdk::handler!(handle);
/// ```
#[macro_export]
macro_rules! handler {
    ($handler:expr $(,)?) => {
        const _: () = {
            struct LaminaJsonHandler;

            impl $crate::__private::Guest for LaminaJsonHandler {
                fn handle(
                    invocation: $crate::__private::Invocation,
                    payload: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::__private::WitFunctionError>
                {
                    $crate::__private::invoke_json(invocation, &payload, $handler)
                }
            }

            $crate::__private::export!(LaminaJsonHandler with_types_in $crate::bindings);
        };
    };
}

/// Exports a raw-bytes function as this component's
/// `lamina:function/handler`.
///
/// The argument is a function (or closure) with the shape
///
/// ```text
/// fn(payload: &[u8], ctx: &Context) -> Result<Vec<u8>, FunctionError>
/// ```
///
/// The payload and the response are passed through untouched.
///
/// ```no_run
/// use lamina_sdk::{Context, FunctionError};
///
/// fn shout(payload: &[u8], _ctx: &Context) -> Result<Vec<u8>, FunctionError> {
///     Ok(payload.to_ascii_uppercase())
/// }
///
/// lamina_sdk::raw_handler!(shout);
/// ```
#[macro_export]
macro_rules! raw_handler {
    ($handler:expr $(,)?) => {
        const _: () = {
            struct LaminaRawHandler;

            impl $crate::__private::Guest for LaminaRawHandler {
                fn handle(
                    invocation: $crate::__private::Invocation,
                    payload: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::__private::WitFunctionError>
                {
                    $crate::__private::invoke_raw(invocation, &payload, $handler)
                }
            }

            $crate::__private::export!(LaminaRawHandler with_types_in $crate::bindings);
        };
    };
}
