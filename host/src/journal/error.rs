//! Errors of the journal.

use std::path::PathBuf;

use thiserror::Error;

use super::ExecutionStatus;

/// Why a journal operation (a read or a write request) failed: a rejection
/// of that one request, or a storage failure. Opening a journal fails with
/// an [`OpenError`] instead.
///
/// The error is `Clone` because one failed group commit answers every request
/// of the group with the same error.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum JournalError {
    /// No execution has this ARN.
    #[error("no durable execution with ARN {arn}")]
    ExecutionNotFound {
        /// The ARN asked for.
        arn: String,
    },
    /// `create_execution` was given an ARN that is already stored.
    #[error("a durable execution with ARN {arn} already exists")]
    ExecutionExists {
        /// The ARN.
        arn: String,
    },
    /// The batch would change an execution that has already ended.
    #[error(
        "durable execution {arn} has already ended with status {status}; \
         it accepts no further operations"
    )]
    ExecutionEnded {
        /// The execution.
        arn: String,
        /// Its final status.
        status: ExecutionStatus,
    },
    /// A callback id is already registered for another operation.
    #[error("callback id {callback_id} is already registered for {arn} operation {op_id}")]
    CallbackIdInUse {
        /// The callback id.
        callback_id: String,
        /// The execution that owns it.
        arn: String,
        /// The operation that owns it.
        op_id: String,
    },
    /// The request itself is malformed (a caller bug).
    #[error("invalid journal request: {0}")]
    Invalid(String),
    /// The batch expected another last event id (see
    /// [`super::Journal::apply_expecting`]): someone else wrote to the
    /// execution since the caller read it. Nothing was written.
    #[error(
        "durable execution {arn} has moved on: expected last event id {expected}, found {found}"
    )]
    Conflict {
        /// The execution.
        arn: String,
        /// The last event id the caller expected.
        expected: u64,
        /// The execution's last event id.
        found: u64,
    },
    /// The batch was fenced by an owner whose lease on the execution was
    /// taken over by another host (see [`super::Batch::fence`]). Nothing
    /// was written; the other host runs the execution now.
    #[error("durable execution {arn} is now run by host {holder}; host {owner} lost its lease")]
    LeaseLost {
        /// The execution.
        arn: String,
        /// The owner that wrote.
        owner: String,
        /// The owner that holds the lease.
        holder: String,
    },
    /// A stored row could not be decoded.
    #[error("corrupt journal row in table `{table}` at key {key}: {message}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// The row's key, for humans.
        key: String,
        /// The decoder's explanation.
        message: String,
    },
    /// The storage engine failed (I/O error, disk full, ...). Every request
    /// committed in the same group gets this error and none of them is stored.
    #[error("journal storage error: {0}")]
    Storage(String),
    /// The journal has been closed (its writer is gone).
    #[error("the journal is closed")]
    Closed,
}

impl JournalError {
    /// Whether the error comes from the storage engine itself, as opposed to
    /// a rejected request: such an error aborts the whole group commit.
    pub fn is_storage(&self) -> bool {
        matches!(self, JournalError::Storage(_) | JournalError::Closed)
    }
}

/// Why a journal could not be opened. These errors name the file at fault.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum OpenError {
    /// The journal file was written with another schema version.
    #[error(
        "journal {path} has schema version {found}, but this build of Lamina reads schema \
         version {expected}; use a matching Lamina version or move the file away"
    )]
    SchemaVersion {
        /// The journal file.
        path: PathBuf,
        /// The version stored in the file.
        found: u64,
        /// The version this build reads and writes.
        expected: u64,
    },
    /// Another process has the journal file open.
    #[error(
        "journal {path} is already open in another process: another lamina is serving this \
         state directory; stop it or give this host its own --state-dir"
    )]
    AlreadyOpen {
        /// The journal file.
        path: PathBuf,
    },
    /// The state directory could not be created.
    #[error("cannot create the state directory {path}: {message}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        message: String,
    },
    /// The database could not be reached or refused the connection.
    #[error("cannot reach the journal database at {url}: {message}")]
    Unreachable {
        /// The database URL, without its password.
        url: String,
        /// Why.
        message: String,
    },
    /// The database holds a newer Lamina schema than this build knows.
    #[error(
        "the journal database at {url} has Lamina schema version {found}, but this build \
         knows versions up to {expected}; upgrade this host"
    )]
    DatabaseSchema {
        /// The database URL, without its password.
        url: String,
        /// The newest version applied to the database.
        found: i64,
        /// The newest version this build knows.
        expected: i64,
    },
    /// The storage engine failed while opening or preparing the journal.
    #[error("journal storage error: {0}")]
    Storage(String),
}

impl From<JournalError> for OpenError {
    /// A failure of a request made while opening (preparing the tables).
    fn from(e: JournalError) -> Self {
        match e {
            JournalError::Storage(message) => OpenError::Storage(message),
            other => OpenError::Storage(other.to_string()),
        }
    }
}
