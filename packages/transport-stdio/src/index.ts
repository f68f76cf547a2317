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
export {
  createStdioWrapper,
  type StdioWrapper,
  type StdioWrapperOptions,
  type StdioWrapperReconnectOptions,
} from './stdio-wrapper.ts';
export { runWrapperCli, WRAPPER_USAGE, type WrapperCliOptions } from './wrapper-cli.ts';
export { createStderrLogger, type StderrLoggerOptions, type StderrLogLevel } from './stderr-logger.ts';
