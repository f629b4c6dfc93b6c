//! Process metrics rendered in the Prometheus text exposition format.
//!
//! Every loaded function owns a [`FunctionMetrics`]; the host-wide counters
//! live in [`HostMetrics`]. Histograms use fixed buckets in seconds.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Histogram bucket upper bounds, in microseconds (rendered in seconds).
const BUCKETS_US: [u64; 20] = [
    5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
    500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    counts: [AtomicU64; BUCKETS_US.len()],
    count: AtomicU64,
    sum_us: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        if let Some(i) = BUCKETS_US.iter().position(|&b| us <= b) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Mean of the observations, in microseconds (`None` before the first).
    pub fn mean_us(&self) -> Option<f64> {
        let count = self.count();
        (count > 0).then(|| self.sum_us.load(Ordering::Relaxed) as f64 / count as f64)
    }

    /// The `q` quantile (0 to 1) as the upper bound, in microseconds, of the
    /// bucket it falls in, as Prometheus' `histogram_quantile` would bound
    /// it. `None` before the first observation, and `Some(u64::MAX)` when it
    /// lies beyond the last bucket.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        let count = self.count();
        if count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * count as f64).ceil() as u64).max(1);
        let mut cumulative = 0;
        for (i, bound) in BUCKETS_US.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            if cumulative >= rank {
                return Some(*bound);
            }
        }
        Some(u64::MAX)
    }

    /// Writes the histogram series (buckets, sum, count) of `name` with `labels`.
    pub(crate) fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, bound) in BUCKETS_US.iter().enumerate() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let le = *bound as f64 / 1e6;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum{{{labels}}} {sum}");
        let _ = writeln!(out, "{name}_count{{{labels}}} {count}");
    }
}

/// Counters and histograms of one function.
#[derive(Debug, Default)]
pub struct FunctionMetrics {
    /// Invocations started (any outcome).
    pub invocations: AtomicU64,
    /// Instances created.
    pub instantiations: AtomicU64,
    /// Instances alive right now.
    pub instances_live: AtomicU64,
    /// Time to instantiate from the pre-instantiated component.
    pub instantiate: Histogram,
    /// Time the guest ran for one invocation.
    pub run: Histogram,
    errors: Mutex<BTreeMap<&'static str, u64>>,
}

impl FunctionMetrics {
    /// Counts one failed invocation under `reason`.
    pub fn error(&self, reason: &'static str) {
        let mut errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        *errors.entry(reason).or_default() += 1;
    }

    /// Errors by reason.
    pub fn error_counts(&self) -> Vec<(&'static str, u64)> {
        let errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        errors.iter().map(|(k, v)| (*k, *v)).collect()
    }

    /// Number of errors counted under `reason`.
    pub fn errors(&self, reason: &str) -> u64 {
        let errors = self.errors.lock().unwrap_or_else(PoisonError::into_inner);
        errors.get(reason).copied().unwrap_or(0)
    }
}

/// A guard that counts a live instance until dropped.
pub struct LiveInstance<'a>(&'a FunctionMetrics);

impl<'a> LiveInstance<'a> {
    /// Marks one more instance alive for `m`.
    pub fn new(m: &'a FunctionMetrics) -> Self {
        m.instances_live.fetch_add(1, Ordering::Relaxed);
        LiveInstance(m)
    }
}

impl Drop for LiveInstance<'_> {
    fn drop(&mut self) {
        self.0.instances_live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Host-wide counters.
#[derive(Debug, Default)]
pub struct HostMetrics {
    /// Components compiled by cranelift at load time.
    pub compilations: AtomicU64,
    /// Components loaded from the compiled cache.
    pub cache_hits: AtomicU64,
    /// HTTP requests the host rejected before reaching a function (bad route, body, ...).
    pub rejected_requests: AtomicU64,
}

/// Writes the `# HELP` and `# TYPE` lines of a metric family.
pub(crate) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes one counter family of per-reason counts for each function.
pub(crate) fn by_reason<'a>(
    out: &mut String,
    name: &str,
    help: &str,
    rows: impl Iterator<Item = (&'a str, Vec<(&'static str, u64)>)>,
) {
    header(out, name, "counter", help);
    for (f, reasons) in rows {
        for (reason, v) in reasons {
            let _ = writeln!(out, "{name}{{function=\"{f}\",reason=\"{reason}\"}} {v}");
        }
    }
}

