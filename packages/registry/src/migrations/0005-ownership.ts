import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

const TABLES = ['gateways', 'tools', 'prompts', 'resources', 'virtual_servers'] as const;

/**
 * Ownership and visibility of registry entities: the owning user and team (ids from the auth layer, no foreign key:
 * users may live elsewhere) and who may see the entity. Existing rows become `public`, which is what they were.
 */
export const ownershipMigration: Migration = {
  async up(db: Kysely<unknown>) {
    for (const table of TABLES) {
      await db.schema
        .alterTable(table)
        .addColumn('owner_id', 'text')
        .addColumn('team_id', 'text')
        .addColumn('visibility', 'text', (column) => column.notNull().defaultTo('public'))
        .execute();
      await db.schema
        .alterTable(table)
        .addCheckConstraint(`${table}_visibility_check`, sql`visibility in ('private', 'team', 'public')`)
        .execute();
    }
  },
  async down(db: Kysely<unknown>) {
    for (const table of TABLES) {
      await db.schema.alterTable(table).dropConstraint(`${table}_visibility_check`).execute();
      await db.schema
        .alterTable(table)
        .dropColumn('visibility')
        .dropColumn('team_id')
        .dropColumn('owner_id')
        .execute();
    }
  },
};
