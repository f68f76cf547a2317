import type { RateLimit } from './tool-definition.ts';
import { RestAdapterError } from './rest-adapter-error.ts';
import { abortableSleep, abortReason } from './abortable-sleep.ts';

/** Options of {@link createCallLimiter}. */
export interface CallLimiterOptions {
  /** Named in error messages. */
  toolName: string;
  rateLimit?: RateLimit;
  maxConcurrent?: number;
  /** How long a call over a limit waits before it fails [1000]. */
  queueTimeoutMs?: number;
  /** Milliseconds since the epoch; refills the token bucket [Date.now]. */
  now?: () => number;
  /** Callers waiting for a slot beyond this many fail at once [1000]. */
  maxQueue?: number;
}

/** Enforces one tool's rate limit and concurrency limit. */
export interface CallLimiter {
  /**
   * Takes a rate token and a concurrency slot, waiting up to the queue timeout for each; resolves to the function
   * that frees the slot. Fails with `RestAdapterError` (`rate-limited` or `concurrency-limited`).
   */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Calls in flight right now. */
  active(): number;
}

/**
 * Creates a {@link CallLimiter}: a token bucket (`limit` tokens per `intervalMs`, holding up to `burst`) and a
 * FIFO semaphore. Waiting is bounded by `queueTimeoutMs`, measured on the monotonic clock.
 */
export function createCallLimiter(options: CallLimiterOptions): CallLimiter {
  const { toolName, rateLimit, maxConcurrent } = options;
  const queueTimeoutMs = options.queueTimeoutMs ?? 1000;
  const maxQueue = options.maxQueue ?? 1000;
  const now = options.now ?? Date.now;
  const capacity = rateLimit ? (rateLimit.burst ?? rateLimit.limit) : 0;
  const refillPerMs = rateLimit ? rateLimit.limit / rateLimit.intervalMs : 0;
  let tokens = capacity;
  let refilledAt = now();
  let running = 0;
  const waiters: Array<() => void> = [];

  /** Takes a token and returns 0, or returns how many milliseconds until one is due. */
  const takeToken = (): number => {
    const at = now();
    tokens = Math.min(capacity, tokens + Math.max(0, at - refilledAt) * refillPerMs);
    refilledAt = at;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - tokens) / refillPerMs);
  };

  const release = () => {
    const next = waiters.shift();
    if (next) next();
    else running -= 1;
  };

  const waitForSlot = (deadline: number, signal: AbortSignal | undefined) =>
    new Promise<void>((resolve, reject) => {
      if (waiters.length >= maxQueue) {
        reject(busy());
        return;
      }
      const onSlot = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const leave = (error: Error) => {
        const index = waiters.indexOf(onSlot);
        if (index >= 0) waiters.splice(index, 1);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => {
        clearTimeout(timer);
        leave(abortReason(signal));
      };
      const timer = setTimeout(() => leave(busy()), Math.max(0, deadline - performance.now()));
      signal?.addEventListener('abort', onAbort, { once: true });
      waiters.push(onSlot);
    });

  const busy = () =>
    new RestAdapterError(
      'concurrency-limited',
      `tool "${toolName}" already runs ${maxConcurrent} calls at once (its concurrency limit)` +
        (queueTimeoutMs > 0 ? ` and no slot freed within ${queueTimeoutMs} ms` : '') +
        '; try again shortly',
    );

  return {
    active: () => running,
    async acquire(signal) {
      const deadline = performance.now() + queueTimeoutMs;
      if (rateLimit) {
        for (;;) {
          const waitMs = takeToken();
          if (waitMs === 0) break;
          if (performance.now() + waitMs > deadline) {
            throw new RestAdapterError(
              'rate-limited',
              `tool "${toolName}" is over its rate limit of ${rateLimit.limit} calls per ${rateLimit.intervalMs} ms; ` +
                `try again in ${Math.ceil(waitMs / 100) / 10} s`,
            );
          }
          await abortableSleep(waitMs, signal);
        }
      }
      if (maxConcurrent !== undefined) {
        if (running < maxConcurrent) running += 1;
        else if (queueTimeoutMs === 0) throw busy();
        else await waitForSlot(deadline, signal); // the slot is handed over by release(); running stays counted
      }
      let released = false;
      return () => {
        if (released || maxConcurrent === undefined) return;
        released = true;
        release();
      };
    },
  };
}
