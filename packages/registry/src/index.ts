// Public API of @mcp-gateway/registry. Anything exported here is public; use named exports only.
export {
  createDatabase,
  type CreateDatabaseOptions,
  type Database,
  type DatabaseDialect,
} from './database.ts';
export { migrateToLatest, type MigrateResult } from './migrations.ts';
export {
  createGatewayStore,
  type GatewayInput,
  type GatewayListOptions,
  type GatewayPatch,
  type GatewayProtocolEra,
  type GatewayRecord,
  type GatewayStore,
  type GatewayStoreOptions,
  type GatewayTransport,
} from './gateway-store.ts';
export {
  createToolStore,
  type ToolInput,
  type ToolPatch,
  type ToolRecord,
  type ToolStore,
  type ToolStoreOptions,
} from './tool-store.ts';
export {
  createResourceStore,
  type LocalResourceContent,
  type ResourceInput,
  type ResourceKind,
  type ResourcePatch,
  type ResourceRecord,
  type ResourceStore,
  type ResourceStoreOptions,
} from './resource-store.ts';
export {
  createPromptStore,
  templateArguments,
  type PromptInput,
  type PromptPatch,
  type PromptRecord,
  type PromptStore,
  type PromptStoreOptions,
  type PromptTemplate,
  type PromptTemplateArgument,
} from './prompt-store.ts';
export {
  createVirtualServerStore,
  type VirtualServerInput,
  type VirtualServerListOptions,
  type VirtualServerMember,
  type VirtualServerMemberInput,
  type VirtualServerMemberKind,
  type VirtualServerPatch,
  type VirtualServerRecord,
  type VirtualServerStore,
  type VirtualServerStoreOptions,
} from './virtual-server-store.ts';
export type { ListOptions, Page } from './pagination.ts';
export {
  effectiveOwnership,
  VISIBILITIES,
  type GetOptions,
  type Ownership,
  type OwnershipPatch,
  type Visibility,
  type VisibilityFilter,
} from './ownership.ts';
export type { SyncResult, WriteOptions } from './store-support.ts';
export { listTags, type TagCount, type TaggedKind } from './list-tags.ts';
export { loadRegistry, type LoadRegistryOptions, type RegistryContents } from './load-registry.ts';
export { resealSecrets, type ResealResult, type SecretCodec } from './secret-codec.ts';
export { NEVER_FORWARDED_HEADERS, passthroughHeaderProblem } from './passthrough-headers.ts';
export { exportRegistry } from './export-registry.ts';
export { importRegistry, type ImportRegistryOptions, type ImportResult } from './import-registry.ts';
export type {
  GatewayDocument,
  ImportMode,
  PromptDocument,
  RegistryDocument,
  ResourceDocument,
  ToolDocument,
  VirtualServerDocument,
  VirtualServerMemberDocument,
} from './registry-document.ts';
export {
  CHANGE_CHANNEL,
  createChangeFeed,
  type Change,
  type ChangeEvent,
  type ChangeFeed,
  type ChangeFeedOptions,
  type ChangeKind,
  type ReceivedChange,
  type ResyncEvent,
} from './change-feed.ts';
export { createQueryCounter, type QueryCounter } from './query-counter.ts';
export {
  RegistryError,
  type RegistryErrorCode,
  type RegistryErrorDetails,
  type RegistryErrorOptions,
  type RegistryIssue,
} from './registry-error.ts';
export type {
  GatewaysTable,
  JsonColumn,
  NullableJsonColumn,
  PromptsTable,
  RegistryDatabase,
  ResourcesTable,
  TimestampColumn,
  ToolsTable,
  VirtualServerMembersTable,
  VirtualServersTable,
} from './registry-database.ts';
export { createAuditStore, type AuditQuery, type AuditRecord, type AuditStore } from './audit-store.ts';
