import type { Kysely, Selectable } from 'kysely';
import type { UserRecord, UserStore } from '../user-store.ts';
import { asAuthDatabase } from './auth-database.ts';
import type { AuthDatabase } from './auth-database.ts';

/** A {@link UserStore} on the `users` table (see `authMigrations`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createKyselyUserStore(database: Kysely<any>): UserStore {
  const db = asAuthDatabase(database);
  return {
    async findByUsername(username) {
      const row = await db
        .selectFrom('users')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      return row && toRecord(row);
    },
    async get(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRecord(row);
    },
    async list() {
      return (await db.selectFrom('users').selectAll().orderBy('username').execute()).map(toRecord);
    },
    async upsert(user) {
      const values = {
        username: user.username,
        password_hash: user.passwordHash,
        roles: JSON.stringify(user.roles),
        teams: JSON.stringify(user.teams),
        disabled: user.disabled,
        updated_at: user.updatedAt,
      };
      await db
        .insertInto('users')
        .values({ id: user.id, ...values, created_at: user.createdAt })
        .onConflict((oc) => oc.column('id').doUpdateSet(values))
        .execute();
    },
    async delete(id) {
      const result = await db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

function toRecord(row: Selectable<AuthDatabase['users']>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    roles: row.roles,
    teams: row.teams,
    disabled: row.disabled,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
