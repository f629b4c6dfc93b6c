//! Host bindings of WIT worlds that more than one part of the host uses:
//! the registry links components with them, the runtime of their kind
//! implements them. A leaf: it depends on nothing but the store data.

pub mod durable;
