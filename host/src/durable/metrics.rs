//! Counters of the durable runtime and their Prometheus rendering.

use super::{Durable, lock};
use crate::journal::ExecutionStatus;
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
        let active: std::collections::HashSet<String> =
            lock(&self.active).keys().cloned().collect();
        for f in self.functions.values() {
            let running = self
                .journal
                .list_executions(crate::journal::ListQuery {
                    function: Some(f.name.to_string()),
                    statuses: vec![ExecutionStatus::Running],
                    limit: 1_000_000,
                    ..Default::default()
                })
                .await
                .map(|p| p.executions)
                .unwrap_or_default();
            let busy = running.iter().filter(|e| active.contains(&e.arn)).count();
            for (state, n) in [("active", busy), ("waiting", running.len() - busy)] {
                let _ = writeln!(
                    out,
                    "lamina_durable_executions{{function=\"{}\",state=\"{state}\"}} {n}",
                    f.name
                );
            }
        }
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
