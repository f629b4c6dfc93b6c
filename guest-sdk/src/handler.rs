//! Adapters from plain Rust functions to the generated `handler` and
//! `lifecycle` exports, and the [`handler!`](crate::handler!) /
//! [`raw_handler!`](crate::raw_handler!) macros that install them.

use std::fmt::Display;

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
    let event: E = parse_event(payload)?;
    let output = f(event, &ctx)?;
    encode_output(&output)
}

/// Deserializes the JSON payload, or explains why it could not be.
pub(crate) fn parse_event<E: DeserializeOwned>(payload: &[u8]) -> Result<E, FunctionError> {
    serde_json::from_slice(payload).map_err(|err| {
        FunctionError::new(
            INVALID_PAYLOAD,
            format!("payload could not be parsed: {err}"),
        )
    })
}

/// Serializes the handler's output to JSON, or explains why it could not be.
pub(crate) fn encode_output<O: Serialize>(output: &O) -> Result<Vec<u8>, WitFunctionError> {
    serde_json::to_vec(output).map_err(|err| {
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

/// Runs a one-time `init` hook, turning its error into the message the host
/// reports.
#[doc(hidden)]
pub fn invoke_init<R, F>(f: F) -> Result<(), String>
where
    F: FnOnce() -> Result<(), R>,
    R: Display,
{
    f().map_err(|err| err.to_string())
}

/// Exports a JSON function as this component's `lamina:function/handler`,
/// optionally with a one-time `init` hook.
///
/// The first argument is a function (or closure) with the shape
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
/// # Plain functions
///
/// `handler!(handle)` exports world `lamina:function/function`. The host
/// may run every invocation in a fresh instance (standard mode).
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
///
/// # Managed functions with `init`
///
/// `handler!(handle, init = setup)` exports world
/// `lamina:function/managed-function`: the handler plus
/// `lamina:function/lifecycle`. In managed mode the host keeps the instance
/// alive across invocations and calls `setup` once, before the first
/// invocation, so `setup` is the place for expensive preparation (global
/// state survives between invocations of the same instance). Its shape is
///
/// ```text
/// fn() -> Result<(), R>   where R: std::fmt::Display
/// ```
///
/// An `Err` fails the instance's environment with `R`'s message. A host
/// running the function in standard mode does not call `setup`, so the
/// handler must cope with it not having run.
///
/// ```no_run
/// use std::sync::OnceLock;
///
/// use lamina_sdk::{Context, FunctionError};
///
/// static GREETING: OnceLock<String> = OnceLock::new();
///
/// fn setup() -> Result<(), String> {
///     GREETING.set("Hello".to_owned()).map_err(|_| "init ran twice".to_owned())
/// }
///
/// fn handle(name: String, _ctx: &Context) -> Result<String, FunctionError> {
///     let greeting = GREETING.get().map_or("Hi", String::as_str);
///     Ok(format!("{greeting}, {name}!"))
/// }
///
/// lamina_sdk::handler!(handle, init = setup);
/// ```
///
/// Use the macro (or any other export macro of this crate) once per
/// component, at module level.
#[macro_export]
macro_rules! handler {
    ($handler:expr, init = $init:expr $(,)?) => {
        const _: () = {
            struct LaminaManagedJsonHandler;

            impl $crate::__private::managed::HandlerGuest for LaminaManagedJsonHandler {
                fn handle(
                    invocation: $crate::__private::Invocation,
                    payload: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::__private::WitFunctionError>
                {
                    $crate::__private::invoke_json(invocation, &payload, $handler)
                }
            }

            impl $crate::__private::managed::LifecycleGuest for LaminaManagedJsonHandler {
                fn init() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::invoke_init($init)
                }
            }

            $crate::__private::managed::export!(LaminaManagedJsonHandler);
        };
    };
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
/// `lamina:function/handler`, optionally with a one-time `init` hook.
///
/// The first argument is a function (or closure) with the shape
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
///
/// As with [`handler!`], `raw_handler!(shout, init = setup)` exports world
/// `lamina:function/managed-function` and runs `setup`
/// (`fn() -> Result<(), R>` with `R: Display`) once per managed instance.
#[macro_export]
macro_rules! raw_handler {
    ($handler:expr, init = $init:expr $(,)?) => {
        const _: () = {
            struct LaminaManagedRawHandler;

            impl $crate::__private::managed::HandlerGuest for LaminaManagedRawHandler {
                fn handle(
                    invocation: $crate::__private::Invocation,
                    payload: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::__private::WitFunctionError>
                {
                    $crate::__private::invoke_raw(invocation, &payload, $handler)
                }
            }

            impl $crate::__private::managed::LifecycleGuest for LaminaManagedRawHandler {
                fn init() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::invoke_init($init)
                }
            }

            $crate::__private::managed::export!(LaminaManagedRawHandler);
        };
    };
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
