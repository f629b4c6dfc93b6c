//! Standard mode: a fresh, isolated instance for every request.
//!
//! Per request: take a permit from the instance budget, create a `Store`,
//! instantiate from the pre-instantiated component, run, drop the store
//! (through [`crate::runtime::instance`], as durable invocations do).
//! No state survives between requests.

use crate::engine::{InstanceUse, LaminaEngine};
use crate::error::InvokeError;
use crate::metrics::LiveInstance;
use crate::registry::{Function, GuestError, HandleParams, HandleResults, Invocation, Pre};
use crate::runtime::instance::{
    Failure, FreshInstance, TIMEOUT_GRACE, classify, fail, fresh_store, internal, timeout_error,
};
use crate::state::HostState;
use bytes::Bytes;
use hyper::body::Body;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use wasmtime::Store;
use wasmtime::component::TypedFunc;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Where the time of one invocation went.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timing {
    /// Creating the store and instantiating.
    pub instantiate: Duration,
    /// Running the export (for http: until the response head was ready).
    pub run: Duration,
}

/// What a handler function returned.
#[derive(Debug)]
pub enum HandlerOutput {
    /// The result bytes.
    Ok(Vec<u8>),
    /// An error the guest returned on purpose.
    FunctionError {
        /// The guest's error type.
        error_type: String,
        /// The guest's message.
        error_message: String,
    },
}

/// Invokes a handler function once in a fresh instance.
pub async fn invoke_handler(
    engine: &LaminaEngine,
    f: &Function,
    request_id: &str,
    payload: &[u8],
) -> Result<(HandlerOutput, Timing), InvokeError> {
    let Pre::Handler(pre) = &f.pre else {
        return Err(InvokeError::WrongKind {
            name: f.name.to_string(),
            kind: f.kind.as_str(),
            hint: format!("send HTTP requests to /{}/", f.name),
        });
    };
    f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
    let mut run = FreshInstance::start(engine, f, InstanceUse::Request).await?;
    run.store.data().begin_request(request_id);
    let limit = run.time_limit();
    let (start, store) = (run.started, &mut run.store);
    let work = async {
        let instance = pre
            .instantiate(store)
            .await
            .map_err(Failure::instantiating)?;
        let handle = pre
            .handle(&mut *store, &instance)
            .map_err(Failure::instantiating)?;
        let instantiated = start.elapsed();
        let params = (invocation(f, request_id, instantiated), payload.to_vec());
        let out = call_handle(store, handle, pre.is_async, params)
            .await
            .map_err(Failure::running)?;
        Ok::<_, Failure>((out, instantiated))
    };
    let result = limit.run(work).await;
    let (out, instantiated) = run.conclude(result)?;
    let timing = Timing {
        instantiate: instantiated,
        run: start.elapsed() - instantiated,
    };
    f.metrics.instantiate.observe(timing.instantiate);
    f.metrics.run.observe(timing.run);
    Ok((output(f, out), timing))
}

