//! Host bindings generated from `wit/durable` (`lamina:durable`), and the
//! linker durable functions are instantiated with. The durable runtime
//! implements the imports (`durable::imports`); the registry only links.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit/durable",
    world: "lamina:durable/durable-function",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::lamina::durable::types::{
    ErrorObject, ExecutionState, JournalError, LogLevel, OpRef, Operation, OperationStatus,
    OperationType, Outcome,
};

/// A linker for durable functions: `base` (the imports every function may
/// use) plus the `lamina:durable/journal` imports, which other kinds of
/// function do not get.
pub fn linker(
    base: &wasmtime::component::Linker<crate::state::HostState>,
) -> wasmtime::Result<wasmtime::component::Linker<crate::state::HostState>> {
    let mut linker = base.clone();
    DurableFunction::add_to_linker::<_, wasmtime::component::HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}
