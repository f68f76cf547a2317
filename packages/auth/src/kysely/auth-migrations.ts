import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration, MigrationProvider } from 'kysely/migration';
import { Migrator } from 'kysely/migration';
import { describeError, GatewayError } from '@mcp-gateway/core';

const usersMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('roles', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('teams', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('disabled', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addUniqueConstraint('users_username_unique', ['username'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('users').execute();
  },
};

const apiTokensMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('hash', 'text', (c) => c.notNull())
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('owner_id', 'text', (c) => c.notNull())
      .addColumn('roles', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('teams', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('scopes', 'jsonb', (c) => c.notNull().defaultTo(sql`'["*"]'::jsonb`))
      .addColumn('virtual_servers', 'jsonb')
      .addColumn('expires_at', 'timestamptz')
      .addColumn('created_at', 'timestamptz', (c) => c.notNull())
      .addColumn('last_used_at', 'timestamptz')
      .addColumn('revoked_at', 'timestamptz')
      .addUniqueConstraint('api_tokens_hash_unique', ['hash'])
      .execute();
    await db.schema.createIndex('api_tokens_owner_idx').on('api_tokens').column('owner_id').execute();
  },
  async down(db) {
    await db.schema.dropTable('api_tokens').execute();
  },
};

const jwtRevocationsMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('jwt_revocations')
      .addColumn('jti', 'text', (c) => c.primaryKey())
      .addColumn('expires_at', 'timestamptz')
      .addColumn('revoked_at', 'timestamptz', (c) => c.notNull())
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('jwt_revocations').execute();
  },
};

const toolPinsMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('tool_pins')
      .addColumn('upstream_id', 'text', (c) => c.notNull())
      .addColumn('tool_name', 'text', (c) => c.notNull())
      .addColumn('approved_hash', 'text')
      .addColumn('approved_definition', 'text')
      .addColumn('approved_at', 'timestamptz')
      .addColumn('approved_by', 'text')
      .addColumn('pending_hash', 'text')
      .addColumn('pending_definition', 'text')
      .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
      .addPrimaryKeyConstraint('tool_pins_pk', ['upstream_id', 'tool_name'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('tool_pins').execute();
  },
};

const rateLimitBucketsMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('rate_limit_buckets')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('tokens', 'double precision', (c) => c.notNull())
      // Epoch milliseconds as a double: exact for dates, and read back as a number by both drivers.
      .addColumn('updated_ms', 'double precision', (c) => c.notNull())
      .addColumn('allowed', 'boolean', (c) => c.notNull().defaultTo(true))
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('rate_limit_buckets').execute();
  },
};

/**
 * The auth tables, by migration name. The names start with `0100_auth_` so they sort after the registry's own
 * migrations; never rename or edit one that has shipped: add a new one.
 */
export const authMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0100_auth_01_users': usersMigration,
  '0100_auth_02_api_tokens': apiTokensMigration,
  '0100_auth_03_jwt_revocations': jwtRevocationsMigration,
  '0100_auth_04_tool_pins': toolPinsMigration,
  '0100_auth_05_rate_limit_buckets': rateLimitBucketsMigration,
});

/** Options of {@link migrateAuth}. */
export interface MigrateAuthOptions {
  /** Kysely's bookkeeping table for these migrations. Default `auth_migrations`, apart from the registry's. */
  migrationTableName?: string;
}

/**
 * Applies {@link authMigrations} with their own bookkeeping table, so they never interleave with another migration
 * list (Kysely refuses a list where an older name appears after a newer one ran). Returns the names applied.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function migrateAuth(db: Kysely<any>, options: MigrateAuthOptions = {}): Promise<string[]> {
  const tableName = options.migrationTableName ?? 'auth_migrations';
  const provider: MigrationProvider = { getMigrations: async () => ({ ...authMigrations }) };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: tableName,
    migrationLockTableName: `${tableName}_lock`,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new GatewayError('internal', `auth migration ${failed} failed: ${describeError(error)}`, {
      cause: error,
    });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