/// The invocation record for a call of `f` that starts `elapsed` into its budget.
pub(crate) fn invocation(f: &Function, request_id: &str, elapsed: Duration) -> Invocation {
    Invocation {
        request_id: request_id.to_string(),
        function_name: f.name.to_string(),
        remaining_time_ms: f
            .config
            .timeout_ms
            .saturating_sub(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
    }
}

/// Converts the guest's answer, counting a returned error.
pub(crate) fn output(f: &Function, out: Result<Vec<u8>, GuestError>) -> HandlerOutput {
    match out {
        Ok(bytes) => HandlerOutput::Ok(bytes),
        Err(e) => {
            f.metrics.error("function_error");
            HandlerOutput::FunctionError {
                error_type: e.error_type,
                error_message: e.error_message,
            }
        }
    }
}

/// Calls `handle` once: directly for a sync export, inside
/// `Store::run_concurrent` for an async one.
pub(crate) async fn call_handle(
    store: &mut Store<HostState>,
    handle: TypedFunc<HandleParams, HandleResults>,
    is_async: bool,
    params: HandleParams,
) -> wasmtime::Result<Result<Vec<u8>, GuestError>> {
    let (out,) = if is_async {
        store
            .run_concurrent(async move |a| handle.call_concurrent(a, params).await)
            .await??
    } else {
        handle.call_async(store, params).await?
    };
    Ok(out)
}

/// Serves one HTTP request (`request_id`, for the guest's log lines) with a
/// fresh instance of an http function. The
/// response is returned as soon as the guest sets it; the body streams while
/// the instance keeps running in its own task.
pub async fn serve_http<B>(
    engine: &LaminaEngine,
    f: &Arc<Function>,
    req: hyper::Request<B>,
    request_id: &str,
) -> Result<(hyper::Response<HyperOutgoingBody>, Timing), InvokeError>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    if !matches!(f.pre, Pre::Http(_)) {
        return Err(InvokeError::WrongKind {
            name: f.name.to_string(),
            kind: f.kind.as_str(),
            hint: format!(
                "invoke it with POST /2015-03-31/functions/{}/invocations",
                f.name
            ),
        });
    }
    let timeout = Duration::from_millis(f.config.timeout_ms);
    f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
    let (permit, start, mut store) = fresh_store(engine, f, InstanceUse::Request).await?;
    store.data().begin_request(request_id);
    let store_ready = start.elapsed();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let mut view = store.data_mut().http();
    let req = view
        .new_incoming_request(Scheme::Http, req)
        .map_err(|e| internal(f, &format!("{e:#}")))?;
    let out = view
        .new_response_outparam(sender)
        .map_err(|e| internal(f, &format!("{e:#}")))?;
    let instantiate_us = Arc::new(AtomicU64::new(0));

    let task = {
        let f = f.clone();
        let instantiate_us = instantiate_us.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let _live = LiveInstance::new(&f.metrics);
            f.metrics.instantiations.fetch_add(1, Ordering::Relaxed);
            let Pre::Http(pre) = &f.pre else {
                return Ok(());
            };
            let result = async {
                // Instantiate time is store creation plus instantiation; the
                // wait for this task to be scheduled counts as run time.
                let instantiating = Instant::now();
                let proxy = pre
                    .instantiate_async(&mut store)
                    .await
                    .map_err(|e| (e, true))?;
                let inst = store_ready + instantiating.elapsed();
                f.metrics.instantiate.observe(inst);
                instantiate_us.store(inst.as_micros() as u64, Ordering::Relaxed);
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, req, out)
                    .await
                    .map_err(|e| (e, false))?;
                f.metrics
                    .run
                    .observe(instantiating.elapsed().saturating_sub(inst - store_ready));
                Ok::<_, (wasmtime::Error, bool)>(())
            }
            .await;
            store.data().flush_logs();
            result.map_err(|(e, during)| classify(&f, &store, e, during))
        })
    };

    let response = tokio::time::timeout(timeout + TIMEOUT_GRACE, receiver).await;
    let instantiate = Duration::from_micros(instantiate_us.load(Ordering::Relaxed));
    let timing = Timing {
        instantiate,
        run: start.elapsed().saturating_sub(instantiate),
    };
    match response {
        Ok(Ok(Ok(resp))) => Ok((resp, timing)),
        Ok(Ok(Err(code))) => Err(fail(
            f,
            InvokeError::Trap {
                function: f.name.to_string(),
                message: format!("the guest answered with an error code: {code:?}"),
            },
        )),
        Ok(Err(_closed)) => match task.await {
            Ok(Ok(())) => Err(fail(
                f,
                InvokeError::NoResponse {
                    function: f.name.to_string(),
                },
            )),
            Ok(Err(e)) => Err(fail(f, e)),
            Err(join) => Err(fail(f, internal(f, &join.to_string()))),
        },
        Err(_elapsed) => {
            task.abort();
            Err(fail(f, timeout_error(f)))
        }
    }
}
