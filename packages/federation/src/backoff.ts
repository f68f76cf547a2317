/** Exponential backoff with full jitter. Durations in milliseconds. */
export interface BackoffOptions {
  /** First delay [250]. */
  initialMs?: number;
  /** Largest delay [30000]. */
  maxMs?: number;
  /** Growth per failure [2]. */
  factor?: number;
  /** Injected randomness for jitter [Math.random]. */
  random?: () => number;
}

/** A backoff sequence: `next()` gives the next delay, `reset()` starts over after a success. */
export interface Backoff {
  next(): number;
  reset(): void;
  readonly maxMs: number;
}

/** Creates a {@link Backoff}: delay n is uniform in [base/2, base] where base = min(max, initial·factor^n). */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initialMs = options.initialMs ?? 250;
  const maxMs = options.maxMs ?? 30_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  if (!(initialMs > 0 && maxMs >= initialMs && factor >= 1)) {
    throw new TypeError('backoff needs initialMs > 0, maxMs >= initialMs and factor >= 1');
  }
  let attempt = 0;
  return {
    maxMs,
    next() {
      const base = Math.min(maxMs, initialMs * factor ** attempt);
      attempt += 1;
      return base / 2 + (random() * base) / 2;
    },
    reset() {
      attempt = 0;
    },
  };
}
