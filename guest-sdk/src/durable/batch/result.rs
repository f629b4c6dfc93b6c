//! The result of a batch: [`BatchResult`] and its items, and the shape the
//! journal stores them in.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::durable::{DurableError, ErrorObject};

/// How a branch (or map item) ended, as far as the batch knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchItemStatus {
    /// It returned a result.
    Succeeded,
    /// It failed with an error.
    Failed,
    /// It started but had not ended when the batch completed (it was
    /// suspended: waiting for a timer, a retry, a callback or an invoke).
    Started,
}

impl BatchItemStatus {
    /// `SUCCEEDED`, `FAILED` or `STARTED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "SUCCEEDED",
            Self::Failed => "FAILED",
            Self::Started => "STARTED",
        }
    }
}

impl fmt::Display for BatchItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a batch completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompletionReason {
    /// Every branch ended (whether it succeeded or failed).
    AllCompleted,
    /// [`CompletionConfig::min_successful`] branches succeeded.
    MinSuccessfulReached,
    /// More branches failed than the completion config tolerates.
    FailureToleranceExceeded,
}

impl CompletionReason {
    /// `ALL_COMPLETED`, `MIN_SUCCESSFUL_REACHED` or
    /// `FAILURE_TOLERANCE_EXCEEDED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllCompleted => "ALL_COMPLETED",
            Self::MinSuccessfulReached => "MIN_SUCCESSFUL_REACHED",
            Self::FailureToleranceExceeded => "FAILURE_TOLERANCE_EXCEEDED",
        }
    }
}

impl fmt::Display for CompletionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One branch (or map item) in a [`BatchResult`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem<T> {
    /// Its position in the branches (or items), 0-based.
    pub index: usize,
    /// How it ended.
    pub status: BatchItemStatus,
    /// Its result, when it succeeded.
    pub result: Option<T>,
    /// Its error, when it failed.
    pub error: Option<ErrorObject>,
}

impl<T> BatchItem<T> {
    /// A branch that succeeded with `result`.
    pub fn succeeded(index: usize, result: T) -> Self {
        Self {
            index,
            status: BatchItemStatus::Succeeded,
            result: Some(result),
            error: None,
        }
    }

    /// A branch that failed with `error`.
    pub fn failed(index: usize, error: ErrorObject) -> Self {
        Self {
            index,
            status: BatchItemStatus::Failed,
            result: None,
            error: Some(error),
        }
    }

    /// A branch that started but had not ended.
    pub fn started(index: usize) -> Self {
        Self {
            index,
            status: BatchItemStatus::Started,
            result: None,
            error: None,
        }
    }
}

/// What [`DurableContext::parallel`] and [`DurableContext::map`] return:
/// every branch that was started, in index order, and why the batch
/// completed.
///
/// Branches that were never started (the batch completed before their
/// turn) are not in [`BatchResult::all`], so
/// [`total_count`](BatchResult::total_count) counts started branches only.
/// A failed branch does not fail the batch: look at
/// [`has_failure`](BatchResult::has_failure) or call
/// [`throw_if_error`](BatchResult::throw_if_error).
#[derive(Debug, Clone, PartialEq)]
pub struct BatchResult<T> {
    /// The started branches, in index order.
    pub all: Vec<BatchItem<T>>,
    /// Why the batch completed.
    pub completion_reason: CompletionReason,
}

impl<T> BatchResult<T> {
    /// A batch result of these items.
    pub fn new(all: Vec<BatchItem<T>>, completion_reason: CompletionReason) -> Self {
        Self {
            all,
            completion_reason,
        }
    }

    /// The branches that succeeded.
    pub fn succeeded(&self) -> Vec<&BatchItem<T>> {
        self.with_status(BatchItemStatus::Succeeded)
    }

    /// The branches that failed.
    pub fn failed(&self) -> Vec<&BatchItem<T>> {
        self.with_status(BatchItemStatus::Failed)
    }

    /// The branches that started but had not ended.
    pub fn started(&self) -> Vec<&BatchItem<T>> {
        self.with_status(BatchItemStatus::Started)
    }

    fn with_status(&self, status: BatchItemStatus) -> Vec<&BatchItem<T>> {
        self.all
            .iter()
            .filter(|item| item.status == status)
            .collect()
    }

    /// The results of the branches that succeeded, in index order.
    pub fn results(&self) -> Vec<&T> {
        self.all
            .iter()
            .filter_map(|item| item.result.as_ref())
            .collect()
    }

    /// The results of the branches that succeeded, in index order.
    pub fn into_results(self) -> Vec<T> {
        self.all
            .into_iter()
            .filter_map(|item| item.result)
            .collect()
    }

    /// The errors of the branches that failed, in index order.
    pub fn errors(&self) -> Vec<&ErrorObject> {
        self.all
            .iter()
            .filter_map(|item| item.error.as_ref())
            .collect()
    }

    /// Whether a branch failed.
    pub fn has_failure(&self) -> bool {
        self.all
            .iter()
            .any(|item| item.status == BatchItemStatus::Failed)
    }

    /// `Failed` if a branch failed, else `Succeeded`.
    pub fn status(&self) -> BatchItemStatus {
        if self.has_failure() {
            BatchItemStatus::Failed
        } else {
            BatchItemStatus::Succeeded
        }
    }

    /// The first failed branch's error as
    /// [`DurableError::ChildContextFailed`], if a branch failed.
    pub fn throw_if_error(&self) -> Result<(), DurableError> {
        match self.errors().first() {
            Some(err) => Err(DurableError::ChildContextFailed((*err).clone())),
            None => Ok(()),
        }
    }

    /// How many branches succeeded.
    pub fn success_count(&self) -> usize {
        self.succeeded().len()
    }

    /// How many branches failed.
    pub fn failure_count(&self) -> usize {
        self.failed().len()
    }

    /// How many branches started but had not ended.
    pub fn started_count(&self) -> usize {
        self.started().len()
    }

    /// How many branches were started.
    pub fn total_count(&self) -> usize {
        self.all.len()
    }
}

/// An [`ErrorObject`] as the batch result journals it.
#[derive(Serialize, Deserialize)]
struct WireError {
    #[serde(rename = "ErrorType", default, skip_serializing_if = "Option::is_none")]
    error_type: Option<String>,
    #[serde(
        rename = "ErrorMessage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    error_message: Option<String>,
    #[serde(rename = "ErrorData", default, skip_serializing_if = "Option::is_none")]
    error_data: Option<String>,
    #[serde(rename = "StackTrace", default, skip_serializing_if = "Vec::is_empty")]
    stack_trace: Vec<String>,
}

/// A [`BatchItem`] as the batch result journals it.
#[derive(Serialize, Deserialize)]
struct WireItem {
    index: usize,
    status: BatchItemStatus,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    result: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<WireError>,
}

/// A [`BatchResult`] as it is journaled (the AWS SDKs' shape).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireBatch {
    all: Vec<WireItem>,
    completion_reason: CompletionReason,
}

