//! Adapters from Rust `async fn`s to the generated `async-handler` export,
//! and the [`async_handler!`](crate::async_handler!) /
//! [`async_raw_handler!`](crate::async_raw_handler!) macros that install
//! them.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bindings::lamina::function::types::{FunctionError as WitFunctionError, Invocation};
use crate::handler::{encode_output, parse_event};
use crate::{Context, FunctionError};

/// Runs an async JSON handler: deserializes `payload`, awaits `f`,
/// serializes its output.
#[doc(hidden)]
pub async fn invoke_json_async<E, O, F, Fut>(
    invocation: Invocation,
    payload: Vec<u8>,
    f: F,
) -> Result<Vec<u8>, WitFunctionError>
where
    E: DeserializeOwned,
    O: Serialize,
    F: FnOnce(E, Context) -> Fut,
    Fut: Future<Output = Result<O, FunctionError>>,
{
    let ctx = Context::from_invocation(invocation);
    let event: E = parse_event(&payload)?;
    drop(payload);
    let output = f(event, ctx).await?;
    encode_output(&output)
}

/// Runs an async raw-bytes handler.
#[doc(hidden)]
pub async fn invoke_raw_async<F, Fut>(
    invocation: Invocation,
    payload: Vec<u8>,
    f: F,
) -> Result<Vec<u8>, WitFunctionError>
where
    F: FnOnce(Vec<u8>, Context) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, FunctionError>>,
{
    let ctx = Context::from_invocation(invocation);
    Ok(f(payload, ctx).await?)
}

/// Exports an `async` JSON function as this component's
/// `lamina:function/async-handler`, optionally with a one-time `init` hook.
///
/// The first argument is an `async fn` (or a closure returning a future)
/// with the shape
///
/// ```text
/// async fn(event: E, ctx: Context) -> Result<O, FunctionError>
/// where E: serde::de::DeserializeOwned, O: serde::Serialize
/// ```
///
/// Payload and response are handled as by [`handler!`](crate::handler!):
/// JSON via serde, `InvalidPayload` / `InvalidOutput` errors, a panic
/// becomes a trap. The [`Context`] is passed by value so the future can
/// own it.
///
/// The macro exports world `lamina:function/async-function`: `handle` is a
/// component-model `async` export, so a managed host can run many
/// invocations inside one instance at the same time, each progressing while
/// the others await I/O (for example [`sleep`](crate::sleep)). All of them
/// share the instance's globals.
///
/// `async_handler!(handle, init = setup)` also runs `setup`
/// (`fn() -> Result<(), R>` with `R: Display`) once per managed instance,
/// before the first invocation; an `Err` fails the environment. Without
/// `init = ...` the exported `lamina:function/lifecycle#init` does nothing
/// and succeeds.
///
/// ```no_run
/// use std::time::Duration;
///
/// use lamina_sdk::{Context, FunctionError};
///
/// #[derive(serde::Deserialize)]
/// struct Nap {
///     ms: u64,
/// }
///
/// async fn handle(event: Nap, ctx: Context) -> Result<String, FunctionError> {
///     lamina_sdk::sleep(Duration::from_millis(event.ms)).await;
///     Ok(format!("{} slept {} ms", ctx.request_id(), event.ms))
/// }
///
/// fn setup() -> Result<(), String> {
///     Ok(())
/// }
///
/// lamina_sdk::async_handler!(handle, init = setup);
/// ```
#[macro_export]
macro_rules! async_handler {
    ($handler:expr, init = $init:expr $(,)?) => {
        $crate::__lamina_async_export!(invoke_json_async, $handler, $init);
    };
    ($handler:expr $(,)?) => {
        $crate::__lamina_async_export!(
            invoke_json_async,
            $handler,
            || -> ::core::result::Result<(), ::std::string::String> {
                ::core::result::Result::Ok(())
            }
        );
    };
}

/// Exports an `async` raw-bytes function as this component's
/// `lamina:function/async-handler`, optionally with a one-time `init` hook.
///
/// The first argument is an `async fn` (or a closure returning a future)
/// with the shape
///
/// ```text
/// async fn(payload: Vec<u8>, ctx: Context) -> Result<Vec<u8>, FunctionError>
/// ```
///
/// The payload and the response are passed through untouched; everything
/// else is as for [`async_handler!`](crate::async_handler!).
///
/// ```no_run
/// use lamina_sdk::{Context, FunctionError};
///
/// async fn shout(payload: Vec<u8>, _ctx: Context) -> Result<Vec<u8>, FunctionError> {
///     Ok(payload.to_ascii_uppercase())
/// }
///
/// lamina_sdk::async_raw_handler!(shout);
/// ```
#[macro_export]
macro_rules! async_raw_handler {
    ($handler:expr, init = $init:expr $(,)?) => {
        $crate::__lamina_async_export!(invoke_raw_async, $handler, $init);
    };
    ($handler:expr $(,)?) => {
        $crate::__lamina_async_export!(
            invoke_raw_async,
            $handler,
            || -> ::core::result::Result<(), ::std::string::String> {
                ::core::result::Result::Ok(())
            }
        );
    };
}

/// Shared expansion of [`async_handler!`](crate::async_handler!) and
/// [`async_raw_handler!`](crate::async_raw_handler!). Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __lamina_async_export {
    ($invoke:ident, $handler:expr, $init:expr) => {
        const _: () = {
            struct LaminaAsyncHandler;

            impl $crate::__private::asynchronous::HandlerGuest for LaminaAsyncHandler {
                async fn handle(
                    invocation: $crate::__private::Invocation,
                    payload: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<::std::vec::Vec<u8>, $crate::__private::WitFunctionError>
                {
                    $crate::__private::$invoke(invocation, payload, $handler).await
                }
            }

            impl $crate::__private::asynchronous::LifecycleGuest for LaminaAsyncHandler {
                fn init() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::invoke_init($init)
                }
            }

            $crate::__private::asynchronous::export!(LaminaAsyncHandler);
        };
    };
}
