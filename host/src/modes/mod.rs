//! Execution models. Standard mode (a fresh instance per request) is the
//! default; managed mode and durable execution build on the same engine.

pub mod async_events;
pub mod managed;
pub mod standard;
