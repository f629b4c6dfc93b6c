//! The HTTP surface: one hyper listener serving the data plane
//! (`/{function}/...`), the Lambda-compatible invoke API, `/metrics` and
//! `/healthz`.

pub mod durable;
pub mod lambda;
pub mod response;
pub mod server;

pub use server::{Host, serve};
