//! Integration tests: the real `lamina` binary, real guest components built
//! from `examples/`, a real HTTP client on 127.0.0.1.

mod async_events;
mod chaos;
mod cli;
mod cli_output;
mod concurrency;
mod concurrency_limits;
mod deploy;
mod disconnects;
mod durable;
mod faults;
mod fuzz_http;
mod handler;
mod http;
mod managed;
mod managed_http;
mod netsec;
mod new_rust;
mod retention;
mod sandbox;
mod scale;
mod startup;
mod support;
mod watch;
