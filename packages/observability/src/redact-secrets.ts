/**
 * Keys whose values are secrets, matched anywhere in the key and case-insensitively: authorization, password,
 * passwd, secret, token, api key (`apiKey`, `api-key`, `api_key`), private key, cookie, credential.
 */
export const SECRET_KEY_PATTERN =
  /authorization|passw(or)?d|secret|token|api[-_]?key|private[-_]?key|cookie|credential/i;

/** What a secret's value is replaced with. */
export const REDACTED = '[REDACTED]';

const MAX_DEPTH = 64;

/**
 * A deep copy of a JSON-like value with the value of every key matching {@link SECRET_KEY_PATTERN} replaced by
 * `[REDACTED]`, at any depth. Objects with `toJSON` (a `Date`) are copied as they serialize; cycles and nesting
 * deeper than 64 levels become `[Circular]` and `[Truncated]`, so the copy always serializes.
 */
export function redactSecrets(value: unknown): unknown {
  return copy(value, 0, new Set());
}

function copy(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    const serialized: unknown = (value as { toJSON(): unknown }).toJSON();
    return serialized === value ? serialized : copy(serialized, depth, ancestors);
  }
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item: unknown) => copy(item, depth + 1, ancestors));
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] = SECRET_KEY_PATTERN.test(key) ? REDACTED : copy(item, depth + 1, ancestors);
    }
    return result;
  } finally {
    ancestors.delete(value);
  }
}
