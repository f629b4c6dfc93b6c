//! Parallel and map: branches that run as child contexts of one batch
//! operation, a completion policy deciding when the batch is done, and the
//! [`BatchResult`] it ends with.

use std::fmt;
use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::durable::child::MAX_RESULT_BYTES;
use crate::durable::context::operation_id;
use crate::durable::serdes::{SharedSerdes, from_text, to_text};
use crate::durable::step::recorded_error;
use crate::durable::{DurableContext, DurableError, ErrorObject, Serdes};
use crate::durable_bindings::lamina::durable::types::{OpRef, OperationStatus, OperationType};

/// Sub-type of the operation of [`DurableContext::parallel`].
pub(crate) const SUB_TYPE_PARALLEL: &str = "Parallel";
/// Sub-type of a branch of a parallel.
pub(crate) const SUB_TYPE_PARALLEL_BRANCH: &str = "ParallelBranch";
/// Sub-type of the operation of [`DurableContext::map`].
pub(crate) const SUB_TYPE_MAP: &str = "Map";
/// Sub-type of an iteration of a map.
pub(crate) const SUB_TYPE_MAP_ITERATION: &str = "MapIteration";

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

    fn validate(&self, total: usize) -> Result<(), DurableError> {
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
struct Policy {
    total: usize,
    config: CompletionConfig,
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

    fn done(&self, succeeded: usize, failed: usize) -> bool {
        self.is_complete(succeeded, failed) || self.tolerance_exceeded(failed)
    }

    fn reason(&self, succeeded: usize, failed: usize) -> CompletionReason {
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

/// How the branches of a parallel or the items of a map are journaled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Nesting {
    /// Each branch is a child context operation of its own
    /// (`ParallelBranch` / `MapIteration`) holding its operations and
    /// result (the default).
    #[default]
    Nested,
    /// Branches are not journaled: their operations belong to the batch
    /// operation directly (fewer operations; a branch's outcome is rebuilt
    /// by running it again over its journaled operations).
    Flat,
}

/// Settings of [`DurableContext::parallel`].
pub struct ParallelConfig<T> {
    /// At most this many branches in flight at once (started and not
    /// ended, also across invocations: a suspended branch keeps its
    /// place). `None`: no limit. Must be at least 1.
    pub max_concurrency: Option<usize>,
    /// When the parallel completes.
    pub completion: CompletionConfig,
    /// How branches are journaled.
    pub nesting: Nesting,
    /// Journals each branch result with this instead of JSON.
    pub item_serdes: Option<Rc<dyn Serdes<T>>>,
    /// Journals the whole [`BatchResult`] with this instead of JSON.
    pub serdes: Option<Rc<dyn Serdes<BatchResult<T>>>>,
}

impl<T> Default for ParallelConfig<T> {
    fn default() -> Self {
        Self {
            max_concurrency: None,
            completion: CompletionConfig::default(),
            nesting: Nesting::default(),
            item_serdes: None,
            serdes: None,
        }
    }
}

impl<T> ParallelConfig<T> {
    /// The default settings: no concurrency limit, fail fast, nested, JSON.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the concurrency limit.
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// Sets the completion config.
    pub fn with_completion(mut self, completion: CompletionConfig) -> Self {
        self.completion = completion;
        self
    }

    /// Sets the nesting.
    pub fn with_nesting(mut self, nesting: Nesting) -> Self {
        self.nesting = nesting;
        self
    }

    /// Journals each branch result with `serdes`.
    pub fn with_item_serdes(mut self, serdes: impl Serdes<T> + 'static) -> Self {
        self.item_serdes = Some(Rc::new(serdes));
        self
    }

    /// Journals the whole batch result with `serdes`.
    pub fn with_serdes(mut self, serdes: impl Serdes<BatchResult<T>> + 'static) -> Self {
        self.serdes = Some(Rc::new(serdes));
        self
    }
}

impl<T> fmt::Debug for ParallelConfig<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParallelConfig")
            .field("max_concurrency", &self.max_concurrency)
            .field("completion", &self.completion)
            .field("nesting", &self.nesting)
            .field("item_serdes", &self.item_serdes.is_some())
            .field("serdes", &self.serdes.is_some())
            .finish()
    }
}

