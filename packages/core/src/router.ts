import {
  buildCatalogSnapshot,
  uriTemplateMatcher,
  type CatalogMember,
  type CatalogView,
  type CatalogSnapshot,
  type ItemRoute,
} from './catalog-snapshot.ts';
import {
  LOGGING_LEVELS,
  passesLogLevel,
  type DownstreamSession,
  type LoggingLevel,
} from './downstream-session.ts';
import { describeError, RpcError, RpcErrorCode } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';
import { parsePublicUri, toPublicUri } from './naming.ts';
import type {
  Prompt,
  Resource,
  ResourceTemplate,
  RpcParams,
  RpcResult,
  ServerCapabilities,
  Tool,
} from './mcp-types.ts';
import type {
  CatalogKind,
  DownstreamContext,
  Upstream,
  UpstreamNotification,
  UpstreamProgress,
} from './upstream.ts';

/** Options of {@link createRouter}; every field has a default. */
export interface RouterOptions {
  logger?: Logger;
  /** Separator between namespace and name. Default `__`. */
  separator?: string;
  /** Items per page of tools/list, prompts/list, resources/list, resources/templates/list. Default 1000. */
  pageSize?: number;
  /** Changes closer together than this are sent as one list_changed. Default 50 ms. */
  listChangedDebounceMs?: number;
  /** Before/after hooks around every forwarded call, in order (policy, rate limits, metrics, audit). */
  hooks?: readonly RouterHooks[];
}

/** A call the router is about to forward to an upstream. */
export interface CallInfo {
  /** tools/call, prompts/get, resources/read, completion/complete, resources/subscribe, … */
  readonly method: string;
  /** The public tool or prompt name, or the public resource URI. */
  readonly name?: string;
  /**
   * The name as the client sent it: on a virtual server, its alias there (`name` is then the full catalog's public
   * name). A hook that refuses a call names this one, so the refusal reads like the endpoint's own "unknown" error.
   */
  readonly requestedName?: string;
  readonly upstreamId: string;
  readonly upstreamName: string;
  readonly sessionId?: string;
  readonly params?: RpcParams;
}

/** How a forwarded call ended. */
export interface CallOutcome {
  readonly durationMs: number;
  /** False when the call failed with a JSON-RPC error. */
  readonly ok: boolean;
  /** A tool result with `isError: true` (the call itself succeeded). */
  readonly isError?: boolean;
  readonly errorCode?: number;
  readonly errorMessage?: string;
}

/**
 * Hooks around forwarded calls. `beforeCall` may throw an `RpcError` to refuse the call (it then never reaches the
 * upstream); `afterCall` observes the outcome and must not throw. Both run in memory, on the call path: keep them
 * cheap and never query a database from them.
 */
export interface RouterHooks {
  beforeCall?(call: CallInfo): void | Promise<void>;
  afterCall?(call: CallInfo, outcome: CallOutcome): void;
}

/** What a transport knows about the downstream request it hands to the router. */
export interface RouterRequestContext {
  /** Aborted when the downstream client cancels or disconnects. */
  signal?: AbortSignal;
  /** Set when the downstream client asked for progress (it gave a progress token). */
  onProgress?: (progress: UpstreamProgress) => void;
  /** The session the request arrived on (absent for stateless requests). */
  session?: DownstreamSession;
  /** Which downstream transport carried the request (`streamable-http`, `sse`, `websocket`, `rpc`, …), for metrics. */
  transport?: string;
  /** Limits the request to one virtual server's items, under their names there. */
  view?: CatalogView;
  /** Sends a server→client request related to this request (on its stream), while it is open. */
  sendRequest?: (
    method: string,
    params: RpcParams | undefined,
    options?: { signal?: AbortSignal },
  ) => Promise<RpcResult>;
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
  'resources/subscribe',
  'resources/unsubscribe',
  'logging/setLevel',
] as const;

