// Public API of @mcp-gateway/gateway (private app): start a gateway in-process, e.g. from tests or a Node service.
export { startGateway, type RunningGateway, type StartGatewayOptions } from './start-gateway.ts';
export { createGatewayApp, type GatewayAppOptions } from './http/gateway-app.ts';
export { createLogger, type CreateLoggerOptions } from './logger.ts';
export {
  ConfigError,
  loadConfigFile,
  loadRuntimeConfig,
  type GatewayInput,
  type RuntimeConfig,
} from './config/index.ts';
