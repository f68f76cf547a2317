// Test helpers shared by the store suites: one database per suite on the dialect under test, emptied between tests.
import { createTestDatabase } from '@mcp-gateway/testing';
import { inject } from 'vitest';
import { createDatabase } from './database.ts';
import type { CreateDatabaseOptions, Database, DatabaseDialect } from './database.ts';

/** Every store suite runs on both. */
export const dialects: DatabaseDialect[] = ['pglite', 'postgres'];

/** A fresh, migrated database on `dialect`: in-memory PGlite, or a new database in the run's throwaway Postgres. */
export async function openTestDatabase(
  dialect: DatabaseDialect,
  options: Omit<CreateDatabaseOptions, 'databaseUrl'> = {},
): Promise<Database> {
  const databaseUrl = dialect === 'postgres' ? await createTestDatabase(inject('postgresUrl')) : undefined;
  return createDatabase({ ...options, databaseUrl });
}

/** Deletes every row of every registry table. */
export async function emptyRegistry(database: Database): Promise<void> {
  const { db } = database;
  await db.deleteFrom('virtual_server_members').execute();
  await db.deleteFrom('virtual_servers').execute();
  await db.deleteFrom('tools').execute();
  await db.deleteFrom('resources').execute();
  await db.deleteFrom('prompts').execute();
  await db.deleteFrom('gateways').execute();
}

/** Ids `00000000-0000-4000-8000-000000000001`, `…002`, … in order. */
export function sequentialIds(): { next: () => string; reset: () => void } {
  let count = 0;
  return {
    next: () => `00000000-0000-4000-8000-${String(++count).padStart(12, '0')}`,
    reset: () => {
      count = 0;
    },
  };
}