/// Names a map iteration after its item and index.
type ItemNamer<I> = dyn Fn(&I, usize) -> String;

/// Settings of [`DurableContext::map`].
pub struct MapConfig<I, T> {
    /// At most this many items in flight at once (see
    /// [`ParallelConfig::max_concurrency`]).
    pub max_concurrency: Option<usize>,
    /// When the map completes.
    pub completion: CompletionConfig,
    /// How iterations are journaled.
    pub nesting: Nesting,
    /// Names each iteration (default: `map-item-{index}`).
    pub item_namer: Option<Rc<ItemNamer<I>>>,
    /// Journals each item result with this instead of JSON.
    pub item_serdes: Option<Rc<dyn Serdes<T>>>,
    /// Journals the whole [`BatchResult`] with this instead of JSON.
    pub serdes: Option<Rc<dyn Serdes<BatchResult<T>>>>,
}

impl<I, T> Default for MapConfig<I, T> {
    fn default() -> Self {
        Self {
            max_concurrency: None,
            completion: CompletionConfig::default(),
            nesting: Nesting::default(),
            item_namer: None,
            item_serdes: None,
            serdes: None,
        }
    }
}

impl<I, T> MapConfig<I, T> {
    /// The default settings: no concurrency limit, fail fast, nested, JSON.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the concurrency limit.
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// Sets the completion config.
    pub fn with_completion(mut self, completion: CompletionConfig) -> Self {
        self.completion = completion;
        self
    }

    /// Sets the nesting.
    pub fn with_nesting(mut self, nesting: Nesting) -> Self {
        self.nesting = nesting;
        self
    }

    /// Names each iteration with `namer(item, index)`.
    pub fn with_item_namer(mut self, namer: impl Fn(&I, usize) -> String + 'static) -> Self {
        self.item_namer = Some(Rc::new(namer));
        self
    }

    /// Journals each item result with `serdes`.
    pub fn with_item_serdes(mut self, serdes: impl Serdes<T> + 'static) -> Self {
        self.item_serdes = Some(Rc::new(serdes));
        self
    }

    /// Journals the whole batch result with `serdes`.
    pub fn with_serdes(mut self, serdes: impl Serdes<BatchResult<T>> + 'static) -> Self {
        self.serdes = Some(Rc::new(serdes));
        self
    }
}

impl<I, T> fmt::Debug for MapConfig<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapConfig")
            .field("max_concurrency", &self.max_concurrency)
            .field("completion", &self.completion)
            .field("nesting", &self.nesting)
            .field("item_namer", &self.item_namer.is_some())
            .field("item_serdes", &self.item_serdes.is_some())
            .field("serdes", &self.serdes.is_some())
            .finish()
    }
}

/// A branch body.
type BranchFn<'a, T> = Box<dyn FnOnce(&DurableContext) -> Result<T, DurableError> + 'a>;

/// One branch of [`DurableContext::parallel`]: a closure run in a child
/// context of its own, optionally named.
pub struct ParallelBranch<'a, T> {
    name: Option<String>,
    body: BranchFn<'a, T>,
}

impl<'a, T> ParallelBranch<'a, T> {
    /// A branch named `parallel-branch-{index}`.
    pub fn new(body: impl FnOnce(&DurableContext) -> Result<T, DurableError> + 'a) -> Self {
        Self {
            name: None,
            body: Box::new(body),
        }
    }

    /// A branch with a name of its own.
    pub fn named(
        name: impl Into<String>,
        body: impl FnOnce(&DurableContext) -> Result<T, DurableError> + 'a,
    ) -> Self {
        Self {
            name: Some(name.into()),
            body: Box::new(body),
        }
    }
}

impl<T> fmt::Debug for ParallelBranch<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParallelBranch")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Everything a batch run needs.
struct Batch<'a, T> {
    sub_type: &'static str,
    item_sub_type: &'static str,
    /// `type` of the summary journaled for a result too large to journal.
    summary_type: &'static str,
    branches: Vec<(String, BranchFn<'a, T>)>,
    max_concurrency: Option<usize>,
    completion: CompletionConfig,
    nesting: Nesting,
    item_serdes: SharedSerdes<T>,
    serdes: SharedSerdes<BatchResult<T>>,
}

