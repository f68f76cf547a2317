import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

/** Which protocol era the gateway speaks to an upstream: `auto`, `legacy` (2025-era) or `modern` (2026-07-28). */
export const protocolEraMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('gateways').addColumn('protocol_era', 'text').execute();
  },
  async down(db: Kysely<unknown>) {
    await db.schema.alterTable('gateways').dropColumn('protocol_era').execute();
  },
};
