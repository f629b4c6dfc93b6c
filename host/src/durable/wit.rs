//! Host bindings generated from `wit/durable` (`lamina:durable`).

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
