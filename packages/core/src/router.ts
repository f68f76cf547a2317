import {
  buildCatalogSnapshot,
  type CatalogMember,
  type CatalogSnapshot,
  type ItemRoute,
} from './catalog-snapshot.ts';
import { RpcError, RpcErrorCode } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { parsePublicUri, toPublicUri } from './naming.ts';
import type { RpcParams, RpcResult, ServerCapabilities } from './mcp-types.ts';
import type { CatalogKind, Upstream, UpstreamProgress } from './upstream.ts';

/** Options of {@link createRouter}; every field has a default. */
export interface RouterOptions {
  logger?: Logger;
  /** Separator between namespace and name. Default `__`. */
  separator?: string;
  /** Items per page of tools/list, prompts/list, resources/list, resources/templates/list. Default 1000. */
  pageSize?: number;
  /** Changes closer together than this are sent as one list_changed. Default 50 ms. */
  listChangedDebounceMs?: number;
}

/** What a transport knows about the downstream request it hands to the router. */
export interface RouterRequestContext {
  /** Aborted when the downstream client cancels or disconnects. */
  signal?: AbortSignal;
  /** Set when the downstream client asked for progress (it gave a progress token). */
  onProgress?: (progress: UpstreamProgress) => void;
}

/** Methods the router answers. Transports register exactly these. */
export const ROUTED_METHODS = [
  'tools/list',
  'tools/call',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
] as const;

/** The MCP capabilities the gateway offers downstream. List capabilities are constant: upstreams come and go. */
export const GATEWAY_CAPABILITIES: ServerCapabilities = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true },
  completions: {},
};

/**
 * The protocol engine between transports and upstreams: it merges the members' catalogs, answers lists with
 * pagination, routes calls by public name or URI, and tells subscribers when a list changed.
 */
export interface Router {
  /** Replaces the set of upstreams (in priority order for name conflicts). */
  setMembers(members: readonly CatalogMember[]): void;
  /** The current immutable catalog snapshot. */
  snapshot(): CatalogSnapshot;
  /** Answers one request. Throws `RpcError` for anything the caller should see as a JSON-RPC error. */
  handle(method: string, params: RpcParams | undefined, context?: RouterRequestContext): Promise<RpcResult>;
  /** Subscribes to list changes (debounced); returns the unsubscribe function. */
  onListChanged(listener: (kinds: readonly CatalogKind[]) => void): () => void;
  /** Stops timers and drops subscriptions to upstreams (does not close them). */
  close(): void;
}

