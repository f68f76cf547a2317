import { randomUUID } from 'node:crypto';
import type { Tool } from '@mcp-gateway/core';
import type { Kysely, Selectable, Updateable } from 'kysely';
import { sql } from 'kysely';
import {
  actor,
  alias,
  bool,
  checkShape,
  description,
  pathOf,
  plainObject,
  tags,
  text,
  throwIfIssues,
  toolDefinition,
} from './catalog-validation.ts';
import type { Issues, Shape } from './catalog-validation.ts';
import {
  ownershipInputFields,
  ownershipOf,
  ownershipPatchFields,
  ownershipPatchValues,
  ownershipValues,
  visibleCondition,
} from './ownership.ts';
import type { GetOptions, Ownership, OwnershipPatch } from './ownership.ts';
import { listConditions, pageOf, resolveLimit } from './pagination.ts';
import type { ListOptions, Page } from './pagination.ts';
import { RegistryError } from './registry-error.ts';
import type { RegistryDatabase, ToolsTable } from './registry-database.ts';
import { openIntegrationConfig, sealIntegrationConfig } from './secret-codec.ts';
import type { SecretCodec } from './secret-codec.ts';
import {
  checkWriteOptions,
  discoveredId,
  explainMissedWrite,
  isForeignKeyViolation,
  json,
  jsonOrNull,
  lockGateway,
  uniqueTags,
  uniqueViolation,
  withTransaction,
} from './store-support.ts';
import type { SyncResult, WriteOptions } from './store-support.ts';

