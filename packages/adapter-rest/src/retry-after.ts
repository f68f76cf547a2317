/**
 * Parses a Retry-After header (delay in seconds, or an HTTP date) into milliseconds from `now`; undefined when it is
 * absent or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
