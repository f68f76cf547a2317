import {
  describeError,
  toPublicName,
  toPublicUri,
  type CatalogView,
  type ItemOverride,
  type Logger,
  type Upstream,
} from '@mcp-gateway/core';
import {
  createPromptStore,
  createResourceStore,
  createToolStore,
  loadRegistry,
  type ChangeFeed,
  type Database,
  type RegistryContents,
} from '@mcp-gateway/registry';
import type { RestUpstream, ToolDefinition } from '@mcp-gateway/adapter-rest';
import {
  effectiveNamespace,
  type MemberOverrides,
  type UpstreamManager,
} from '../upstreams/upstream-manager.ts';
import type { LocalUpstream } from './local-upstream.ts';

/** Options of {@link createCatalogState}. */
export interface CatalogStateOptions {
  database: Database;
  feed: ChangeFeed;
  manager: UpstreamManager;
  logger: Logger;
  /** Serves local prompts and static resources. */
  local: LocalUpstream;
  /** Serves REST, OpenAPI and command tools (adapter-rest). */
  rest: RestUpstream;
  /** Changes closer together than this are applied as one reload [50]. */
  reloadDebounceMs?: number;
}

/** A virtual server as its endpoints see it. */
export interface VirtualServerState {
  id: string;
  name: string;
  description?: string;
  icon?: string;
  view: CatalogView;
}

/**
 * The in-memory side of the registry. It loads everything once, then reloads whenever the change feed reports a
 * change (from this process or another replica on the same Postgres): upstreams are reconciled with the gateways
 * table, overrides (alias, enabled, description, annotations) go to the router's members, virtual servers become
 * catalog views. What upstreams list is written back as discovered items when their catalog changes. Nothing here
 * runs on the call path: calls read the router's snapshot and these views.
 */
