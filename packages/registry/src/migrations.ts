import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { Migrator } from 'kysely/migration';
import { gatewaysMigration } from './migrations/0001-gateways.ts';
import { catalogMigration } from './migrations/0002-catalog.ts';
import { auditMigration } from './migrations/0003-audit.ts';
import { protocolEraMigration } from './migrations/0004-protocol-era.ts';
import { ownershipMigration } from './migrations/0005-ownership.ts';
import { passthroughHeadersMigration } from './migrations/0006-passthrough-headers.ts';
import { RegistryError } from './registry-error.ts';
import type { RegistryDatabase } from './registry-database.ts';

/**
 * Every migration, by name, in the order they run. They live in code (not read from a folder) so the package works
 * when bundled. Names sort in run order; never rename or edit one that has shipped: add a new one.
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_gateways': gatewaysMigration,
  '0002_catalog': catalogMigration,
  '0003_audit': auditMigration,
  '0004_protocol_era': protocolEraMigration,
  '0005_ownership': ownershipMigration,
  '0006_passthrough_headers': passthroughHeadersMigration,
});

const provider: MigrationProvider = {
  async getMigrations() {
    return { ...migrations };
  },
};

/** What {@link migrateToLatest} did. */
export interface MigrateResult {
  /** Names of the migrations this call applied, in order; empty when the schema was already current. */
  applied: string[];
}

/**
 * Brings the schema up to the latest migration. Safe to run on every start and from several processes at once: on
 * Postgres, Kysely holds an advisory lock while it migrates. Throws a {@link RegistryError} with code
 * `'migration-failed'` naming the migration that failed; the whole run is one transaction, so it is rolled back.
 */
export async function migrateToLatest(db: Kysely<RegistryDatabase>): Promise<MigrateResult> {
  const migrator = new Migrator({ db, provider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName;
    const message = error instanceof Error ? error.message : 'unknown error';
    throw new RegistryError(
      'migration-failed',
      failed === undefined ? `migrations failed: ${message}` : `migration ${failed} failed: ${message}`,
      { cause: error, details: failed === undefined ? undefined : { migration: failed } },
    );
  }
  return {
    applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName),
  };
}
