import type { Kysely } from 'kysely';
import { asAuthDatabase } from './auth-database.ts';

/** Revoked JWT ids, shared by every replica through the database. */
export interface JwtRevocationStore {
  /** Revokes a `jti`; `expiresAt` (the token's `exp`) lets the row be pruned once the token is dead anyway. */
  revoke(jti: string, options?: { expiresAt?: Date; at?: Date }): Promise<void>;
  /** The `jti`s still worth refusing (their token has not expired), to refresh a `RevocationList`. */
  listActive(now: Date): Promise<string[]>;
  /** Deletes rows of tokens that have expired; returns how many. */
  prune(now: Date): Promise<number>;
}

/** A {@link JwtRevocationStore} on the `jwt_revocations` table (see `authMigrations`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createKyselyJwtRevocationStore(database: Kysely<any>): JwtRevocationStore {
  const db = asAuthDatabase(database);
  return {
    async revoke(jti, options = {}) {
      await db
        .insertInto('jwt_revocations')
        .values({ jti, expires_at: options.expiresAt ?? null, revoked_at: options.at ?? new Date() })
        .onConflict((oc) => oc.column('jti').doNothing())
        .execute();
    },
    async listActive(now) {
      const rows = await db
        .selectFrom('jwt_revocations')
        .select('jti')
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .execute();
      return rows.map((row) => row.jti);
    },
    async prune(now) {
      const result = await db.deleteFrom('jwt_revocations').where('expires_at', '<=', now).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
