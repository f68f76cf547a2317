/**
 * Inbound headers that are never forwarded to an upstream, whatever its `passthroughHeaders` list says: the client's
 * credentials (the gateway never passes a client's token on; upstreams get their own stored credentials), the
 * gateway's own MCP session header, and headers that belong to one HTTP hop or to the MCP transport itself.
 */
export const NEVER_FORWARDED_HEADERS: readonly string[] = [
  'authorization',
  'cookie',
  'proxy-authorization',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'upgrade',
  'content-length',
  'content-type',
  'accept',
];

const HEADER_NAME = /^[!#$%&'+.^_`|~0-9A-Za-z-]+\*?$/;

/**
 * Why `entry` cannot be in a gateway's `passthroughHeaders`, or `undefined` when it can. An entry is a header name,
 * or a prefix ending in `*` (`x-tenant-*`).
 */
export function passthroughHeaderProblem(entry: string): string | undefined {
  if (!HEADER_NAME.test(entry) || entry === '*') {
    return `"${entry}" is not a header name (a name, or a prefix ending in "*" such as "x-tenant-*")`;
  }
  const name = entry.toLowerCase();
  if (['authorization', 'cookie', 'proxy-authorization'].includes(name)) {
    return `"${entry}" carries the client's credentials and is never forwarded; set the upstream's own credentials in "headers"`;
  }
  if (NEVER_FORWARDED_HEADERS.includes(name)) {
    return `"${entry}" belongs to the gateway's own connection and is never forwarded`;
  }
  return undefined;
}
