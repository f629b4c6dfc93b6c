//! The `lamina:durable/journal` imports behind a trait, so the replay logic
//! can be exercised against an in-memory journal in unit tests.

use crate::durable::ErrorObject;
use crate::durable_bindings::lamina::durable::journal as wit;
use crate::durable_bindings::lamina::durable::types::{
    ErrorObject as WitErrorObject, ExecutionState, JournalError, LogLevel, OpRef,
};

/// One method per journal import (see `wit/durable/durable.wit`).
pub(crate) trait Journal {
    /// `load-state`.
    fn load_state(&self) -> ExecutionState;
    /// `step-started` (`wait_for_commit`: at-most-once steps).
    fn step_started(
        &self,
        op: &OpRef,
        attempt: u32,
        wait_for_commit: bool,
    ) -> Result<(), JournalError>;
    /// `step-succeeded`.
    fn step_succeeded(&self, op: &OpRef, attempt: u32, result: &str) -> Result<(), JournalError>;
    /// `step-failed`.
    fn step_failed(
        &self,
        op: &OpRef,
        attempt: u32,
        error: &WitErrorObject,
    ) -> Result<(), JournalError>;
    /// `step-retry`.
    fn step_retry(
        &self,
        op: &OpRef,
        attempt: u32,
        error: &WitErrorObject,
        delay_seconds: u32,
    ) -> Result<(), JournalError>;
    /// `step-poll`: a `wait_for_condition` check ended with `state` and
    /// runs again after `delay_seconds`.
    fn step_poll(
        &self,
        op: &OpRef,
        attempt: u32,
        state: &str,
        delay_seconds: u32,
    ) -> Result<(), JournalError>;
    /// `wait-started`.
    fn wait_started(&self, op: &OpRef, seconds: u64) -> Result<(), JournalError>;
    /// `callback-started`.
    fn callback_started(
        &self,
        op: &OpRef,
        timeout_seconds: u64,
        heartbeat_timeout_seconds: u64,
    ) -> Result<String, JournalError>;
    /// `context-started`.
    fn context_started(&self, op: &OpRef) -> Result<(), JournalError>;
    /// `context-succeeded`; `replay_children`: `result` only stands for a
    /// result too large to journal, which replays rebuild from the children.
    fn context_succeeded(
        &self,
        op: &OpRef,
        result: &str,
        replay_children: bool,
    ) -> Result<(), JournalError>;
    /// `context-failed`.
    fn context_failed(&self, op: &OpRef, error: &WitErrorObject) -> Result<(), JournalError>;
    /// `invoke-started`.
    fn invoke_started(
        &self,
        op: &OpRef,
        function: &str,
        payload: &str,
        tenant_id: Option<&str>,
    ) -> Result<(), JournalError>;
    /// `log`.
    fn log(&self, level: LogLevel, message: &str);
}

/// The real journal: the host's imports.
pub(crate) struct WitJournal;

impl Journal for WitJournal {
    fn load_state(&self) -> ExecutionState {
        wit::load_state()
    }

    fn step_started(
        &self,
        op: &OpRef,
        attempt: u32,
        wait_for_commit: bool,
    ) -> Result<(), JournalError> {
        wit::step_started(op, attempt, wait_for_commit)
    }

    fn step_succeeded(&self, op: &OpRef, attempt: u32, result: &str) -> Result<(), JournalError> {
        wit::step_succeeded(op, attempt, result)
    }

    fn step_failed(
        &self,
        op: &OpRef,
        attempt: u32,
        error: &WitErrorObject,
    ) -> Result<(), JournalError> {
        wit::step_failed(op, attempt, error)
    }

    fn step_retry(
        &self,
        op: &OpRef,
        attempt: u32,
        error: &WitErrorObject,
        delay_seconds: u32,
    ) -> Result<(), JournalError> {
        wit::step_retry(op, attempt, error, delay_seconds)
    }

    fn step_poll(
        &self,
        op: &OpRef,
        attempt: u32,
        state: &str,
        delay_seconds: u32,
    ) -> Result<(), JournalError> {
        wit::step_poll(op, attempt, state, delay_seconds)
    }

    fn wait_started(&self, op: &OpRef, seconds: u64) -> Result<(), JournalError> {
        wit::wait_started(op, seconds)
    }

    fn callback_started(
        &self,
        op: &OpRef,
        timeout_seconds: u64,
        heartbeat_timeout_seconds: u64,
    ) -> Result<String, JournalError> {
        wit::callback_started(op, timeout_seconds, heartbeat_timeout_seconds)
    }

    fn context_started(&self, op: &OpRef) -> Result<(), JournalError> {
        wit::context_started(op)
    }

    fn context_succeeded(
        &self,
        op: &OpRef,
        result: &str,
        replay_children: bool,
    ) -> Result<(), JournalError> {
        wit::context_succeeded(op, result, replay_children)
    }

    fn context_failed(&self, op: &OpRef, error: &WitErrorObject) -> Result<(), JournalError> {
        wit::context_failed(op, error)
    }

    fn invoke_started(
        &self,
        op: &OpRef,
        function: &str,
        payload: &str,
        tenant_id: Option<&str>,
    ) -> Result<(), JournalError> {
        wit::invoke_started(op, function, payload, tenant_id)
    }

    fn log(&self, level: LogLevel, message: &str) {
        wit::log(level, message);
    }
}

impl From<ErrorObject> for WitErrorObject {
    fn from(err: ErrorObject) -> Self {
        let (error_type, error_message, error_data, stack_trace) = err.into_parts();
        WitErrorObject {
            error_type,
            error_message,
            error_data,
            stack_trace,
        }
    }
}

impl From<WitErrorObject> for ErrorObject {
    fn from(err: WitErrorObject) -> Self {
        ErrorObject::from_parts(
            err.error_type,
            err.error_message,
            err.error_data,
            err.stack_trace,
        )
    }
}
