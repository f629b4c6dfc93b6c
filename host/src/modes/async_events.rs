//! Asynchronous (Event) invocations of handler functions, run from a
//! queue in the journal the way Lambda runs them.
//!
//! An Event invoke is answered 202 only once the event (payload included)
//! is committed to the journal, so an accepted event survives `kill -9`;
//! the payload is read back only when the event runs, so queued events
//! cost disk, not memory. The queue is bounded (`[async] max_queued_events`;
//! a full queue answers 429). A worker runs due events, at most
//! `max_concurrency` at once; an event whose attempt fails (function error,
//! trap, timeout) is tried again after `retry_delay_ms`, then twice that,
//! up to `max_retry_attempts` retries; an event older than
//! `max_event_age_ms` is dropped with a log line instead of run. A finished
//! (or abandoned) event is deleted. Delivery is at least once: an event
//! running when the host dies runs again after the restart.

use crate::config::AsyncConfig;
use crate::durable::InvokeTarget;
use crate::engine::LaminaEngine;
use crate::journal::{Journal, JournalError, NewQueuedEvent, QueuedEvent, now_ms};
use crate::modes::standard::{self, HandlerOutput};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// The longest the worker sleeps without looking at the queue.
const IDLE_POLL: Duration = Duration::from_secs(60);
/// How long a host's claim of a queued event keeps other hosts of a shared
/// journal from running it (longer than any invocation may take).
const QUEUE_CLAIM: Duration = Duration::from_secs(15 * 60);

/// Why an event was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue holds `max_queued_events` already.
    #[error("the asynchronous invocation queue is full ({max} events); try again later")]
    Full {
        /// The bound.
        max: u64,
    },
    /// The journal could not store it.
    #[error("the event could not be queued: {0}")]
    Journal(#[from] JournalError),
}

/// Counters of the queue, for `/metrics`.
#[derive(Debug, Default)]
pub struct AsyncMetrics {
    /// Events accepted (committed to the queue).
    pub accepted: AtomicU64,
    /// Event invokes refused because the queue was full.
    pub throttled: AtomicU64,
    /// Events that ran successfully.
    pub succeeded: AtomicU64,
    /// Failed attempts that were scheduled again.
    pub retried: AtomicU64,
    /// Events dropped after their last attempt failed.
    pub failed: AtomicU64,
    /// Events dropped because they were older than the maximum event age.
    pub expired: AtomicU64,
}

/// The queue of asynchronous invocations and its worker.
pub struct AsyncEvents {
    journal: Arc<dyn Journal>,
    engine: Arc<LaminaEngine>,
    targets: BTreeMap<String, InvokeTarget>,
    /// What serves a function now (after deployments); `targets` otherwise.
    live: Option<LiveTargets>,
    cfg: AsyncConfig,
    /// Events in the journal, counted at start and kept up to date here, so
    /// that admission does not read the journal.
    queued: AtomicU64,
    /// Events being run now (they stay in the journal until done).
    running: Mutex<HashSet<u64>>,
    /// This host's id for claims of events on a shared journal.
    owner: String,
    /// Events another host claimed, and until when (ms) to leave them be.
    elsewhere: Mutex<HashMap<u64, u64>>,
    slots: Arc<Semaphore>,
    wake: Notify,
    /// Counters.
    pub metrics: AsyncMetrics,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Finds what serves a function now: deployments replace functions while
/// the host runs.
pub type LiveTargets = Arc<dyn Fn(&str) -> Option<InvokeTarget> + Send + Sync>;

impl AsyncEvents {
    /// Starts the worker on `journal`, picking up the events queued before
    /// the host last stopped. `targets` are the handler functions; `live`,
    /// when given, finds them as they are at each attempt instead.
    pub async fn start(
        engine: Arc<LaminaEngine>,
        journal: Arc<dyn Journal>,
        targets: BTreeMap<String, InvokeTarget>,
        live: Option<LiveTargets>,
        cfg: AsyncConfig,
    ) -> Result<Arc<Self>, JournalError> {
        let queued = journal.queued_event_count().await?;
        if queued > 0 {
            tracing::info!(
                events = queued,
                "picking up queued asynchronous invocations"
            );
        }
        let slots = usize::try_from(cfg.max_concurrency).unwrap_or(usize::MAX);
        let me = Arc::new(AsyncEvents {
            journal,
            engine,
            targets,
            live,
            cfg,
            queued: AtomicU64::new(queued),
            running: Mutex::default(),
            owner: format!("lamina-{}", uuid::Uuid::new_v4().simple()),
            elsewhere: Mutex::default(),
            slots: Arc::new(Semaphore::new(slots)),
            wake: Notify::new(),
            metrics: AsyncMetrics::default(),
        });
        tokio::spawn(me.clone().run());
        Ok(me)
    }

