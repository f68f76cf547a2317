import type { Kysely } from 'kysely';
import { loadRegistry } from './load-registry.ts';
import type { LoadRegistryOptions } from './load-registry.ts';
import type { Ownership } from './ownership.ts';
import type { RegistryDatabase } from './registry-database.ts';
import type {
  GatewayDocument,
  PromptDocument,
  RegistryDocument,
  ResourceDocument,
  ToolDocument,
  VirtualServerDocument,
  VirtualServerMemberDocument,
} from './registry-document.ts';

/**
 * The whole registry as a {@link RegistryDocument}: plain JSON-able data in a stable order (gateways and virtual
 * servers by name, items by gateway name then name or URI, local items first), so two exports of the same state are
 * identical. Secrets are included in plain when `options.secrets` opens them (as stored otherwise): mask them before
 * showing the document to anyone. Members whose item no longer exists are left out.
 * `importRegistry(db, exportRegistry(db), { mode: 'replace' })` changes nothing.
 */
export async function exportRegistry(
  db: Kysely<RegistryDatabase>,
  options: LoadRegistryOptions = {},
): Promise<RegistryDocument> {
  const contents = await loadRegistry(db, options);
  const gatewayName = new Map(contents.gateways.map((gateway) => [gateway.id, gateway.name]));
  const nameOf = (gatewayId: string | undefined) =>
    gatewayId === undefined ? undefined : gatewayName.get(gatewayId);

  const gateways: GatewayDocument[] = contents.gateways.map((row) =>
    compact({
      name: row.name,
      transport: row.transport,
      command: row.command,
      args: row.args,
      env: row.env,
      cwd: row.cwd,
      url: row.url,
      headers: row.headers,
      passthroughHeaders: row.passthroughHeaders.length > 0 ? row.passthroughHeaders : undefined,
      namespace: row.namespace,
      enabled: row.enabled,
      timeoutMs: row.timeoutMs,
      protocolEra: row.protocolEra,
      tags: row.tags,
      ...ownershipOf(row),
    }),
  );
  const tools: ToolDocument[] = contents.tools
    .map((row) =>
      compact({
        gateway: nameOf(row.gatewayId),
        name: row.originalName,
        integration: row.integration,
        integrationConfig: row.integrationConfig,
        definition: row.definition,
        enabled: row.enabled,
        alias: row.alias,
        descriptionOverride: row.descriptionOverride,
        annotationsOverride: row.annotationsOverride,
        tags: row.tags,
        ...ownershipOf(row),
      }),
    )
    .sort((a, b) => compareKeys([a.gateway, a.name], [b.gateway, b.name]));
  const resources: ResourceDocument[] = contents.resources
    .map((row) =>
      compact({
        gateway: nameOf(row.gatewayId),
        uri: row.uri,
        kind: row.kind,
        definition: row.definition,
        localContent: row.localContent,
        enabled: row.enabled,
        tags: row.tags,
        ...ownershipOf(row),
      }),
    )
    .sort((a, b) => compareKeys([a.gateway, a.uri], [b.gateway, b.uri]));
  const prompts: PromptDocument[] = contents.prompts
    .map((row) =>
      compact({
        gateway: nameOf(row.gatewayId),
        name: row.originalName,
        definition: row.definition,
        template: row.template,
        enabled: row.enabled,
        alias: row.alias,
        descriptionOverride: row.descriptionOverride,
        tags: row.tags,
        ...ownershipOf(row),
      }),
    )
    .sort((a, b) => compareKeys([a.gateway, a.name], [b.gateway, b.name]));

  const items = {
    tool: new Map(
      contents.tools.map((row) => [row.id, { gateway: nameOf(row.gatewayId), key: row.originalName }]),
    ),
    prompt: new Map(
      contents.prompts.map((row) => [row.id, { gateway: nameOf(row.gatewayId), key: row.originalName }]),
    ),
    resource: new Map(
      contents.resources.map((row) => [row.id, { gateway: nameOf(row.gatewayId), key: row.uri }]),
    ),
  };
  const virtualServers: VirtualServerDocument[] = contents.virtualServers
    .map((row) =>
      compact({
        name: row.name,
        description: row.description,
        icon: row.icon,
        enabled: row.enabled,
        tags: row.tags,
        ...ownershipOf(row),
        members: row.members.flatMap((member): VirtualServerMemberDocument[] => {
          const item = items[member.kind].get(member.id);
          if (item === undefined) return [];
          return [
            member.kind === 'resource'
              ? compact({ kind: member.kind, gateway: item.gateway, uri: item.key, alias: member.alias })
              : compact({ kind: member.kind, gateway: item.gateway, name: item.key, alias: member.alias }),
          ];
        }),
      }),
    )
    .sort((a, b) => compareKeys([a.name], [b.name]));

  return { version: 1, gateways, tools, resources, prompts, virtualServers };
}

/** An entity's ownership for a document: the default visibility (`public`) is left out, like other defaults. */
function ownershipOf(row: Ownership): Partial<Ownership> {
  return {
    owner: row.owner,
    team: row.team,
    visibility: row.visibility === 'public' ? undefined : row.visibility,
  };
}

/** The object without its `undefined` properties, so the document reads cleanly as JSON or YAML. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as T;
}

/** Orders by each part in turn, `undefined` (local) first, by code point so every machine agrees. */
function compareKeys(a: Array<string | undefined>, b: Array<string | undefined>): number {
  for (let index = 0; index < a.length; index++) {
    const left = a[index];
    const right = b[index];
    if (left === right) continue;
    if (left === undefined) return -1;
    if (right === undefined) return 1;
    return left < right ? -1 : 1;
  }
  return 0;
}
