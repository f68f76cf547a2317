import { RpcError, RpcErrorCode } from './errors.ts';
import type { Prompt, Resource, ResourceTemplate, RpcParams, RpcResult, Tool } from './mcp-types.ts';
import {
  emptyUpstreamCatalog,
  type CatalogKind,
  type Upstream,
  type UpstreamCatalog,
  type UpstreamChange,
  type UpstreamNotification,
  type UpstreamRequestOptions,
  type UpstreamState,
} from './upstream.ts';

/** One request an {@link InMemoryUpstream} received, as it received it. */
export interface ReceivedRequest {
  method: string;
  params: RpcParams | undefined;
  options: UpstreamRequestOptions | undefined;
}

/** Options of {@link createInMemoryUpstream}. */
export interface InMemoryUpstreamOptions {
  id: string;
  /** Default: the id. */
  name?: string;
  catalog?: Partial<UpstreamCatalog>;
  /** Answers requests. Default: `{ upstream: id, method, params }`, so a test sees where a call went. */
  handle?: (method: string, params: RpcParams | undefined) => RpcResult | Promise<RpcResult>;
}

/** An {@link Upstream} held in memory: a fixed catalog a test can change, and a log of the requests it served. */
export interface InMemoryUpstream extends Upstream {
  readonly requests: readonly ReceivedRequest[];
  /** Replaces the catalog and tells subscribers that `kinds` changed, as a real upstream does on list_changed. */
  setCatalog(catalog: Partial<UpstreamCatalog>, kinds: readonly CatalogKind[]): void;
  /** How many change listeners are subscribed right now. */
  listenerCount(): number;
  /** Sends a notification to the router, as a real upstream does for log messages and resource updates. */
  emitNotification(notification: UpstreamNotification): void;
  /** Client notifications forwarded to it, and sessions released. */
  readonly forwarded: Array<{ method: string; params: RpcParams | undefined; sessionId: string }>;
  readonly released: string[];
}

/** A tool with the smallest valid input schema. */
export const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({
  name,
  inputSchema: { type: 'object' },
  ...extra,
});
export const prompt = (name: string): Prompt => ({ name });
export const resource = (uri: string, name = uri): Resource => ({ uri, name });
export const resourceTemplate = (uriTemplate: string, name = uriTemplate): ResourceTemplate => ({
  uriTemplate,
  name,
});

/**
 * Creates an {@link InMemoryUpstream}: a real implementation of core's `Upstream` interface with no connection,
 * so router and catalog tests run the real merging and routing code without a server.
 */
export function createInMemoryUpstream(options: InMemoryUpstreamOptions): InMemoryUpstream {
  let catalog: UpstreamCatalog = { ...emptyUpstreamCatalog, ...options.catalog };
  let state: UpstreamState = { status: 'ready', reconnects: 0 };
  const listeners = new Set<(change: UpstreamChange) => void>();
  const requests: ReceivedRequest[] = [];
  const notificationListeners = new Set<(notification: UpstreamNotification) => void>();
  const forwarded: Array<{ method: string; params: RpcParams | undefined; sessionId: string }> = [];
  const released: string[] = [];
  const handle =
    options.handle ?? ((method, params): RpcResult => ({ upstream: options.id, method, params }));

  return {
    id: options.id,
    name: options.name ?? options.id,
    requests,
    start() {},
    async close() {
      state = { ...state, status: 'closed' };
      for (const listener of listeners) listener({ type: 'state', state });
      listeners.clear();
    },
    getState: () => state,
    getCatalog: () => catalog,
    getCapabilities: () => ({ tools: {}, prompts: {}, resources: { subscribe: true }, logging: {} }),
    async request(method, params, requestOptions) {
      if (state.status === 'closed') {
        throw new RpcError(RpcErrorCode.InternalError, `upstream "${options.id}" is closed`);
      }
      requests.push({ method, params, options: requestOptions });
      return handle(method, params);
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    setCatalog(next, kinds) {
      catalog = { ...catalog, ...next };
      for (const listener of listeners) listener({ type: 'catalog', kinds });
    },
    listenerCount: () => listeners.size,
    onNotification(listener) {
      notificationListeners.add(listener);
      return () => notificationListeners.delete(listener);
    },
    async notify(method, params, notifyOptions) {
      forwarded.push({ method, params, sessionId: notifyOptions.sessionId });
    },
    async releaseSession(sessionId) {
      released.push(sessionId);
    },
    emitNotification(notification) {
      for (const listener of notificationListeners) listener(notification);
    },
    forwarded,
    released,
  };
}
