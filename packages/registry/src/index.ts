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
  type GatewayPatch,
  type GatewayRecord,
  type GatewayStore,
  type GatewayStoreOptions,
  type GatewayTransport,
} from './gateway-store.ts';
export { createQueryCounter, type QueryCounter } from './query-counter.ts';
export { RegistryError, type RegistryErrorCode, type RegistryErrorOptions } from './registry-error.ts';
export type { GatewaysTable, JsonColumn, RegistryDatabase, TimestampColumn } from './registry-database.ts';