    /// The settings.
    pub fn config(&self) -> &AsyncConfig {
        &self.cfg
    }

    /// How many events are queued (including those running).
    pub fn queued(&self) -> u64 {
        self.queued.load(Ordering::Relaxed)
    }

    /// Queues an event for `function`; resolves once it is committed. The
    /// write runs in a task of its own, so a caller that goes away cannot
    /// leave a committed event the worker was not told about.
    pub async fn accept(
        self: &Arc<Self>,
        function: &str,
        request_id: &str,
        payload: Vec<u8>,
    ) -> Result<u64, QueueError> {
        let max = self.cfg.max_queued_events;
        if self
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .is_err()
        {
            self.metrics.throttled.fetch_add(1, Ordering::Relaxed);
            return Err(QueueError::Full { max });
        }
        let event = NewQueuedEvent {
            function: function.to_string(),
            request_id: request_id.to_string(),
            payload,
            enqueued_ms: now_ms(),
        };
        let me = self.clone();
        let stored = tokio::spawn(async move {
            let stored = me.journal.queue_event(event).await;
            match &stored {
                Ok(_) => {
                    me.metrics.accepted.fetch_add(1, Ordering::Relaxed);
                    me.wake.notify_one();
                }
                Err(_) => {
                    me.queued.fetch_sub(1, Ordering::AcqRel);
                }
            }
            stored
        })
        .await
        .map_err(|e| JournalError::Storage(format!("the queueing task ended abnormally: {e}")))?;
        Ok(stored?)
    }

    /// The worker: starts due events while slots are free, sleeps until
    /// the next one is due or something changes.
    async fn run(self: Arc<Self>) {
        loop {
            let busy = lock(&self.running).len();
            let window = busy + self.slots.available_permits().max(1);
            let events = match self.journal.queued_events(window).await {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!("reading the asynchronous invocation queue: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let now = now_ms();
            lock(&self.elsewhere).retain(|_, until| *until > now);
            let mut next_due = None;
            for event in events {
                if lock(&self.running).contains(&event.id) {
                    continue;
                }
                if lock(&self.elsewhere)
                    .get(&event.id)
                    .is_some_and(|&until| until > now)
                {
                    continue;
                }
                if event.due_ms > now {
                    next_due = Some(event.due_ms);
                    break;
                }
                let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                    break;
                };
                lock(&self.running).insert(event.id);
                let me = self.clone();
                tokio::spawn(async move {
                    let id = event.id;
                    // On a shared journal another host may be running it.
                    let claimed = me
                        .journal
                        .claim_queued_event(&me.owner, id, QUEUE_CLAIM)
                        .await
                        .unwrap_or(false);
                    if !claimed {
                        let until = now_ms().saturating_add(QUEUE_CLAIM.as_millis() as u64);
                        lock(&me.elsewhere).insert(id, until);
                        lock(&me.running).remove(&id);
                        return;
                    }
                    me.run_event(event).await;
                    lock(&me.running).remove(&id);
                    drop(slot);
                    me.wake.notify_one();
                });
            }
            let wait = next_due.map_or(IDLE_POLL, |due: u64| {
                Duration::from_millis(due.saturating_sub(now_ms())).min(IDLE_POLL)
            });
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
            }
        }
    }

