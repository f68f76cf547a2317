/** Headers that carry the client's own credentials; they only pass when allowlisted by their exact name. */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * The headers of an inbound request that may go upstream: only those on `allowlist` (case-insensitive names, or
 * prefixes ending in `*` such as `x-tenant-*`). `Authorization`, `Cookie` and `Proxy-Authorization` pass only when
 * the allowlist names them exactly, never through a wildcard: the gateway never forwards the client's token
 * (MCP forbids token passthrough); upstreams get their own stored credentials.
 */
export function stripInboundCredentials(
  headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>,
  allowlist: readonly string[],
): Headers {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of allowlist) {
    const name = entry.trim().toLowerCase();
    if (name.endsWith('*')) prefixes.push(name.slice(0, -1));
    else if (name !== '') exact.add(name);
  }
  const allowed = (name: string): boolean => {
    if (exact.has(name)) return true;
    if (CREDENTIAL_HEADERS.includes(name)) return false;
    return prefixes.some((prefix) => name.startsWith(prefix));
  };
  const out = new Headers();
  const entries: Array<[string, string]> =
    headers instanceof Headers
      ? [...headers.entries()]
      : Object.entries(headers).flatMap(([name, value]): Array<[string, string]> =>
          value === undefined
            ? []
            : typeof value === 'string'
              ? [[name, value]]
              : value.map((v) => [name, v]),
        );
  for (const [name, value] of entries) {
    const lower = name.toLowerCase();
    if (allowed(lower)) out.append(lower, value);
  }
  return out;
}
