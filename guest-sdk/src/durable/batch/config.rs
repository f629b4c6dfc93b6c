//! Settings of parallel and map, and the branches of a parallel.

use std::fmt;
use std::rc::Rc;

use super::{BatchResult, CompletionConfig};
use crate::durable::{DurableContext, DurableError, Serdes};

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
pub(super) type ItemNamer<I> = dyn Fn(&I, usize) -> String;

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
pub(super) type BranchFn<'a, T> = Box<dyn FnOnce(&DurableContext) -> Result<T, DurableError> + 'a>;

/// One branch of [`DurableContext::parallel`]: a closure run in a child
/// context of its own, optionally named.
pub struct ParallelBranch<'a, T> {
    pub(super) name: Option<String>,
    pub(super) body: BranchFn<'a, T>,
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
