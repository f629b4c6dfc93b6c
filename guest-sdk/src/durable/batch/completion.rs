//! When a batch completes: [`CompletionConfig`] and the policy that applies
//! it to the branches' outcomes.

use super::CompletionReason;
use crate::durable::DurableError;

/// When a batch completes (AWS `CompletionConfig`).
///
/// A batch completes when every branch ended, when `min_successful`
/// branches succeeded, or when more branches failed than tolerated;
/// branches not started by then never start. With no field set, the first
/// failure completes the batch (fail fast). The percentage is of all
/// branches, and is exceeded only when strictly greater.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CompletionConfig {
    /// Complete once this many branches succeeded (at least 1).
    pub min_successful: Option<usize>,
    /// Complete once more than this many branches failed.
    pub tolerated_failure_count: Option<usize>,
    /// Complete once more than this percentage (0 to 100) of the branches
    /// failed.
    pub tolerated_failure_percentage: Option<f64>,
}

impl CompletionConfig {
    /// Every branch must succeed: the first failure completes the batch
    /// (the default).
    pub fn all_successful() -> Self {
        Self {
            tolerated_failure_count: Some(0),
            tolerated_failure_percentage: Some(0.0),
            ..Self::default()
        }
    }

    /// Every branch runs, whatever fails.
    pub fn all_completed() -> Self {
        Self {
            tolerated_failure_percentage: Some(100.0),
            ..Self::default()
        }
    }

    /// The first branch that succeeds completes the batch.
    pub fn first_successful() -> Self {
        Self {
            min_successful: Some(1),
            ..Self::default()
        }
    }

    /// Complete once `n` branches succeeded.
    pub fn with_min_successful(mut self, n: usize) -> Self {
        self.min_successful = Some(n);
        self
    }

    /// Complete once more than `n` branches failed.
    pub fn with_tolerated_failure_count(mut self, n: usize) -> Self {
        self.tolerated_failure_count = Some(n);
        self
    }

    /// Complete once more than `percent` of the branches failed.
    pub fn with_tolerated_failure_percentage(mut self, percent: f64) -> Self {
        self.tolerated_failure_percentage = Some(percent);
        self
    }

    pub(super) fn validate(&self, total: usize) -> Result<(), DurableError> {
        let invalid = |message: String| Err(DurableError::InvalidArgument(message));
        match self.min_successful {
            Some(0) => return invalid("min_successful must be at least 1".to_owned()),
            Some(n) if n > total => {
                return invalid(format!(
                    "min_successful ({n}) cannot be more than the number of branches ({total})"
                ));
            }
            _ => {}
        }
        if let Some(p) = self.tolerated_failure_percentage
            && !(0.0..=100.0).contains(&p)
        {
            return invalid(format!(
                "tolerated_failure_percentage must be between 0 and 100, not {p}"
            ));
        }
        Ok(())
    }
}

/// The completion rules applied to `total` branches.
pub(super) struct Policy {
    /// Branches in all.
    pub(super) total: usize,
    /// The rules.
    pub(super) config: CompletionConfig,
}

impl Policy {
    fn has_criteria(&self) -> bool {
        let c = &self.config;
        c.min_successful.is_some()
            || c.tolerated_failure_count.is_some()
            || c.tolerated_failure_percentage.is_some()
    }

    fn tolerance_exceeded(&self, failed: usize) -> bool {
        if !self.has_criteria() {
            return failed > 0;
        }
        if self
            .config
            .tolerated_failure_count
            .is_some_and(|n| failed > n)
        {
            return true;
        }
        match self.config.tolerated_failure_percentage {
            Some(p) if self.total > 0 => failed as f64 * 100.0 / self.total as f64 > p,
            _ => false,
        }
    }

    fn is_complete(&self, succeeded: usize, failed: usize) -> bool {
        succeeded + failed >= self.total
            || self.config.min_successful.is_some_and(|n| succeeded >= n)
    }

    pub(super) fn done(&self, succeeded: usize, failed: usize) -> bool {
        self.is_complete(succeeded, failed) || self.tolerance_exceeded(failed)
    }

    pub(super) fn reason(&self, succeeded: usize, failed: usize) -> CompletionReason {
        if self.tolerance_exceeded(failed) {
            CompletionReason::FailureToleranceExceeded
        } else if succeeded + failed >= self.total {
            CompletionReason::AllCompleted
        } else if self.config.min_successful.is_some_and(|n| succeeded >= n) {
            CompletionReason::MinSuccessfulReached
        } else {
            CompletionReason::AllCompleted
        }
    }
}
