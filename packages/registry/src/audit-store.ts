import type { Kysely } from 'kysely';
import type { RegistryDatabase } from './registry-database.ts';

/** One audit entry as written and read back. */
export interface AuditRecord {
  id?: string;
  at: Date;
  kind: 'change' | 'tool-call';
  actor?: string;
  entityType?: string;
  entityId?: string;
  action?: string;
  before?: unknown;
  after?: unknown;
  tool?: string;
  upstream?: string;
  outcome?: string;
  durationMs?: number;
  argumentsHash?: string;
  arguments?: unknown;
}

/** Filters of {@link AuditStore.query}; all optional, combined with AND. */
export interface AuditQuery {
  kind?: 'change' | 'tool-call';
  actor?: string;
  entityType?: string;
  entityId?: string;
  tool?: string;
  since?: Date;
  until?: Date;
  /** Entries older than this id (for paging backwards in time). */
  before?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** The audit log table: batched inserts (from the audit writer) and filtered reads, newest first. */
export interface AuditStore {
  insertMany(entries: readonly AuditRecord[]): Promise<void>;
  query(filter?: AuditQuery): Promise<{ items: AuditRecord[]; nextBefore?: string }>;
}

const json = (value: unknown) => (value === undefined ? null : JSON.stringify(value));

/** Creates an {@link AuditStore}. */
export function createAuditStore(options: { db: Kysely<RegistryDatabase> }): AuditStore {
  const { db } = options;
  return {
    async insertMany(entries) {
      if (entries.length === 0) return;
      await db
        .insertInto('audit_log')
        .values(
          entries.map((e) => ({
            at: e.at,
            kind: e.kind,
            actor: e.actor ?? null,
            entity_type: e.entityType ?? null,
            entity_id: e.entityId ?? null,
            action: e.action ?? null,
            before: json(e.before),
            after: json(e.after),
            tool: e.tool ?? null,
            upstream: e.upstream ?? null,
            outcome: e.outcome ?? null,
            duration_ms: e.durationMs ?? null,
            arguments_hash: e.argumentsHash ?? null,
            arguments: json(e.arguments),
          })),
        )
        .execute();
    },

    async query(filter = {}) {
      const limit = Math.min(Math.max(filter.limit ?? 100, 1), 1000);
      let query = db
        .selectFrom('audit_log')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (filter.kind) query = query.where('kind', '=', filter.kind);
      if (filter.actor) query = query.where('actor', '=', filter.actor);
      if (filter.entityType) query = query.where('entity_type', '=', filter.entityType);
      if (filter.entityId) query = query.where('entity_id', '=', filter.entityId);
      if (filter.tool) query = query.where('tool', '=', filter.tool);
      if (filter.since) query = query.where('at', '>=', filter.since);
      if (filter.until) query = query.where('at', '<', filter.until);
      if (filter.before) query = query.where('id', '<', filter.before);
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      const items: AuditRecord[] = page.map((row) => ({
        id: String(row.id),
        at: new Date(row.at),
        kind: row.kind as AuditRecord['kind'],
        actor: row.actor ?? undefined,
        entityType: row.entity_type ?? undefined,
        entityId: row.entity_id ?? undefined,
        action: row.action ?? undefined,
        before: row.before ?? undefined,
        after: row.after ?? undefined,
        tool: row.tool ?? undefined,
        upstream: row.upstream ?? undefined,
        outcome: row.outcome ?? undefined,
        durationMs: row.duration_ms ?? undefined,
        argumentsHash: row.arguments_hash ?? undefined,
        arguments: row.arguments ?? undefined,
      }));
      return rows.length > limit ? { items, nextBefore: items.at(-1)?.id } : { items };
    },
  };
}
