import type { CreateTableBuilder, Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';
import { sql } from 'kysely';

/**
 * The catalogs behind the merged MCP view: tools, resources (and templates), prompts, and virtual servers with their
 * members. `gateway_id` is null for local items (defined in the gateway or by an adapter); the unique keys use
 * `nulls not distinct` (Postgres 15+, PGlite) so local names are unique too. Virtual-server members carry no foreign
 * key to their item, so a member whose item disappears stays behind and is reported as missing.
 */
export const catalogMigration: Migration = {
  async up(db) {
    await db.schema
      .createTable('tools')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('gateway_id', 'text', (column) => column.references('gateways.id').onDelete('cascade'))
      .addColumn('original_name', 'text', (column) => column.notNull())
      .addColumn('integration', 'text', (column) => column.notNull().defaultTo('mcp'))
      .addColumn('integration_config', 'jsonb')
      .addColumn('definition', 'jsonb', (column) => column.notNull())
      .addColumn('enabled', 'boolean', (column) => column.notNull().defaultTo(true))
      .addColumn('alias', 'text')
      .addColumn('description_override', 'text')
      .addColumn('annotations_override', 'jsonb')
      .$call(addCatalogColumns)
      .addUniqueConstraint('tools_gateway_name_unique', ['gateway_id', 'original_name'], (constraint) =>
        constraint.nullsNotDistinct(),
      )
      .execute();
    await addCatalogIndexes(db, 'tools');
    await db.schema
      .createIndex('tools_alias_unique')
      .unique()
      .on('tools')
      .column('alias')
      .where('alias', 'is not', null)
      .execute();

    await db.schema
      .createTable('resources')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('gateway_id', 'text', (column) => column.references('gateways.id').onDelete('cascade'))
      .addColumn('uri', 'text', (column) => column.notNull())
      .addColumn('kind', 'text', (column) => column.notNull().defaultTo('resource'))
      .addColumn('definition', 'jsonb', (column) => column.notNull())
      .addColumn('local_content', 'jsonb')
      .addColumn('enabled', 'boolean', (column) => column.notNull().defaultTo(true))
      .$call(addCatalogColumns)
      .addUniqueConstraint('resources_gateway_uri_unique', ['gateway_id', 'uri'], (constraint) =>
        constraint.nullsNotDistinct(),
      )
      .addCheckConstraint('resources_kind_check', sql`kind in ('resource', 'template')`)
      // Only local concrete resources have content of their own.
      .addCheckConstraint(
        'resources_local_content_check',
        sql`local_content is null or (gateway_id is null and kind = 'resource')`,
      )
      .execute();
    await addCatalogIndexes(db, 'resources');

    await db.schema
      .createTable('prompts')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('gateway_id', 'text', (column) => column.references('gateways.id').onDelete('cascade'))
      .addColumn('original_name', 'text', (column) => column.notNull())
      .addColumn('definition', 'jsonb', (column) => column.notNull())
      .addColumn('template', 'jsonb')
      .addColumn('enabled', 'boolean', (column) => column.notNull().defaultTo(true))
      .addColumn('alias', 'text')
      .addColumn('description_override', 'text')
      .$call(addCatalogColumns)
      .addUniqueConstraint('prompts_gateway_name_unique', ['gateway_id', 'original_name'], (constraint) =>
        constraint.nullsNotDistinct(),
      )
      // Only local prompts are templates.
      .addCheckConstraint('prompts_template_check', sql`template is null or gateway_id is null`)
      .execute();
    await addCatalogIndexes(db, 'prompts');
    await db.schema
      .createIndex('prompts_alias_unique')
      .unique()
      .on('prompts')
      .column('alias')
      .where('alias', 'is not', null)
      .execute();

    await db.schema
      .createTable('virtual_servers')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('name', 'text', (column) => column.notNull())
      .addColumn('description', 'text')
      .addColumn('icon', 'text')
      .addColumn('enabled', 'boolean', (column) => column.notNull().defaultTo(true))
      .$call(addCatalogColumns)
      .addUniqueConstraint('virtual_servers_name_unique', ['name'])
      .execute();
    await addCatalogIndexes(db, 'virtual_servers');

    await db.schema
      .createTable('virtual_server_members')
      .addColumn('virtual_server_id', 'text', (column) =>
        column.notNull().references('virtual_servers.id').onDelete('cascade'),
      )
      .addColumn('member_kind', 'text', (column) => column.notNull())
      .addColumn('member_id', 'text', (column) => column.notNull())
      .addColumn('alias', 'text')
      .addColumn('position', 'integer', (column) => column.notNull())
      .addPrimaryKeyConstraint('virtual_server_members_pkey', [
        'virtual_server_id',
        'member_kind',
        'member_id',
      ])
      .addCheckConstraint(
        'virtual_server_members_kind_check',
        sql`member_kind in ('tool', 'prompt', 'resource')`,
      )
      .execute();
    // "Which virtual servers use this item?" without a scan.
    await db.schema
      .createIndex('virtual_server_members_member_index')
      .on('virtual_server_members')
      .columns(['member_kind', 'member_id'])
      .execute();
  },
  async down(db) {
    for (const table of ['virtual_server_members', 'virtual_servers', 'prompts', 'resources', 'tools']) {
      await db.schema.dropTable(table).execute();
    }
  },
};

/** tags, version, timestamps and authors: the same on every catalog table (and as on `gateways`). */
function addCatalogColumns(table: CreateTableBuilder<string, string>): CreateTableBuilder<string, string> {
  return table
    .addColumn('tags', 'jsonb', (column) => column.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('version', 'integer', (column) => column.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (column) => column.notNull())
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull())
    .addColumn('created_by', 'text')
    .addColumn('updated_by', 'text');
}

/** The keyset-pagination order of every list: (created_at, id). */
async function addCatalogIndexes(db: Kysely<unknown>, table: string): Promise<void> {
  await db.schema
    .createIndex(`${table}_created_at_id_index`)
    .on(table)
    .columns(['created_at', 'id'])
    .execute();
}
