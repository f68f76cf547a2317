import { AsyncLocalStorage } from 'node:async_hooks';

// The headers of the inbound MCP request being served, for the upstream fetch wrapper to pick its allowlisted ones
// from. An async-local value rather than a parameter: it has to cross the router, the federation layer and the SDK
// client transport, none of which know about HTTP requests.
const storage = new AsyncLocalStorage<Headers>();

/** Runs `fn` with `headers` as the inbound request headers seen by upstream calls it makes. */
export function runWithInboundHeaders<T>(headers: Headers, fn: () => T): T {
  return storage.run(headers, fn);
}

/** The inbound request headers of the MCP request being served, or `undefined` outside one. */
export function currentInboundHeaders(): Headers | undefined {
  return storage.getStore();
}
