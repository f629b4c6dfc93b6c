//! Lamina: a host for serverless functions compiled to WebAssembly components.
//!
//! The library is organised by concern:
//! - [`config`]: `lamina.toml` and command-line function declarations;
//! - [`engine`]: the process-wide wasmtime engine, pooling allocator, epoch
//!   ticker and the on-disk cache of compiled components;
//! - [`registry`]: the live functions (component, kind, pre-instantiated form);
//! - [`deploy`]: the control plane: stored functions, versions, aliases, swaps;
//! - [`state`]: the per-instance store data (WASI, wasi-http, limits, logs);
//! - [`modes`]: execution models (standard mode: one fresh instance per request);
//! - [`api`]: the HTTP surface (data plane, Lambda-compatible invoke, metrics);
//! - [`durable`]: durable functions (executor, scheduler, journal imports);
//! - [`journal`]: the durable-execution journal (trait and redb implementation);
//! - [`outbound`]: the allowlist for guests' outgoing HTTP requests;
//! - [`symlinks`]: guest symlinks may not point out of a preopened directory;
//! - [`metrics`]: counters and histograms rendered in Prometheus text format;
//! - [`bench`]: `lamina bench`, instantiate and first-call distributions;
//! - [`cli`]: the `lamina` command line.

pub mod api;
pub mod bench;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod durable;
pub mod engine;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod guest_log;
pub mod journal;
pub mod metrics;
pub mod modes;
pub mod outbound;
pub mod registry;
pub mod state;
pub mod symlinks;

pub use error::{InvokeError, LoadError};
