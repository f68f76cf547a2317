import type { Kysely, Selectable, Updateable } from 'kysely';
import { randomUUID } from 'node:crypto';
import { checkShape, throwIfIssues } from './catalog-validation.ts';
import type { Issues } from './catalog-validation.ts';
import {
  ownershipInputFields,
  ownershipOf,
  ownershipPatchFields,
  ownershipPatchValues,
  ownershipValues,
  visibleCondition,
} from './ownership.ts';
import type { GetOptions, Ownership, OwnershipPatch, VisibilityFilter } from './ownership.ts';
import { RegistryError } from './registry-error.ts';
import type { GatewaysTable, RegistryDatabase } from './registry-database.ts';
import { openGatewaySecrets, sealGatewaySecrets } from './secret-codec.ts';
import type { SecretCodec } from './secret-codec.ts';
import { checkWriteOptions, explainMissedWrite, json } from './store-support.ts';
import type { WriteOptions } from './store-support.ts';

/** How the gateway reaches an upstream MCP server. */
export type GatewayTransport = 'stdio' | 'streamable-http' | 'sse' | 'websocket';

/** Which MCP protocol era the gateway speaks to an upstream. */
export type GatewayProtocolEra = 'auto' | 'legacy' | 'modern';

/**
 * One registered upstream MCP server, as the store returns it. Absent optional values are `undefined`. Its
 * ownership (`owner`, `team`, `visibility`) is also that of the items discovered under it, unless an item's own is
 * more restrictive (see `effectiveOwnership`).
 */
