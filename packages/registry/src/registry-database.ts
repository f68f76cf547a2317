import type { Prompt, Resource, ResourceTemplate, Tool } from '@mcp-gateway/core';
import type { ColumnType, Generated } from 'kysely';

/**
 * A jsonb column: reads give the parsed value; writes take JSON text, because `pg` would turn a JS array into a
 * Postgres array literal rather than JSON.
 */
export type JsonColumn<T> = ColumnType<T, string | undefined, string>;

/** A nullable jsonb column: SQL `NULL` (never JSON `null`) when absent; writes take JSON text or `null`. */
export type NullableJsonColumn<T> = ColumnType<T | null, string | null | undefined, string | null>;

/** A timestamptz column: both drivers read it as a `Date`. */
export type TimestampColumn = ColumnType<Date, Date, Date>;

/** The `gateways` table as Kysely sees it (snake_case, `null` for absent values). */
export interface GatewaysTable {
  id: string;
  name: string;
  transport: string;
  command: string | null;
  args: JsonColumn<string[]>;
  env: JsonColumn<Record<string, string>>;
  cwd: string | null;
  url: string | null;
  headers: JsonColumn<Record<string, string>>;
  /** Inbound header names forwarded upstream (migration 0006). */
  passthrough_headers: JsonColumn<string[]>;
  /** `null`: the app derives it from the name; `''`: tools are not prefixed. */
  namespace: string | null;
  enabled: Generated<boolean>;
  timeout_ms: number | null;
  protocol_era: string | null;
  owner_id: string | null;
  team_id: string | null;
  /** `private`, `team` or `public` (default). */
  visibility: Generated<string>;
  tags: JsonColumn<string[]>;
  version: Generated<number>;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
  created_by: string | null;
  updated_by: string | null;
}

/** Columns every catalog table shares. */
interface CatalogColumns {
  id: string;
  enabled: Generated<boolean>;
  owner_id: string | null;
  team_id: string | null;
  /** `private`, `team` or `public` (default). */
  visibility: Generated<string>;
  tags: JsonColumn<string[]>;
  version: Generated<number>;
  created_at: TimestampColumn;
  updated_at: TimestampColumn;
  created_by: string | null;
  updated_by: string | null;
}

/** The `tools` table: discovered (`gateway_id` set) or local/adapter tools (`gateway_id` null). */
export interface ToolsTable extends CatalogColumns {
  gateway_id: string | null;
  /** Equals `definition.name`; unique per gateway (and among local tools). */
  original_name: string;
  integration: string;
  integration_config: NullableJsonColumn<Record<string, unknown>>;
  definition: JsonColumn<Tool>;
  alias: string | null;
  description_override: string | null;
  annotations_override: NullableJsonColumn<Record<string, unknown>>;
}

/** The `resources` table: concrete resources and resource templates (`kind`), discovered or local. */
export interface ResourcesTable extends CatalogColumns {
  gateway_id: string | null;
  /** The resource's `uri`, or the template's `uriTemplate`. */
  uri: string;
  kind: string;
  definition: JsonColumn<Resource | ResourceTemplate>;
  local_content: NullableJsonColumn<Record<string, unknown>>;
}

/** The `prompts` table: discovered prompts and local prompt templates. */
export interface PromptsTable extends CatalogColumns {
  gateway_id: string | null;
  original_name: string;
  definition: JsonColumn<Prompt>;
  template: NullableJsonColumn<Record<string, unknown>>;
  alias: string | null;
  description_override: string | null;
}

/** The `virtual_servers` table: named compositions of tools, prompts and resources. */
export interface VirtualServersTable extends CatalogColumns {
  name: string;
  description: string | null;
  icon: string | null;
}

/**
 * The `virtual_server_members` table. `member_id` has no foreign key on purpose: when a member is deleted (an upstream
 * stops listing it) the row stays, and the virtual server reports it as missing instead of silently shrinking.
 */
export interface VirtualServerMembersTable {
  virtual_server_id: string;
  member_kind: string;
  member_id: string;
  alias: string | null;
  position: number;
}

/** Every table the registry's migrations create, for `Kysely<RegistryDatabase>`. */
/** The audit log. */
export interface AuditLogTable {
  id: Generated<string>;
  at: ColumnType<Date, Date, Date>;
  kind: string;
  actor: string | null;
  entity_type: string | null;
  entity_id: string | null;
  action: string | null;
  before: ColumnType<unknown, string | null, string | null>;
  after: ColumnType<unknown, string | null, string | null>;
  tool: string | null;
  upstream: string | null;
  outcome: string | null;
  duration_ms: number | null;
  arguments_hash: string | null;
  arguments: ColumnType<unknown, string | null, string | null>;
}

export interface RegistryDatabase {
  audit_log: AuditLogTable;
  gateways: GatewaysTable;
  tools: ToolsTable;
  resources: ResourcesTable;
  prompts: PromptsTable;
  virtual_servers: VirtualServersTable;
  virtual_server_members: VirtualServerMembersTable;
}
