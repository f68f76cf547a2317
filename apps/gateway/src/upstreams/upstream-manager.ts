import {
  slugifyNamespace,
  type CatalogConflict,
  type CatalogMember,
  type ItemOverride,
  type Logger,
  type Router,
  type Upstream,
  type UpstreamState,
} from '@mcp-gateway/core';
import type { GatewayRecord } from '@mcp-gateway/registry';

/** Options of {@link createUpstreamManager}. */
export interface UpstreamManagerOptions {
  router: Router;
  logger: Logger;
  createUpstream: (record: GatewayRecord) => Upstream;
}

/** What the REST API shows about one gateway's live side. */
export interface GatewayRuntimeStatus {
  status: UpstreamState['status'] | 'disabled';
  lastError?: string;
  lastErrorAt?: string;
  connectedAt?: string;
  reconnects: number;
  serverInfo?: { name: string; version: string };
  protocolVersion?: string;
  namespace: string;
  counts: { tools: number; prompts: number; resources: number; resourceTemplates: number };
  conflicts: string[];
}

/**
 * Keeps one live {@link Upstream} per enabled registry record and the router's member list in step with the
 * registry. Records are taken in creation order, so on a name conflict the earlier gateway keeps the name.
 */
export interface UpstreamManager {
  /** Replaces everything with these records (start-up). */
  load(records: readonly GatewayRecord[]): void;
  /**
   * Makes the live upstreams match the registry: new and changed gateways are (re)started, removed ones stopped,
   * and the overrides go to the router. Called on every registry reload, so it must be idempotent.
   */
  reconcile(records: readonly GatewayRecord[], overrides: ReadonlyMap<string, MemberOverrides>): void;
  /** Called with a gateway's upstream whenever its catalog changed (to record discovered items). */
  onCatalog(listener: (gatewayId: string, upstream: Upstream) => void): () => void;
  /** Members that are not registry gateways (local prompts and resources, adapter tools), listed first. */
  setExtraMembers(members: readonly CatalogMember[]): void;
  /** Adds or updates one record; the upstream is restarted only when its connection settings changed. */
  upsert(record: GatewayRecord): void;
  remove(id: string): Promise<void>;
  /** Closes and reopens a gateway's connection, which re-lists its whole catalog. */
  refresh(id: string): Promise<void>;
  status(id: string): GatewayRuntimeStatus | undefined;
  /** Whether the first load has happened. */
  loaded(): boolean;
  /**
   * Names of enabled upstreams whose first connection attempt has not finished yet (neither ready nor failed), so
   * `/ready` can wait for the catalog; an upstream that failed is reported by its status, not waited for.
   */
  pendingFirstConnect(): string[];
  /** Every enabled upstream's name, status and reconnect count, for metrics. */
  health(): Array<{ name: string; status: string; reconnects: number }>;
  close(): Promise<void>;
}

interface Entry {
  record: GatewayRecord;
  upstream?: Upstream;
  offCatalog?: () => void;
}

/** An administrator's overrides for one gateway's items, by original name (tools, prompts) or URI (resources). */
export interface MemberOverrides {
  tools: Map<string, ItemOverride>;
  prompts: Map<string, ItemOverride>;
  resources: Map<string, ItemOverride>;
}

/** The namespace a gateway's names are exposed under: its own, or a slug of its name. */
export function effectiveNamespace(record: Pick<GatewayRecord, 'namespace' | 'name'>): string {
  return record.namespace ?? slugifyNamespace(record.name);
}

const CONNECTION_FIELDS = [
  'transport',
  'command',
  'args',
  'env',
  'cwd',
  'url',
  'headers',
  'passthroughHeaders',
  'timeoutMs',
  'protocolEra',
  'enabled',
  'name',
] as const;

function connectionChanged(a: GatewayRecord, b: GatewayRecord): boolean {
  return CONNECTION_FIELDS.some((field) => JSON.stringify(a[field]) !== JSON.stringify(b[field]));
}

