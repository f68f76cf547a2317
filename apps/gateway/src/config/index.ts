// The gateway's configuration: CLI flags and environment (runtime-config), the upstreams config file
// (config-file) and the upstream registration schema shared with the REST API (gateway-input).
export { ConfigError, type ConfigErrorCode } from './config-error.ts';
export { type ConfigFile, loadConfigFile } from './config-file.ts';
export {
  applyGatewayPatch,
  formatZodIssues,
  type FormattedZodIssues,
  type GatewayInput,
  gatewayInputSchema,
  type GatewayPatch,
  gatewayPatchSchema,
  type GatewayTransport,
  gatewayTransports,
} from './gateway-input.ts';
export {
  describeConfig,
  type LoadRuntimeConfigOptions,
  loadRuntimeConfig,
  logFormats,
  logLevels,
  type AuthMethod,
  authMethods,
  type RateLimitSetting,
  rateLimitStores,
  type RuntimeConfig,
  toolPinningModes,
} from './runtime-config.ts';
export { applyConfigFile, configDocument } from './apply-config.ts';