    /// One attempt of one event, and what follows from it.
    async fn run_event(&self, event: QueuedEvent) {
        let age_ms = now_ms().saturating_sub(event.enqueued_ms);
        if age_ms > self.cfg.max_event_age_ms {
            tracing::warn!(
                function = %event.function,
                request_id = %event.request_id,
                age_ms,
                attempts = event.attempts,
                max_event_age_ms = self.cfg.max_event_age_ms,
                "dropping an asynchronous invocation older than the maximum event age"
            );
            self.metrics.expired.fetch_add(1, Ordering::Relaxed);
            self.remove(&event).await;
            return;
        }
        let payload = match self.journal.queued_event_payload(event.id).await {
            Ok(Some(p)) => p,
            Ok(None) => {
                tracing::error!(function = %event.function, request_id = %event.request_id,
                    "a queued event has no payload; dropping it");
                self.remove(&event).await;
                return;
            }
            Err(e) => {
                tracing::error!(function = %event.function, "reading a queued event: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                return;
            }
        };
        let attempt = event.attempts + 1;
        let error = match self.invoke(&event, &payload).await {
            Ok(()) => {
                tracing::info!(function = %event.function, request_id = %event.request_id,
                    attempt, "event invocation succeeded");
                self.metrics.succeeded.fetch_add(1, Ordering::Relaxed);
                self.remove(&event).await;
                return;
            }
            Err(error) => error,
        };
        if attempt > self.cfg.max_retry_attempts {
            tracing::error!(function = %event.function, request_id = %event.request_id,
                attempts = attempt, "event invocation failed on its last attempt, dropping it: {error}");
            self.metrics.failed.fetch_add(1, Ordering::Relaxed);
            self.remove(&event).await;
            return;
        }
        let delay = self
            .cfg
            .retry_delay_ms
            .saturating_mul(1u64 << (attempt - 1).min(16));
        tracing::warn!(function = %event.function, request_id = %event.request_id,
            attempt, retry_in_ms = delay, "event invocation failed, will retry: {error}");
        self.metrics.retried.fetch_add(1, Ordering::Relaxed);
        let due = now_ms().saturating_add(delay);
        if let Err(e) = self
            .journal
            .retry_queued_event(event.id, attempt, due)
            .await
        {
            tracing::error!(function = %event.function, request_id = %event.request_id,
                "recording a failed attempt: {e}");
        }
    }

    /// Runs the event's function once; `Err` describes a failed attempt.
    async fn invoke(&self, event: &QueuedEvent, payload: &[u8]) -> Result<(), String> {
        let now = match &self.live {
            Some(live) => live(&event.function),
            None => self.targets.get(&event.function).cloned(),
        };
        let out = match now.as_ref() {
            Some(InvokeTarget::Standard(f)) => {
                standard::invoke_handler(&self.engine, f, &event.request_id, payload).await
            }
            Some(InvokeTarget::Managed(pool)) => pool.invoke(&event.request_id, payload).await,
            Some(InvokeTarget::Other(_)) | None => {
                return Err(format!(
                    "this host no longer serves `{}` as a handler function",
                    event.function
                ));
            }
        };
        match out {
            Ok((HandlerOutput::Ok(_), _)) => Ok(()),
            Ok((
                HandlerOutput::FunctionError {
                    error_type,
                    error_message,
                },
                _,
            )) => Err(format!("{error_type}: {error_message}")),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Deletes a finished or abandoned event.
    async fn remove(&self, event: &QueuedEvent) {
        match self.journal.remove_queued_event(event.id).await {
            Ok(()) => {
                self.queued.fetch_sub(1, Ordering::AcqRel);
            }
            Err(e) => tracing::error!(function = %event.function, request_id = %event.request_id,
                "deleting a queued event (it may run again): {e}"),
        }
    }

    /// Appends the queue's metrics (Prometheus text) to `out`.
    pub fn render_metrics(&self, out: &mut String) {
        use crate::metrics::header;
        use std::fmt::Write;
        header(
            out,
            "lamina_async_events_queued",
            "gauge",
            "Asynchronous invocations in the queue (including those running).",
        );
        let _ = writeln!(out, "lamina_async_events_queued {}", self.queued());
        let m = &self.metrics;
        for (name, help, v) in [
            (
                "accepted",
                "Asynchronous invocations accepted.",
                &m.accepted,
            ),
            (
                "throttled",
                "Event invokes refused: the queue was full.",
                &m.throttled,
            ),
            (
                "succeeded",
                "Asynchronous invocations that succeeded.",
                &m.succeeded,
            ),
            ("retried", "Failed attempts scheduled again.", &m.retried),
            (
                "failed",
                "Events dropped after their last attempt failed.",
                &m.failed,
            ),
            ("expired", "Events dropped for their age.", &m.expired),
        ] {
            let name = format!("lamina_async_events_{name}_total");
            header(out, &name, "counter", help);
            let _ = writeln!(out, "{name} {}", v.load(Ordering::Relaxed));
        }
    }
}
