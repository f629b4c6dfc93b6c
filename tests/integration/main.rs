//! Integration tests: the real `lamina` binary, real guest components built
//! from `examples/`, a real HTTP client on 127.0.0.1.

mod chaos;
mod cli;
mod concurrency;
mod durable;
mod faults;
mod fuzz_http;
mod handler;
mod http;
mod managed;
mod startup;
mod support;
