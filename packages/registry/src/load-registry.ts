import type { Kysely } from 'kysely';
import { toGatewayRecord } from './gateway-store.ts';
import type { GatewayRecord } from './gateway-store.ts';
import { toPromptRecord } from './prompt-store.ts';
import type { PromptRecord } from './prompt-store.ts';
import type { RegistryDatabase } from './registry-database.ts';
import type { SecretCodec } from './secret-codec.ts';
import { toResourceRecord } from './resource-store.ts';
import type { ResourceRecord } from './resource-store.ts';
import { toToolRecord } from './tool-store.ts';
import type { ToolRecord } from './tool-store.ts';
import { readMembers, toVirtualServerRecord } from './virtual-server-store.ts';
import type { VirtualServerRecord } from './virtual-server-store.ts';

/** Everything in the registry at one moment, as store records. */
export interface RegistryContents {
  /** Ordered by name. */
  gateways: GatewayRecord[];
  /** These four ordered by creation (`createdAt`, then `id`), as the stores list them. */
  tools: ToolRecord[];
  resources: ResourceRecord[];
  prompts: PromptRecord[];
  virtualServers: VirtualServerRecord[];
}

/** Options of {@link loadRegistry}. */
export interface LoadRegistryOptions {
  /** Opens sealed secrets (gateway headers and env, tool credentials); give the one the stores write with. */
  secrets?: SecretCodec;
}

/**
 * Reads the whole registry in one transaction (repeatable read on Postgres), so the result is one consistent moment
 * even while other replicas write: what an in-memory snapshot is built from. Six queries, no paging. A secret that
 * cannot be opened (its key is not configured) throws the codec's error.
 */
export async function loadRegistry(
  db: Kysely<RegistryDatabase>,
  options: LoadRegistryOptions = {},
): Promise<RegistryContents> {
  const { secrets } = options;
  const read = async (trx: Kysely<RegistryDatabase>): Promise<RegistryContents> => {
    const gateways = await trx.selectFrom('gateways').selectAll().orderBy('name').orderBy('id').execute();
    const tools = await trx.selectFrom('tools').selectAll().orderBy('created_at').orderBy('id').execute();
    const resources = await trx
      .selectFrom('resources')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const prompts = await trx.selectFrom('prompts').selectAll().orderBy('created_at').orderBy('id').execute();
    const servers = await trx
      .selectFrom('virtual_servers')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    const members = await readMembers(
      trx,
      servers.map((server) => server.id),
    );
    return {
      gateways: gateways.map((row) => toGatewayRecord(row, secrets)),
      tools: tools.map((row) => toToolRecord(row, secrets)),
      resources: resources.map(toResourceRecord),
      prompts: prompts.map(toPromptRecord),
      virtualServers: servers.map((server) => toVirtualServerRecord(server, members.get(server.id) ?? [])),
    };
  };
  return db.isTransaction ? read(db) : db.transaction().setIsolationLevel('repeatable read').execute(read);
}
