import type { Expression, RawBuilder, SqlBool } from 'kysely';
import { sql } from 'kysely';
import { visibleCondition } from './ownership.ts';
import type { VisibilityFilter } from './ownership.ts';
import { RegistryError } from './registry-error.ts';

/** Filters and paging for a catalog store's `list`. Every filter is optional; given ones must all match. */
export interface ListOptions {
  /** Only items carrying this tag (exact match). */
  tag?: string;
  /** Only items of this gateway; `null` means only local items (no gateway). Ignored by virtual servers. */
  gatewayId?: string | null;
  enabled?: boolean;
  /** Case-insensitive substring of the name, alias or description (for resources also the URI). */
  search?: string;
  /** The `nextCursor` of the previous page. Opaque; a malformed one is `'invalid-input'`. */
  cursor?: string;
  /** Page size: default 50, at most 500 (larger values are lowered to 500). */
  limit?: number;
  /**
   * Only items this principal may see: public ones, its own, and its teams' `team` items; a discovered item by its
   * gateway's ownership unless its own is more restrictive. Absent: every item (admins).
   */
  visibleTo?: VisibilityFilter;
}

/** One page of a list, oldest first (`createdAt`, then `id`). `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

interface CursorPosition {
  createdAt: Date;
  id: string;
}

/** The page size `limit` asks for, or `'invalid-input'` for anything but a whole number ≥ 1. */
export function resolveLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RegistryError('invalid-input', 'limit must be a whole number of at least 1', {
      details: [{ path: 'limit', message: 'must be a whole number of at least 1' }],
    });
  }
  return Math.min(limit, MAX_LIMIT);
}

/** A cursor is base64url of `[createdAt ISO string, id]`: opaque to callers, stable across replicas. */
export function encodeCursor(row: { created_at: Date; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): CursorPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2) {
      const [createdAt, id] = value as unknown[];
      const date = typeof createdAt === 'string' ? new Date(createdAt) : undefined;
      if (date !== undefined && !Number.isNaN(date.getTime()) && typeof id === 'string') {
        return { createdAt: date, id };
      }
    }
  } catch {
    // Reported below.
  }
  throw new RegistryError('invalid-input', 'cursor is not a cursor this list returned', {
    details: [{ path: 'cursor', message: 'is not a cursor this list returned' }],
  });
}

/** What a table offers to the shared filters: which expressions `search` looks into. */
export interface ListColumns {
  /** Text expressions (may be null) searched case-insensitively, e.g. `sql\`definition->>'description'\``. */
  search: RawBuilder<unknown>[];
  /** Whether the table has a `gateway_id` column. */
  hasGateway: boolean;
  /** The table's name in the query (for the visibility condition). */
  table: string;
}

/**
 * The where-conditions for `options` on a catalog table (unqualified column names): filters plus the keyset position
 * after the cursor. Use with `.orderBy('created_at').orderBy('id').limit(limit + 1)` and then {@link pageOf}.
 */
export function listConditions(options: ListOptions, columns: ListColumns): Expression<SqlBool>[] {
  const conditions: Expression<SqlBool>[] = [];
  if (options.tag !== undefined)
    conditions.push(sql<SqlBool>`tags @> ${JSON.stringify([options.tag])}::jsonb`);
  if (columns.hasGateway && options.gatewayId !== undefined) {
    conditions.push(
      options.gatewayId === null
        ? sql<SqlBool>`gateway_id is null`
        : sql<SqlBool>`gateway_id = ${options.gatewayId}`,
    );
  }
  if (options.enabled !== undefined) conditions.push(sql<SqlBool>`enabled = ${options.enabled}`);
  if (options.visibleTo !== undefined) {
    conditions.push(visibleCondition(columns.table, columns.hasGateway, options.visibleTo));
  }
  if (options.search !== undefined && options.search !== '') {
    const needle = options.search.toLowerCase();
    // strpos rather than ILIKE: no wildcard characters to escape in the user's text.
    const matches = columns.search.map((column) => sql<SqlBool>`strpos(lower(${column}), ${needle}) > 0`);
    conditions.push(sql<SqlBool>`(${sql.join(matches, sql` or `)})`);
  }
  if (options.cursor !== undefined) {
    const position = decodeCursor(options.cursor);
    conditions.push(sql<SqlBool>`(created_at, id) > (${position.createdAt}::timestamptz, ${position.id})`);
  }
  return conditions;
}

/** Turns `limit + 1` fetched rows into a page: the extra row only proves there is a next page. */
export function pageOf<Row extends { created_at: Date; id: string }, T>(
  rows: Row[],
  limit: number,
  toRecord: (row: Row) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return rows.length > limit && last !== undefined
    ? { items: items.map(toRecord), nextCursor: encodeCursor(last) }
    : { items: items.map(toRecord) };
}
