// Helpers shared by the catalog stores. Internal: nothing here is exported from index.ts.
import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { RegistryError } from './registry-error.ts';
import type { RegistryDatabase } from './registry-database.ts';

/** The catalog tables that carry `id` and `version`. */
export type VersionedTable = 'gateways' | 'tools' | 'resources' | 'prompts' | 'virtual_servers';

/** Options for a write that must not overwrite someone else's change (optimistic concurrency). */
export interface WriteOptions {
  /**
   * The `version` the caller last read (e.g. from an `If-Match` header). When the stored version differs, the write
   * changes nothing and throws a {@link RegistryError} `'precondition-failed'`.
   */
  ifVersion?: number;
}

/** jsonb values go in as JSON text (see `JsonColumn`), which both `pg` and PGlite pass through unchanged. */
export function json(value: unknown): string {
  return JSON.stringify(value);
}

/** Like {@link json}, but `undefined` and `null` become SQL `NULL`. */
export function jsonOrNull(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

/** JSON with object keys sorted, so two values can be compared whatever order jsonb gave their keys. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'object' && item !== null && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

/** Tags without duplicates, in their first order. */
export function uniqueTags(tags: readonly string[] | undefined): string[] {
  return [...new Set(tags ?? [])];
}

/** Runs `run` in a transaction, or directly when `db` already is one (a store created on a transaction). */
export async function withTransaction<T>(
  db: Kysely<RegistryDatabase>,
  run: (trx: Kysely<RegistryDatabase>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? run(db) : db.transaction().execute(run);
}

/** The name of the unique constraint or index a unique violation (SQLSTATE 23505) broke, else `undefined`. */
export function uniqueViolation(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== '23505')
    return undefined;
  return 'constraint' in error && typeof error.constraint === 'string' ? error.constraint : '';
}

/** The name of the check constraint a check violation (SQLSTATE 23514) broke, else `undefined`. */
export function checkViolation(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error) || error.code !== '23514')
    return undefined;
  return 'constraint' in error && typeof error.constraint === 'string' ? error.constraint : '';
}

/** True for a foreign-key violation (SQLSTATE 23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23503';
}

/**
 * After an update or delete guarded by `id` (and `version` when `ifVersion` is set, and `gateway_id is null` when
 * `localOnlyField` is set) touched no row, tells why: no such row (returns `undefined`), a stale version (throws
 * `'precondition-failed'`) or a discovered item where only local ones may change (throws `'invalid-input'`). One extra
 * query, on the failure path only.
 */
export async function explainMissedWrite(
  db: Kysely<RegistryDatabase>,
  target: { table: VersionedTable; id: string; label: string },
  options: WriteOptions & { localOnlyField?: string },
): Promise<undefined> {
  if (options.ifVersion === undefined && options.localOnlyField === undefined) return undefined;
  const hasGateway = target.table !== 'gateways' && target.table !== 'virtual_servers';
  const row = await db
    .selectFrom(target.table)
    .select(['version', (hasGateway ? sql<string | null>`gateway_id` : sql<null>`null`).as('gateway_id')])
    .where('id', '=', target.id)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  if (options.ifVersion !== undefined && row.version !== options.ifVersion) {
    throw new RegistryError(
      'precondition-failed',
      `${target.label} "${target.id}" is at version ${row.version}, not ${options.ifVersion}; re-read it and try again`,
      { details: { id: target.id, expectedVersion: options.ifVersion, actualVersion: row.version } },
    );
  }
  if (options.localOnlyField !== undefined && row.gateway_id !== null) {
    throw new RegistryError(
      'invalid-input',
      `${target.label} "${target.id}" comes from its upstream: its ${options.localOnlyField} cannot be changed here`,
      {
        details: [
          {
            path: options.localOnlyField,
            message: 'belongs to the upstream; only local items can change it',
          },
        ],
      },
    );
  }
  return undefined;
}

/** What a `syncDiscovered` did: original names (URIs for resources) of each kind of change, sorted. */
export interface SyncResult {
  added: string[];
  updated: string[];
  removed: string[];
}

/**
 * Locks the gateway's row until the transaction ends (`for no key update`: concurrent syncs of the same gateway queue
 * up, foreign-key checks and reads do not), or throws `'not-found'`.
 */
export async function lockGateway(trx: Kysely<RegistryDatabase>, gatewayId: string): Promise<void> {
  const row = await trx
    .selectFrom('gateways')
    .select('id')
    .where('id', '=', gatewayId)
    .forNoKeyUpdate()
    .executeTakeFirst();
  if (row === undefined) {
    throw new RegistryError('not-found', `no gateway with id "${gatewayId}"`, { details: { id: gatewayId } });
  }
}

/** Rejects an `ifVersion` that is not a positive whole number before any query runs. */
export function checkWriteOptions(options: WriteOptions): void {
  const { ifVersion } = options;
  if (ifVersion !== undefined && (!Number.isInteger(ifVersion) || ifVersion < 1)) {
    throw new RegistryError('invalid-input', 'ifVersion must be a whole number of at least 1', {
      details: [{ path: 'ifVersion', message: 'must be a whole number of at least 1' }],
    });
  }
}

// A fixed namespace for the name-based (version 5) UUIDs of discovered items.
const DISCOVERED_NAMESPACE = Buffer.from('6f1d2b8e5c3a4e7f9b0a1c2d3e4f5a6b', 'hex');

/**
 * The id of a discovered item: a version 5 UUID of (kind, gateway id, original name or URI). Deterministic, so an
 * item an upstream stops listing and lists again comes back under the same id, and virtual-server members that
 * pointed at it are no longer missing.
 */
export function discoveredId(kind: 'tool' | 'resource' | 'prompt', gatewayId: string, key: string): string {
  const hash = createHash('sha1')
    .update(DISCOVERED_NAMESPACE)
    .update(`${kind}\u0000${gatewayId}\u0000${key}`)
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