/** The MCP capabilities the gateway always offers downstream: list changes, since upstreams come and go. */
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
  /**
   * Attaches a downstream session: it then receives list_changed, resource updates it subscribed to, and log
   * messages. Returns the detach function (call it when the session ends: its subscriptions and upstream sessions
   * are released).
   */
  attachSession(session: DownstreamSession): () => void;
  /** A notification from a downstream client that concerns upstreams (`notifications/roots/list_changed`). */
  clientNotification(session: DownstreamSession, method: string, params?: RpcParams): void;
  /** What the gateway offers: the union of the ready upstreams' capabilities plus its own list capabilities. */
  capabilities(): ServerCapabilities;
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
  /** A change arrived since `current` was built; see {@link invalidate}. */
  let dirty = false;
  let flushTimer: ReturnType<typeof setImmediate> | undefined;
  const sessions = new Map<string, SessionState>();
  /** Upstream subscriptions, ref-counted across sessions: key `${upstreamId}\u0000${uri}`. */
  const upstreamSubscriptions = new Map<string, { upstream: Upstream; uri: string; count: number }>();
  /** Calls in flight per upstream and session, to route session-less log messages to their likely origin. */
  const inFlight = new Map<string, Map<string, number>>();

  /**
   * Builds a new snapshot and tells clients which lists really changed (compared by content, so overrides, members
   * coming and going and upstream re-lists are all covered, and a re-list that changed nothing stays quiet).
   */
  const rebuild = () => {
    version += 1;
    const previous = current;
    current = buildCatalogSnapshot(members, { separator: options.separator, version });
    dirty = false;
    for (const conflict of current.conflicts) logger.warn({ conflict }, conflict.message);
    const kinds: CatalogKind[] = [];
    if (!sameItems(previous.tools, current.tools)) kinds.push('tools');
    if (!sameItems(previous.prompts, current.prompts)) kinds.push('prompts');
    if (
      !sameItems(previous.resources, current.resources) ||
      !sameItems(previous.resourceTemplates, current.resourceTemplates)
    ) {
      kinds.push('resources');
    }
    if (kinds.length === 0) return;
    for (const kind of kinds) pendingKinds.add(kind);
    debounceTimer ??= setTimeout(() => {
      flush(); // a change of this very turn belongs to this notification
      debounceTimer = undefined;
      const changed = [...pendingKinds];
      pendingKinds = new Set();
      for (const state of sessions.values()) {
        for (const kind of changed) {
          state.session.notify(LIST_CHANGED_NOTIFICATION[kind]).catch((error: unknown) => {
            logger.debug(
              { sessionId: state.session.id, err: describeError(error) },
              'list_changed not delivered',
            );
          });
        }
      }
      for (const listener of listeners) {
        try {
          listener(changed);
        } catch (error) {
          logger.error({ err: String(error) }, 'list_changed listener threw');
        }
      }
    }, debounceMs);
  };

  /**
   * Marks the snapshot stale. Upstreams that connect or re-list together (a hundred at start-up) then cost one
   * rebuild per tick instead of one each; a reader never waits for the tick, see {@link latest}.
   */
  const invalidate = () => {
    dirty = true;
    flushTimer ??= setImmediate(() => {
      flushTimer = undefined;
      flush();
    });
  };

  /** Rebuilds a stale snapshot from a timer: no caller to throw to, and the next reader tries again. */
  const flush = () => {
    try {
      if (dirty) rebuild();
    } catch (error) {
      logger.error({ err: describeError(error) }, 'rebuilding the catalog failed');
    }
  };

  /** The current snapshot, rebuilt first when a change is pending, so no caller ever sees a stale catalog. */
  const latest = (): CatalogSnapshot => {
    if (dirty) rebuild();
    return current;
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
    const snapshot = latest();
    const parsed = parsePublicUri(uri);
    if (parsed) {
      const member = snapshot.namespaces.get(parsed.namespace);
      if (member) return { upstream: member.upstream, namespace: parsed.namespace, uri: parsed.uri };
    }
    const exact = snapshot.resourceRoutes.get(uri);
    if (exact) return { upstream: exact.upstream, namespace: '', uri };
    const byTemplate = snapshot.unprefixed.find((m) => m.matchers.some((matcher) => matcher.test(uri)));
    if (byTemplate) return { upstream: byTemplate.upstream, namespace: '', uri };
    // One unprefixed upstream may serve URIs it never listed; a `mcpgw://` URI with an unknown namespace is a typo.
    const only = snapshot.unprefixed.length === 1 && !parsed ? snapshot.unprefixed[0] : undefined;
    if (only) return { upstream: only.upstream, namespace: '', uri };
    throw new RpcError(RpcErrorCode.ResourceNotFound, `Resource not found: ${uri}`, { uri });
  };

  const paginate = (items: readonly unknown[], key: string, params: RpcParams | undefined): RpcResult => {
    const offset = decodeCursor(params?.cursor);
    const page = items.slice(offset, offset + pageSize);
    const next = offset + pageSize < items.length ? encodeCursor(offset + pageSize) : undefined;
    return next === undefined ? { [key]: page } : { [key]: page, nextCursor: next };
  };

  const hooks = options.hooks ?? [];
  const forward = async (
    target: { upstream: Upstream; method: string; params: RpcParams; name?: string },
    context: RouterRequestContext | undefined,
    requestedName?: string,
  ): Promise<RpcResult> => {
    const sessionId = context?.session?.id;
    const call: CallInfo | undefined =
      hooks.length === 0
        ? undefined
        : {
            method: target.method,
            name: target.name,
            requestedName: requestedName ?? target.name,
            upstreamId: target.upstream.id,
            upstreamName: target.upstream.name,
            sessionId,
            params: target.params,
          };
    if (call) for (const hook of hooks) await hook.beforeCall?.(call);
    const started = performance.now();
    const counts =
      sessionId === undefined ? undefined : (inFlight.get(target.upstream.id) ?? new Map<string, number>());
    if (counts && sessionId !== undefined) {
      counts.set(sessionId, (counts.get(sessionId) ?? 0) + 1);
      inFlight.set(target.upstream.id, counts);
    }
    const caller = downstreamContext(context);
    try {
      const result = await target.upstream.request(target.method, target.params, {
        signal: context?.signal,
        onProgress: context?.onProgress,
        downstream: caller.downstream,
      });
      await caller.settle();
      if (call)
        runAfter(call, {
          durationMs: performance.now() - started,
          ok: true,
          isError: result.isError === true,
        });
      return result;
    } catch (error) {
      if (call) {
        runAfter(call, {
          durationMs: performance.now() - started,
          ok: false,
          errorCode: error instanceof RpcError ? error.code : RpcErrorCode.InternalError,
          errorMessage: describeError(error),
        });
      }
      throw error;
    } finally {
      if (counts && sessionId !== undefined) {
        const left = (counts.get(sessionId) ?? 1) - 1;
        if (left <= 0) counts.delete(sessionId);
        else counts.set(sessionId, left);
      }
    }
  };

  const runAfter = (call: CallInfo, outcome: CallOutcome) => {
    for (const hook of hooks) {
      try {
        hook.afterCall?.(call, outcome);
      } catch (error) {
        logger.error({ err: describeError(error) }, 'afterCall hook threw');
      }
    }
  };

  /** What an upstream needs to reach the calling client: related to the call while it runs, else session-level. */
  /**
   * What an upstream needs to reach the calling client: related to the call while it runs (so it travels on the
   * call's stream), else session-level. `settle()` lets server→client requests still in flight finish (their
   * cancellation, above all) before the call's response closes that stream: an upstream that cancels its request
   * and then answers sends both at once, and the SDK delivers the answer first.
   */
  const downstreamContext = (
    context: RouterRequestContext | undefined,
  ): { downstream?: DownstreamContext; settle: () => Promise<void> } => {
    const session = context?.session;
    if (!session) return { settle: async () => undefined };
    let callOpen = true;
    context.signal?.addEventListener('abort', () => (callOpen = false), { once: true });
    const related = context.sendRequest;
    const pending = new Set<Promise<unknown>>();
    const downstream: DownstreamContext = {
      sessionId: session.id,
      capabilities: session.capabilities() ?? {},
      clientInfo: session.clientInfo(),
      request: (method, params, options) => {
        const sent =
          related && callOpen ? related(method, params, options) : session.request(method, params, options);
        pending.add(sent);
        void sent.catch(() => undefined).finally(() => pending.delete(sent));
        return sent;
      },
    };
    return {
      downstream,
      settle: async () => {
        if (pending.size === 0) return;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.allSettled([...pending]),
          new Promise((resolve) => (timer = setTimeout(resolve, SETTLE_MS))),
        ]);
        clearTimeout(timer);
      },
    };
  };

  const relayNotification = (upstream: Upstream, notification: UpstreamNotification) => {
    const member = members.find((m) => m.upstream === upstream);
    if (!member) return;
    if (notification.method === 'notifications/message') {
      const level = notification.params?.level;
      const targets =
        notification.sessionId !== undefined
          ? [sessions.get(notification.sessionId)]
          : likelyOrigins(upstream);
      for (const state of targets) {
        if (!state || !passesLogLevel(level, state.logLevel)) continue;
        state.session.notify(notification.method, notification.params).catch(() => undefined);
      }
      return;
    }
    if (notification.method === 'notifications/resources/updated') {
      const uri = notification.params?.uri;
      if (typeof uri !== 'string') return;
      const publicUri = toPublicUri(member.namespace, uri);
      for (const state of sessions.values()) {
        if (notification.sessionId !== undefined && state.session.id !== notification.sessionId) continue;
        if (!state.subscriptions.has(publicUri)) continue;
        state.session
          .notify(notification.method, { ...notification.params, uri: publicUri })
          .catch(() => undefined);
      }
    }
  };

  /** Sessions with a call in flight to the upstream, or every session when none has (a log line at start-up). */
  const likelyOrigins = (upstream: Upstream): Array<SessionState | undefined> => {
    const callers = [...(inFlight.get(upstream.id)?.keys() ?? [])].map((id) => sessions.get(id));
    return callers.length > 0 ? callers : [...sessions.values()];
  };

  const subscribe = async (params: RpcParams | undefined, context: RouterRequestContext | undefined) => {
    const state = context?.session ? sessions.get(context.session.id) : undefined;
    if (!state) throw new RpcError(RpcErrorCode.InvalidRequest, 'resources/subscribe needs a session');
    const publicUri = params?.uri;
    const target = resolveResource(publicUri);
    if (state.subscriptions.has(publicUri as string)) return {};
    const key = `${target.upstream.id}\u0000${target.uri}`;
    const existing = upstreamSubscriptions.get(key);
    if (existing) existing.count += 1;
    else {
      await target.upstream.request(
        'resources/subscribe',
        { ...params, uri: target.uri },
        { signal: context?.signal },
      );
      upstreamSubscriptions.set(key, { upstream: target.upstream, uri: target.uri, count: 1 });
    }
    state.subscriptions.set(publicUri as string, key);
    return {};
  };

  const releaseSubscription = async (key: string) => {
    const entry = upstreamSubscriptions.get(key);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    upstreamSubscriptions.delete(key);
    await entry.upstream.request('resources/unsubscribe', { uri: entry.uri }).catch((error: unknown) => {
      logger.debug({ uri: entry.uri, err: describeError(error) }, 'upstream unsubscribe failed');
    });
  };

  const unsubscribe = async (params: RpcParams | undefined, context: RouterRequestContext | undefined) => {
    const state = context?.session ? sessions.get(context.session.id) : undefined;
    const publicUri = params?.uri;
    if (typeof publicUri !== 'string') {
      throw new RpcError(RpcErrorCode.InvalidParams, 'resource uri is required (params.uri)');
    }
    const key = state?.subscriptions.get(publicUri);
    if (!state || key === undefined) return {};
    state.subscriptions.delete(publicUri);
    await releaseSubscription(key);
    return {};
  };

  /**
   * logging/setLevel: the level is kept per session (messages are filtered per client), and each upstream that
   * logs is asked for the most verbose level any client wants; a session with its own upstream session gets its own.
   */
  const setLevel = async (params: RpcParams | undefined, context: RouterRequestContext | undefined) => {
    const level = params?.level;
    if (!LOGGING_LEVELS.includes(level as LoggingLevel)) {
      throw new RpcError(
        RpcErrorCode.InvalidParams,
        `Invalid log level: ${String(level)}; use one of ${LOGGING_LEVELS.join(', ')}`,
      );
    }
    const state = context?.session ? sessions.get(context.session.id) : undefined;
    if (state) state.logLevel = level as LoggingLevel;
    const levels = [...sessions.values()]
      .map((s) => s.logLevel)
      .filter((l): l is LoggingLevel => l !== undefined);
    const mostVerbose = LOGGING_LEVELS.find((l) => levels.includes(l)) ?? (level as LoggingLevel);
    await Promise.all(
      members
        .filter((m) => m.upstream.getCapabilities()?.logging !== undefined)
        .map(async (m) => {
          try {
            await m.upstream.request('logging/setLevel', { level: mostVerbose }, { signal: context?.signal });
            if (context?.session) {
              await m.upstream.request('logging/setLevel', params ?? {}, {
                signal: context.signal,
                downstream: downstreamContext(context).downstream,
              });
            }
          } catch (error) {
            logger.debug(
              { upstream: m.upstream.name, err: describeError(error) },
              'logging/setLevel not applied',
            );
          }
        }),
    );
    return {};
  };

  return {
    setMembers(next) {
      const previous = new Map(members.map((m) => [m.upstream.id, m]));
      members = [...next];
      for (const member of members) {
        const before = previous.get(member.upstream.id);
        previous.delete(member.upstream.id);
        if (before && before.upstream === member.upstream) continue;
        unsubscribers.get(member.upstream.id)?.();
        const offChange = member.upstream.onChange((change) => {
          if (change.type === 'catalog') invalidate();
        });
        const offNotification = member.upstream.onNotification((notification) =>
          relayNotification(member.upstream, notification),
        );
        unsubscribers.set(member.upstream.id, () => {
          offChange();
          offNotification();
        });
      }
      for (const removed of previous.values()) {
        unsubscribers.get(removed.upstream.id)?.();
        unsubscribers.delete(removed.upstream.id);
      }
      invalidate();
    },

    snapshot: latest,

    async handle(method, params, context) {
      const snapshot = latest();
      const view = context?.view;
      const requestedName = typeof params?.name === 'string' ? params.name : undefined;
      if (view) {
        const lists = viewLists(snapshot, view);
        switch (method) {
          case 'tools/list':
            return paginate(lists.tools, 'tools', params);
          case 'prompts/list':
            return paginate(lists.prompts, 'prompts', params);
          case 'resources/list':
            return paginate(lists.resources, 'resources', params);
          case 'resources/templates/list':
            return paginate(lists.resourceTemplates, 'resourceTemplates', params);
          default:
            params = scopeToView({ method, params, view, lists });
        }
      }
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
            {
              upstream: target.upstream,
              method,
              params: { ...params, name: target.name },
              name: params?.name as string,
            },
            context,
            requestedName,
          );
          return rewriteContentUris(result, 'content', target.namespace);
        }
        case 'prompts/get': {
          const target = route(snapshot.promptRoutes, params?.name, 'prompt');
          const result = await forward(
            {
              upstream: target.upstream,
              method,
              params: { ...params, name: target.name },
              name: params?.name as string,
            },
            context,
            requestedName,
          );
          return rewritePromptUris(result, target.namespace);
        }
        case 'resources/read': {
          const target = resolveResource(params?.uri);
          const result = await forward(
            {
              upstream: target.upstream,
              method,
              params: { ...params, uri: target.uri },
              name: params?.uri as string,
            },
            context,
          );
          return rewriteContentUris(result, 'contents', target.namespace);
        }
        case 'completion/complete':
          return complete(params, context);
        case 'resources/subscribe':
          return subscribe(params, context);
        case 'resources/unsubscribe':
          return unsubscribe(params, context);
        case 'logging/setLevel':
          return setLevel(params, context);
        default:
          throw new RpcError(RpcErrorCode.MethodNotFound, `Method not found: ${method}`);
      }
    },

    onListChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    attachSession(session) {
      const state: SessionState = { session, subscriptions: new Map() };
      sessions.set(session.id, state);
      return () => {
        if (sessions.get(session.id) !== state) return;
        sessions.delete(session.id);
        for (const key of state.subscriptions.values()) void releaseSubscription(key);
        for (const member of members) {
          member.upstream.releaseSession(session.id).catch((error: unknown) => {
            logger.debug(
              { upstream: member.upstream.name, err: describeError(error) },
              'releasing a session failed',
            );
          });
        }
      };
    },

    clientNotification(session, method, params) {
      for (const member of members) {
        member.upstream.notify(method, params, { sessionId: session.id }).catch((error: unknown) => {
          logger.debug(
            { upstream: member.upstream.name, method, err: describeError(error) },
            'notification not forwarded',
          );
        });
      }
    },

    capabilities() {
      const merged: Record<string, unknown> = { ...GATEWAY_CAPABILITIES };
      for (const member of members) {
        const caps = member.upstream.getCapabilities();
        if (!caps) continue;
        if (caps.logging) merged.logging = {};
        if (caps.resources?.subscribe) merged.resources = { listChanged: true, subscribe: true };
        if (caps.experimental)
          merged.experimental = { ...(merged.experimental as object), ...caps.experimental };
      }
      return merged;
    },

    close() {
      if (debounceTimer) clearTimeout(debounceTimer);
      debounceTimer = undefined;
      if (flushTimer) clearImmediate(flushTimer);
      flushTimer = undefined;
      for (const unsubscribe of unsubscribers.values()) unsubscribe();
      unsubscribers.clear();
      listeners.clear();
    },
  };

  async function complete(params: RpcParams | undefined, context?: RouterRequestContext): Promise<RpcResult> {
    const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
    if (ref?.type === 'ref/prompt') {
      const target = route(latest().promptRoutes, ref.name, 'prompt');
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

interface SessionState {
  readonly session: DownstreamSession;
  /** Public URI → upstream subscription key. */
  readonly subscriptions: Map<string, string>;
  logLevel?: LoggingLevel;
}

/** Longest wait for server→client requests still in flight when a call's result arrives. */
const SETTLE_MS = 250;

const LIST_CHANGED_NOTIFICATION: Record<CatalogKind, string> = {
  tools: 'notifications/tools/list_changed',
  prompts: 'notifications/prompts/list_changed',
  resources: 'notifications/resources/list_changed',
};

interface ViewLists {
  readonly version: number;
  readonly tools: readonly Tool[];
  readonly prompts: readonly Prompt[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
  readonly templateMatchers: readonly RegExp[];
}

const viewCache = new WeakMap<CatalogView, ViewLists>();

/** A view's lists for the current snapshot, computed once per snapshot version. */
function viewLists(snapshot: CatalogSnapshot, view: CatalogView): ViewLists {
  const cached = viewCache.get(view);
  if (cached && cached.version === snapshot.version) return cached;
  const rename = <T extends { name: string }>(
    names: ReadonlyMap<string, string>,
    byName: ReadonlyMap<string, T>,
  ) => {
    const items: T[] = [];
    for (const [alias, publicName] of names) {
      const item = byName.get(publicName);
      if (item) items.push(alias === publicName ? item : { ...item, name: alias });
    }
    return items;
  };
  const resourceTemplates = snapshot.resourceTemplates.filter((t) => view.resources.has(t.uriTemplate));
  const lists: ViewLists = {
    version: snapshot.version,
    tools: rename(view.tools, snapshot.toolsByName),
    prompts: rename(view.prompts, snapshot.promptsByName),
    resources: snapshot.resources.filter((r) => view.resources.has(r.uri)),
    resourceTemplates,
    templateMatchers: resourceTemplates.map((t) => uriTemplateMatcher(t.uriTemplate)),
  };
  viewCache.set(view, lists);
  return lists;
}

/**
 * Maps a request on a virtual server to the full catalog: names in the view become the catalog's public names; an
 * item outside the view is unknown (the same error as a name that exists nowhere).
 */
function scopeToView(request: {
  method: string;
  params: RpcParams | undefined;
  view: CatalogView;
  lists: ViewLists;
}): RpcParams | undefined {
  const { method, params, view, lists } = request;
  const mapName = (names: ReadonlyMap<string, string>, kind: string, name: unknown) => {
    const mapped = typeof name === 'string' ? names.get(name) : undefined;
    if (mapped === undefined)
      throw new RpcError(RpcErrorCode.InvalidParams, `Unknown ${kind}: ${String(name)}`);
    return mapped;
  };
  const checkUri = (uri: unknown) => {
    if (
      typeof uri === 'string' &&
      (view.resources.has(uri) || lists.templateMatchers.some((m) => m.test(uri)))
    )
      return;
    throw new RpcError(RpcErrorCode.ResourceNotFound, `Resource not found: ${String(uri)}`, { uri });
  };
  switch (method) {
    case 'tools/call':
      return { ...params, name: mapName(view.tools, 'tool', params?.name) };
    case 'prompts/get':
      return { ...params, name: mapName(view.prompts, 'prompt', params?.name) };
    case 'resources/read':
    case 'resources/subscribe':
      checkUri(params?.uri);
      return params;
    case 'completion/complete': {
      const ref = params?.ref as { type?: unknown; name?: unknown; uri?: unknown } | undefined;
      if (ref?.type === 'ref/prompt')
        return { ...params, ref: { ...ref, name: mapName(view.prompts, 'prompt', ref.name) } };
      if (ref?.type === 'ref/resource' && !view.resources.has(String(ref.uri))) checkUri(ref.uri);
      return params;
    }
    default:
      return params;
  }
}

/**
 * Whether two lists have the same content (what `JSON.stringify` of each would show). Snapshots reuse the listed
 * object of every item that did not change, so this is mostly identity checks; only items that are new objects are
 * serialized, each once (snapshots are immutable).
 */
function sameItems(before: readonly object[], after: readonly object[]): boolean {
  if (before === after) return true;
  if (before.length !== after.length) return false;
  for (let index = 0; index < before.length; index += 1) {
    const a = before[index] as object;
    const b = after[index] as object;
    if (a !== b && itemJson(a) !== itemJson(b)) return false;
  }
  return true;
}

const itemJsons = new WeakMap<object, string>();
function itemJson(item: object): string {
  let found = itemJsons.get(item);
  if (found === undefined) {
    found = JSON.stringify(item);
    itemJsons.set(item, found);
  }
  return found;
}
