// Test helper: a fresh, migrated auth schema on PGlite (in memory) or in a new database of the run's Postgres.
import { PGlite } from '@electric-sql/pglite';
import { createTestDatabase } from '@mcp-gateway/testing';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { migrateAuth } from './auth-migrations.ts';

/** Every store suite runs on both. */
export const dialects = ['pglite', 'postgres'] as const;

/** A migrated database on `dialect`; `close` releases it. */
export interface TestDatabase {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  close(): Promise<void>;
}

/** Opens a fresh database on `dialect` and applies the auth migrations. */
export async function openTestDatabase(dialect: (typeof dialects)[number]): Promise<TestDatabase> {
  if (dialect === 'pglite') {
    const pglite = new PGlite();
    const db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
    await migrateAuth(db);
    return {
      db,
      async close() {
        await db.destroy();
        if (!pglite.closed) await pglite.close();
      },
    };
  }
  const url = await createTestDatabase(inject('postgresUrl'));
  const db = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }),
  });
  await migrateAuth(db);
  return { db, close: () => db.destroy() };
}
