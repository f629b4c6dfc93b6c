//! Lamina: a host for serverless functions compiled to WebAssembly components.
//!
//! The library is organised by concern:
//! - [`config`]: `lamina.toml` and command-line function declarations;
//! - [`engine`]: the process-wide wasmtime engine, pooling allocator, epoch
//!   ticker and the on-disk cache of compiled components;
//! - [`bindings`]: host bindings of the `lamina:durable` world (linked by the
//!   registry, implemented by [`durable`]);
//! - [`registry`]: the live functions (component, kind, pre-instantiated form);
//! - [`deploy`]: the control plane: stored functions, versions, aliases, swaps;
//! - [`state`]: the per-instance store data (WASI, wasi-http, limits, logs);
//! - [`runtime`]: what every mode shares about running guest code (one run
//!   of a fresh instance: budget, store, timeout, failure classification);
//! - [`modes`]: execution models (standard mode: one fresh instance per request);
//! - [`api`]: the HTTP surface (data plane, Lambda-compatible invoke, metrics);
//! - [`durable`]: durable functions (executor, scheduler, journal imports);
//! - [`journal`]: the durable-execution journal (trait and redb implementation);
//! - [`sigv4`]: the HMAC work of AWS Signature Version 4 (host and CLI);
//! - [`names`]: function names from plain names, partial and full ARNs;
//! - [`outbound`]: the allowlist for guests' outgoing HTTP requests;
//! - [`symlinks`]: guest symlinks may not point out of a preopened directory;
//! - [`metrics`]: counters and histograms rendered in Prometheus text format;
//! - [`watch`]: `lamina serve --watch`, redeploying changed component files;
//! - [`bench`]: `lamina bench`, instantiate and first-call distributions;
//! - [`cli`]: the `lamina` command line.

pub mod api;
pub mod bench;
pub mod bindings;
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
pub mod names;
pub mod outbound;
pub mod registry;
pub mod runtime;
pub mod sigv4;
pub mod state;
pub mod symlinks;
pub mod watch;

pub use error::{InvokeError, LoadError};
