import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { throwIfIssues } from './catalog-validation.ts';
import type { Issues } from './catalog-validation.ts';
import { createGatewayStore } from './gateway-store.ts';
import { loadRegistry } from './load-registry.ts';
import type { RegistryContents } from './load-registry.ts';
import { createPromptStore } from './prompt-store.ts';
import { RegistryError } from './registry-error.ts';
import type { RegistryDatabase } from './registry-database.ts';
import type { SecretCodec } from './secret-codec.ts';
import {
  checkReferences,
  gatewayStateOf,
  itemKey,
  promptStateOf,
  readRegistryDocument,
  resourceStateOf,
  toolStateOf,
  virtualServerStateOf,
} from './registry-document.ts';
import type { ImportMode, ImportPlan, MemberEntry } from './registry-document.ts';
import { createResourceStore } from './resource-store.ts';
import { canonicalJson, withTransaction } from './store-support.ts';
import { createToolStore } from './tool-store.ts';
import { createVirtualServerStore } from './virtual-server-store.ts';
import type { VirtualServerMemberInput } from './virtual-server-store.ts';

/** Options for {@link importRegistry}. */
export interface ImportRegistryOptions {
  /**
   * `'merge'`: create and update what the document lists, leave the rest alone. `'replace'`: also delete gateways,
   * local tools/resources/prompts and virtual servers it does not list, and reset the overrides of discovered items
   * it does not list (they stay, so their upstream need not be synced again).
   */
  mode: ImportMode;
  /** Recorded as `createdBy` / `updatedBy` of what the import writes. */
  actor?: string;
  /** Default: `() => new Date()`. */
  clock?: () => Date;
  /** Ids of new gateways, local items and virtual servers. Default: `crypto.randomUUID`. */
  generateId?: () => string;
  /** Seals the secrets the import writes and opens the stored ones it compares with (see `createGatewayStore`). */
  secrets?: SecretCodec;
}

/** What an import changed, counted in entities. */
export interface ImportResult {
  /** Document entries that did not exist. */
  created: number;
  /** Document entries that existed and differed, plus discovered items reset by `'replace'`. */
  updated: number;
  /** Entities `'replace'` deleted, including discovered items deleted with their gateway. */
  deleted: number;
  /** Document entries already as described: importing the same document twice gives `unchanged` only. */
  unchanged: number;
}

const IMPORT_LOCK = 'mcp-gateway:registry-import';

/**
 * Makes the registry match a {@link RegistryDocument} (parsed JSON or YAML, checked here), in one transaction: every
 * entry is validated first, and when any is wrong nothing changes and a {@link RegistryError} `'invalid-input'` lists
 * every problem in `details` (`[{ path: 'gateways.2.name', message }]`). A database error halfway rolls everything
 * back. Imports from several replicas queue up behind a transaction-scoped advisory lock. Publish one `'config'`
 * change afterwards so every replica reloads.
 */
