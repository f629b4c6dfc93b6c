//! Retry strategies for steps: whether a failed attempt is retried, and
//! after how long.

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::durable::ErrorObject;

/// How a computed retry delay is randomised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Jitter {
    /// The delay as computed.
    None,
    /// Uniform between zero and the delay.
    #[default]
    Full,
    /// Half the delay plus uniform between zero and the other half.
    Half,
}

/// An exponential-backoff retry policy (the AWS `createRetryStrategy`
/// options).
///
/// The delay after failed attempt `n` (1-based) is
/// `initial_delay * backoff_rate^(n-1)`, capped at `max_delay`, then
/// jittered and rounded to whole seconds (at least one). Attempt
/// `max_attempts` is the last one.
///
/// ```
/// use std::time::Duration;
///
/// use lamina_sdk::durable::{Jitter, RetryConfig};
///
/// let config = RetryConfig {
///     max_attempts: 5,
///     initial_delay: Duration::from_secs(2),
///     backoff_rate: 3.0,
///     jitter: Jitter::None,
///     ..RetryConfig::default()
/// };
/// assert_eq!(config.delay_seconds(1, 0.5), 2);
/// assert_eq!(config.delay_seconds(2, 0.5), 6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay after the first failed attempt.
    pub initial_delay: Duration,
    /// Upper bound of the delay before jitter.
    pub max_delay: Duration,
    /// Factor the delay grows by per attempt.
    pub backoff_rate: f64,
    /// How the delay is randomised.
    pub jitter: Jitter,
    /// Only errors of these types are retried (`None`: any error). When
    /// both this and `retryable_error_messages` are set, an error matching
    /// either is retried.
    pub retryable_error_types: Option<Vec<String>>,
    /// Only errors whose message contains one of these texts are retried
    /// (`None`: any error).
    pub retryable_error_messages: Option<Vec<String>>,
}

impl Default for RetryConfig {
    /// The AWS default: 6 attempts, 5 s initial delay, 60 s maximum delay,
    /// backoff ×2, full jitter, every error retried.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(60),
            backoff_rate: 2.0,
            jitter: Jitter::Full,
            retryable_error_types: None,
            retryable_error_messages: None,
        }
    }
}

impl RetryConfig {
    /// The AWS default (see [`RetryConfig::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the number of attempts in all, the first included.
    pub fn with_max_attempts(mut self, max_attempts: u32) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// Sets the delay after the first failed attempt.
    pub fn with_initial_delay(mut self, delay: Duration) -> Self {
        self.initial_delay = delay;
        self
    }

    /// Sets the upper bound of the delay before jitter.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets the factor the delay grows by per attempt.
    pub fn with_backoff_rate(mut self, rate: f64) -> Self {
        self.backoff_rate = rate;
        self
    }

    /// Sets how the delay is randomised.
    pub fn with_jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Retries only errors of these types (or matching
    /// [`RetryConfig::with_retryable_error_messages`]).
    pub fn with_retryable_error_types(mut self, types: Vec<String>) -> Self {
        self.retryable_error_types = Some(types);
        self
    }

    /// Retries only errors whose message contains one of these texts (or
    /// matching [`RetryConfig::with_retryable_error_types`]).
    pub fn with_retryable_error_messages(mut self, texts: Vec<String>) -> Self {
        self.retryable_error_messages = Some(texts);
        self
    }

    /// Whether `error` is one this policy retries (ignoring the attempt
    /// count).
    pub fn is_retryable(&self, error: &ErrorObject) -> bool {
        let by_type = self.retryable_error_types.as_ref().map(|types| {
            error
                .error_type()
                .is_some_and(|t| types.iter().any(|wanted| wanted == t))
        });
        let by_message = self.retryable_error_messages.as_ref().map(|texts| {
            error
                .message()
                .is_some_and(|m| texts.iter().any(|text| m.contains(text.as_str())))
        });
        match (by_type, by_message) {
            (None, None) => true,
            (a, b) => a.unwrap_or(false) || b.unwrap_or(false),
        }
    }

    /// The delay in whole seconds (rounded up, at least one, as
    /// wait-for-condition delays) after failed attempt `attempt`, given
    /// `unit`, a number in `[0, 1)` that picks the jitter.
    pub fn delay_seconds(&self, attempt: u32, unit: f64) -> u32 {
        let delay = backoff(
            self.initial_delay,
            self.max_delay,
            self.backoff_rate,
            self.jitter,
            attempt,
            unit,
        );
        u32::try_from(whole_seconds(delay)).unwrap_or(u32::MAX)
    }

    /// Decides about failed attempt `attempt` with `error`.
    pub fn decide(&self, error: &ErrorObject, attempt: u32) -> RetryDecision {
        if attempt >= self.max_attempts || !self.is_retryable(error) {
            return RetryDecision::NoRetry;
        }
        RetryDecision::Retry(Duration::from_secs(u64::from(
            self.delay_seconds(attempt, random_unit()),
        )))
    }
}

/// What a retry strategy decided about a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Run another attempt after this delay (rounded up to whole seconds,
    /// at least one).
    Retry(Duration),
    /// Fail the step with the error.
    NoRetry,
}

