// Retry and wait strategies (createRetryStrategy, retryPresets,
// createLinearRetryStrategy, createWaitStrategy, withRetry), with AWS's defaults.
import { JitterStrategy, durationToSeconds, finalizeDelaySeconds, applyJitter } from "./duration.js";

function resolveRetryable(retryableErrors, retryableErrorTypes) {
  const all = retryableErrors === undefined && retryableErrorTypes === undefined;
  return { retryableErrors: retryableErrors ?? (all ? [/.*/] : []), retryableErrorTypes: retryableErrorTypes ?? [] };
}

function isRetryable(error, patterns, types) {
  const message = error && typeof error.message === "string" ? error.message : String(error);
  return patterns.some((p) => (p instanceof RegExp ? p.test(message) : message.includes(p)))
    || types.some((T) => error instanceof T);
}

/** Exponential backoff: 3 attempts, 5 s initial, x2, at most 5 min, full jitter, every error. */
export function createRetryStrategy(config = {}) {
  const errors = resolveRetryable(config.retryableErrors, config.retryableErrorTypes);
  const c = {
    maxAttempts: 3, initialDelay: { seconds: 5 }, maxDelay: { minutes: 5 }, backoffRate: 2,
    jitter: JitterStrategy.FULL, ...config, ...errors,
  };
  return (error, attemptsMade) => {
    if (attemptsMade >= c.maxAttempts) return { shouldRetry: false };
    if (!isRetryable(error, c.retryableErrors, c.retryableErrorTypes)) return { shouldRetry: false };
    const base = Math.min(durationToSeconds(c.initialDelay) * c.backoffRate ** (attemptsMade - 1), durationToSeconds(c.maxDelay));
    return { shouldRetry: true, delay: { seconds: finalizeDelaySeconds(base, c.jitter) } };
  };
}

/** Linear backoff: 6 attempts, 1 s initial, +1 s, at most 5 min, full jitter. */
export function createLinearRetryStrategy(config = {}) {
  const errors = resolveRetryable(config.retryableErrors, config.retryableErrorTypes);
  const c = {
    maxAttempts: 6, initialDelay: { seconds: 1 }, increment: { seconds: 1 }, maxDelay: { minutes: 5 },
    jitter: JitterStrategy.FULL, ...config, ...errors,
  };
  return (error, attemptsMade) => {
    if (attemptsMade >= c.maxAttempts) return { shouldRetry: false };
    if (!isRetryable(error, c.retryableErrors, c.retryableErrorTypes)) return { shouldRetry: false };
    const base = Math.min(
      durationToSeconds(c.initialDelay) + durationToSeconds(c.increment) * (attemptsMade - 1),
      durationToSeconds(c.maxDelay),
    );
    return { shouldRetry: true, delay: { seconds: finalizeDelaySeconds(base, c.jitter) } };
  };
}

/** AWS's presets: `default` (6 attempts, 5 s, x2, at most 60 s, full jitter), `linear`, `noRetry`. */
export const retryPresets = {
  default: createRetryStrategy({ maxAttempts: 6, initialDelay: { seconds: 5 }, maxDelay: { seconds: 60 }, backoffRate: 2, jitter: JitterStrategy.FULL }),
  linear: createLinearRetryStrategy({ maxAttempts: 6, initialDelay: { seconds: 1 }, increment: { seconds: 1 }, jitter: JitterStrategy.NONE }),
  noRetry: createRetryStrategy({ maxAttempts: 1 }),
};

/** waitForCondition polling: 60 attempts, 5 s initial, x1.5, at most 300 s, full jitter. */
export function createWaitStrategy(config) {
  const c = { maxAttempts: 60, initialDelay: { seconds: 5 }, maxDelay: { seconds: 300 }, backoffRate: 1.5, jitter: JitterStrategy.FULL, ...config };
  return (result, attemptsMade) => {
    if (!c.shouldContinuePolling(result)) return { shouldContinue: false };
    if (attemptsMade >= c.maxAttempts) throw new Error(`waitForCondition exceeded maximum attempts (${c.maxAttempts})`);
    const base = Math.min(durationToSeconds(c.initialDelay) * c.backoffRate ** (attemptsMade - 1), durationToSeconds(c.maxDelay));
    return { shouldContinue: true, delay: { seconds: Math.max(1, Math.round(applyJitter(base, c.jitter))) } };
  };
}

/** Runs `func(ctx, attempt)` again after durable waits while `retryStrategy` says so
 * (in a child context unless `wrapWithRunInChildContext` is false). */
export async function withRetry(context, nameOrFunc, funcOrConfig, maybeConfig) {
  const named = typeof nameOrFunc === "string";
  const name = named ? nameOrFunc : undefined;
  const func = named ? funcOrConfig : nameOrFunc;
  const config = named ? maybeConfig : funcOrConfig;
  if (!config) throw new TypeError("withRetry: config is required");
  const { retryStrategy, wrapWithRunInChildContext = true, childContextConfig } = config;
  const loop = async (ctx) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await func(ctx, attempt);
      } catch (err) {
        const decision = retryStrategy(err, attempt);
        if (!decision.shouldRetry) throw err;
        await ctx.wait(decision.delay ?? { seconds: 1 });
      }
    }
  };
  if (!wrapWithRunInChildContext) return loop(context);
  return context.runInChildContext(name, loop, childContextConfig);
}
