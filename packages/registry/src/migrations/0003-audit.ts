import { sql, type Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** The audit log: who changed which entity (before/after), and who called which tool. */
export const auditMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'bigserial', (col) => col.primaryKey())
      .addColumn('at', 'timestamptz', (col) => col.notNull())
      .addColumn('kind', 'text', (col) => col.notNull())
      .addColumn('actor', 'text')
      .addColumn('entity_type', 'text')
      .addColumn('entity_id', 'text')
      .addColumn('action', 'text')
      .addColumn('before', 'jsonb')
      .addColumn('after', 'jsonb')
      .addColumn('tool', 'text')
      .addColumn('upstream', 'text')
      .addColumn('outcome', 'text')
      .addColumn('duration_ms', sql`double precision`)
      .addColumn('arguments_hash', 'text')
      .addColumn('arguments', 'jsonb')
      .execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('audit_log').execute();
  },
};
