// Durations ({days, hours, minutes, seconds}) and jitter, as in AWS's SDK.

/** Jitter applied to retry and poll delays. */
export const JitterStrategy = Object.freeze({ NONE: "NONE", FULL: "FULL", HALF: "HALF" });

/** Whole seconds in a Duration. */
export function durationToSeconds(duration) {
  if (duration == null) return 0;
  if (typeof duration === "number") return duration;
  const { days = 0, hours = 0, minutes = 0, seconds = 0 } = duration;
  return days * 86400 + hours * 3600 + minutes * 60 + seconds;
}

/** `delay` with `strategy` applied. */
export function applyJitter(delay, strategy) {
  switch (strategy) {
    case JitterStrategy.FULL: return Math.random() * delay;
    case JitterStrategy.HALF: return delay / 2 + Math.random() * (delay / 2);
    default: return delay;
  }
}

/** `delay` jittered, rounded, at least one second. */
export function finalizeDelaySeconds(delay, jitter) {
  return Math.max(1, Math.round(applyJitter(delay, jitter)));
}
