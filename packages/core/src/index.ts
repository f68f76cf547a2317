// Public API of @mcp-gateway/core: the protocol engine shared by every transport, adapter and app.
// Anything exported here is public; named exports only.
export {
  buildCatalogSnapshot,
  uriTemplateMatcher,
  type BuildCatalogSnapshotOptions,
  type CatalogConflict,
  type CatalogMember,
  type CatalogSnapshot,
  type CatalogView,
  type ItemOverride,
  type ItemRoute,
} from './catalog-snapshot.ts';
export {
  describeError,
  GatewayError,
  httpStatusOfErrorCode,
  RpcError,
  RpcErrorCode,
  type GatewayErrorCode,
} from './errors.ts';
export {
  checkHostAndOrigin,
  DEFAULT_MAX_JSON_DEPTH,
  jsonNestingDepth,
  jsonRpcErrorResponse,
  readJsonBody,
} from './http-edge.ts';
export { type Logger, silentLogger } from './logger.ts';
export {
  LOGGING_LEVELS,
  passesLogLevel,
  type DownstreamSession,
  type LoggingLevel,
} from './downstream-session.ts';
export {
  createSessionServer,
  toProtocolError,
  type InteractionState,
  type SessionServerOptions,
} from './session-server.ts';
export {
  PendingInteraction,
  PendingInteractions,
  type InputAsk,
  type InteractionStep,
} from './pending-interactions.ts';
export type {
  ClientCapabilities,
  Implementation,
  Prompt,
  Resource,
  ResourceTemplate,
  RpcParams,
  RpcResult,
  ServerCapabilities,
  Tool,
} from './mcp-types.ts';
export {
  DEFAULT_NAME_SEPARATOR,
  NAMESPACED_URI_PREFIX,
  parsePublicUri,
  PUBLIC_NAME_PATTERN,
  slugifyNamespace,
  toPublicName,
  toPublicUri,
} from './naming.ts';
export {
  createRouter,
  GATEWAY_CAPABILITIES,
  type CallInfo,
  type CallOutcome,
  type RouterHooks,
  ROUTED_METHODS,
  type Router,
  type RouterOptions,
  type RouterRequestContext,
} from './router.ts';
export {
  emptyUpstreamCatalog,
  type CatalogKind,
  type DownstreamContext,
  type UpstreamNotification,
  type Upstream,
  type UpstreamCatalog,
  type UpstreamChange,
  type UpstreamProgress,
  type UpstreamRequestOptions,
  type UpstreamState,
  type UpstreamStatus,
} from './upstream.ts';
