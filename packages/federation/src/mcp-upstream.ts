import {
  Client,
  ProtocolError,
  SdkError,
  SdkErrorCode,
  SdkHttpError,
  type ClientOptions,
  type Transport,
} from '@modelcontextprotocol/client';
import {
  describeError,
  emptyUpstreamCatalog,
  RpcError,
  RpcErrorCode,
  silentLogger,
  type CatalogKind,
  type Implementation,
  type Logger,
  type RpcParams,
  type ServerCapabilities,
  type Upstream,
  type UpstreamCatalog,
  type UpstreamChange,
  type UpstreamNotification,
  type UpstreamRequestOptions,
  type UpstreamState,
} from '@mcp-gateway/core';
import { createBackoff, type BackoffOptions } from './backoff.ts';
import { createDedicatedSessions, needsDedicatedSession } from './dedicated-sessions.ts';
import { preserveNotificationOrder } from './ordered-transport.ts';

/** Options of {@link createMcpUpstream}. Durations in milliseconds; defaults in brackets. */
export interface McpUpstreamOptions {
  id: string;
  name: string;
  /**
   * Opens a fresh transport for one connection attempt (spawns the child, prepares the HTTP client, …). A transport
   * that has a `describeClose(): string | undefined` method (the stdio one does: exit code and last stderr lines)
   * is asked why it closed, and its answer becomes the upstream's last error.
   */
  connect: () => Transport | Promise<Transport>;
  logger?: Logger;
  /** Default per-request timeout [30000]. */
  timeoutMs?: number;
  /** Time allowed for the handshake plus the first listing [30000]. */
  connectTimeoutMs?: number;
  /** Reconnect delays: exponential with jitter [250 → 30000, ×2]. */
  backoff?: BackoffOptions;
  /** This many failures within `crashLoopWindowMs` mark the upstream unhealthy [5]. */
  crashLoopFailures?: number;
  /** [60000] */
  crashLoopWindowMs?: number;
  /** Ping interval that detects a dead connection; 0 turns it off [30000]. */
  keepAliveMs?: number;
  /** Identity the gateway presents upstream. */
  clientInfo?: Implementation;
  /** At most this many pages per list [1000]. */
  maxListPages?: number;
  /**
   * How calls map to upstream sessions [auto]: `shared` sends every call over the one pooled session; `auto` gives a
   * client that declares sampling, elicitation or roots an upstream session of its own (so server→client requests
   * reach it); `per-client` does so for every client with a session.
   */
  sessionMode?: 'auto' | 'shared' | 'per-client';
  /** Cap on dedicated sessions; beyond it calls use the shared session [256]. */
  maxDedicatedSessions?: number;
  /**
   * Which protocol era to speak [legacy]: `auto` tries 2026-07-28 first (server/discover) and falls back to
   * initialize; `modern` pins 2026-07-28; `legacy` always initializes (2025-era).
   */
  protocolEra?: 'auto' | 'legacy' | 'modern';
  clock?: () => Date;
}

const LIST_METHODS = {
  tools: [['tools/list', 'tools']],
  prompts: [['prompts/list', 'prompts']],
  resources: [
    ['resources/list', 'resources'],
    ['resources/templates/list', 'resourceTemplates'],
  ],
} as const satisfies Record<CatalogKind, readonly (readonly [string, keyof UpstreamCatalog])[]>;

/**
 * An {@link Upstream} over one long-lived MCP client session. It connects once, lists every page of the catalog,
 * re-lists on list_changed, pings to detect a dead connection, and reopens the session with exponential backoff
 * after a failure (a stdio child's crash included); repeated failures mark it unhealthy. Calls never open a session.
 */