export interface GatewayRecord extends Ownership {
  /** A UUID from the store's `generateId`. */
  id: string;
  /** Unique across gateways. */
  name: string;
  transport: GatewayTransport;
  /** The executable for `stdio`; started without a shell. */
  command?: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
  /** The endpoint for `streamable-http` and `sse`. */
  url?: string;
  headers: Record<string, string>;
  /**
   * Names of inbound request headers forwarded to this (HTTP) upstream on each call; a trailing `*` matches a prefix.
   * Credentials (`Authorization`, `Cookie`, …) are never forwarded, whatever the list says.
   */
  passthroughHeaders: string[];
  /** The prefix for this gateway's tool names: `undefined` means derived from the name, `''` means no prefix. */
  namespace?: string;
  enabled: boolean;
  timeoutMs?: number;
  /** `auto` (2026-07-28 first, then initialize), `legacy` or `modern`; undefined means `legacy`. */
  protocolEra?: GatewayProtocolEra;
  tags: string[];
  /** Starts at 1; every update adds 1, so caches and change feeds can tell versions apart. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  createdBy?: string;
  updatedBy?: string;
}

/**
 * What {@link GatewayStore.create} takes; omitted collections default to empty, `enabled` to `true` and
 * `visibility` to `public`.
 */
export interface GatewayInput extends Partial<Ownership> {
  name: string;
  transport: GatewayTransport;
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  passthroughHeaders?: string[];
  namespace?: string;
  enabled?: boolean;
  timeoutMs?: number;
  /** `auto` (2026-07-28 first, then initialize), `legacy` or `modern`; undefined means `legacy`. */
  protocolEra?: GatewayProtocolEra;
  tags?: string[];
  /** Who created it (a user or token id); also recorded as `updatedBy`. */
  createdBy?: string;
}

/**
 * What {@link GatewayStore.update} takes. A property that is absent or `undefined` keeps its value; `null` clears an
 * optional one. `updatedBy` is recorded as given (cleared when absent), since it names who made this change.
 */
export interface GatewayPatch extends OwnershipPatch {
  name?: string;
  transport?: GatewayTransport;
  command?: string | null;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string | null;
  url?: string | null;
  headers?: Record<string, string>;
  passthroughHeaders?: string[];
  namespace?: string | null;
  enabled?: boolean;
  timeoutMs?: number | null;
  protocolEra?: GatewayProtocolEra | null;
  tags?: string[];
  updatedBy?: string;
}

/** Options for {@link createGatewayStore}. */
export interface GatewayStoreOptions {
  db: Kysely<RegistryDatabase>;
  /** Default: `() => new Date()`. */
  clock?: () => Date;
  /** Default: `crypto.randomUUID`. */
  generateId?: () => string;
  /** Seals `headers` and `env` values on write and opens them on read. Default: stored in plain. */
  secrets?: SecretCodec;
}

/** Options of {@link GatewayStore.list}. */
export interface GatewayListOptions {
  /** Only gateways this principal may see (public, its own, its teams' `team` ones). Absent: all (admins). */
  visibleTo?: VisibilityFilter;
}

/** Reads and writes the `gateways` catalog. Every method is one query. */
export interface GatewayStore {
  /** All gateways (or those `visibleTo` may see), ordered by name. */
  list(options?: GatewayListOptions): Promise<GatewayRecord[]>;
  /** The gateway with this id, or `undefined` (also when `visibleTo` may not see it). */
  get(id: string, options?: GetOptions): Promise<GatewayRecord | undefined>;
  /** Inserts a gateway. Throws a {@link RegistryError} `'conflict'` (`details.field: 'name'`) if the name is taken. */
  create(input: GatewayInput): Promise<GatewayRecord>;
  /**
   * Applies `patch`, adds 1 to `version` and sets `updatedAt`; returns the updated record, or `undefined` when there
   * is no such gateway. A rename onto a taken name throws a {@link RegistryError} `'conflict'`. With `ifVersion`, a
   * stored version that differs throws `'precondition-failed'` and changes nothing (one more query, only then).
   */
  update(id: string, patch: GatewayPatch, options?: WriteOptions): Promise<GatewayRecord | undefined>;
  /**
   * Deletes the gateway and, by cascade, its discovered tools, resources and prompts; `false` when there was none.
   * `ifVersion` as for `update`.
   */
  remove(id: string, options?: WriteOptions): Promise<boolean>;
}

/** Creates the store for the `gateways` catalog on a migrated database (see {@link createDatabase}). */
export function createGatewayStore(options: GatewayStoreOptions): GatewayStore {
  const { db } = options;
  if (typeof db?.selectFrom !== 'function')
    throw new TypeError('createGatewayStore: `db` must be a Kysely instance');
  const clock = options.clock ?? (() => new Date());
  const generateId = options.generateId ?? randomUUID;
  const { secrets } = options;
  const toRecord = (row: Selectable<GatewaysTable>) => toGatewayRecord(row, secrets);

  return {
    async list(listOptions = {}) {
      let query = db.selectFrom('gateways').selectAll();
      if (listOptions.visibleTo !== undefined)
        query = query.where(visibleCondition('gateways', false, listOptions.visibleTo));
      const rows = await query.orderBy('name').orderBy('id').execute();
      return rows.map(toRecord);
    },

    async get(id, getOptions = {}) {
      let query = db.selectFrom('gateways').selectAll().where('id', '=', id);
      if (getOptions.visibleTo !== undefined)
        query = query.where(visibleCondition('gateways', false, getOptions.visibleTo));
      const row = await query.executeTakeFirst();
      return row === undefined ? undefined : toRecord(row);
    },

    async create(input) {
      const issues: Issues = [];
      checkShape({ fields: ownershipInputFields })(input, '', issues);
      throwIfIssues(issues, 'gateway');
      const now = clock();
      const id = generateId();
      try {
        const row = await db
          .insertInto('gateways')
          .values({
            id,
            name: input.name,
            transport: input.transport,
            command: input.command ?? null,
            args: json(input.args ?? []),
            env: json(sealGatewaySecrets(input.env ?? {}, secrets)),
            cwd: input.cwd ?? null,
            url: input.url ?? null,
            headers: json(sealGatewaySecrets(input.headers ?? {}, secrets)),
            passthrough_headers: json(input.passthroughHeaders ?? []),
            namespace: input.namespace ?? null,
            enabled: input.enabled ?? true,
            timeout_ms: input.timeoutMs ?? null,
            protocol_era: input.protocolEra ?? null,
            tags: json(input.tags ?? []),
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
        throw asConflict(error, { id, name: input.name }) ?? error;
      }
    },

    async update(id, patch, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      const issues: Issues = [];
      checkShape({ fields: ownershipPatchFields })(patch, '', issues);
      throwIfIssues(issues, 'gateway patch');
      const values: Updateable<GatewaysTable> = {
        updated_at: clock(),
        updated_by: patch.updatedBy ?? null,
        ...ownershipPatchValues(patch),
      };
      if (patch.name !== undefined) values.name = patch.name;
      if (patch.transport !== undefined) values.transport = patch.transport;
      if (patch.command !== undefined) values.command = patch.command;
      if (patch.args !== undefined) values.args = json(patch.args);
      if (patch.env !== undefined) values.env = json(sealGatewaySecrets(patch.env, secrets));
      if (patch.cwd !== undefined) values.cwd = patch.cwd;
      if (patch.url !== undefined) values.url = patch.url;
      if (patch.headers !== undefined) values.headers = json(sealGatewaySecrets(patch.headers, secrets));
      if (patch.passthroughHeaders !== undefined) values.passthrough_headers = json(patch.passthroughHeaders);
      if (patch.namespace !== undefined) values.namespace = patch.namespace;
      if (patch.enabled !== undefined) values.enabled = patch.enabled;
      if (patch.timeoutMs !== undefined) values.timeout_ms = patch.timeoutMs;
      if (patch.protocolEra !== undefined) values.protocol_era = patch.protocolEra;
      if (patch.tags !== undefined) values.tags = json(patch.tags);
      try {
        let query = db
          .updateTable('gateways')
          .set(values)
          .set((eb) => ({ version: eb('version', '+', 1) }))
          .where('id', '=', id);
        if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
        const row = await query.returningAll().executeTakeFirst();
        if (row !== undefined) return toRecord(row);
      } catch (error) {
        throw asConflict(error, { id, name: patch.name ?? '' }) ?? error;
      }
      return explainMissedWrite(db, { table: 'gateways', id, label: 'gateway' }, writeOptions);
    },

    async remove(id, writeOptions = {}) {
      checkWriteOptions(writeOptions);
      let query = db.deleteFrom('gateways').where('id', '=', id);
      if (writeOptions.ifVersion !== undefined) query = query.where('version', '=', writeOptions.ifVersion);
      const result = await query.executeTakeFirst();
      if (result.numDeletedRows > 0n) return true;
      await explainMissedWrite(db, { table: 'gateways', id, label: 'gateway' }, writeOptions);
      return false;
    },
  };
}

const UNIQUE_VIOLATION = '23505';

/**
 * Turns a unique violation (SQLSTATE 23505, reported the same way by `pg` and PGlite) into a conflict error. The
 * database decides, so two concurrent creates with the same name cannot both pass a check.
 */
function asConflict(error: unknown, attempted: { id: string; name: string }): RegistryError | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== UNIQUE_VIOLATION) {
    return undefined;
  }
  const constraint = 'constraint' in error ? error.constraint : undefined;
  if (constraint === 'gateways_pkey') {
    return new RegistryError('conflict', `a gateway with id "${attempted.id}" already exists`, {
      cause: error,
      details: { field: 'id' },
    });
  }
  return new RegistryError('conflict', `a gateway named "${attempted.name}" already exists`, {
    cause: error,
    details: { field: 'name' },
  });
}

/** Row to record: snake_case to camelCase, `null` to `undefined`, secrets opened with `secrets` when given. */
export function toGatewayRecord(row: Selectable<GatewaysTable>, secrets?: SecretCodec): GatewayRecord {
  return {
    id: row.id,
    name: row.name,
    transport: row.transport as GatewayTransport,
    command: row.command ?? undefined,
    args: row.args,
    env: openGatewaySecrets(row.env, secrets),
    cwd: row.cwd ?? undefined,
    url: row.url ?? undefined,
    headers: openGatewaySecrets(row.headers, secrets),
    passthroughHeaders: row.passthrough_headers ?? [],
    namespace: row.namespace ?? undefined,
    enabled: row.enabled,
    timeoutMs: row.timeout_ms ?? undefined,
    protocolEra: (row.protocol_era ?? undefined) as GatewayProtocolEra | undefined,
    tags: row.tags,
    ...ownershipOf(row),
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    createdBy: row.created_by ?? undefined,
    updatedBy: row.updated_by ?? undefined,
  };
}