/** Creates an {@link UpstreamManager}. */
export function createUpstreamManager(options: UpstreamManagerOptions): UpstreamManager {
  const { router, logger } = options;
  const entries = new Map<string, Entry>();
  let isLoaded = false;
  let overridesByGateway: ReadonlyMap<string, MemberOverrides> = new Map();
  let extraMembers: readonly CatalogMember[] = [];
  const catalogListeners = new Set<(gatewayId: string, upstream: Upstream) => void>();

  const publish = () => {
    const members: CatalogMember[] = [...entries.values()]
      .filter((entry) => entry.upstream !== undefined)
      .sort(
        (a, b) =>
          a.record.createdAt.getTime() - b.record.createdAt.getTime() ||
          a.record.id.localeCompare(b.record.id),
      )
      .map((entry) => ({
        upstream: entry.upstream as Upstream,
        namespace: effectiveNamespace(entry.record),
        overrides: overridesByGateway.get(entry.record.id),
      }));
    router.setMembers([...extraMembers, ...members]);
  };

  const startUpstream = (record: GatewayRecord): Pick<Entry, 'upstream' | 'offCatalog'> => {
    if (!record.enabled) return {};
    const upstream = options.createUpstream(record);
    const offCatalog = upstream.onChange((change) => {
      if (change.type !== 'catalog') return;
      for (const listener of catalogListeners) listener(record.id, upstream);
    });
    upstream.start();
    return { upstream, offCatalog };
  };

  const stop = async (entry: Entry | undefined) => {
    entry?.offCatalog?.();
    await entry?.upstream
      ?.close()
      .catch((error: unknown) => logger.warn({ err: String(error) }, 'closing upstream failed'));
  };

  return {
    load(records) {
      for (const record of records) entries.set(record.id, { record, ...startUpstream(record) });
      isLoaded = true;
      publish();
    },

    upsert(record) {
      const existing = entries.get(record.id);
      if (existing && !connectionChanged(existing.record, record)) {
        existing.record = record;
        publish();
        return;
      }
      void stop(existing);
      entries.set(record.id, { record, ...startUpstream(record) });
      publish();
    },

    reconcile(records, overrides) {
      overridesByGateway = overrides;
      const seen = new Set<string>();
      for (const record of records) {
        seen.add(record.id);
        const existing = entries.get(record.id);
        if (existing && !connectionChanged(existing.record, record)) {
          existing.record = record;
          continue;
        }
        void stop(existing);
        entries.set(record.id, { record, ...startUpstream(record) });
      }
      for (const [id, entry] of entries) {
        if (seen.has(id)) continue;
        entries.delete(id);
        void stop(entry);
      }
      isLoaded = true;
      publish();
    },

    onCatalog(listener) {
      catalogListeners.add(listener);
      return () => catalogListeners.delete(listener);
    },

    setExtraMembers(members) {
      extraMembers = members;
      publish();
    },

    async refresh(id) {
      const entry = entries.get(id);
      if (!entry) return;
      await stop(entry);
      entries.set(id, { record: entry.record, ...startUpstream(entry.record) });
      publish();
    },

    async remove(id) {
      const entry = entries.get(id);
      entries.delete(id);
      publish();
      await stop(entry);
    },

    status(id) {
      const entry = entries.get(id);
      if (!entry) return undefined;
      const namespace = effectiveNamespace(entry.record);
      const conflicts = router
        .snapshot()
        .conflicts.filter((c: CatalogConflict) => c.upstreamId === id)
        .map((c) => c.message);
      if (!entry.upstream) {
        return {
          status: 'disabled',
          reconnects: 0,
          namespace,
          counts: { tools: 0, prompts: 0, resources: 0, resourceTemplates: 0 },
          conflicts,
        };
      }
      const state = entry.upstream.getState();
      const catalog = entry.upstream.getCatalog();
      return {
        status: state.status,
        lastError: state.lastError,
        lastErrorAt: state.lastErrorAt?.toISOString(),
        connectedAt: state.connectedAt?.toISOString(),
        reconnects: state.reconnects,
        serverInfo: state.serverInfo
          ? { name: state.serverInfo.name, version: state.serverInfo.version }
          : undefined,
        protocolVersion: state.protocolVersion,
        namespace,
        counts: {
          tools: catalog.tools.length,
          prompts: catalog.prompts.length,
          resources: catalog.resources.length,
          resourceTemplates: catalog.resourceTemplates.length,
        },
        conflicts,
      };
    },

    loaded: () => isLoaded,

    health() {
      return [...entries.values()].map((entry) => {
        const state = entry.upstream?.getState();
        return {
          name: entry.record.name,
          status: state?.status ?? 'disabled',
          reconnects: state?.reconnects ?? 0,
        };
      });
    },

    pendingFirstConnect() {
      return [...entries.values()]
        .filter((entry) => {
          const state = entry.upstream?.getState();
          return state !== undefined && state.status === 'connecting' && state.lastError === undefined;
        })
        .map((entry) => entry.record.name);
    },

    async close() {
      const all = [...entries.values()];
      entries.clear();
      router.setMembers([]);
      await Promise.all(all.map((entry) => stop(entry)));
    },
  };
}