export function createCatalogState(options: CatalogStateOptions) {
  const { database, feed, manager, logger } = options;
  const db = database.db;
  const toolStore = createToolStore({ db });
  const promptStore = createPromptStore({ db });
  const resourceStore = createResourceStore({ db });
  let servers = new Map<string, VirtualServerState>();
  let contents: RegistryContents | undefined;
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let reloading: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const syncTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const apply = (next: RegistryContents) => {
    contents = next;
    const gateways = new Map(next.gateways.map((g) => [g.id, g]));
    const overrides = new Map<string, MemberOverrides>();
    const entry = (gatewayId: string) => {
      let found = overrides.get(gatewayId);
      if (!found) {
        found = { tools: new Map(), prompts: new Map(), resources: new Map() };
        overrides.set(gatewayId, found);
      }
      return found;
    };
    const LOCAL = '\u0000local';
    for (const tool of next.tools) {
      const gatewayId = tool.gatewayId ?? LOCAL;
      const override: ItemOverride = {
        alias: tool.alias,
        enabled: tool.enabled,
        description: tool.descriptionOverride,
        annotations: tool.annotationsOverride,
      };
      if (hasEffect(override)) entry(gatewayId).tools.set(tool.originalName, override);
    }
    for (const prompt of next.prompts) {
      const gatewayId = prompt.gatewayId ?? LOCAL;
      const override: ItemOverride = {
        alias: prompt.alias,
        enabled: prompt.enabled,
        description: prompt.descriptionOverride,
      };
      if (hasEffect(override)) entry(gatewayId).prompts.set(prompt.originalName, override);
    }
    for (const resource of next.resources) {
      if (resource.enabled) continue;
      entry(resource.gatewayId ?? LOCAL).resources.set(resource.uri, { enabled: false });
    }
    // The gateway's own items: local prompts and resources, and REST/command tools, unprefixed and listed first.
    options.local.setItems({
      prompts: next.prompts.filter((p) => !p.gatewayId),
      resources: next.resources.filter((r) => !r.gatewayId),
    });
    const adapterTools = next.tools.filter(
      (t) => !t.gatewayId && (t.integration === 'rest' || t.integration === 'command'),
    );
    try {
      options.rest.replaceTools(adapterTools.map((t) => t.integrationConfig as unknown as ToolDefinition));
    } catch (error) {
      logger.error({ err: describeError(error) }, 'REST and command tools could not be loaded');
    }
    const localOverrides = overrides.get(LOCAL);
    manager.setExtraMembers([
      { upstream: options.local, namespace: '', overrides: localOverrides },
      { upstream: options.rest, namespace: '', overrides: localOverrides },
    ]);
    manager.reconcile(next.gateways, overrides);

    // Virtual servers: members → names in the full catalog (alias or namespace__name), then the member's alias.
    const namespaceOf = (gatewayId: string | undefined) => {
      const gateway = gatewayId === undefined ? undefined : gateways.get(gatewayId);
      return gateway ? effectiveNamespace(gateway) : '';
    };
    const tools = new Map(next.tools.map((t) => [t.id, t]));
    const prompts = new Map(next.prompts.map((p) => [p.id, p]));
    const resources = new Map(next.resources.map((r) => [r.id, r]));
    const nextServers = new Map<string, VirtualServerState>();
    for (const server of next.virtualServers) {
      if (!server.enabled) continue;
      const view = {
        id: server.id,
        tools: new Map<string, string>(),
        prompts: new Map<string, string>(),
        resources: new Set<string>(),
      };
      for (const member of server.members) {
        if (member.kind === 'tool') {
          const tool = tools.get(member.id);
          if (!tool?.enabled) continue;
          const name = tool.alias ?? toPublicName(namespaceOf(tool.gatewayId), tool.originalName);
          view.tools.set(member.alias ?? name, name);
        } else if (member.kind === 'prompt') {
          const prompt = prompts.get(member.id);
          if (!prompt?.enabled) continue;
          const name = prompt.alias ?? toPublicName(namespaceOf(prompt.gatewayId), prompt.originalName);
          view.prompts.set(member.alias ?? name, name);
        } else {
          const resource = resources.get(member.id);
          if (!resource?.enabled) continue;
          view.resources.add(toPublicUri(namespaceOf(resource.gatewayId), resource.uri));
        }
      }
      nextServers.set(server.id, {
        id: server.id,
        name: server.name,
        description: server.description,
        icon: server.icon,
        view,
      });
    }
    servers = nextServers;
  };

  const reload = async (): Promise<void> => {
    if (reloading) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          again = false;
          apply(await loadRegistry(db));
        } while (again && !closed);
      } catch (error) {
        logger.error(
          { err: describeError(error) },
          'reloading the registry failed; keeping the previous catalog',
        );
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  const scheduleReload = () => {
    if (closed) return;
    reloadTimer ??= setTimeout(() => {
      reloadTimer = undefined;
      void reload();
    }, options.reloadDebounceMs ?? 50);
  };

  /** Writes what an upstream lists now as its discovered items; other replicas hear of it through the feed. */
  const syncDiscovered = async (gatewayId: string, upstream: Upstream) => {
    const catalog = upstream.getCatalog();
    try {
      const results = [
        await toolStore.syncDiscovered(gatewayId, catalog.tools),
        await promptStore.syncDiscovered(gatewayId, catalog.prompts),
        await resourceStore.syncDiscovered(gatewayId, [...catalog.resources, ...catalog.resourceTemplates]),
      ];
      const changed = results.some((r) => r.added.length + r.updated.length + r.removed.length > 0);
      if (changed) await feed.publish({ kind: 'gateway', id: gatewayId, version: Date.now() });
    } catch (error) {
      logger.warn({ gatewayId, err: describeError(error) }, 'recording discovered items failed');
    }
  };

  const offFeed = feed.subscribe(() => scheduleReload());
  const offCatalog = manager.onCatalog((gatewayId, upstream) => {
    if (closed) return;
    clearTimeout(syncTimers.get(gatewayId));
    syncTimers.set(
      gatewayId,
      setTimeout(() => {
        syncTimers.delete(gatewayId);
        void syncDiscovered(gatewayId, upstream);
      }, 100),
    );
  });

  return {
    /** Loads the registry for the first time. */
    load: () => reload(),
    /** Reloads now (after a local write, so this process does not wait for the feed's echo). */
    reload,
    /** Tells every replica (this one included) that something changed. */
    publish: (change: Parameters<ChangeFeed['publish']>[0]) => feed.publish(change),
    server: (id: string) => servers.get(id),
    servers: () => [...servers.values()],
    contents: () => contents,
    async close() {
      closed = true;
      offFeed();
      offCatalog();
      clearTimeout(reloadTimer);
      for (const timer of syncTimers.values()) clearTimeout(timer);
      await reloading;
    },
  };
}

/** What {@link createCatalogState} returns. */
export type CatalogState = ReturnType<typeof createCatalogState>;

function hasEffect(override: ItemOverride): boolean {
  return (
    override.enabled === false ||
    override.alias !== undefined ||
    override.description !== undefined ||
    override.annotations !== undefined
  );
}
