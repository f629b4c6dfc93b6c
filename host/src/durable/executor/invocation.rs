//! One invocation of an execution: a fresh store and instance, `handle()`,
//! and what it produced.

use super::super::imports::DurableInvocation;
use super::super::model::{ErrorType, is_waiting};
use super::super::{Durable, wit};
use crate::engine::InstanceUse;
use crate::error::InvokeError;
use crate::journal::{JournalError, now_ms};
use crate::metrics::LiveInstance;
use crate::modes::standard::{self, TIMEOUT_GRACE, classify, timeout_error};
use crate::registry::Pre;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What one invocation produced.
pub(super) struct Invoked {
    /// The handler's outcome, or the crash and its Lambda error type.
    pub(super) outcome: Result<wit::Outcome, (InvokeError, &'static str)>,
    pub(super) start_ms: u64,
    pub(super) end_ms: u64,
    pub(super) run: Duration,
    pub(super) request_id: String,
    /// Whether the journal, as this invocation saw and left it, has an
    /// operation that will make the execution runnable again (a wait, a
    /// callback, a step retry, a chained invoke).
    pub(super) waiting: bool,
}

/// Lambda's error type of a crash.
fn error_type_of(e: &InvokeError) -> &'static str {
    ErrorType::of_invoke_error(e).as_str()
}

impl Durable {
    /// Runs the handler once in a fresh instance; `None` when there is
    /// nothing to run (ended, unknown or no longer served).
    pub(super) async fn invoke_once(
        self: &Arc<Self>,
        arn: &str,
    ) -> Result<Option<Invoked>, JournalError> {
        let Some(exec) = self.journal.get_execution(arn).await? else {
            return Ok(None);
        };
        if exec.status.is_terminal() {
            return Ok(None);
        }
        let Some(f) = self.functions.get(&exec.function).cloned() else {
            tracing::warn!(execution = %arn, function = %exec.function,
                "execution of a function this host does not serve as durable; left waiting");
            return Ok(None);
        };
        let Pre::Durable(pre) = &f.pre else {
            return Ok(None);
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let permit = self
            .engine
            .acquire_instance(&f.name, InstanceUse::Durable)
            .await;
        f.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        self.metrics.invocations.fetch_add(1, Ordering::Relaxed);
        if exec.metering.invocations > 0 {
            self.metrics.replays.fetch_add(1, Ordering::Relaxed);
        }
        let start_ms = now_ms();
        let started = Instant::now();
        let mut waiting = false;
        let outcome = match (permit, self.engine.new_store(&f.name, &f.config)) {
            (Err(_), _) => Err(InvokeError::Instantiate {
                function: f.name.to_string(),
                message: "instance pool closed".into(),
            }),
            (_, Err(e)) => Err(InvokeError::Instantiate {
                function: f.name.to_string(),
                message: format!("{e:#}"),
            }),
            (Ok(_permit), Ok(mut store)) => {
                let _live = LiveInstance::new(&f.metrics);
                f.metrics.instantiations.fetch_add(1, Ordering::Relaxed);
                // `timeout_ms` counts the guest's own time: the epoch
                // deadline and this invocation's timer both move on by the
                // time its journal calls wait for commits.
                let host_wait = store.data().host_wait.clone();
                store.data_mut().durable = Some(Box::new(DurableInvocation {
                    runtime: self.clone(),
                    arn: arn.to_string(),
                    function: f.name.clone(),
                    ops: HashMap::new(),
                    queued: Vec::new(),
                    host_wait: host_wait.clone(),
                }));
                let timeout = Duration::from_millis(f.config.timeout_ms);
                let work = async {
                    let instance = pre.instantiate(&mut store).await?;
                    let handle = pre.handle(&mut store, &instance)?;
                    let (out,) = handle.call_async(&mut store, ()).await?;
                    Ok::<_, wasmtime::Error>(out)
                };
                let result =
                    standard::timeout_excluding(timeout + TIMEOUT_GRACE, &host_wait, work).await;
                store.data().flush_logs();
                match result {
                    None => Err(timeout_error(&f)),
                    Some(Err(e)) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                        // The guest called `exit`: Lambda's Runtime.ExitError.
                        Some(exit) => {
                            return Ok(Some(Invoked {
                                outcome: Err((
                                    InvokeError::Trap {
                                        function: f.name.to_string(),
                                        message: format!("the guest exited with status {}", exit.0),
                                    },
                                    "Runtime.ExitError",
                                )),
                                start_ms,
                                end_ms: now_ms(),
                                run: started.elapsed(),
                                request_id,
                                waiting: false,
                            }));
                        }
                        None => Err(classify(&f, &store, e, false)),
                    },
                    Some(Ok(out)) => {
                        waiting = store
                            .data()
                            .durable
                            .as_ref()
                            .is_some_and(|d| d.ops.values().any(is_waiting));
                        Ok(out)
                    }
                }
            }
        };
        let run = started.elapsed();
        f.metrics.run.observe(run);
        if let Err(e) = &outcome {
            f.metrics.error(e.reason());
        }
        Ok(Some(Invoked {
            outcome: outcome.map_err(|e| {
                let t = error_type_of(&e);
                (e, t)
            }),
            start_ms,
            end_ms: now_ms(),
            run,
            request_id,
            waiting,
        }))
    }
}
