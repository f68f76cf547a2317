// Public API of @mcp-gateway/adapter-rest: REST endpoints, OpenAPI operations and commands as an MCP upstream.
// Anything exported here is public; named exports only.
export type { CircuitBreakerOptions } from './circuit-breakers.ts';
export {
  createGuardedFetch,
  type DnsLookup,
  type GuardedFetch,
  type GuardedFetchOptions,
  type RestFetch,
  type RestFetchInit,
} from './guarded-fetch.ts';
export {
  diffToolSets,
  importOpenApi,
  type OpenApiCredentials,
  type OpenApiImportOptions,
  type OpenApiImportResult,
  type OpenApiSelector,
} from './openapi-import.ts';
export {
  blockedAddressReason,
  createOutboundGuard,
  OUTBOUND_ALLOW_ENV,
  parseOutboundAllowEntries,
  parseOutboundAllowList,
  type OutboundAllowEntry,
  type OutboundAllowList,
  type OutboundDestination,
  type OutboundGuard,
} from './outbound-guard.ts';
export { RestAdapterError, type RestAdapterErrorCode } from './rest-adapter-error.ts';
export {
  createRestUpstream,
  type ReplaceToolsOptions,
  type RestUpstream,
  type RestUpstreamOptions,
} from './rest-upstream.ts';
export {
  bodyMappingSchema,
  commandToolDefinitionSchema,
  HTTP_METHODS,
  jsonSchemaSchema,
  rateLimitSchema,
  restAuthSchema,
  restToolDefinitionSchema,
  retryPolicySchema,
  toolAnnotationsSchema,
  toolDefinitionSchema,
  valueSourceSchema,
  type BodyMapping,
  type CommandToolDefinition,
  type HttpMethod,
  type JsonSchema,
  type RateLimit,
  type RestAuth,
  type RestToolDefinition,
  type RetryPolicy,
  type ToolDefinition,
  type ValueSource,
} from './tool-definition.ts';