/// What running (or replaying) one branch led to.
enum Outcome<T> {
    Succeeded(T),
    Failed(ErrorObject),
    /// Suspended: started, not ended.
    Started,
}

/// What a batch journals instead of a result over [`MAX_RESULT_BYTES`]:
/// enough to rebuild the same result from the branches' operations.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    #[serde(rename = "type")]
    summary_type: String,
    replay_children: bool,
    total_count: usize,
    completion_reason: CompletionReason,
    started_indexes: Vec<usize>,
    success_count: usize,
    failure_count: usize,
    status: BatchItemStatus,
}

impl Summary {
    fn of<T>(result: &BatchResult<T>, summary_type: &str) -> Self {
        Self {
            summary_type: summary_type.to_owned(),
            replay_children: true,
            total_count: result.total_count(),
            completion_reason: result.completion_reason,
            started_indexes: result.started().iter().map(|item| item.index).collect(),
            success_count: result.success_count(),
            failure_count: result.failure_count(),
            status: result.status(),
        }
    }

    /// The summary journaled as `text`, if it is one.
    fn parse(text: &str, summary_type: &str) -> Option<Self> {
        let summary: Self = serde_json::from_str(text).ok()?;
        (summary.replay_children && summary.summary_type == summary_type).then_some(summary)
    }
}

