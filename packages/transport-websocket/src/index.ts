// Public API of @mcp-gateway/transport-websocket. Anything exported here is public; named exports only.
export { MCP_SUBPROTOCOL } from './subprotocol.ts';
export {
  createWebSocketClientTransport,
  type WebSocketClientTransport,
  type WebSocketClientTransportOptions,
} from './websocket-client-transport.ts';
export type { WebSocketErrorDetails, WebSocketErrorReason } from './websocket-error.ts';
export {
  createWebSocketServer,
  isWebSocketUpgrade,
  type WebSocketServer,
  type WebSocketServerOptions,
  type WebSocketSessionContext,
} from './websocket-server.ts';
