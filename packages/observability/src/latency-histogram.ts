/** Sub-buckets per doubling: bounds grow by 2^(1/8) ≈ 9 %, so a percentile is within about 4.5 % of the truth. */
const STEPS_PER_DOUBLING = 8;
/** Smallest bucket bound, 10 µs; anything faster lands in the first bucket. */
const MIN_MS = 0.01;
/** 29 doublings above 10 µs reach about 90 minutes; anything slower lands in the last bucket. */
const BUCKETS = STEPS_PER_DOUBLING * 29 + 1;

/**
 * A fixed log-bucket latency histogram: O(1) to record, about 1.9 KB whatever the number of values. Percentiles
 * come back as a bucket's geometric middle, clamped to the smallest and largest value recorded.
 */
export interface LatencyHistogram {
  record(ms: number): void;
  /** The `p`th percentile (0–100) in milliseconds, or undefined when nothing was recorded. */
  percentile(p: number): number | undefined;
  readonly count: number;
}

/** Creates an empty {@link LatencyHistogram}. */
export function createLatencyHistogram(): LatencyHistogram {
  const counts = new Float64Array(BUCKETS);
  let count = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  return {
    get count() {
      return count;
    },
    record(ms) {
      const value = Number.isFinite(ms) && ms > 0 ? ms : 0;
      const index =
        value <= MIN_MS
          ? 0
          : Math.min(BUCKETS - 1, Math.ceil(Math.log2(value / MIN_MS) * STEPS_PER_DOUBLING));
      counts[index] = (counts[index] ?? 0) + 1;
      count += 1;
      if (value < min) min = value;
      if (value > max) max = value;
    },
    percentile(p) {
      if (count === 0) return undefined;
      const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * count));
      let seen = 0;
      for (let index = 0; index < BUCKETS; index++) {
        seen += counts[index] ?? 0;
        if (seen < rank) continue;
        const middle = index === 0 ? MIN_MS / 2 : MIN_MS * 2 ** ((index - 0.5) / STEPS_PER_DOUBLING);
        return Math.min(max, Math.max(min, middle));
      }
      return max;
    },
  };
}