/** Creates a {@link Router}. */
export function createRouter(options: RouterOptions = {}): Router {
  const logger = options.logger ?? silentLogger;
  const pageSize = options.pageSize ?? 1000;
  const debounceMs = options.listChangedDebounceMs ?? 50;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new TypeError('pageSize must be a positive whole number');

  let members: readonly CatalogMember[] = [];
  let version = 0;
  let current = buildCatalogSnapshot([], { separator: options.separator, version });
  const unsubscribers = new Map<string, () => void>();
  const listeners = new Set<(kinds: readonly CatalogKind[]) => void>();
  let pendingKinds = new Set<CatalogKind>();
  let debounceTimer: ReturnType<typeof setTimeout> | undefined;

  const rebuild = (kinds: readonly CatalogKind[]) => {
    version += 1;
    current = buildCatalogSnapshot(members, { separator: options.separator, version });
    for (const conflict of current.conflicts) logger.warn({ conflict }, conflict.message);
    if (kinds.length === 0) return;
    for (const kind of kinds) pendingKinds.add(kind);
    debounceTimer ??= setTimeout(() => {
      debounceTimer = undefined;
      const changed = [...pendingKinds];
      pendingKinds = new Set();
      for (const listener of listeners) {
        try {
          listener(changed);
        } catch (error) {
          logger.error({ err: String(error) }, 'list_changed listener threw');
        }
      }
    }, debounceMs);
  };

  const kindsOf = (member: CatalogMember): CatalogKind[] => {
    const catalog = member.upstream.getCatalog();
    const kinds: CatalogKind[] = [];
    if (catalog.tools.length > 0) kinds.push('tools');
    if (catalog.prompts.length > 0) kinds.push('prompts');
    if (catalog.resources.length > 0 || catalog.resourceTemplates.length > 0) kinds.push('resources');
    return kinds;
  };

  const route = (routes: ReadonlyMap<string, ItemRoute>, name: unknown, kind: string): ItemRoute => {
    if (typeof name !== 'string' || name === '') {
      throw new RpcError(RpcErrorCode.InvalidParams, `${kind} name is required (params.name)`);
    }
    const found = routes.get(name);
    if (!found) throw new RpcError(RpcErrorCode.InvalidParams, `Unknown ${kind}: ${name}`);
    return found;
  };

  const resolveResource = (uri: unknown): { upstream: Upstream; namespace: string; uri: string } => {
    if (typeof uri !== 'string' || uri === '') {
      throw new RpcError(RpcErrorCode.InvalidParams, 'resource uri is required (params.uri)');
    }
    const parsed = parsePublicUri(uri);
    if (parsed) {
      const member = current.namespaces.get(parsed.namespace);
      if (member) return { upstream: member.upstream, namespace: parsed.namespace, uri: parsed.uri };
    }
    const exact = current.resourceRoutes.get(uri);
    if (exact) return { upstream: exact.upstream, namespace: '', uri };
    const byTemplate = current.unprefixed.find((m) => m.matchers.some((matcher) => matcher.test(uri)));
    if (byTemplate) return { upstream: byTemplate.upstream, namespace: '', uri };
    const only = current.unprefixed.length === 1 ? current.unprefixed[0] : undefined;
    if (only) return { upstream: only.upstream, namespace: '', uri };
    throw new RpcError(RpcErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
  };

  const paginate = (items: readonly unknown[], key: string, params: RpcParams | undefined): RpcResult => {
    const offset = decodeCursor(params?.cursor);
    const page = items.slice(offset, offset + pageSize);
    const next = offset + pageSize < items.length ? encodeCursor(offset + pageSize) : undefined;
    return next === undefined ? { [key]: page } : { [key]: page, nextCursor: next };
  };

  const forward = (
    target: { upstream: Upstream; method: string; params: RpcParams },
    context: RouterRequestContext | undefined,
  ): Promise<RpcResult> =>
    target.upstream.request(target.method, target.params, {
      signal: context?.signal,
      onProgress: context?.onProgress,
    });

  return {
    setMembers(next) {
      const previous = new Map(members.map((m) => [m.upstream.id, m]));
      members = [...next];
      const changedKinds = new Set<CatalogKind>();
      for (const member of members) {
        const before = previous.get(member.upstream.id);
        previous.delete(member.upstream.id);
        if (before && before.upstream === member.upstream && before.namespace === member.namespace) continue;
        for (const kind of kindsOf(member)) changedKinds.add(kind);
        if (before) for (const kind of kindsOf(before)) changedKinds.add(kind);
        unsubscribers.get(member.upstream.id)?.();
        unsubscribers.set(
          member.upstream.id,
          member.upstream.onChange((change) => {
            if (change.type === 'catalog') rebuild(change.kinds);
          }),
        );
      }
      for (const removed of previous.values()) {
        unsubscribers.get(removed.upstream.id)?.();
        unsubscribers.delete(removed.upstream.id);
        for (const kind of kindsOf(removed)) changedKinds.add(kind);
      }
      rebuild([...changedKinds]);
    },

    snapshot: () => current,

    async handle(method, params, context) {
      const snapshot = current;
      switch (method) {
        case 'ping':
          return {};
        case 'tools/list':
          return paginate(snapshot.tools, 'tools', params);
        case 'prompts/list':
          return paginate(snapshot.prompts, 'prompts', params);
        case 'resources/list':
          return paginate(snapshot.resources, 'resources', params);
        case 'resources/templates/list':
          return paginate(snapshot.resourceTemplates, 'resourceTemplates', params);
        case 'tools/call': {
          const target = route(snapshot.toolRoutes, params?.name, 'tool');
          const result = await forward(
            { upstream: target.upstream, method, params: { ...params, name: target.name } },
            context,
          );
          return rewriteContentUris(result, 'content', target.namespace);
        }
        case 'prompts/get': {
          const target = route(snapshot.promptRoutes, params?.name, 'prompt');
          const result = await forward(
            { upstream: target.upstream, method, params: { ...params, name: target.name } },
            context,
          );
          return rewritePromptUris(result, target.namespace);
        }
        case 'resources/read': {
          const target = resolveResource(params?.uri);
          const result = await forward(
            { upstream: target.upstream, method, params: { ...params, uri: target.uri } },
            context,
          );
          return rewriteContentUris(result, 'contents', target.namespace);
        }
        case 'completion/complete':
          return complete(params, context);
        default:
          throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`);
      }
    },

    onListChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close() {
      if (debounceTimer) clearTimeout(debounceTimer);
      debounceTimer = undefined;
      for (const unsubscribe of unsubscribers.values()) unsubscribe();
      unsubscribers.clear();
      listeners.clear();
    },
  };

  async function complete(params: RpcParams | undefined, context?: RouterRequestContext): Promise<RpcResult> {
    const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    if (ref?.type === 'ref/prompt') {
      const target = route(current.promptRoutes, ref.name, 'prompt');
      return forward(
        {
          upstream: target.upstream,
          method: 'completion/complete',
          params: { ...params, ref: { ...ref, name: target.name } },
        },
        context,
      );
    }
    if (ref?.type === 'ref/resource') {
      const target = resolveResource(ref.uri);
      return forward(
        {
          upstream: target.upstream,
          method: 'completion/complete',
          params: { ...params, ref: { ...ref, uri: target.uri } },
        },
        context,
      );
    }
    throw new RpcError(
      RpcErrorCode.InvalidParams,
      'completion/complete needs params.ref of type ref/prompt or ref/resource',
    );
  }
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

function decodeCursor(cursor: unknown): number {
  if (cursor === undefined || cursor === null) return 0;
  if (typeof cursor === 'string') {
    const match = /^o:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString());
    if (match?.[1] !== undefined) return Number(match[1]);
  }
  throw new RpcError(
    RpcErrorCode.InvalidParams,
    'Invalid cursor: pass the nextCursor of a previous page unchanged',
  );
}

type UriCarrier = { type?: unknown; uri?: unknown; resource?: { uri?: unknown } };

function rewriteUri<T extends UriCarrier>(item: T, namespace: string): T {
  if (item.type === 'resource_link' && typeof item.uri === 'string') {
    return { ...item, uri: toPublicUri(namespace, item.uri) };
  }
  if (item.type === 'resource' && typeof item.resource?.uri === 'string') {
    return { ...item, resource: { ...item.resource, uri: toPublicUri(namespace, item.resource.uri) } };
  }
  if (item.type === undefined && typeof item.uri === 'string') {
    return { ...item, uri: toPublicUri(namespace, item.uri) };
  }
  return item;
}

/** Resource URIs inside results (links, embedded resources, read contents) are namespaced like the catalog's. */
function rewriteContentUris(result: RpcResult, key: 'content' | 'contents', namespace: string): RpcResult {
  const items = result[key];
  if (namespace === '' || !Array.isArray(items)) return result;
  return { ...result, [key]: items.map((item: UriCarrier) => rewriteUri(item, namespace)) };
}

function rewritePromptUris(result: RpcResult, namespace: string): RpcResult {
  const messages = result.messages;
  if (namespace === '' || !Array.isArray(messages)) return result;
  return {
    ...result,
    messages: messages.map((message: { content?: UriCarrier }) =>
      message.content ? { ...message, content: rewriteUri(message.content, namespace) } : message,
    ),
  };
}
