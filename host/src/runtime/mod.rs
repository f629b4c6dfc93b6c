//! What every execution mode shares about running guest code:
//! [`instance`], one run of a fresh instance (budget, store, timeout,
//! failure classification, log flushing).

pub mod instance;