/** One tool, as the store returns it. Absent optional values are `undefined`. */
export interface ToolRecord extends Ownership {
  /** For discovered tools a name-based UUID of (gateway, original name), so it survives being delisted and relisted. */
  id: string;
  /** The upstream that lists it; `undefined` for a local or adapter tool. */
  gatewayId?: string;
  /** The name the tool has at its source (`definition.name`). */
  originalName: string;
  /** Who serves calls: `'mcp'` (an upstream MCP server), `'rest'`, `'command'`, … */
  integration: string;
  /** Settings the integration needs (for `'rest'`: URL, method, …); never shown to MCP clients. */
  integrationConfig?: Record<string, unknown>;
  /** The tool as its upstream lists it (kept current by {@link ToolStore.syncDiscovered}), or the local definition. */
  definition: Tool;
  enabled: boolean;
  /** Replaces the whole public name (no namespace prefix); unique among tools. */
  alias?: string;
  /** Replaces `definition.description` for clients. */
  descriptionOverride?: string;
  /** Merged over `definition.annotations` for clients. */
  annotationsOverride?: Record<string, unknown>;
  tags: string[];
  /** Starts at 1; every change adds 1. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy?: string;
  updatedBy?: string;
}

/** What {@link ToolStore.create} takes: a local (or adapter) tool, or one under a gateway when `gatewayId` is set. */
export interface ToolInput extends Partial<Ownership> {
  definition: Tool;
  gatewayId?: string;
  /** Default `'mcp'`. */
  integration?: string;
  integrationConfig?: Record<string, unknown>;
  enabled?: boolean;
  alias?: string;
  descriptionOverride?: string;
  annotationsOverride?: Record<string, unknown>;
  tags?: string[];
  createdBy?: string;
}

/** What {@link ToolStore.update} takes: absent keeps a value, `null` clears an optional one. */
export interface ToolPatch extends OwnershipPatch {
  /** Only for local tools: a discovered tool's definition belongs to its upstream (`'invalid-input'`). */
  definition?: Tool;
  integration?: string;
  integrationConfig?: Record<string, unknown> | null;
  enabled?: boolean;
  alias?: string | null;
  descriptionOverride?: string | null;
  annotationsOverride?: Record<string, unknown> | null;
  tags?: string[];
  updatedBy?: string;
}

/** Options for {@link createToolStore}. */
export interface ToolStoreOptions {
  /** A migrated database, or a transaction on one. */
  db: Kysely<RegistryDatabase>;
  /** Default: `() => new Date()`. */
  clock?: () => Date;
  /** Ids of local tools. Default: `crypto.randomUUID`. */
  generateId?: () => string;
  /** Seals the credentials in `integrationConfig` on write and opens them on read. Default: stored in plain. */
  secrets?: SecretCodec;
}

/** Reads and writes the `tools` catalog. */
export interface ToolStore {
  /** A page of tools, oldest first; see {@link ListOptions} for filters. */
  list(options?: ListOptions): Promise<Page<ToolRecord>>;
  /** `undefined` also when `visibleTo` may not see it. */
  get(id: string, options?: GetOptions): Promise<ToolRecord | undefined>;
  /**
   * Inserts a tool. `'conflict'` (`details.field`: `'name'` or `'alias'`) when the name is taken on that gateway (or
   * among local tools) or the alias is taken; `'invalid-input'` listing every bad field or an unknown `gatewayId`.
   */
  create(input: ToolInput): Promise<ToolRecord>;
  /**
   * Applies `patch`, adds 1 to `version`; `undefined` when there is no such tool. With `ifVersion`, a stale version
   * throws `'precondition-failed'` and changes nothing.
   */
  update(id: string, patch: ToolPatch, options?: WriteOptions): Promise<ToolRecord | undefined>;
  /** Deletes the tool; `false` when there was none. Virtual-server members pointing at it are then reported missing. */
  remove(id: string, options?: WriteOptions): Promise<boolean>;
  /**
   * Makes the gateway's tools what its upstream lists now, in one transaction: new names are inserted, a changed
   * definition is updated (overrides, `enabled`, alias and tags are kept), names no longer listed are deleted.
   * Returns the original names of each, sorted. Duplicate names in `tools`: the first wins. `'not-found'` when the
   * gateway does not exist.
   */
  syncDiscovered(gatewayId: string, tools: readonly Tool[]): Promise<SyncResult>;
}

const integration = text({
  pattern: /^[a-z][a-z0-9-]{0,31}$/,
  message: 'must be 1 to 32 lowercase letters, digits or "-", starting with a letter',
});

const inputShape: Shape = {
  required: ['definition'],
  fields: {
    ...ownershipInputFields,
    definition: { check: toolDefinition },
    gatewayId: { check: text() },
    integration: { check: integration },
    integrationConfig: { check: plainObject },
    enabled: { check: bool },
    alias: { check: alias },
    descriptionOverride: { check: description },
    annotationsOverride: { check: plainObject },
    tags: { check: tags },
    createdBy: { check: actor },
  },
};

const patchShape: Shape = {
  fields: {
    ...ownershipPatchFields,
    definition: { check: toolDefinition },
    integration: { check: integration },
    integrationConfig: { check: plainObject, nullable: true },
    enabled: { check: bool },
    alias: { check: alias, nullable: true },
    descriptionOverride: { check: description, nullable: true },
    annotationsOverride: { check: plainObject, nullable: true },
    tags: { check: tags },
    updatedBy: { check: actor },
  },
};

const SYNC_CHUNK = 500;

/** Creates the store for the `tools` catalog on a migrated database (see {@link createDatabase}). */
export function createToolStore(options: ToolStoreOptions): ToolStore {
  const { db } = options;
  if (typeof db?.selectFrom !== 'function')
    throw new TypeError('createToolStore: `db` must be a Kysely instance');
  const clock = options.clock ?? (() => new Date());
  const generateId = options.generateId ?? randomUUID;
  const { secrets } = options;
  const toRecord = (row: Selectable<ToolsTable>) => toToolRecord(row, secrets);

  return {
    async list(listOptions = {}) {
      const limit = resolveLimit(listOptions.limit);
      let query = db.selectFrom('tools').selectAll();
      for (const condition of listConditions(listOptions, searchColumns)) query = query.where(condition);
      const rows = await query
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit + 1)
        .execute();
      return pageOf(rows, limit, toRecord);
    },

    async get(id, getOptions = {}) {
      let query = db.selectFrom('tools').selectAll().where('id', '=', id);
      if (getOptions.visibleTo !== undefined)
        query = query.where(visibleCondition('tools', true, getOptions.visibleTo));
      const row = await query.executeTakeFirst();
      return row === undefined ? undefined : toRecord(row);
    },

    async create(input) {
      const issues: Issues = [];
      checkShape(inputShape)(input, '', issues);
      throwIfIssues(issues, 'tool');
      const now = clock();
      const name = input.definition.name;
      const id = input.gatewayId === undefined ? generateId() : discoveredId('tool', input.gatewayId, name);
      try {
        const row = await db
          .insertInto('tools')
          .values({
            id,
            gateway_id: input.gatewayId ?? null,
            original_name: name,
            integration: input.integration ?? 'mcp',
            integration_config: jsonOrNull(sealIntegrationConfig(input.integrationConfig, secrets)),
            definition: json(input.definition),
            enabled: input.enabled ?? true,
            alias: input.alias ?? null,
            description_override: input.descriptionOverride ?? null,
            annotations_override: jsonOrNull(input.annotationsOverride),
            tags: json(uniqueTags(input.tags)),
            ...ownershipValues(input),
            created_at: now,
            updated_at: now,
            created_by: input.createdBy ?? null,
            updated_by: input.createdBy ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        return toRecord(row);
      } catch (error) {
        throw asToolWriteError(error, { id, name, alias: input.alias, gatewayId: input.gatewayId }) ?? error;
      }
    },

    async update(id, patch, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      const issues: Issues = [];
      checkShape(patchShape)(patch, '', issues);
      throwIfIssues(issues, 'tool patch');
      const values: Updateable<ToolsTable> = {
        updated_at: clock(),
        updated_by: patch.updatedBy ?? null,
        ...ownershipPatchValues(patch),
      };
      if (patch.definition !== undefined) {
        values.definition = json(patch.definition);
        values.original_name = patch.definition.name;
      }
      if (patch.integration !== undefined) values.integration = patch.integration;
      if (patch.integrationConfig !== undefined)
        values.integration_config = jsonOrNull(sealIntegrationConfig(patch.integrationConfig, secrets));
      if (patch.enabled !== undefined) values.enabled = patch.enabled;
      if (patch.alias !== undefined) values.alias = patch.alias;
      if (patch.descriptionOverride !== undefined) values.description_override = patch.descriptionOverride;
      if (patch.annotationsOverride !== undefined)
        values.annotations_override = jsonOrNull(patch.annotationsOverride);
      if (patch.tags !== undefined) values.tags = json(uniqueTags(patch.tags));
      try {
        let query = db
          .updateTable('tools')
          .set(values)
          .set((eb) => ({ version: eb('version', '+', 1) }))
          .where('id', '=', id);
        if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
        if (patch.definition !== undefined) query = query.where('gateway_id', 'is', null);
        const row = await query.returningAll().executeTakeFirst();
        if (row !== undefined) return toRecord(row);
      } catch (error) {
        throw (
          asToolWriteError(error, { id, name: patch.definition?.name ?? '', alias: patch.alias }) ?? error
        );
      }
      return explainMissedWrite(
        db,
        { table: 'tools', id, label: 'tool' },
        { ...writeOptions, localOnlyField: patch.definition === undefined ? undefined : 'definition' },
      );
    },

    async remove(id, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      let query = db.deleteFrom('tools').where('id', '=', id);
      if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
      const result = await query.executeTakeFirst();
      if (result.numDeletedRows > 0n) return true;
      await explainMissedWrite(db, { table: 'tools', id, label: 'tool' }, writeOptions);
      return false;
    },

    async syncDiscovered(gatewayId, tools) {
      const issues: Issues = [];
      tools.forEach((tool, index) => toolDefinition(tool, pathOf('tools', index), issues));
      throwIfIssues(issues, 'discovered tools');
      const listed = new Map<string, Tool>();
      for (const tool of tools) if (!listed.has(tool.name)) listed.set(tool.name, tool);

      return withTransaction(db, async (trx) => {
        await lockGateway(trx, gatewayId);
        const before = await trx
          .selectFrom('tools')
          .select('original_name')
          .where('gateway_id', '=', gatewayId)
          .execute();
        const existing = new Set(before.map((row) => row.original_name));
        const now = clock();
        const changed: string[] = [];
        const rows = [...listed.values()].map((tool) => ({
          id: discoveredId('tool', gatewayId, tool.name),
          gateway_id: gatewayId,
          original_name: tool.name,
          integration: 'mcp',
          definition: json(tool),
          tags: '[]',
          created_at: now,
          updated_at: now,
        }));
        for (let start = 0; start < rows.length; start += SYNC_CHUNK) {
          const written = await trx
            .insertInto('tools')
            .values(rows.slice(start, start + SYNC_CHUNK))
            .onConflict((conflict) =>
              conflict
                .columns(['gateway_id', 'original_name'])
                .doUpdateSet((eb) => ({
                  definition: eb.ref('excluded.definition'),
                  version: sql<number>`tools.version + 1`,
                  updated_at: now,
                  updated_by: null,
                }))
                .where(sql<boolean>`tools.definition is distinct from excluded.definition`),
            )
            .returning('original_name')
            .execute();
          changed.push(...written.map((row) => row.original_name));
        }
        let removal = trx.deleteFrom('tools').where('gateway_id', '=', gatewayId);
        if (listed.size > 0) removal = removal.where('original_name', 'not in', [...listed.keys()]);
        const removed = await removal.returning('original_name').execute();
        return {
          added: changed.filter((name) => !existing.has(name)).sort(),
          updated: changed.filter((name) => existing.has(name)).sort(),
          removed: removed.map((row) => row.original_name).sort(),
        };
      });
    },
  };
}

const searchColumns = {
  hasGateway: true,
  table: 'tools',
  search: [
    sql`original_name`,
    sql`alias`,
    sql`description_override`,
    sql`definition->>'description'`,
    sql`definition->>'title'`,
  ],
};

/** Maps a unique or foreign-key violation on `tools` to a conflict or invalid-input error. */
function asToolWriteError(
  error: unknown,
  attempted: { id: string; name: string; alias?: string | null; gatewayId?: string },
): RegistryError | undefined {
  if (isForeignKeyViolation(error)) {
    return new RegistryError('invalid-input', `no gateway with id "${attempted.gatewayId ?? ''}"`, {
      cause: error,
      details: [{ path: 'gatewayId', message: 'no such gateway' }],
    });
  }
  const constraint = uniqueViolation(error);
  if (constraint === undefined) return undefined;
  if (constraint === 'tools_alias_unique') {
    return new RegistryError('conflict', `another tool already has the alias "${attempted.alias ?? ''}"`, {
      cause: error,
      details: { field: 'alias' },
    });
  }
  // Under a gateway the id is derived from the name, so a duplicate id is a duplicate name.
  if (constraint === 'tools_pkey' && attempted.gatewayId === undefined) {
    return new RegistryError('conflict', `a tool with id "${attempted.id}" already exists`, {
      cause: error,
      details: { field: 'id' },
    });
  }
  const where =
    attempted.gatewayId === undefined ? 'among local tools' : `on gateway "${attempted.gatewayId}"`;
  return new RegistryError('conflict', `a tool named "${attempted.name}" already exists ${where}`, {
    cause: error,
    details: { field: 'name' },
  });
}

/** Row to record: snake_case to camelCase, `null` to `undefined`, credentials opened with `secrets` when given. */
export function toToolRecord(row: Selectable<ToolsTable>, secrets?: SecretCodec): ToolRecord {
  return {
    id: row.id,
    gatewayId: row.gateway_id ?? undefined,
    originalName: row.original_name,
    integration: row.integration,
    integrationConfig: openIntegrationConfig(row.integration_config, secrets) ?? undefined,
    definition: row.definition,
    enabled: row.enabled,
    alias: row.alias ?? undefined,
    descriptionOverride: row.description_override ?? undefined,
    annotationsOverride: row.annotations_override ?? undefined,
    tags: row.tags,
    ...ownershipOf(row),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by ?? undefined,
    updatedBy: row.updated_by ?? undefined,
  };
}
