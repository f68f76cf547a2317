import type { Kysely, Selectable } from 'kysely';
import type { ToolPinRecord, ToolPinStore } from '../tool-pin-store.ts';
import { asAuthDatabase } from './auth-database.ts';
import type { AuthDatabase } from './auth-database.ts';

/** A {@link ToolPinStore} on the `tool_pins` table (see `authMigrations`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createKyselyToolPinStore(database: Kysely<any>): ToolPinStore {
  const db = asAuthDatabase(database);
  return {
    async list(upstreamId) {
      let query = db.selectFrom('tool_pins').selectAll().orderBy('upstream_id').orderBy('tool_name');
      if (upstreamId !== undefined) query = query.where('upstream_id', '=', upstreamId);
      return (await query.execute()).map(toRecord);
    },
    async get(upstreamId, toolName) {
      const row = await db
        .selectFrom('tool_pins')
        .selectAll()
        .where('upstream_id', '=', upstreamId)
        .where('tool_name', '=', toolName)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async put(record) {
      const values = {
        approved_hash: record.approvedHash,
        approved_definition: record.approvedDefinition,
        approved_at: record.approvedAt,
        approved_by: record.approvedBy,
        pending_hash: record.pendingHash,
        pending_definition: record.pendingDefinition,
        updated_at: record.updatedAt,
      };
      await db
        .insertInto('tool_pins')
        .values({ upstream_id: record.upstreamId, tool_name: record.toolName, ...values })
        .onConflict((oc) => oc.columns(['upstream_id', 'tool_name']).doUpdateSet(values))
        .execute();
    },
    async delete(upstreamId, toolName) {
      const result = await db
        .deleteFrom('tool_pins')
        .where('upstream_id', '=', upstreamId)
        .where('tool_name', '=', toolName)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toRecord(row: Selectable<AuthDatabase['tool_pins']>): ToolPinRecord {
  return {
    upstreamId: row.upstream_id,
    toolName: row.tool_name,
    approvedHash: row.approved_hash,
    approvedDefinition: row.approved_definition,
    approvedAt: row.approved_at,
    approvedBy: row.approved_by,
    pendingHash: row.pending_hash,
    pendingDefinition: row.pending_definition,
    updatedAt: row.updated_at,
  };
}
