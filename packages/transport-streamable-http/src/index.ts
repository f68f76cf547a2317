// Public API of @mcp-gateway/transport-streamable-http: MCP over streamable HTTP as a web-standard fetch handler.
// Anything exported here is public; named exports only.
export {
  createStreamableHttpHandler,
  type StreamableHttpHandler,
  type StreamableHttpHandlerOptions,
} from './streamable-http-handler.ts';
export { type ResponseMode } from './response-mode-transport.ts';
export { createBoundedEventStore, type BoundedEventStoreOptions } from './bounded-event-store.ts';
