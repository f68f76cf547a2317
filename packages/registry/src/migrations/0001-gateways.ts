import type { Migration } from 'kysely/migration';
import { sql } from 'kysely';

/**
 * The `gateways` catalog: one row per upstream MCP server. Migrations get an untyped `Kysely<any>` on purpose: they
 * describe the schema as it was when they were written, not as the current types say.
 */
export const gatewaysMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('gateways')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('transport', 'text', (column) => column.notNull())
      .addColumn('command', 'text')
      .addColumn('args', 'jsonb', (column) => column.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('env', 'jsonb', (column) => column.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('cwd', 'text')
      .addColumn('url', 'text')
      .addColumn('headers', 'jsonb', (column) => column.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn('namespace', 'text')
      .addColumn('enabled', 'boolean', (column) => column.notNull().defaultTo(true))
      .addColumn('timeout_ms', 'integer')
      .addColumn('tags', 'jsonb', (column) => column.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn('version', 'integer', (column) => column.notNull().defaultTo(1))
      .addColumn('created_at', 'timestamptz', (column) => column.notNull())
      .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
      .addColumn('created_by', 'text')
      .addColumn('updated_by', 'text')
      // Named so a unique violation can be traced back to the field (see gateway-store.ts).
      .addUniqueConstraint('gateways_name_unique', ['name'])
      .execute();
  },
  async down(db) {
    await db.schema.dropTable('gateways').execute();
  },
};
