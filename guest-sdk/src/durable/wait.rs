//! Durable waits: the execution sleeps without holding an instance.

use std::time::Duration;

use crate::durable::step::recorded_error;
use crate::durable::{DurableContext, DurableError};
use crate::durable_bindings::lamina::durable::types::{OperationStatus, OperationType};

/// Sub-type of waits.
pub(crate) const SUB_TYPE_WAIT: &str = "Wait";

impl DurableContext {
    /// Waits `duration` (whole seconds, rounded up; at least one second).
    ///
    /// The first time, this journals the wait and suspends the execution;
    /// the host re-invokes the handler when the wait is over, and the call
    /// then returns `Ok(())`. The execution holds no instance meanwhile.
    pub fn wait(&self, name: Option<&str>, duration: Duration) -> Result<(), DurableError> {
        let exec = self.exec();
        exec.check()?;
        let seconds = whole_seconds(duration, "wait duration")?;
        let op = self.next_op(name, SUB_TYPE_WAIT);
        let Some(recorded) = exec.lookup(&op, OperationType::Wait)? else {
            exec.journal()
                .wait_started(&op, seconds)
                .map_err(|err| exec.journal_failed(err))?;
            return Err(exec.suspend());
        };
        match recorded.status {
            OperationStatus::Succeeded => Ok(()),
            OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {
                Err(exec.suspend())
            }
            OperationStatus::Failed
            | OperationStatus::Cancelled
            | OperationStatus::TimedOut
            | OperationStatus::Stopped => {
                Err(DurableError::OperationFailed(recorded_error(recorded)))
            }
        }
    }
}

/// A duration in whole seconds, rounded up; an error below one second.
pub(crate) fn whole_seconds(duration: Duration, what: &str) -> Result<u64, DurableError> {
    if duration < Duration::from_secs(1) {
        return Err(DurableError::InvalidArgument(format!(
            "{what} must be at least one second, not {duration:?}"
        )));
    }
    Ok(duration
        .as_secs()
        .saturating_add(u64::from(duration.subsec_nanos() > 0)))
}