/// A closure deciding about a failed attempt: `(error, attempt)`.
type DecideFn = dyn Fn(&ErrorObject, u32) -> RetryDecision;

/// Decides whether a failed step attempt is retried.
///
/// * [`RetryStrategy::default()`]: the AWS default policy (see
///   [`RetryConfig::default`]);
/// * [`RetryStrategy::none()`]: one attempt, no retry;
/// * [`RetryStrategy::from_config`]: an exponential-backoff policy;
/// * [`RetryStrategy::custom`]: any closure.
///
/// ```
/// use std::time::Duration;
///
/// use lamina_sdk::durable::{RetryDecision, RetryStrategy};
///
/// // Never retry TransientError; otherwise behave like the default.
/// let strategy = RetryStrategy::custom(|err, attempt| {
///     if err.is_type("TransientError") {
///         RetryDecision::NoRetry
///     } else {
///         RetryStrategy::default().decide(err, attempt)
///     }
/// });
/// # let _ = strategy;
/// ```
#[derive(Clone)]
pub struct RetryStrategy(Strategy);

#[derive(Clone)]
enum Strategy {
    Config(RetryConfig),
    Custom(Rc<DecideFn>),
}

impl RetryStrategy {
    /// One attempt, no retry.
    pub fn none() -> Self {
        Self::from_config(RetryConfig {
            max_attempts: 1,
            ..RetryConfig::default()
        })
    }

    /// Up to `max_attempts` attempts in all, `delay` apart (rounded up to
    /// whole seconds, at least one), whatever the error.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// use lamina_sdk::durable::{ErrorObject, RetryDecision, RetryStrategy};
    ///
    /// let strategy = RetryStrategy::fixed(Duration::from_secs(2), 3);
    /// let err = ErrorObject::new("Flaky", "try again");
    /// assert_eq!(strategy.decide(&err, 2), RetryDecision::Retry(Duration::from_secs(2)));
    /// assert_eq!(strategy.decide(&err, 3), RetryDecision::NoRetry);
    /// ```
    pub fn fixed(delay: Duration, max_attempts: u32) -> Self {
        Self::from_config(RetryConfig {
            max_attempts,
            initial_delay: delay,
            max_delay: delay,
            backoff_rate: 1.0,
            jitter: Jitter::None,
            ..RetryConfig::default()
        })
    }

    /// An exponential-backoff policy.
    pub fn from_config(config: RetryConfig) -> Self {
        Self(Strategy::Config(config))
    }

    /// A strategy that asks `decide(error, attempt)`.
    pub fn custom(decide: impl Fn(&ErrorObject, u32) -> RetryDecision + 'static) -> Self {
        Self(Strategy::Custom(Rc::new(decide)))
    }

    /// Decides about failed attempt `attempt` (1-based) with `error`.
    pub fn decide(&self, error: &ErrorObject, attempt: u32) -> RetryDecision {
        match &self.0 {
            Strategy::Config(config) => config.decide(error, attempt),
            Strategy::Custom(decide) => decide(error, attempt),
        }
    }
}

impl Default for RetryStrategy {
    /// The AWS default policy (see [`RetryConfig::default`]).
    fn default() -> Self {
        Self::from_config(RetryConfig::default())
    }
}

impl fmt::Debug for RetryStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Strategy::Config(config) => f.debug_tuple("RetryStrategy").field(config).finish(),
            Strategy::Custom(_) => f.write_str("RetryStrategy(custom)"),
        }
    }
}

/// A retry delay as the journal takes it: whole seconds, rounded up, at
/// least one.
pub(crate) fn delay_to_seconds(delay: Duration) -> u32 {
    let secs = delay
        .as_secs()
        .saturating_add(u64::from(delay.subsec_nanos() > 0));
    u32::try_from(secs).unwrap_or(u32::MAX).max(1)
}

/// A backoff delay (fractional seconds) as step retries and condition
/// checks both journal it: whole seconds, rounded up, at least one.
pub(crate) fn whole_seconds(delay: f64) -> u64 {
    // `as` saturates for floats out of range (and maps NaN to 0).
    (delay.ceil() as u64).max(1)
}

/// A random number in `[0, 1)` for jitter (std's hash seeds come from
/// `wasi:random`).
pub(crate) fn random_unit() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let bits = RandomState::new().hash_one(COUNTER.fetch_add(1, Ordering::Relaxed));
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// The delay in (fractional) seconds after attempt `attempt` (1-based) of an
/// exponential backoff: `initial × rate^(attempt-1)`, capped at `max`, then
/// jittered by `unit`, a number in `[0, 1)`. Shared by step retries and
/// wait-for-condition polling, which round it differently.
pub(crate) fn backoff(
    initial: Duration,
    max: Duration,
    rate: f64,
    jitter: Jitter,
    attempt: u32,
    unit: f64,
) -> f64 {
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let max = max.as_secs_f64();
    let base = (initial.as_secs_f64() * rate.powi(exponent)).min(max);
    let base = if base.is_finite() { base.max(0.0) } else { max };
    let unit = unit.clamp(0.0, 1.0);
    match jitter {
        Jitter::None => base,
        Jitter::Full => base * unit,
        Jitter::Half => base / 2.0 + base / 2.0 * unit,
    }
}
