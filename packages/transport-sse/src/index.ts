// Public API of @mcp-gateway/transport-sse. Anything exported here is public; named exports only.
export {
  createSseHandler,
  type SseHandler,
  type SseHandlerOptions,
  type SseSessionContext,
} from './sse-handler.ts';
