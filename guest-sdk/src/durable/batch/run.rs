//! Running and replaying parallel and map: each branch a child context of
//! the batch operation, the completion policy deciding when it is done.

use std::rc::Rc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::completion::Policy;
use super::config::BranchFn;
use super::{
    BatchItem, BatchItemStatus, BatchResult, CompletionConfig, CompletionReason, MapConfig,
    Nesting, ParallelBranch, ParallelConfig, SUB_TYPE_MAP, SUB_TYPE_MAP_ITERATION,
    SUB_TYPE_PARALLEL, SUB_TYPE_PARALLEL_BRANCH,
};
use crate::durable::child::MAX_RESULT_BYTES;
use crate::durable::context::operation_id;
use crate::durable::serdes::{SharedSerdes, from_text, to_text};
use crate::durable::step::recorded_error;
use crate::durable::{DurableContext, DurableError, ErrorObject, Serdes};
use crate::durable_bindings::lamina::durable::types::{OpRef, OperationStatus, OperationType};

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
                    // Journaled with `replay_children`; the summary carries
                    // the flag too, for journals written before it existed.
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
                .context_succeeded(&op, &summary, true)
                .map_err(|err| exec.journal_failed(err))?;
            return Ok(result);
        }
        // The result read back from the journaled text, as replays get it.
        let result = from_text(batch.serdes.as_ref(), &text, "the batch result")?;
        exec.journal()
            .context_succeeded(&op, &text, false)
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
