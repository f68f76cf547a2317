/**
 * JSON with object keys sorted at every depth (RFC 8785 style for the values MCP definitions contain), so equal
 * definitions give equal text whatever their key order. `undefined` members are left out.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

/** Like {@link canonicalJson}, indented two spaces, for people to read and diff. */
export function prettyCanonicalJson(value: unknown): string {
  return JSON.stringify(JSON.parse(canonicalJson(value)), sortedReplacer, 2);
}

function sortedReplacer(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      return undefined;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${value.map((item: unknown) => write(item) ?? 'null').join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value as object).sort()) {
    const item = write((value as Record<string, unknown>)[key]);
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${parts.join(',')}}`;
}
