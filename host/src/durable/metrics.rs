//! Counters of the durable runtime and their Prometheus rendering. The
//! gauges come from counters kept as executions start and end (counted from
//! the journal once, at start), not from a listing per scrape.

use super::{Durable, lock};
use crate::journal::{ExecutionStatus, JournalError, ListQuery};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the durable runtime, for `/metrics`.
#[derive(Debug, Default)]
pub struct DurableMetrics {
    /// Executions started.
    pub started: AtomicU64,
    /// Invocations run (first runs and replays).
    pub invocations: AtomicU64,
    /// Invocations that replayed a journal (not the first of an execution).
    pub replays: AtomicU64,
    /// Executions that ended (any terminal status).
    pub ended: AtomicU64,
    /// Timers handled.
    pub timers_fired: AtomicU64,
    /// Callback completions accepted (success, failure, heartbeat).
    pub callbacks: AtomicU64,
    /// Invocations that crashed (trap, timeout, memory).
    pub crashes: AtomicU64,
    /// RUNNING executions per function.
    running: Mutex<HashMap<String, u64>>,
}

impl DurableMetrics {
    /// Counts an execution of `function` that started.
    pub fn execution_started(&self, function: &str) {
        self.started.fetch_add(1, Ordering::Relaxed);
        *lock(&self.running).entry(function.to_owned()).or_default() += 1;
    }

    /// Counts an execution (of `function`, when known) that ended.
    pub fn execution_ended(&self, function: Option<&str>) {
        self.ended.fetch_add(1, Ordering::Relaxed);
        if let Some(f) = function
            && let Some(n) = lock(&self.running).get_mut(f)
        {
            *n = n.saturating_sub(1);
        }
    }

    /// RUNNING executions of `function`.
    pub fn running(&self, function: &str) -> u64 {
        lock(&self.running).get(function).copied().unwrap_or(0)
    }
}

/// The function of an execution ARN (`arn:lamina:durable:{function}:{id}`).
fn function_of(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:lamina:durable:")?
        .rsplit_once(':')
        .map(|(f, _)| f)
}

impl Durable {
    /// Counts the RUNNING executions of every function, once, at start.
    pub(super) async fn count_running(&self) -> Result<(), JournalError> {
        let mut counts: HashMap<String, u64> = HashMap::new();
        let mut after = None;
        loop {
            let page = self
                .journal
                .list_executions(ListQuery {
                    statuses: vec![ExecutionStatus::Running],
                    limit: 1000,
                    after: after.take(),
                    ..Default::default()
                })
                .await?;
            for e in &page.executions {
                *counts.entry(e.function.clone()).or_default() += 1;
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        *lock(&self.metrics.running) = counts;
        Ok(())
    }
}

impl Durable {
    /// Appends the durable metrics (Prometheus text) to `out`: counters, and
    /// per function the executions with a live instance and those waiting
    /// (hibernating: journal rows only, no instance).
    pub async fn render_metrics(&self, out: &mut String) {
        use crate::metrics::header;
        use std::fmt::Write;
        let counters = [
            (
                "lamina_durable_executions_started_total",
                "Durable executions started.",
                &self.metrics.started,
            ),
            (
                "lamina_durable_executions_ended_total",
                "Durable executions that ended.",
                &self.metrics.ended,
            ),
            (
                "lamina_durable_invocations_total",
                "Durable invocations (first runs and replays).",
                &self.metrics.invocations,
            ),
            (
                "lamina_durable_replays_total",
                "Durable invocations that replayed a journal.",
                &self.metrics.replays,
            ),
            (
                "lamina_durable_timers_fired_total",
                "Timers handled (waits, retries, timeouts).",
                &self.metrics.timers_fired,
            ),
            (
                "lamina_durable_callbacks_total",
                "Callback completions and heartbeats accepted.",
                &self.metrics.callbacks,
            ),
            (
                "lamina_durable_crashes_total",
                "Durable invocations that crashed.",
                &self.metrics.crashes,
            ),
        ];
        let stats = self.journal.stats();
        let counters = counters
            .map(|(name, help, v)| (name, help, v.load(Ordering::Relaxed)))
            .into_iter()
            .chain([
                (
                    "lamina_journal_commits_total",
                    "Journal write transactions.",
                    stats.commits,
                ),
                (
                    "lamina_journal_requests_total",
                    "Journal write requests.",
                    stats.requests,
                ),
            ]);
        for (name, help, v) in counters {
            header(out, name, "counter", help);
            let _ = writeln!(out, "{name} {v}");
        }
        header(
            out,
            "lamina_durable_executions",
            "gauge",
            "Running durable executions: `active` have an invocation running or owed, \
             `waiting` hold no instance.",
        );
        let mut busy: HashMap<&str, usize> = HashMap::new();
        let active = lock(&self.active);
        for f in active.keys().filter_map(|arn| function_of(arn)) {
            *busy.entry(f).or_default() += 1;
        }
        for f in self.functions.values() {
            let running = usize::try_from(self.metrics.running(&f.name)).unwrap_or(usize::MAX);
            let busy = busy.get(&*f.name).copied().unwrap_or(0).min(running);
            for (state, n) in [("active", busy), ("waiting", running - busy)] {
                let _ = writeln!(
                    out,
                    "lamina_durable_executions{{function=\"{}\",state=\"{state}\"}} {n}",
                    f.name
                );
            }
        }
        drop(active);
        header(
            out,
            "lamina_durable_instances_live",
            "gauge",
            "Live instances of durable functions.",
        );
        for f in self.functions.values() {
            let _ = writeln!(
                out,
                "lamina_durable_instances_live{{function=\"{}\"}} {}",
                f.name,
                f.metrics.instances_live.load(Ordering::Relaxed)
            );
        }
    }
}
