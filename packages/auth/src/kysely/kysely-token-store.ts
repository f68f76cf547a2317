import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import type { ApiTokenRecord, TokenStore } from '../token-store.ts';
import { asAuthDatabase } from './auth-database.ts';
import type { AuthDatabase } from './auth-database.ts';

/** A {@link TokenStore} on the `api_tokens` table (see `authMigrations`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createKyselyTokenStore(database: Kysely<any>): TokenStore {
  const db = asAuthDatabase(database);
  return {
    async insert(record) {
      await db
        .insertInto('api_tokens')
        .values({
          id: record.id,
          name: record.name,
          hash: record.hash,
          prefix: record.prefix,
          owner_id: record.ownerId,
          roles: JSON.stringify(record.roles),
          teams: JSON.stringify(record.teams),
          scopes: JSON.stringify(record.scopes),
          virtual_servers: record.virtualServers === null ? null : JSON.stringify(record.virtualServers),
          expires_at: record.expiresAt,
          created_at: record.createdAt,
          last_used_at: record.lastUsedAt,
          revoked_at: record.revokedAt,
        })
        .execute();
    },
    async findByHash(hash) {
      const row = await db.selectFrom('api_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
      return row && toRecord(row);
    },
    async list(filter) {
      let query = db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id');
      if (filter?.ownerId !== undefined) query = query.where('owner_id', '=', filter.ownerId);
      return (await query.execute()).map(toRecord);
    },
    async revoke(id, at) {
      await db
        .updateTable('api_tokens')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
      const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async recordLastUsed(uses) {
      if (uses.length === 0) return;
      // One statement for the whole batch; never moves a time backwards.
      const values = sql.join(uses.map((use) => sql`(${use.id}, ${use.at.toISOString()}::timestamptz)`));
      await sql`
        update api_tokens as t set last_used_at = v.at
        from (values ${values}) as v(id, at)
        where t.id = v.id and (t.last_used_at is null or t.last_used_at < v.at)
      `.execute(db);
    },
    async listRevokedIds(now) {
      const rows = await db
        .selectFrom('api_tokens')
        .select('id')
        .where('revoked_at', 'is not', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .execute();
      return rows.map((row) => row.id);
    },
  };
}

function toRecord(row: Selectable<AuthDatabase['api_tokens']>): ApiTokenRecord {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    prefix: row.prefix,
    ownerId: row.owner_id,
    roles: row.roles,
    teams: row.teams,
    scopes: row.scopes,
    virtualServers: row.virtual_servers,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