impl DurableContext {
    /// Runs `branches` as child contexts of one `Parallel` operation and
    /// returns how each ended.
    ///
    /// Branches start in index order, each in a child context of sub-type
    /// `ParallelBranch` (ids `"{id}-1"`, `"{id}-2"`, …) whose result is
    /// journaled: a replay returns it without running the branch again.
    /// Branches run one after another, but a branch that has to wait (a
    /// timer, a retry, a callback, an invoke) only suspends itself: the
    /// others still run, and the execution suspends once every branch that
    /// may start has ended or suspended. A suspended branch keeps its
    /// place among the [`max_concurrency`](ParallelConfig::max_concurrency)
    /// branches in flight until it ends in a later invocation.
    ///
    /// The parallel completes as the
    /// [`completion`](ParallelConfig::completion) config says (by default,
    /// when every branch succeeded or one failed); it then journals the
    /// [`BatchResult`] (a summary instead, when that is over
    /// [`MAX_RESULT_BYTES`]) and replays return it. A failed branch does
    /// not fail the call: see [`BatchResult::throw_if_error`]. An invalid
    /// config returns [`DurableError::InvalidArgument`] before anything is
    /// journaled.
    ///
    /// ```no_run
    /// use lamina_sdk::durable::{DurableContext, DurableError, ParallelBranch, ParallelConfig};
    ///
    /// fn handle(_: (), ctx: &DurableContext) -> Result<Vec<String>, DurableError> {
    ///     let batch = ctx.parallel(
    ///         Some("fetch"),
    ///         vec![
    ///             ParallelBranch::new(|c| c.step(|_| Ok::<_, String>("a".to_owned()))),
    ///             ParallelBranch::new(|c| c.step(|_| Ok::<_, String>("b".to_owned()))),
    ///         ],
    ///         ParallelConfig::new().with_max_concurrency(2),
    ///     )?;
    ///     batch.throw_if_error()?;
    ///     Ok(batch.into_results())
    /// }
    /// # lamina_sdk::durable_handler!(handle);
    /// ```
    pub fn parallel<'a, T>(
        &self,
        name: Option<&str>,
        branches: Vec<ParallelBranch<'a, T>>,
        config: ParallelConfig<T>,
    ) -> Result<BatchResult<T>, DurableError>
    where
        T: Serialize + DeserializeOwned,
    {
        let branches = branches
            .into_iter()
            .enumerate()
            .map(|(index, branch)| {
                let name = branch
                    .name
                    .unwrap_or_else(|| format!("parallel-branch-{index}"));
                (name, branch.body)
            })
            .collect();
        self.run_batch(
            name,
            Batch {
                sub_type: SUB_TYPE_PARALLEL,
                item_sub_type: SUB_TYPE_PARALLEL_BRANCH,
                summary_type: "ParallelResult",
                branches,
                max_concurrency: config.max_concurrency,
                completion: config.completion,
                nesting: config.nesting,
                item_serdes: config.item_serdes,
                serdes: config.serdes,
            },
        )
    }

    /// Runs `item_fn(ctx, item, index)` for each of `items` as a child
    /// context of one `Map` operation (sub-type `MapIteration`) and returns
    /// how each ended; otherwise like [`DurableContext::parallel`].
    ///
    /// ```no_run
    /// use lamina_sdk::durable::{CompletionConfig, DurableContext, DurableError, MapConfig};
    ///
    /// fn handle(urls: Vec<String>, ctx: &DurableContext) -> Result<usize, DurableError> {
    ///     let config = MapConfig::new()
    ///         .with_max_concurrency(4)
    ///         .with_completion(CompletionConfig::all_completed());
    ///     let sizes = ctx.map(Some("sizes"), &urls, |c, url, _index| {
    ///         c.step(|_| Ok::<_, String>(url.len()))
    ///     }, config)?;
    ///     Ok(sizes.results().into_iter().sum())
    /// }
    /// # lamina_sdk::durable_handler!(handle);
    /// ```
    pub fn map<I, T, F>(
        &self,
        name: Option<&str>,
        items: &[I],
        item_fn: F,
        config: MapConfig<I, T>,
    ) -> Result<BatchResult<T>, DurableError>
    where
        T: Serialize + DeserializeOwned,
        F: Fn(&DurableContext, &I, usize) -> Result<T, DurableError>,
    {
        let item_fn = &item_fn;
        let namer = config.item_namer.as_ref();
        let branches = items
            .iter()
            .enumerate()
            .map(|(index, item)| {
                let name = match namer {
                    Some(namer) => namer(item, index),
                    None => format!("map-item-{index}"),
                };
                let body: BranchFn<'_, T> = Box::new(move |ctx| item_fn(ctx, item, index));
                (name, body)
            })
            .collect();
        self.run_batch(
            name,
            Batch {
                sub_type: SUB_TYPE_MAP,
                item_sub_type: SUB_TYPE_MAP_ITERATION,
                summary_type: "MapResult",
                branches,
                max_concurrency: config.max_concurrency,
                completion: config.completion,
                nesting: config.nesting,
                item_serdes: config.item_serdes,
                serdes: config.serdes,
            },
        )
    }

    /// Runs (or replays) a batch operation.
    fn run_batch<T>(
        &self,
        name: Option<&str>,
        batch: Batch<'_, T>,
    ) -> Result<BatchResult<T>, DurableError>
    where
        T: Serialize + DeserializeOwned,
    {
        let exec = self.exec();
        exec.check()?;
        let total = batch.branches.len();
        if batch.max_concurrency == Some(0) {
            return Err(DurableError::InvalidArgument(
                "max_concurrency must be at least 1 (or None for no limit)".to_owned(),
            ));
        }
        batch.completion.validate(total)?;
        let policy = Policy {
            total,
            config: batch.completion,
        };
        let op = self.next_op(name, batch.sub_type);
        match exec.lookup(&op, OperationType::Context)? {
            None => exec
                .journal()
                .context_started(&op)
                .map_err(|err| exec.journal_failed(err))?,
            Some(recorded) => match recorded.status {
                OperationStatus::Succeeded => {
                    let text = recorded.result.unwrap_or_default();
                    let batch_ctx = self.child(op.id.clone());
                    if let Some(summary) = Summary::parse(&text, batch.summary_type) {
                        return batch_ctx.replay_batch(&op.id, batch, &summary);
                    }
                    return from_text(batch.serdes.as_ref(), &text, "the batch result");
                }
                OperationStatus::Failed
                | OperationStatus::Cancelled
                | OperationStatus::TimedOut
                | OperationStatus::Stopped => {
                    return Err(DurableError::ChildContextFailed(recorded_error(recorded)));
                }
                OperationStatus::Started | OperationStatus::Pending | OperationStatus::Ready => {}
            },
        }

        let batch_ctx = self.child(op.id.clone());
        let max_in_flight = batch.max_concurrency.unwrap_or(usize::MAX);
        let (mut succeeded, mut failed, mut in_flight) = (0, 0, 0);
        let mut all = Vec::new();
        for (index, (item_name, body)) in batch.branches.into_iter().enumerate() {
            if policy.done(succeeded, failed) || in_flight >= max_in_flight {
                break;
            }
            let outcome = batch_ctx.run_branch(
                &op.id,
                index,
                item_name,
                body,
                batch.item_sub_type,
                batch.nesting,
                batch.item_serdes.as_ref(),
            )?;
            all.push(match outcome {
                Outcome::Succeeded(value) => {
                    succeeded += 1;
                    BatchItem::succeeded(index, value)
                }
                Outcome::Failed(error) => {
                    failed += 1;
                    BatchItem::failed(index, error)
                }
                Outcome::Started => {
                    in_flight += 1;
                    BatchItem::started(index)
                }
            });
        }
        if !policy.done(succeeded, failed) {
            // Branches in flight are waiting and no other may start yet.
            return Err(exec.suspend());
        }

        let result = BatchResult::new(all, policy.reason(succeeded, failed));
        let text = to_text(batch.serdes.as_ref(), &result, "the batch result")?;
        if text.len() > MAX_RESULT_BYTES {
            // Replays rebuild it from the branches, as it is now.
            let summary = serde_json::to_string(&Summary::of(&result, batch.summary_type))?;
            exec.journal()
                .context_succeeded(&op, &summary)
                .map_err(|err| exec.journal_failed(err))?;
            return Ok(result);
        }
        // The result read back from the journaled text, as replays get it.
        let result = from_text(batch.serdes.as_ref(), &text, "the batch result")?;
        exec.journal()
            .context_succeeded(&op, &text)
            .map_err(|err| exec.journal_failed(err))?;
        Ok(result)
    }

    /// Rebuilds the result of a batch that journaled a summary: the
    /// branches it counted, as their operations recorded them.
    fn replay_batch<T>(
        &self,
        batch_id: &str,
        batch: Batch<'_, T>,
        summary: &Summary,
    ) -> Result<BatchResult<T>, DurableError>
    where
        T: Serialize + DeserializeOwned,
    {
        let mut all = Vec::new();
        let branches = batch.branches.into_iter().take(summary.total_count);
        for (index, (item_name, body)) in branches.enumerate() {
            if summary.started_indexes.contains(&index) {
                all.push(BatchItem::started(index));
                continue;
            }
            let outcome = self.run_branch(
                batch_id,
                index,
                item_name,
                body,
                batch.item_sub_type,
                batch.nesting,
                batch.item_serdes.as_ref(),
            )?;
            all.push(match outcome {
                Outcome::Succeeded(value) => BatchItem::succeeded(index, value),
                Outcome::Failed(error) => BatchItem::failed(index, error),
                Outcome::Started => BatchItem::started(index),
            });
        }
        Ok(BatchResult::new(all, summary.completion_reason))
    }

    /// Runs (or replays) branch `index` of the batch `batch_id` (this
    /// context) in a suspension scope of its own. Errors only when the
    /// whole invocation must stop.
    #[allow(clippy::too_many_arguments)]
    fn run_branch<T>(
        &self,
        batch_id: &str,
        index: usize,
        name: String,
        body: BranchFn<'_, T>,
        sub_type: &str,
        nesting: Nesting,
        item_serdes: Option<&Rc<dyn Serdes<T>>>,
    ) -> Result<Outcome<T>, DurableError>
    where
        T: Serialize + DeserializeOwned,
    {
        let exec = self.exec();
        let n = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let id = operation_id(Some(batch_id), n);
        let (result, suspended) = exec.scoped(|| match nesting {
            Nesting::Nested => {
                let op = OpRef {
                    id,
                    parent_id: Some(batch_id.to_owned()),
                    name: Some(name),
                    sub_type: sub_type.to_owned(),
                };
                // The value read back from the journaled text, on the first
                // run as on replay, so the code sees the same value.
                let text = self.run_context_op(
                    op,
                    |child| {
                        let value = body(child)?;
                        to_text(item_serdes, &value, "the branch result")
                    },
                    DurableError::ChildContextFailed,
                );
                text.and_then(|text| from_text(item_serdes, &text, "the branch result"))
            }
            Nesting::Flat => body(&self.virtual_child(id)),
        });
        if let Some(err) = exec.must_stop() {
            return Err(err);
        }
        if suspended {
            return Ok(Outcome::Started);
        }
        Ok(match result {
            Ok(value) => Outcome::Succeeded(value),
            Err(err) => Outcome::Failed(err.error_object()),
        })
    }
}
