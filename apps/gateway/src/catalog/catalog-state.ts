import {
  describeError,
  parsePublicUri,
  toPublicName,
  toPublicUri,
  uriTemplateMatcher,
  type CatalogView,
  type ItemOverride,
  type Logger,
  type Router,
  type Upstream,
} from '@mcp-gateway/core';
import {
  createPromptStore,
  createResourceStore,
  createToolStore,
  effectiveOwnership,
  loadRegistry,
  type ChangeFeed,
  type Database,
  type GatewayRecord,
  type Ownership,
  type RegistryContents,
  type Visibility,
  type SecretCodec,
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
  /**
   * The router the manager feeds. With it, `visibilityOf` also answers for items an upstream lists that the registry
   * has not recorded yet (they take their gateway's ownership); without it they are unknown.
   */
  router?: Pick<Router, 'snapshot'>;
  /** The registry's secret codec (see `registrySecretsFromEnv`): opens upstream secrets as the registry is loaded. */
  secrets?: SecretCodec;
}

/** The kinds of catalog entities the policy asks about (the public name of a resource template is its URI template). */
export type CatalogEntityKind = 'tool' | 'prompt' | 'resource' | 'resource-template';

/** Who owns a catalog entity and who may see it. */
export interface EntityOwnership {
  readonly owner?: string;
  readonly team?: string;
  readonly visibility: Visibility;
}

