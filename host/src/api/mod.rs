//! The HTTP surface: one hyper listener serving the data plane
//! (`/{function}/...`), the Lambda-compatible invoke API, `/metrics`,
//! `/healthz` and the dashboard at `/ui`.

pub mod auth;
pub mod control;
pub mod durable;
#[cfg(test)]
mod fuzz_tests;
pub mod lambda;
pub mod response;
pub mod server;
pub mod ui;

pub use server::{Host, serve};
