//! The `lamina:durable` host bindings ([`crate::bindings::durable`]), under
//! the name the durable runtime uses for them.

pub use crate::bindings::durable::*;
