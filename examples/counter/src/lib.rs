//! A managed-mode Lamina function: a one-time `init` does the expensive
//! work, and the handler counts the requests its instance has served.
//!
//! * `init` sieves the primes below [`SIEVE_LIMIT`] into a lookup table
//!   (283,146 entries) and then, if the environment variable
//!   `COUNTER_INIT_MS` holds a number, busy-waits that many more
//!   milliseconds, so tests can make initialisation take a known time (for
//!   example `COUNTER_INIT_MS=1000` for about a second). A value that is not
//!   a number fails `init`.
//! * Every invocation (any JSON payload, e.g. `{}`) answers
//!   `{"count": N, "table_len": L}`: `N` is how many requests this instance
//!   has served, this one included (1 for the first), and `L` the size of
//!   the table `init` built.
//!
//! In managed mode the host calls `init` once and reuses the instance, so
//! `count` climbs and `table_len` is 283146. In standard mode every request
//! gets a fresh instance and `init` never runs: `count` is always 1 and
//! `table_len` 0. The table is deliberately not built lazily, so the answer
//! shows whether `init` ran.

use std::hint::black_box;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use lamina_sdk::{Context, FunctionError};
use serde_json::{Value, json};

/// The table holds the primes below this bound.
const SIEVE_LIMIT: usize = 4_000_000;

/// Environment variable naming extra milliseconds of busy work for `init`.
const INIT_MS_VAR: &str = "COUNTER_INIT_MS";

/// The lookup table built by `init`; empty until `init` has run.
static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();

/// Requests served by this instance.
static SERVED: AtomicU64 = AtomicU64::new(0);

/// One-time initialisation: builds the table, then busy-waits
/// `COUNTER_INIT_MS` milliseconds (0 if unset).
fn setup() -> Result<(), String> {
    let extra = match std::env::var(INIT_MS_VAR) {
        Ok(value) => value
            .trim()
            .parse::<u64>()
            .map_err(|err| format!("{INIT_MS_VAR}={value:?} is not a number of ms: {err}"))?,
        Err(_) => 0,
    };
    PRIMES
        .set(sieve(SIEVE_LIMIT))
        .map_err(|_| "init ran twice".to_owned())?;
    busy_wait_until(Instant::now() + Duration::from_millis(extra));
    Ok(())
}

fn handle(_event: Value, _ctx: &Context) -> Result<Value, FunctionError> {
    let count = SERVED.fetch_add(1, Ordering::Relaxed) + 1;
    let table_len = PRIMES.get().map_or(0, Vec::len);
    Ok(json!({ "count": count, "table_len": table_len }))
}

/// The primes below `limit`, by the sieve of Eratosthenes.
fn sieve(limit: usize) -> Vec<u32> {
    let mut composite = vec![false; limit];
    let mut primes = Vec::new();
    for n in 2..limit {
        if composite[n] {
            continue;
        }
        primes.push(u32::try_from(n).expect("SIEVE_LIMIT fits in u32"));
        // `usize` is 32 bits on wasm32: `n * n` overflows for large `n`,
        // whose multiples below `limit` are all marked already anyway.
        if let Some(square) = n.checked_mul(n) {
            for multiple in (square..limit).step_by(n) {
                composite[multiple] = true;
            }
        }
    }
    primes
}

/// Spins on the monotonic clock until `deadline`.
fn busy_wait_until(deadline: Instant) {
    while Instant::now() < deadline {
        black_box(());
        std::hint::spin_loop();
    }
}

lamina_sdk::handler!(handle, init = setup);