/// As JSON: `{"all": [{"index", "status", "result", "error"}, …],
/// "completionReason"}`.
impl<T: Serialize> Serialize for BatchResult<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut all = Vec::with_capacity(self.all.len());
        for item in &self.all {
            let result = match &item.result {
                Some(value) => serde_json::to_value(value).map_err(serde::ser::Error::custom)?,
                None => Value::Null,
            };
            let error = item.error.clone().map(|err| {
                let (error_type, error_message, error_data, stack_trace) = err.into_parts();
                WireError {
                    error_type,
                    error_message,
                    error_data,
                    stack_trace,
                }
            });
            all.push(WireItem {
                index: item.index,
                status: item.status,
                result,
                error,
            });
        }
        WireBatch {
            all,
            completion_reason: self.completion_reason,
        }
        .serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for BatchResult<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let wire = WireBatch::deserialize(deserializer)?;
        let mut all = Vec::with_capacity(wire.all.len());
        for item in wire.all {
            let result = match item.status {
                BatchItemStatus::Succeeded => {
                    Some(serde_json::from_value(item.result).map_err(serde::de::Error::custom)?)
                }
                _ => None,
            };
            let error = item.error.map(|err| {
                ErrorObject::from_parts(
                    err.error_type,
                    err.error_message,
                    err.error_data,
                    err.stack_trace,
                )
            });
            all.push(BatchItem {
                index: item.index,
                status: item.status,
                result,
                error,
            });
        }
        Ok(Self {
            all,
            completion_reason: wire.completion_reason,
        })
    }
}
