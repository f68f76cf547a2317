import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { RateLimitStore } from '../rate-limiter.ts';
import { asAuthDatabase } from './auth-database.ts';

/** A {@link RateLimitStore} shared by every replica, plus housekeeping. */
export interface KyselyRateLimitStore extends RateLimitStore {
  /** Deletes buckets untouched since `olderThanMs` (epoch ms): they would be full again anyway. */
  prune(olderThanMs: number): Promise<number>;
}

/**
 * Token buckets in the `rate_limit_buckets` table, shared by every replica. One round trip per bucket: an UPSERT
 * that refills the bucket for the elapsed time, takes a token if there is one, and returns the outcome; the row lock
 * makes concurrent takes from several replicas queue up, so no token is spent twice.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function createKyselyRateLimitStore(database: Kysely<any>): KyselyRateLimitStore {
  const db = asAuthDatabase(database);
  return {
    async take(key, rule, nowMs) {
      const capacity = rule.capacity;
      const perMs = rule.refillPerSecond / 1000;
      const refilled = sql<number>`least(${capacity}::double precision, b.tokens + greatest(0, ${nowMs}::double precision - b.updated_ms) * ${perMs}::double precision)`;
      const result = await sql<{ tokens: number; allowed: boolean }>`
        insert into rate_limit_buckets as b (key, tokens, updated_ms, allowed)
        values (${key}, ${capacity - 1}::double precision, ${nowMs}::double precision, true)
        on conflict (key) do update set
          tokens = case when ${refilled} >= 1 then ${refilled} - 1 else ${refilled} end,
          allowed = ${refilled} >= 1,
          updated_ms = greatest(b.updated_ms, ${nowMs}::double precision)
        returning tokens, allowed
      `.execute(db);
      const row = result.rows[0];
      if (!row) throw new Error('rate limit upsert returned no row');
      return { allowed: row.allowed, tokens: Number(row.tokens) };
    },
    async prune(olderThanMs) {
      const result = await db
        .deleteFrom('rate_limit_buckets')
        .where('updated_ms', '<', olderThanMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
