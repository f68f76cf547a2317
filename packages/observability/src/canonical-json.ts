import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every depth, so two equal values give the same text whatever their key order.
 * Otherwise it follows `JSON.stringify`: `toJSON` is honoured, `undefined` and functions are left out of objects
 * and become `null` in arrays, non-finite numbers become `null`; a bigint is written as its decimal digits.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

/** The SHA-256 (lowercase hex) of {@link canonicalJson}: a fingerprint that ignores key order. */
export function canonicalJsonSha256(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return write((value as { toJSON(): unknown }).toJSON());
  }
  if (Array.isArray(value)) return `[${value.map((item: unknown) => write(item) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value as object).sort()) {
    const item = write((value as Record<string, unknown>)[key]);
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${parts.join(',')}}`;
}