export async function importRegistry(
  db: Kysely<RegistryDatabase>,
  document: unknown,
  options: ImportRegistryOptions,
): Promise<ImportResult> {
  if (options?.mode !== 'merge' && options?.mode !== 'replace') {
    throw new RegistryError('invalid-input', 'importRegistry: mode must be "merge" or "replace"', {
      details: [{ path: 'mode', message: 'must be "merge" or "replace"' }],
    });
  }
  const { mode, actor } = options;
  const clock = options.clock ?? (() => new Date());
  const issues: Issues = [];
  const plan = readRegistryDocument(document, issues);

  return withTransaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${IMPORT_LOCK}))`.execute(trx);
    const current = await loadRegistry(trx, { secrets: options.secrets });
    checkReferences(plan, { current, mode }, issues);
    throwIfIssues(issues, 'registry document');

    const storeOptions = { db: trx, clock, generateId: options.generateId, secrets: options.secrets };
    const gateways = createGatewayStore(storeOptions);
    const tools = createToolStore(storeOptions);
    const resources = createResourceStore(storeOptions);
    const prompts = createPromptStore(storeOptions);
    const servers = createVirtualServerStore(storeOptions);
    const result: ImportResult = { created: 0, updated: 0, deleted: 0, unchanged: 0 };
    const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
    const gatewayName = new Map(current.gateways.map((gateway) => [gateway.id, gateway.name]));
    const keyOf = (gatewayId: string | undefined, name: string) =>
      itemKey(gatewayId === undefined ? undefined : gatewayName.get(gatewayId), name);

    if (mode === 'replace') {
      const context = { trx, plan, current, keyOf, actor, same, now: clock() };
      result.deleted += await deleteUnlisted(context);
      result.updated += await resetUnlisted(context);
    }

    // Aliases are unique: clear the ones about to move first, so two items can swap aliases in one import.
    const toolRows = new Map(current.tools.map((row) => [keyOf(row.gatewayId, row.originalName), row]));
    const promptRows = new Map(current.prompts.map((row) => [keyOf(row.gatewayId, row.originalName), row]));
    const movingToolAliases = plan.tools.flatMap((entry) => {
      const row = toolRows.get(itemKey(entry.gateway, entry.name));
      return row?.alias !== undefined && row.alias !== entry.state.alias ? [row.id] : [];
    });
    const movingPromptAliases = plan.prompts.flatMap((entry) => {
      const row = promptRows.get(itemKey(entry.gateway, entry.name));
      return row?.alias !== undefined && row.alias !== entry.state.alias ? [row.id] : [];
    });
    if (movingToolAliases.length > 0) {
      await trx.updateTable('tools').set({ alias: null }).where('id', 'in', movingToolAliases).execute();
    }
    if (movingPromptAliases.length > 0) {
      await trx.updateTable('prompts').set({ alias: null }).where('id', 'in', movingPromptAliases).execute();
    }

    const gatewayRows = new Map(current.gateways.map((row) => [row.name, row]));
    const gatewayIds = new Map(current.gateways.map((row) => [row.name, row.id]));
    for (const entry of plan.gateways) {
      const row = gatewayRows.get(entry.name);
      const { state } = entry;
      if (row === undefined) {
        const created = await gateways.create({ name: entry.name, ...state, createdBy: actor });
        gatewayIds.set(entry.name, created.id);
        result.created += 1;
      } else if (same(gatewayStateOf(row), state)) {
        result.unchanged += 1;
      } else {
        await gateways.update(row.id, {
          ...state,
          command: state.command ?? null,
          cwd: state.cwd ?? null,
          url: state.url ?? null,
          namespace: state.namespace ?? null,
          timeoutMs: state.timeoutMs ?? null,
          protocolEra: state.protocolEra ?? null,
          owner: state.owner ?? null,
          team: state.team ?? null,
          updatedBy: actor,
        });
        result.updated += 1;
      }
    }
    const gatewayIdOf = (name: string | undefined) => (name === undefined ? undefined : gatewayIds.get(name));

    for (const entry of plan.tools) {
      const row = toolRows.get(itemKey(entry.gateway, entry.name));
      const { definition, ...state } = entry.state;
      if (row === undefined) {
        await tools.create({
          ...state,
          definition: entry.definition,
          gatewayId: gatewayIdOf(entry.gateway),
          createdBy: actor,
        });
        result.created += 1;
      } else if (same(toolStateOf(row), entry.state)) {
        result.unchanged += 1;
      } else {
        await tools.update(row.id, {
          ...state,
          definition,
          integrationConfig: state.integrationConfig ?? null,
          alias: state.alias ?? null,
          descriptionOverride: state.descriptionOverride ?? null,
          annotationsOverride: state.annotationsOverride ?? null,
          owner: state.owner ?? null,
          team: state.team ?? null,
          updatedBy: actor,
        });
        result.updated += 1;
      }
    }

    const resourceRows = new Map(current.resources.map((row) => [keyOf(row.gatewayId, row.uri), row]));
    for (const entry of plan.resources) {
      const row = resourceRows.get(itemKey(entry.gateway, entry.uri));
      const { definition, ...state } = entry.state;
      if (row === undefined) {
        await resources.create({
          ...state,
          definition: entry.definition,
          gatewayId: gatewayIdOf(entry.gateway),
          createdBy: actor,
        });
        result.created += 1;
      } else if (same(resourceStateOf(row), entry.state)) {
        result.unchanged += 1;
      } else {
        await resources.update(row.id, {
          ...state,
          definition,
          localContent: row.gatewayId === undefined ? (state.localContent ?? null) : undefined,
          owner: state.owner ?? null,
          team: state.team ?? null,
          updatedBy: actor,
        });
        result.updated += 1;
      }
    }

    for (const entry of plan.prompts) {
      const row = promptRows.get(itemKey(entry.gateway, entry.name));
      const { definition, template, ...state } = entry.state;
      if (row === undefined) {
        await prompts.create({
          ...state,
          definition: entry.definition,
          template,
          gatewayId: gatewayIdOf(entry.gateway),
          createdBy: actor,
        });
        result.created += 1;
      } else if (same(promptStateOf(row), entry.state)) {
        result.unchanged += 1;
      } else {
        await prompts.update(row.id, {
          ...state,
          definition,
          template: row.gatewayId === undefined ? (template ?? null) : undefined,
          alias: state.alias ?? null,
          descriptionOverride: state.descriptionOverride ?? null,
          owner: state.owner ?? null,
          team: state.team ?? null,
          updatedBy: actor,
        });
        result.updated += 1;
      }
    }

    const memberIds = await readItemKeys(trx);
    const resolve = (member: MemberEntry): VirtualServerMemberInput => {
      const id = memberIds[member.kind].get(itemKey(member.gateway, member.key));
      // checkReferences proved every member resolvable; a miss here means a concurrent writer slipped in.
      if (id === undefined)
        throw new RegistryError('conflict', `${member.path} no longer resolves; retry the import`);
      return member.alias === undefined
        ? { kind: member.kind, id }
        : { kind: member.kind, id, alias: member.alias };
    };
    const serverRows = new Map(current.virtualServers.map((row) => [row.name, row]));
    for (const entry of plan.virtualServers) {
      const row = serverRows.get(entry.name);
      const members = entry.members.map(resolve);
      if (row === undefined) {
        await servers.create({ name: entry.name, ...entry.state, members, createdBy: actor });
        result.created += 1;
        continue;
      }
      // Missing members cannot be written in a document (exports leave them out), so they do not count as a
      // difference; they go when the server is rewritten for another reason.
      const missing = new Set(row.missingMembers.map((member) => member.position));
      const stored = row.members
        .filter((member) => !missing.has(member.position))
        .map(({ kind, id, alias }) => (alias === undefined ? { kind, id } : { kind, id, alias }));
      if (same(virtualServerStateOf(row), entry.state) && same(stored, members)) {
        result.unchanged += 1;
      } else {
        await servers.update(row.id, {
          ...entry.state,
          description: entry.state.description ?? null,
          icon: entry.state.icon ?? null,
          owner: entry.state.owner ?? null,
          team: entry.state.team ?? null,
          members,
          updatedBy: actor,
        });
        result.updated += 1;
      }
    }
    return result;
  });
}

/** What the replace-mode steps work with. */
interface ReplaceContext {
  trx: Kysely<RegistryDatabase>;
  plan: ImportPlan;
  current: RegistryContents;
  keyOf: (gatewayId: string | undefined, name: string) => string;
  actor: string | undefined;
  same: (a: unknown, b: unknown) => boolean;
  now: Date;
}

/** Replace mode: deletes virtual servers, gateways and local items the document does not list; returns how many. */
async function deleteUnlisted(context: ReplaceContext): Promise<number> {
  const { trx, plan, current, keyOf } = context;
  const listedServers = new Set(plan.virtualServers.map((entry) => entry.name));
  const listedGateways = new Set(plan.gateways.map((entry) => entry.name));
  const listedTools = new Set(plan.tools.map((entry) => itemKey(entry.gateway, entry.name)));
  const listedResources = new Set(plan.resources.map((entry) => itemKey(entry.gateway, entry.uri)));
  const listedPrompts = new Set(plan.prompts.map((entry) => itemKey(entry.gateway, entry.name)));

  const servers = current.virtualServers.filter((row) => !listedServers.has(row.name)).map((row) => row.id);
  const gateways = current.gateways.filter((row) => !listedGateways.has(row.name)).map((row) => row.id);
  const droppedGateways = new Set(gateways);
  // Local items not listed, and (counted, deleted by cascade) the items of dropped gateways.
  const unlisted = <T extends { id: string; gatewayId?: string }>(
    rows: T[],
    listed: Set<string>,
    key: (row: T) => string,
  ) =>
    rows.filter((row) =>
      row.gatewayId === undefined ? !listed.has(key(row)) : droppedGateways.has(row.gatewayId),
    );
  const tools = unlisted(current.tools, listedTools, (row) => keyOf(undefined, row.originalName));
  const resources = unlisted(current.resources, listedResources, (row) => keyOf(undefined, row.uri));
  const prompts = unlisted(current.prompts, listedPrompts, (row) => keyOf(undefined, row.originalName));

  const local = <T extends { id: string; gatewayId?: string }>(rows: T[]) =>
    rows.filter((row) => row.gatewayId === undefined).map((row) => row.id);
  if (servers.length > 0) await trx.deleteFrom('virtual_servers').where('id', 'in', servers).execute();
  if (gateways.length > 0) await trx.deleteFrom('gateways').where('id', 'in', gateways).execute();
  if (local(tools).length > 0) await trx.deleteFrom('tools').where('id', 'in', local(tools)).execute();
  if (local(resources).length > 0)
    await trx.deleteFrom('resources').where('id', 'in', local(resources)).execute();
  if (local(prompts).length > 0) await trx.deleteFrom('prompts').where('id', 'in', local(prompts)).execute();
  return servers.length + gateways.length + tools.length + resources.length + prompts.length;
}

/**
 * Replace mode: discovered items of kept gateways that the document does not list go back to their defaults
 * (enabled, no alias, no overrides, no tags, no ownership of their own: their gateway's applies); returns how many
 * changed.
 */
async function resetUnlisted(context: ReplaceContext): Promise<number> {
  const { trx, plan, current, keyOf, actor, same, now } = context;
  const listedGateways = new Set(plan.gateways.map((entry) => entry.name));
  const kept = (gatewayId: string | undefined) => {
    if (gatewayId === undefined) return false;
    const name = current.gateways.find((gateway) => gateway.id === gatewayId)?.name;
    return name !== undefined && listedGateways.has(name);
  };
  const listedTools = new Set(plan.tools.map((entry) => itemKey(entry.gateway, entry.name)));
  const listedResources = new Set(plan.resources.map((entry) => itemKey(entry.gateway, entry.uri)));
  const listedPrompts = new Set(plan.prompts.map((entry) => itemKey(entry.gateway, entry.name)));
  const stamp = {
    updated_at: now,
    updated_by: actor ?? null,
    owner_id: null,
    team_id: null,
    visibility: 'public',
  };
  const unowned = { visibility: 'public' } as const;

  const tools = current.tools.filter(
    (row) =>
      kept(row.gatewayId) &&
      !listedTools.has(keyOf(row.gatewayId, row.originalName)) &&
      !same(toolStateOf(row), { integration: row.integration, enabled: true, tags: [], ...unowned }),
  );
  const resources = current.resources.filter(
    (row) =>
      kept(row.gatewayId) &&
      !listedResources.has(keyOf(row.gatewayId, row.uri)) &&
      !same(resourceStateOf(row), { enabled: true, tags: [], ...unowned }),
  );
  const prompts = current.prompts.filter(
    (row) =>
      kept(row.gatewayId) &&
      !listedPrompts.has(keyOf(row.gatewayId, row.originalName)) &&
      !same(promptStateOf(row), { enabled: true, tags: [], ...unowned }),
  );
  const ids = (rows: Array<{ id: string }>) => rows.map((row) => row.id);
  if (tools.length > 0) {
    await trx
      .updateTable('tools')
      .set({
        ...stamp,
        enabled: true,
        alias: null,
        description_override: null,
        annotations_override: null,
        integration_config: null,
        tags: '[]',
      })
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', 'in', ids(tools))
      .execute();
  }
  if (resources.length > 0) {
    await trx
      .updateTable('resources')
      .set({ ...stamp, enabled: true, tags: '[]' })
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', 'in', ids(resources))
      .execute();
  }
  if (prompts.length > 0) {
    await trx
      .updateTable('prompts')
      .set({ ...stamp, enabled: true, alias: null, description_override: null, tags: '[]' })
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', 'in', ids(prompts))
      .execute();
  }
  return tools.length + resources.length + prompts.length;
}

/** Every item's id by its portable key, after the items have been written. */
async function readItemKeys(
  trx: Kysely<RegistryDatabase>,
): Promise<Record<'tool' | 'prompt' | 'resource', Map<string, string>>> {
  const gateways = await trx.selectFrom('gateways').select(['id', 'name']).execute();
  const names = new Map(gateways.map((gateway) => [gateway.id, gateway.name]));
  const key = (gatewayId: string | null, name: string) =>
    itemKey(gatewayId === null ? undefined : names.get(gatewayId), name);
  const tools = await trx.selectFrom('tools').select(['id', 'gateway_id', 'original_name']).execute();
  const prompts = await trx.selectFrom('prompts').select(['id', 'gateway_id', 'original_name']).execute();
  const resources = await trx.selectFrom('resources').select(['id', 'gateway_id', 'uri']).execute();
  return {
    tool: new Map(tools.map((row) => [key(row.gateway_id, row.original_name), row.id])),
    prompt: new Map(prompts.map((row) => [key(row.gateway_id, row.original_name), row.id])),
    resource: new Map(resources.map((row) => [key(row.gateway_id, row.uri), row.id])),
  };
}
