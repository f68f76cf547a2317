import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { RegistryDatabase } from './registry-database.ts';

/** The kinds of entity that carry tags. */
export type TaggedKind = 'gateway' | 'tool' | 'resource' | 'prompt' | 'virtual-server';

/** One tag in use: how many entities carry it, in all and by kind. */
export interface TagCount {
  tag: string;
  count: number;
  byKind: Record<TaggedKind, number>;
}

/** Every tag used by gateways, tools, resources, prompts or virtual servers, sorted by tag (one query). */
export async function listTags(db: Kysely<RegistryDatabase>): Promise<TagCount[]> {
  const { rows } = await sql<{ tag: string; kind: TaggedKind; count: number }>`
    select tag, kind, count(distinct id)::int as count from (
      select 'gateway' as kind, id, jsonb_array_elements_text(tags) as tag from gateways
      union all select 'tool', id, jsonb_array_elements_text(tags) from tools
      union all select 'resource', id, jsonb_array_elements_text(tags) from resources
      union all select 'prompt', id, jsonb_array_elements_text(tags) from prompts
      union all select 'virtual-server', id, jsonb_array_elements_text(tags) from virtual_servers
    ) as tagged
    group by tag, kind
    order by tag collate "C", kind
  `.execute(db);
  const byTag = new Map<string, TagCount>();
  for (const row of rows) {
    let entry = byTag.get(row.tag);
    if (entry === undefined) {
      entry = {
        tag: row.tag,
        count: 0,
        byKind: { gateway: 0, tool: 0, resource: 0, prompt: 0, 'virtual-server': 0 },
      };
      byTag.set(row.tag, entry);
    }
    entry.count += row.count;
    entry.byKind[row.kind] = row.count;
  }
  return [...byTag.values()];
}
