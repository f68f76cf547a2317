// Public API of @mcp-gateway/transport-stdio. Anything exported here is public; named exports only.
export {
  DEFAULT_INHERITED_ENV,
  createStdioClientTransport,
  type StdioClientTransport,
  type StdioClientTransportOptions,
  type StdioProcessExit,
} from './stdio-client-transport.ts';
export { closeAllStdioProcesses, killAllStdioProcesses } from './process-registry.ts';
export type { StdioErrorDetails, StdioErrorReason } from './stdio-error.ts';
