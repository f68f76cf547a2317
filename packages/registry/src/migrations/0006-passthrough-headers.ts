import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Migration } from 'kysely/migration';

/**
 * Which inbound request headers a gateway forwards to its upstream (`passthrough_headers`, a JSON list of names). Every
 * existing gateway forwards none, as before. Secrets in `headers`, `env` and tools' `integration_config` need no new
 * column: sealed values are self-describing strings in the same places.
 */
export const passthroughHeadersMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('gateways')
      .addColumn('passthrough_headers', 'jsonb', (column) => column.notNull().defaultTo(sql`'[]'::jsonb`))
      .execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('gateways').dropColumn('passthrough_headers').execute();
  },
};