export function createMcpUpstream(options: McpUpstreamOptions): Upstream {
  const logger = (options.logger ?? silentLogger).child({ upstream: options.name, upstreamId: options.id });
  const clock = options.clock ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? 30_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  const keepAliveMs = options.keepAliveMs ?? 30_000;
  const crashLoopFailures = options.crashLoopFailures ?? 5;
  const crashLoopWindowMs = options.crashLoopWindowMs ?? 60_000;
  const maxListPages = options.maxListPages ?? 1000;
  const clientInfo = options.clientInfo ?? { name: 'mcp-gateway', version: '0.1.0' };
  const backoff = createBackoff(options.backoff);

  let state: UpstreamState = { status: 'connecting', reconnects: 0 };
  let catalog: UpstreamCatalog = emptyUpstreamCatalog;
  let capabilities: ServerCapabilities | undefined;
  let client: Client | undefined;
  /** The session of the connection attempt under way, so close() can abandon it. */
  let connecting: Client | undefined;
  let started = false;
  let closed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  let failureTimes: number[] = [];
  /** The transport's last complaint (garbage on stdout, an HTTP error): added to timeout messages. */
  let lastTransportError: string | undefined;
  const listeners = new Set<(change: UpstreamChange) => void>();
  const notificationListeners = new Set<(notification: UpstreamNotification) => void>();
  const emitNotification = (notification: UpstreamNotification) => {
    for (const listener of notificationListeners) {
      try {
        listener(notification);
      } catch (error) {
        logger.error({ err: describeError(error) }, 'upstream notification listener threw');
      }
    }
  };
  const sessionMode = options.sessionMode ?? 'auto';
  const clientOptions = eraClientOptions(options.protocolEra ?? 'legacy');
  const dedicated = createDedicatedSessions({
    upstreamName: options.name,
    connect: options.connect,
    clientInfo,
    clientOptions,
    connectTimeoutMs,
    maxSessions: options.maxDedicatedSessions ?? 256,
    logger,
    onNotification: emitNotification,
  });
  let readyWaiters: Array<() => void> = [];
  const relisting = new Map<CatalogKind, Promise<void>>();
  const relistAgain = new Set<CatalogKind>();

  const emit = (change: UpstreamChange) => {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: describeError(error) }, 'upstream change listener threw');
      }
    }
  };

  const setState = (next: Partial<UpstreamState>) => {
    state = { ...state, ...next };
    emit({ type: 'state', state });
    if (state.status === 'ready' || state.status === 'unhealthy' || state.status === 'closed') {
      const waiters = readyWaiters;
      readyWaiters = [];
      for (const wake of waiters) wake();
    }
  };

  const recordFailure = (error: unknown, phase: string) => {
    const message = `${phase}: ${describeError(error)}`;
    const now = clock();
    failureTimes = [...failureTimes.filter((t) => now.getTime() - t < crashLoopWindowMs), now.getTime()];
    const crashLoop = failureTimes.length >= crashLoopFailures;
    logger.warn({ err: message, failures: failureTimes.length, crashLoop }, 'upstream connection failed');
    setState({
      status: crashLoop ? 'unhealthy' : state.connectedAt ? 'reconnecting' : 'connecting',
      lastError: message,
      lastErrorAt: now,
    });
    return crashLoop;
  };

  const scheduleRetry = (crashLoop: boolean) => {
    if (closed || retryTimer) return;
    const delay = crashLoop ? backoff.maxMs : backoff.next();
    logger.info({ delayMs: Math.round(delay) }, 'reconnecting upstream');
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void attempt();
    }, delay);
    retryTimer.unref?.();
  };

  const stopKeepAlive = () => {
    if (keepAliveTimer) clearInterval(keepAliveTimer);
    keepAliveTimer = undefined;
  };

  const listKind = async (session: Client, kind: CatalogKind): Promise<Partial<UpstreamCatalog>> => {
    const lists: Record<string, unknown[]> = {};
    for (const [method, key] of LIST_METHODS[kind]) {
      const items: unknown[] = [];
      const seen = new Set<string>();
      let cursor: string | undefined;
      for (let page = 0; ; page++) {
        if (page >= maxListPages) throw new Error(`${method} returned more than ${maxListPages} pages`);
        let result: Record<string, unknown>;
        try {
          result = await session.request(
            { method: method as 'tools/list', params: cursor === undefined ? {} : { cursor } },
            { timeout: timeoutMs },
          );
        } catch (error) {
          // A server that offers resources may still lack templates: an empty list, not a failure.
          if (
            key === 'resourceTemplates' &&
            ProtocolError.isInstance(error) &&
            error.code === RpcErrorCode.MethodNotFound
          )
            break;
          throw error;
        }
        const pageItems = result[key];
        if (Array.isArray(pageItems)) items.push(...pageItems);
        const next = result.nextCursor;
        if (typeof next !== 'string' || next === '') break;
        if (seen.has(next)) throw new Error(`${method} repeated the cursor ${JSON.stringify(next)}`);
        seen.add(next);
        cursor = next;
      }
      lists[key] = items;
    }
    // The SDK validated every page against the spec schema, so the items have the catalog's types.
    return lists;
  };

  const listAll = async (session: Client): Promise<UpstreamCatalog> => {
    const caps = session.getServerCapabilities() ?? {};
    let next: UpstreamCatalog = emptyUpstreamCatalog;
    for (const kind of ['tools', 'prompts', 'resources'] as const) {
      if (!caps[kind]) continue;
      next = { ...next, ...(await listKind(session, kind)) };
    }
    return next;
  };

  const relist = (session: Client, kind: CatalogKind): Promise<void> => {
    const running = relisting.get(kind);
    if (running) {
      relistAgain.add(kind);
      return running;
    }
    const run = (async () => {
      try {
        const lists = await listKind(session, kind);
        if (session !== client) return;
        catalog = { ...catalog, ...lists };
        emit({ type: 'catalog', kinds: [kind] });
        logger.info({ kind }, 'upstream list changed; re-listed');
      } catch (error) {
        logger.warn({ kind, err: describeError(error) }, 're-listing after list_changed failed');
      } finally {
        relisting.delete(kind);
        if (relistAgain.delete(kind) && session === client) void relist(session, kind);
      }
    })();
    relisting.set(kind, run);
    return run;
  };

  const attempt = async (): Promise<void> => {
    if (closed) return;
    let transport: Transport | undefined;
    const session = new Client(clientInfo, { capabilities: {}, ...clientOptions });
    connecting = session;
    try {
      transport = preserveNotificationOrder(await options.connect());
      if (closed) throw new Error('closed while connecting');
      session.setNotificationHandler('notifications/tools/list_changed', () => void relist(session, 'tools'));
      session.setNotificationHandler(
        'notifications/prompts/list_changed',
        () => void relist(session, 'prompts'),
      );
      session.setNotificationHandler(
        'notifications/resources/list_changed',
        () => void relist(session, 'resources'),
      );
      for (const method of ['notifications/message', 'notifications/resources/updated'] as const) {
        session.setNotificationHandler(method, (notification: { params?: RpcParams }) =>
          emitNotification({ method, params: notification.params }),
        );
      }
      session.onerror = (error) => {
        lastTransportError = describeError(error);
        logger.warn({ err: lastTransportError }, 'upstream transport error');
      };
      // Watch the session from the start: a transport that dies while we list must not leave a dead session `ready`.
      let closedDuringStart = false;
      session.onclose = () => {
        if (session === client) onSessionClosed(session, transport);
        else closedDuringStart = true;
      };
      await withTimeout(
        session.connect(transport, { timeout: connectTimeoutMs }),
        connectTimeoutMs,
        'initialize',
      );
      const listed = await withTimeout(listAll(session), connectTimeoutMs, 'listing the catalog');
      if (closed) {
        await session.close().catch(() => undefined);
        return;
      }
      if (closedDuringStart) throw new Error('the connection closed during start-up');
      client = session;
      catalog = listed;
      capabilities = session.getServerCapabilities();
      backoff.reset();
      const version = session.getServerVersion();
      setState({
        status: 'ready',
        connectedAt: clock(),
        serverInfo: version,
        protocolVersion: session.getNegotiatedProtocolVersion(),
      });
      emit({ type: 'catalog', kinds: ['tools', 'prompts', 'resources'] });
      logger.info(
        {
          server: version?.name,
          tools: listed.tools.length,
          prompts: listed.prompts.length,
          resources: listed.resources.length,
        },
        'upstream ready',
      );
      startKeepAlive(session);
    } catch (error) {
      session.onclose = undefined;
      await session.close().catch(() => undefined);
      await transport?.close().catch(() => undefined);
      if (closed) return;
      const why = explainClose(transport);
      scheduleRetry(recordFailure(why === undefined ? error : new Error(why), 'connect'));
    } finally {
      if (connecting === session) connecting = undefined;
    }
  };

  const onSessionClosed = (session: Client, transport: Transport | undefined) => {
    if (session !== client) return;
    client = undefined;
    stopKeepAlive();
    if (closed) return;
    const why = explainClose(transport);
    const crashLoop = recordFailure(
      new Error(why === undefined ? 'connection closed' : `connection closed: ${why}`),
      'session',
    );
    setState({ reconnects: state.reconnects + 1 });
    scheduleRetry(crashLoop);
  };

  const startKeepAlive = (session: Client) => {
    stopKeepAlive();
    if (keepAliveMs <= 0) return;
    keepAliveTimer = setInterval(() => {
      session.ping({ timeout: Math.min(timeoutMs, keepAliveMs) }).catch((error: unknown) => {
        if (session !== client) return;
        logger.warn({ err: describeError(error) }, 'keep-alive ping failed; reopening the session');
        void session.close();
      });
    }, keepAliveMs);
    keepAliveTimer.unref?.();
  };

  const waitUntilSettled = (signal: AbortSignal | undefined, waitMs: number): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        readyWaiters = readyWaiters.filter((w) => w !== done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      signal?.addEventListener('abort', done, { once: true });
      readyWaiters.push(done);
    });

  const unavailable = (method: string, reason: string) =>
    new RpcError(
      RpcErrorCode.InternalError,
      `upstream "${options.name}" is unavailable for ${method}: ${reason}`,
      {
        upstream: options.name,
        status: state.status,
      },
    );

  return {
    id: options.id,
    name: options.name,

    start() {
      if (started || closed) return;
      started = true;
      void attempt();
    },

    async close() {
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      stopKeepAlive();
      const session = client;
      client = undefined;
      setState({ status: 'closed' });
      listeners.clear();
      notificationListeners.clear();
      await dedicated.closeAll();
      // An attempt still handshaking would otherwise hold its transport (a child process) until it timed out.
      await connecting?.close().catch(() => undefined);
      await session
        ?.close()
        .catch((error: unknown) => logger.warn({ err: describeError(error) }, 'close failed'));
    },

    getState: () => state,
    getCatalog: () => catalog,
    getCapabilities: () => capabilities,

    async request(
      method: string,
      params: RpcParams | undefined,
      requestOptions: UpstreamRequestOptions = {},
    ) {
      const downstream = requestOptions.downstream;
      if (method === 'logging/setLevel' && downstream) {
        // A client's own level applies to its dedicated session only; the router sets the shared session's level.
        await dedicated.setLogLevel(downstream.sessionId, String(params?.level));
        return {};
      }
      const callTimeout = requestOptions.timeoutMs ?? timeoutMs;
      const deadline = Date.now() + callTimeout;
      for (let attempt = 0; ; attempt++) {
        if (!client && !closed && state.status !== 'unhealthy') {
          // A reconnect is under way: wait for it (bounded by the call's timeout) instead of failing at once.
          await waitUntilSettled(requestOptions.signal, Math.max(1, deadline - Date.now()));
        }
        const shared = client;
        if (!shared) {
          throw unavailable(
            method,
            closed ? 'it was removed' : `${state.status}; last error: ${state.lastError ?? 'none'}`,
          );
        }
        let session = shared;
        let done: (() => void) | undefined;
        const wantsOwn =
          downstream !== undefined &&
          sessionMode !== 'shared' &&
          (sessionMode === 'per-client' || needsDedicatedSession(downstream.capabilities));
        if (wantsOwn) {
          try {
            const own = await dedicated.acquire(downstream);
            if (own) ({ client: session, done } = own);
          } catch (error) {
            logger.warn(
              { sessionId: downstream.sessionId, err: describeError(error) },
              'could not open a dedicated upstream session; using the shared one',
            );
          }
        }
        const onProgress = requestOptions.onProgress;
        const remaining = Math.max(1, deadline - Date.now());
        try {
          return await session.request(
            { method: method as 'tools/call', params },
            {
              signal: requestOptions.signal,
              timeout: remaining,
              resetTimeoutOnProgress: onProgress !== undefined,
              maxTotalTimeout: onProgress ? Math.max(callTimeout, 10 * 60_000) : undefined,
              onprogress: onProgress
                ? (progress) =>
                    onProgress({
                      progress: progress.progress,
                      total: progress.total,
                      message: progress.message,
                    })
                : undefined,
            },
          );
        } catch (error) {
          // The upstream forgot our session (it restarted): the request was never processed, so reconnect and
          // send it once more on the new session.
          if (session === shared && isSessionLost(error) && attempt === 0 && Date.now() < deadline) {
            logger.warn({ method }, 'upstream lost our session; reconnecting');
            lastTransportError = 'the upstream lost our session (HTTP 404)';
            await shared.close().catch(() => undefined);
            continue;
          }
          throw toRpcError(error, {
            upstream: options.name,
            method,
            timeoutMs: callTimeout,
            lastTransportError,
          });
        } finally {
          done?.();
        }
      }
    },

    onNotification(listener) {
      notificationListeners.add(listener);
      return () => notificationListeners.delete(listener);
    },

    async notify(method, params, notifyOptions) {
      await dedicated.notify(notifyOptions.sessionId, method, params);
    },

    async releaseSession(sessionId) {
      await dedicated.release(sessionId);
    },

    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** Maps what the SDK client throws to an `RpcError` that names the upstream and the cause. */
export function toRpcError(
  error: unknown,
  context: { upstream: string; method: string; timeoutMs: number; lastTransportError?: string },
): RpcError {
  const { upstream, method } = context;
  if (error instanceof RpcError) return error;
  if (ProtocolError.isInstance(error)) {
    // The upstream answered with a JSON-RPC error: pass its code, message and data through unchanged.
    return new RpcError(
      error.code,
      error.message.replace(/^MCP error -?\d+: /, ''),
      error.data ?? { upstream },
    );
  }
  if (SdkError.isInstance(error)) {
    switch (error.code) {
      case SdkErrorCode.RequestTimeout:
        return new RpcError(
          RpcErrorCode.RequestTimeout,
          `upstream "${upstream}" did not answer ${method} within ${context.timeoutMs} ms` +
            (context.lastTransportError ? ` (last transport error: ${context.lastTransportError})` : ''),
          { upstream },
        );
      case SdkErrorCode.ConnectionClosed:
        return new RpcError(
          RpcErrorCode.InternalError,
          `upstream "${upstream}" closed the connection during ${method}`,
          {
            upstream,
          },
        );
      case SdkErrorCode.InvalidResult:
        return new RpcError(
          RpcErrorCode.InternalError,
          `upstream "${upstream}" returned an invalid result for ${method}: ${describeError(error)}`,
          { upstream },
        );
      default:
        break;
    }
  }
  return new RpcError(
    RpcErrorCode.InternalError,
    `upstream "${upstream}" failed ${method}: ${describeError(error)}`,
    {
      upstream,
    },
  );
}

/** Asks a transport why it closed, when it can tell (see `McpUpstreamOptions.connect`). */
function explainClose(transport: Transport | undefined): string | undefined {
  const describe = (transport as { describeClose?: unknown } | undefined)?.describeClose;
  if (typeof describe !== 'function') return undefined;
  const reason: unknown = describe.call(transport);
  return typeof reason === 'string' && reason !== '' ? reason : undefined;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** An HTTP 404 on a request that carried our session id: the upstream restarted and forgot the session. */
function isSessionLost(error: unknown): boolean {
  return SdkHttpError.isInstance(error) && error.status === 404;
}

/** The SDK client options for an era setting. */
function eraClientOptions(era: 'auto' | 'legacy' | 'modern'): Pick<ClientOptions, 'versionNegotiation'> {
  if (era === 'auto') return { versionNegotiation: { mode: 'auto' } };
  if (era === 'modern') return { versionNegotiation: { mode: { pin: '2026-07-28' } } };
  return {};
}
