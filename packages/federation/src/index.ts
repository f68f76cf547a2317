// Public API of @mcp-gateway/federation: upstream connections that implement core's Upstream.
// Anything exported here is public; named exports only.
export { createBackoff, type Backoff, type BackoffOptions } from './backoff.ts';
export { createMcpUpstream, toRpcError, type McpUpstreamOptions } from './mcp-upstream.ts';
export { createLimitedFetch } from './limited-fetch.ts';
