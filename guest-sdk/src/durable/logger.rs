//! Log lines from durable code, sent to the host through `journal.log`.

use std::rc::Rc;

use crate::durable::state::Execution;
use crate::durable_bindings::lamina::durable::types::LogLevel;

/// Writes log lines the host tags with the execution.
///
/// The logger of a [`DurableContext`](crate::durable::DurableContext) is
/// silent while the code replays operations the journal already has, so a
/// line is logged once per execution, not once per invocation. The logger
/// of a [`StepContext`](crate::durable::StepContext) always logs: a step
/// body only runs when it is not replayed.
#[derive(Clone)]
pub struct Logger {
    exec: Rc<Execution>,
    replay_aware: bool,
}

impl Logger {
    /// A logger that is silent while replaying.
    pub(crate) fn replay_aware(exec: Rc<Execution>) -> Self {
        Self {
            exec,
            replay_aware: true,
        }
    }

    /// A logger that always logs.
    pub(crate) fn always(exec: Rc<Execution>) -> Self {
        Self {
            exec,
            replay_aware: false,
        }
    }

    /// This logger, but logging while replaying too (to see replays).
    pub fn including_replays(mut self) -> Self {
        self.replay_aware = false;
        self
    }

    /// Logs at level `debug`.
    pub fn debug(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Debug, message.as_ref());
    }

    /// Logs at level `info`.
    pub fn info(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Info, message.as_ref());
    }

    /// Logs at level `warn`.
    pub fn warn(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Warn, message.as_ref());
    }

    /// Logs at level `error`.
    pub fn error(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Error, message.as_ref());
    }

    fn log(&self, level: LogLevel, message: &str) {
        if self.replay_aware && self.exec.is_replaying() {
            return;
        }
        self.exec.journal().log(level, message);
    }
}