/** A virtual server as its endpoints see it. */
export interface VirtualServerState {
  id: string;
  name: string;
  description?: string;
  icon?: string;
  owner?: string;
  team?: string;
  visibility: Visibility;
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
  const toolStore = createToolStore({ db, secrets: options.secrets });
  const promptStore = createPromptStore({ db });
  const resourceStore = createResourceStore({ db });
  let servers = new Map<string, VirtualServerState>();
  let ownership = emptyOwnershipIndex();
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
      // The record's name is the tool's name; a bad definition is left out and logged, not fatal to the others.
      const definitions = adapterTools.map(
        (t) =>
          ({
            ...t.integrationConfig,
            ...(t.integration === 'command' ? { kind: 'command' } : {}),
            name: t.originalName,
          }) as unknown as ToolDefinition,
      );
      options.rest.replaceTools(definitions, {
        onInvalid: (error, index) =>
          logger.error(
            { tool: adapterTools[index]?.originalName, err: error.message },
            'a REST or command tool is invalid and was left out',
          ),
      });
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
        owner: server.owner,
        team: server.team,
        visibility: server.visibility,
        view,
      });
    }
    servers = nextServers;
    ownership = buildOwnershipIndex(next, namespaceOf);
  };

  const ownerOfUpstream = (upstreamId: string | undefined) =>
    upstreamId === undefined ? undefined : ownership.gateways.get(upstreamId);

  /** Items the reload did not index: listed by an upstream but not recorded yet, or a URI expanded from a template. */
  const unindexedOwnership = (kind: CatalogEntityKind, publicName: string): EntityOwnership | undefined => {
    if (kind === 'tool')
      return ownerOfUpstream(options.router?.snapshot().toolRoutes.get(publicName)?.upstream.id);
    if (kind === 'prompt')
      return ownerOfUpstream(options.router?.snapshot().promptRoutes.get(publicName)?.upstream.id);
    const parsed = parsePublicUri(publicName);
    const namespace = parsed?.namespace ?? '';
    const uri = parsed?.uri ?? publicName;
    const gatewayId = parsed === undefined ? undefined : ownership.namespaces.get(parsed.namespace);
    if (parsed !== undefined && gatewayId === undefined) return undefined;
    let found: EntityOwnership | undefined;
    for (const template of ownership.templateMatchers) {
      if (template.namespace === namespace && template.matcher.test(uri)) {
        found = found === undefined ? template.ownership : stricter(found, template.ownership);
      }
    }
    if (found !== undefined) return found;
    if (gatewayId !== undefined) return ownership.gateways.get(gatewayId);
    return ownerOfUpstream(options.router?.snapshot().resourceRoutes.get(publicName)?.upstream.id);
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
          apply(await loadRegistry(db, { secrets: options.secrets }));
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
    /**
     * Ownership and visibility of a catalog entity by its public name on the gateway's own endpoint (tool and prompt
     * names, resource URIs, URI templates), from memory: what `createPolicy({ visibilityOf })` needs. A discovered
     * item takes its gateway's ownership unless its own row is more restrictive; local, REST and command items use
     * their own row. A URI expanded from a template takes the template's. `undefined` for names nothing claims.
     */
    visibilityOf: (kind: CatalogEntityKind, publicName: string): EntityOwnership | undefined =>
      ownership.byKind[kind].get(publicName) ?? unindexedOwnership(kind, publicName),
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

/** What the policy reads on every call and list, rebuilt on every reload (O(items)). */
interface OwnershipIndex {
  /** Public name (or URI, URI template) → ownership. */
  byKind: Record<CatalogEntityKind, Map<string, EntityOwnership>>;
  /** Gateway id → the gateway's ownership (for items not recorded yet). */
  gateways: Map<string, EntityOwnership>;
  /** Non-empty namespace → gateway id. */
  namespaces: Map<string, string>;
  /** Enabled resource templates, to find the one a read URI was expanded from. */
  templateMatchers: Array<{ namespace: string; matcher: RegExp; ownership: EntityOwnership }>;
}

function emptyOwnershipIndex(): OwnershipIndex {
  return {
    byKind: { tool: new Map(), prompt: new Map(), resource: new Map(), 'resource-template': new Map() },
    gateways: new Map(),
    namespaces: new Map(),
    templateMatchers: [],
  };
}

const RANK: Record<Visibility, number> = { public: 0, team: 1, private: 2 };

/** The more restrictive of two ownerships (the first on a tie). */
function stricter(a: EntityOwnership, b: EntityOwnership): EntityOwnership {
  return RANK[b.visibility] > RANK[a.visibility] ? b : a;
}

function plainOwnership(entity: Ownership): EntityOwnership {
  return { owner: entity.owner, team: entity.team, visibility: entity.visibility };
}

/**
 * Indexes the ownership of every enabled item by the public name the router gives it (alias, or namespace and
 * original name; namespaced URIs). Should two items claim one name (a conflict the router reports and resolves for
 * the first), the more restrictive ownership is kept: a conflict never makes anything more visible.
 */
function buildOwnershipIndex(
  contents: RegistryContents,
  namespaceOf: (gatewayId: string | undefined) => string,
): OwnershipIndex {
  const index = emptyOwnershipIndex();
  const enabledGateways = new Map<string, GatewayRecord>();
  for (const gateway of contents.gateways) {
    index.gateways.set(gateway.id, plainOwnership(gateway));
    if (!gateway.enabled) continue;
    enabledGateways.set(gateway.id, gateway);
    const namespace = namespaceOf(gateway.id);
    if (namespace !== '' && !index.namespaces.has(namespace)) index.namespaces.set(namespace, gateway.id);
  }
  const ownershipOf = (item: Ownership & { gatewayId?: string }): EntityOwnership | undefined => {
    if (item.gatewayId === undefined) return plainOwnership(item);
    const gateway = enabledGateways.get(item.gatewayId);
    return gateway === undefined ? undefined : plainOwnership(effectiveOwnership(item, gateway));
  };
  const claim = (kind: CatalogEntityKind, name: string, value: EntityOwnership) => {
    const map = index.byKind[kind];
    const previous = map.get(name);
    map.set(name, previous === undefined ? value : stricter(previous, value));
  };
  for (const tool of contents.tools) {
    const value = tool.enabled ? ownershipOf(tool) : undefined;
    if (value)
      claim('tool', tool.alias ?? toPublicName(namespaceOf(tool.gatewayId), tool.originalName), value);
  }
  for (const prompt of contents.prompts) {
    const value = prompt.enabled ? ownershipOf(prompt) : undefined;
    if (value) {
      claim(
        'prompt',
        prompt.alias ?? toPublicName(namespaceOf(prompt.gatewayId), prompt.originalName),
        value,
      );
    }
  }
  for (const resource of contents.resources) {
    const value = resource.enabled ? ownershipOf(resource) : undefined;
    if (!value) continue;
    const namespace = namespaceOf(resource.gatewayId);
    if (resource.kind === 'template') {
      claim('resource-template', toPublicUri(namespace, resource.uri), value);
      index.templateMatchers.push({ namespace, matcher: uriTemplateMatcher(resource.uri), ownership: value });
    } else {
      claim('resource', toPublicUri(namespace, resource.uri), value);
    }
  }
  return index;
}

function hasEffect(override: ItemOverride): boolean {
  return (
    override.enabled === false ||
    override.alias !== undefined ||
    override.description !== undefined ||
    override.annotations !== undefined
  );
}