/// Renders all metrics; `functions` yields (name, kind, metrics).
pub fn render<'a>(
    host: &HostMetrics,
    functions: impl Iterator<Item = (&'a str, &'static str, &'a FunctionMetrics)> + Clone,
) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let counter = |out: &mut String, name: &str, help: &str, v: u64| {
        header(out, name, "counter", help);
        let _ = writeln!(out, "{name} {v}");
    };
    counter(
        &mut out,
        "lamina_component_compilations_total",
        "Components compiled to native code (cache misses).",
        host.compilations.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "lamina_component_cache_hits_total",
        "Components loaded from the compiled-component cache.",
        host.cache_hits.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "lamina_rejected_requests_total",
        "Requests rejected by the host before reaching a function.",
        host.rejected_requests.load(Ordering::Relaxed),
    );

    type Get = fn(&FunctionMetrics) -> u64;
    let per_fn: [(&str, &str, &str, Get); 3] = [
        (
            "lamina_invocations_total",
            "counter",
            "Invocations per function.",
            |m| m.invocations.load(Ordering::Relaxed),
        ),
        (
            "lamina_instantiations_total",
            "counter",
            "Instances created per function.",
            |m| m.instantiations.load(Ordering::Relaxed),
        ),
        (
            "lamina_instances_live",
            "gauge",
            "Instances alive now per function.",
            |m| m.instances_live.load(Ordering::Relaxed),
        ),
    ];
    for (name, kind, help, get) in per_fn {
        header(&mut out, name, kind, help);
        for (f, k, m) in functions.clone() {
            let _ = writeln!(out, "{name}{{function=\"{f}\",kind=\"{k}\"}} {}", get(m));
        }
    }
    by_reason(
        &mut out,
        "lamina_invocation_errors_total",
        "Failed invocations per function and reason.",
        functions.clone().map(|(f, _, m)| (f, m.error_counts())),
    );
    type GetHist = fn(&FunctionMetrics) -> &Histogram;
    let hists: [(&str, &str, GetHist); 2] = [
        (
            "lamina_instantiate_seconds",
            "Time to instantiate a fresh instance.",
            |m| &m.instantiate,
        ),
        (
            "lamina_run_seconds",
            "Time the guest ran per invocation.",
            |m| &m.run,
        ),
    ];
    for (name, help, get) in hists {
        header(&mut out, name, "histogram", help);
        for (f, _, m) in functions.clone() {
            get(m).render(&mut out, name, &format!("function=\"{f}\""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = FunctionMetrics::default();
        m.invocations.fetch_add(2, Ordering::Relaxed);
        m.instantiate.observe(Duration::from_micros(7));
        m.instantiate.observe(Duration::from_micros(300));
        m.error("trap");
        let host = HostMetrics::default();
        let text = render(&host, [("echo", "handler", &m)].into_iter());
        assert!(text.contains("lamina_invocations_total{function=\"echo\",kind=\"handler\"} 2"));
        assert!(
            text.contains("lamina_invocation_errors_total{function=\"echo\",reason=\"trap\"} 1")
        );
        assert!(
            text.contains("lamina_instantiate_seconds_bucket{function=\"echo\",le=\"0.00001\"} 1")
        );
        assert!(
            text.contains("lamina_instantiate_seconds_bucket{function=\"echo\",le=\"0.0005\"} 2")
        );
        assert!(text.contains("lamina_instantiate_seconds_count{function=\"echo\"} 2"));
    }

    #[test]
    fn quantiles_are_bucket_bounds() {
        let h = Histogram::default();
        assert_eq!(h.quantile_us(0.5), None);
        assert_eq!(h.mean_us(), None);
        for us in [7, 8, 9, 300] {
            h.observe(Duration::from_micros(us));
        }
        assert_eq!(h.quantile_us(0.5), Some(10));
        assert_eq!(h.quantile_us(0.99), Some(500));
        assert_eq!(h.mean_us(), Some(81.0));
        h.observe(Duration::from_secs(60));
        assert_eq!(h.quantile_us(1.0), Some(u64::MAX));
    }
}
