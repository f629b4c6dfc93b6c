//! Parallel and map: branches that run as child contexts of one batch
//! operation, a completion policy deciding when the batch is done, and the
//! [`BatchResult`] it ends with.
//!
//! | file            | what                                                   |
//! |-----------------|--------------------------------------------------------|
//! | `result.rs`     | [`BatchResult`], [`BatchItem`] and their journaled shape |
//! | `completion.rs` | [`CompletionConfig`] and the policy applying it        |
//! | `config.rs`     | [`ParallelConfig`], [`MapConfig`], [`ParallelBranch`], [`Nesting`] |
//! | `run.rs`        | `parallel`, `map` and the run / replay loop            |

mod completion;
mod config;
mod result;
mod run;

pub use completion::CompletionConfig;
pub use config::{MapConfig, Nesting, ParallelBranch, ParallelConfig};
pub use result::{BatchItem, BatchItemStatus, BatchResult, CompletionReason};

/// Sub-type of the operation of [`DurableContext::parallel`].
pub(crate) const SUB_TYPE_PARALLEL: &str = "Parallel";
/// Sub-type of a branch of a parallel.
pub(crate) const SUB_TYPE_PARALLEL_BRANCH: &str = "ParallelBranch";
/// Sub-type of the operation of [`DurableContext::map`].
pub(crate) const SUB_TYPE_MAP: &str = "Map";
/// Sub-type of an iteration of a map.
pub(crate) const SUB_TYPE_MAP_ITERATION: &str = "MapIteration";
