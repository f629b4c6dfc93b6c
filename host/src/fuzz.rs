//! The bounded property-test runner behind the fuzz targets (the
//! `fuzz_tests` modules): each target runs `LAMINA_FUZZ_CASES` random inputs
//! (its own default when unset, small enough for the normal `cargo test`),
//! or, with `LAMINA_FUZZ_SECONDS`, rounds of them until that time is up
//! (`scripts/fuzz.sh`). It prints `fuzz TARGET: N inputs tried` and, on a
//! failure, panics with the smallest failing input proptest shrank it to.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

/// A number from the environment variable `key`, if set and valid.
pub(crate) fn env_u64(key: &str) -> Option<u64> {
    std::env::var(key).ok()?.trim().parse().ok()
}

/// Runs `test` on inputs drawn from `strategy`; see the module doc.
pub(crate) fn run<S>(
    target: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S: Strategy,
{
    let cases = env_u64("LAMINA_FUZZ_CASES")
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(default_cases)
        .max(1);
    let deadline = env_u64("LAMINA_FUZZ_SECONDS").map(|s| Instant::now() + Duration::from_secs(s));
    let tried = AtomicU64::new(0);
    let failing = AtomicU64::new(0);
    loop {
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let outcome = runner.run(&strategy, |input| {
            // Inputs tried before the first failure; shrinking runs are not counted.
            if failing.load(Ordering::Relaxed) == 0 {
                tried.fetch_add(1, Ordering::Relaxed);
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(input)))
                .unwrap_or_else(|panic| {
                    let message = panic
                        .downcast_ref::<String>()
                        .map(String::as_str)
                        .or_else(|| panic.downcast_ref::<&str>().copied())
                        .unwrap_or("a panic");
                    Err(TestCaseError::fail(format!("panicked: {message}")))
                });
            if result.is_err() {
                failing.fetch_add(1, Ordering::Relaxed);
            }
            result
        });
        let n = tried.load(Ordering::Relaxed);
        if let Err(e) = outcome {
            eprintln!("fuzz {target}: {n} inputs tried, FAILED");
            panic!("fuzz target {target} failed after {n} inputs: {e}");
        }
        if deadline.is_none_or(|d| Instant::now() >= d) {
            eprintln!("fuzz {target}: {n} inputs tried, no failure");
            return;
        }
    }
}
