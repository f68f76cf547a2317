import { randomBytes, randomUUID } from 'node:crypto';
import {
  createMcpHandler,
  createRequestStateCodec,
  isInitializeRequest,
  isLegacyRequest,
  type Server,
} from '@modelcontextprotocol/server';
import { createBoundedEventStore } from './bounded-event-store.ts';
import { boundEventStream } from './bounded-event-stream.ts';
import { createListenResourceSubscriptions } from './listen-resource-subscriptions.ts';
import { ResponseModeTransport, type ResponseMode } from './response-mode-transport.ts';
import {
  checkHostAndOrigin,
  createSessionServer,
  PendingInteractions,
  type CatalogView,
  type InteractionState,
  describeError,
  GatewayError,
  jsonRpcErrorResponse,
  readJsonBody,
  RpcErrorCode,
  silentLogger,
  type Implementation,
  type Logger,
  type Router,
} from '@mcp-gateway/core';

/** Options of {@link createStreamableHttpHandler}. Durations in milliseconds; defaults in brackets. */
export interface StreamableHttpHandlerOptions {
  router: Router;
  logger?: Logger;
  /** The identity the gateway presents to clients [mcp-gateway]. */
  serverInfo?: Implementation;
  instructions?: string;
  /** A session with no request for this long is closed [1800000 = 30 min]. */
  sessionIdleTimeoutMs?: number;
  /** New sessions beyond this count are refused with 503 [10000]. */
  maxSessions?: number;
  /** Largest request body accepted [4 MiB]. */
  maxBodyBytes?: number;
  /** Host names accepted in the `Host` header; empty accepts any [none: any]. */
  allowedHosts?: readonly string[];
  /** Origins accepted when a browser sends `Origin`; requests from any other origin get 403 [none]. */
  allowedOrigins?: readonly string[];
  /** Session id generator [crypto.randomUUID]. */
  generateSessionId?: () => string;
  /** Bytes an SSE stream may queue for a client that does not read before it is closed [8 MiB]. */
  maxBufferedBytes?: number;
  /**
   * Resumable streams for 2025-11-25 clients: event ids, a priming event and `Last-Event-ID` replay of the stream
   * that broke, from a bounded per-session store [true]. Costs an extra SSE event per request.
   */
  resumable?: boolean;
  /**
   * HMAC key (≥ 32 bytes) sealing the `requestState` of 2026-07-28 multi-round-trip calls [random per process: the
   * calls themselves live in this process, so a retry must reach it anyway].
   */
  requestStateKey?: string | Uint8Array;
  /** How long a call may wait for a 2026-07-28 client's input before it is cancelled [300000]. */
  interactionTtlMs?: number;
  /** For a virtual server's endpoint: its current view of the catalog (see core's `createSessionServer`). */
  view?: () => CatalogView | undefined;
  /**
   * How 2025-era clients are served [stateful]: `stateful` keeps a session per client (`Mcp-Session-Id`, GET
   * streams, server→client requests); `stateless` answers each request on its own, for replicas behind a plain
   * load balancer (no server→client requests, no subscriptions). 2026-07-28 clients are always stateless.
   */
  mode?: 'stateful' | 'stateless';
  /**
   * How POSTs that carry requests are answered [auto]. `auto`: plain `application/json` unless a message related
   * to the request (progress, a server→client request such as elicitation or sampling) must reach the client before
   * the response, or the call runs longer than `streamAfterMs`; then an SSE stream (the switch is lazy: nothing is
   * sent until one or the other happens). `sse`: always an SSE stream (the only behaviour before this option). `json`:
   * always JSON; related messages go to the session's GET stream instead (2026-07-28 clients: dropped, as the SDK
   * does). Resumability (event ids, `Last-Event-ID`) applies to SSE answers only.
   */
  responseMode?: ResponseMode;
  /**
   * In `auto` mode, a call still unanswered after this long is answered over SSE, so long calls get keep-alives
   * (proxies do not cut them) and, for 2025-11-25 clients, a resumable stream; 0 switches only for messages
   * [10000].
   */
  streamAfterMs?: number;
  /**
   * Who sent a request (for example the authenticated principal's id). A session remembers the principal that
   * opened it, and any later request on it (POST, GET, `Last-Event-ID` replay, DELETE) from another principal gets
   * the same 404 as an unknown session. 2026-07-28 multi-round-trip `requestState` is bound to it as well
   * [none: sessions are not bound].
   */
  principalOf?: (request: Request) => string | undefined;
}

/** A web-standard fetch handler serving MCP over streamable HTTP, plus session housekeeping. */
export interface StreamableHttpHandler {
  /** Answers one HTTP request (POST, GET or DELETE on the MCP endpoint). */
  fetch(request: Request): Promise<Response>;
  /** Number of open sessions. */
  sessionCount(): number;
  /** Closes every session. */
  close(): Promise<void>;
}

interface Session {
  readonly server: Server;
  readonly transport: ResponseModeTransport;
  /** The principal that opened the session (see `principalOf`). */
  readonly principal: string | undefined;
  lastSeen: number;
}

/**
 * Serves the gateway's router over MCP streamable HTTP (protocol 2025-03-26 … 2025-11-25) with stateful sessions:
 * `initialize` opens a session (`Mcp-Session-Id`), later requests must carry it (unknown or ended → 404), DELETE
 * ends it. Each session is an SDK `Server` whose handlers delegate to the router, so transports never touch the
 * registry. List changes reach every open session.
 */
export function createStreamableHttpHandler(options: StreamableHttpHandlerOptions): StreamableHttpHandler {
  validateOptions(options);
  const { router, principalOf } = options;
  const responseMode = options.responseMode ?? 'auto';
  const streamAfterMs = options.streamAfterMs ?? 10_000;
  const logger = options.logger ?? silentLogger;
  const idleMs = options.sessionIdleTimeoutMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const generateSessionId = options.generateSessionId ?? randomUUID;
  const sessions = new Map<string, Session>();
  const mode = options.mode ?? 'stateful';
  const maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
  const bounded = (response: Response, sessionId: string | undefined) =>
    boundEventStream(response, {
      maxBufferedBytes,
      onOverflow: () => {
        logger.warn(
          { sessionId, maxBufferedBytes },
          'client stopped reading its stream; closing the session',
        );
        if (sessionId !== undefined) void closeSession(sessionId);
      },
    });
  const createServer = (): Server =>
    createSessionServer({
      router,
      logger,
      transport: 'streamable-http',
      view: options.view,
      serverInfo: options.serverInfo,
      instructions: options.instructions,
    });
  // 2026-07-28 (stateless) requests: the SDK's per-request handler, with our session server as the factory.
  const interactions = new PendingInteractions(options.interactionTtlMs ?? 5 * 60_000);
  const requestStateCodec = createRequestStateCodec<InteractionState>({
    key: options.requestStateKey ?? randomBytes(32),
    ttlSeconds: Math.ceil((options.interactionTtlMs ?? 5 * 60_000) / 1000),
    bind: (ctx) => {
      const principal =
        principalOf && ctx.http?.req ? principalOf(ctx.http.req) : ctx.http?.authInfo?.clientId;
      return `${ctx.mcpReq.method}\u0000${principal ?? ''}`;
    },
  });
  const createModernServer = (): Server =>
    createSessionServer({
      router,
      logger,
      transport: 'streamable-http',
      view: options.view,
      serverInfo: options.serverInfo,
      instructions: options.instructions,
      interactions,
      requestStateCodec,
    });
  const modern = createMcpHandler(createModernServer, {
    legacy: 'reject',
    maxRequestBodySize: maxBodyBytes,
    responseMode,
    onerror: (error) => logger.debug({ err: describeError(error) }, 'modern request failed'),
  });
  const listenResources = createListenResourceSubscriptions({
    router,
    logger,
    view: options.view,
    onUpdated: (uri) => modern.notify.resourceUpdated(uri),
  });
  /**
   * A 2026-07-28 `subscriptions/listen` stream that asks for resource updates: the router subscribes to its URIs
   * while the stream is open, and updates reach it through the SDK's listen router.
   */
  const serveListen = async (request: Request, body: unknown, uris: readonly string[]): Promise<Response> => {
    const response = await modern.fetch(request, { parsedBody: body });
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) return response;
    const release = listenResources.hold(uris);
    return boundEventStream(response, {
      maxBufferedBytes,
      onOverflow: () => logger.warn({ maxBufferedBytes }, 'listen client stopped reading; stream closed'),
      onEnd: release,
    });
  };
  const offListChanged = router.onListChanged((kinds) => {
    if (kinds.includes('tools')) modern.notify.toolsChanged();
    if (kinds.includes('prompts')) modern.notify.promptsChanged();
    if (kinds.includes('resources')) modern.notify.resourcesChanged();
  });

  const sweeper = setInterval(
    () => {
      const cutoff = Date.now() - idleMs;
      for (const [id, session] of sessions) {
        if (session.lastSeen < cutoff) {
          logger.info({ sessionId: id }, 'closing idle session');
          void closeSession(id);
        }
      }
    },
    Math.min(idleMs, 60_000),
  );
  sweeper.unref?.();

  /**
   * At the session cap, a new client takes the place of the session that has been idle longest (clients that never
   * send DELETE would otherwise lock everyone out), as long as that one has been idle for a minute at least.
   */
  const evictIdlest = (): boolean => {
    let idlest: [string, Session] | undefined;
    for (const entry of sessions) if (!idlest || entry[1].lastSeen < idlest[1].lastSeen) idlest = entry;
    if (!idlest || Date.now() - idlest[1].lastSeen < 60_000) return false;
    logger.info({ sessionId: idlest[0] }, 'session cap reached: closing the idlest session');
    void closeSession(idlest[0]);
    sessions.delete(idlest[0]);
    return true;
  };

  const closeSession = async (id: string) => {
    const session = sessions.get(id);
    if (!session) return;
    sessions.delete(id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  };

  const startSession = async (request: Request, body: unknown): Promise<Response> => {
    if (sessions.size >= maxSessions && !evictIdlest()) {
      return jsonRpcErrorResponse(503, RpcErrorCode.InternalError, 'too many open sessions; try again later');
    }
    const server = createServer();
    let sessionId: string | undefined;
    const principal = principalOf?.(request);
    const transport = new ResponseModeTransport({
      sessionIdGenerator: generateSessionId,
      ...(options.resumable === false ? {} : { eventStore: createBoundedEventStore(), retryInterval: 1000 }),
      maxRequestBodySize: maxBodyBytes,
      responseMode,
      streamAfterMs,
      onsessioninitialized: (id) => {
        sessionId = id;
        sessions.set(id, { server, transport, principal, lastSeen: Date.now() });
        logger.info({ sessionId: id }, 'session opened');
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
        logger.info({ sessionId: id }, 'session closed');
      },
    });
    transport.onclose = () => {
      if (sessionId !== undefined) sessions.delete(sessionId);
    };
    await server.connect(transport);
    const response = await transport.handlePost(request, body);
    if (sessionId === undefined) {
      // The initialize failed (bad version, bad params): nothing to keep.
      await server.close().catch(() => undefined);
    }
    return bounded(response, sessionId);
  };

  /** Stateless 2025-era serving: a fresh session server and transport per request, torn down when answered. */
  const serveStateless = async (request: Request, body: unknown): Promise<Response> => {
    const server = createServer();
    const transport = new ResponseModeTransport({
      sessionIdGenerator: undefined,
      maxRequestBodySize: maxBodyBytes,
      responseMode,
      streamAfterMs,
    });
    let tornDown = false;
    const tearDown = () => {
      if (tornDown) return;
      tornDown = true;
      void transport.close().catch(() => undefined);
      void server.close().catch(() => undefined);
    };
    try {
      await server.connect(transport);
      // A client that goes away before its answer ends the exchange.
      request.signal?.addEventListener('abort', tearDown, { once: true });
      const response = await transport.handlePost(request, body);
      if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        tearDown();
        return response;
      }
      return boundEventStream(response, { maxBufferedBytes, onOverflow: tearDown, onEnd: tearDown });
    } catch (error) {
      tearDown();
      logger.debug({ err: describeError(error) }, 'stateless request failed');
      return jsonRpcErrorResponse(500, RpcErrorCode.InternalError, 'Internal error');
    }
  };

  /** The session a request names, if it exists and belongs to the request's principal. */
  const sessionFor = (request: Request, sessionId: string): Session | undefined => {
    const session = sessions.get(sessionId);
    if (!session) return undefined;
    if (principalOf && principalOf(request) !== session.principal) {
      logger.warn({ sessionId }, "request for another principal's session refused");
      return undefined;
    }
    return session;
  };

  return {
    async fetch(request) {
      const refused = checkHostAndOrigin(request, allowedHosts, allowedOrigins);
      if (refused) return refused;
      const sessionId = request.headers.get('mcp-session-id') ?? undefined;

      if (request.method === 'POST') {
        const parsed = await readJsonBody(request, maxBodyBytes);
        if (parsed instanceof Response) return parsed;
        // The body is read once; the SDK gets it parsed and never reads the request again.
        const replay = request;
        if (!(await isLegacyRequest(replay, parsed.body, { maxRequestBodySize: maxBodyBytes }))) {
          const uris = listenedResources(parsed.body);
          if (uris !== undefined && router.capabilities().resources?.subscribe) {
            return serveListen(replay, parsed.body, uris);
          }
          return modern.fetch(replay, { parsedBody: parsed.body });
        }
        // 2026-07-28 requests get the SDK's own header checks and error shapes; 2025-era ones get ours.
        const refusedLegacy =
          checkPostHeaders(request, parsed.body) ?? checkLegacyMessage(request, parsed.body);
        if (refusedLegacy) return refusedLegacy;
        if (mode === 'stateless') return serveStateless(replay, parsed.body);
        if (sessionId === undefined) {
          if (isInitializeRequest(parsed.body)) return startSession(replay, parsed.body);
          return jsonRpcErrorResponse(
            400,
            RpcErrorCode.InvalidRequest,
            'Bad Request: no Mcp-Session-Id header; send initialize first to open a session',
          );
        }
        const session = sessionFor(request, sessionId);
        if (!session) return sessionNotFound();
        session.lastSeen = Date.now();
        return bounded(await session.transport.handlePost(replay, parsed.body), sessionId);
      }

      if (request.method === 'GET' || request.method === 'DELETE') {
        const version = request.headers.get('mcp-protocol-version');
        if (mode === 'stateless' || (version !== null && !LEGACY_VERSIONS.includes(version))) {
          // 2026-07-28 has no GET stream and no DELETE; neither has a stateless endpoint.
          return new Response(null, { status: 405, headers: { allow: 'POST' } });
        }
        if (sessionId === undefined) {
          return jsonRpcErrorResponse(
            400,
            RpcErrorCode.InvalidRequest,
            'Bad Request: Mcp-Session-Id header is required',
          );
        }
        const session = sessionFor(request, sessionId);
        if (!session) return sessionNotFound();
        session.lastSeen = Date.now();
        const response = bounded(await session.transport.handleRequest(request), sessionId);
        if (request.method === 'DELETE') void closeSession(sessionId);
        return response;
      }

      return new Response(null, { status: 405, headers: { allow: 'GET, POST, DELETE' } });
    },

    sessionCount: () => sessions.size,

    async close() {
      clearInterval(sweeper);
      offListChanged();
      listenResources.close();
      interactions.close();
      await modern.close().catch(() => undefined);
      await Promise.all([...sessions.keys()].map((id) => closeSession(id)));
    },
  };
}

/** The resource URIs a `subscriptions/listen` request asks updates for, if it is one and asks for any. */
function listenedResources(body: unknown): string[] | undefined {
  const message = body as {
    method?: unknown;
    params?: { notifications?: { resourceSubscriptions?: unknown } };
  } | null;
  if (message?.method !== 'subscriptions/listen') return undefined;
  const uris = message.params?.notifications?.resourceSubscriptions;
  if (!Array.isArray(uris)) return undefined;
  const valid = uris.filter((uri): uri is string => typeof uri === 'string');
  return valid.length > 0 ? valid : undefined;
}

function validateOptions(options: StreamableHttpHandlerOptions): void {
  const invalid = (message: string) =>
    new GatewayError('config-invalid', `createStreamableHttpHandler: ${message}`);
  if (options.responseMode !== undefined && !['auto', 'sse', 'json'].includes(options.responseMode)) {
    throw invalid(`responseMode must be "auto", "sse" or "json", got "${String(options.responseMode)}"`);
  }
  const after = options.streamAfterMs;
  if (after !== undefined && (!Number.isSafeInteger(after) || after < 0)) {
    throw invalid('streamAfterMs must be a non-negative integer (0: switch to SSE only for messages)');
  }
  if (options.principalOf !== undefined && typeof options.principalOf !== 'function') {
    throw invalid('principalOf must be a function');
  }
}

function sessionNotFound(): Response {
  return jsonRpcErrorResponse(
    404,
    RpcErrorCode.InvalidRequest,
    'Session not found: it ended or never existed; initialize a new one',
  );
}

/** 2025-era protocol versions served with sessions. */
const LEGACY_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
/** Every version the endpoint speaks, for error messages. */
const SUPPORTED_VERSIONS = [...LEGACY_VERSIONS, '2026-07-28'];

/** Content-Type must be JSON (415); Accept must allow JSON and SSE (406), as the transport spec requires. */
function checkPostHeaders(request: Request, body: unknown): Response | undefined {
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    return jsonRpcErrorResponse(
      415,
      RpcErrorCode.InvalidRequest,
      'Unsupported Media Type: send Content-Type: application/json',
    );
  }
  const accept = request.headers.get('accept') ?? '';
  const acceptsAll = /\*\/\*/.test(accept);
  if (!acceptsAll && !(/application\/json/i.test(accept) && /text\/event-stream/i.test(accept))) {
    return jsonRpcErrorResponse(
      406,
      RpcErrorCode.InvalidRequest,
      'Not Acceptable: the Accept header must list both application/json and text/event-stream',
    );
  }
  const version = request.headers.get('mcp-protocol-version');
  if (version !== null && !SUPPORTED_VERSIONS.includes(version)) {
    const id = (body as { id?: unknown } | null)?.id;
    return new Response(
      JSON.stringify({
        jsonrpc: '2.0',
        id: typeof id === 'string' || typeof id === 'number' ? id : null,
        error: {
          code: RpcErrorCode.InvalidRequest,
          message: `Bad Request: unsupported MCP-Protocol-Version "${version}"; supported: ${SUPPORTED_VERSIONS.join(', ')}`,
          data: { supported: SUPPORTED_VERSIONS, requested: version },
        },
      }),
      { status: 400, headers: { 'content-type': 'application/json' } },
    );
  }
  return undefined;
}

/** Batches were only part of 2025-03-26; later versions get a clear refusal instead of a confusing error. */
function checkLegacyMessage(request: Request, body: unknown): Response | undefined {
  if (!Array.isArray(body)) return undefined;
  const version = request.headers.get('mcp-protocol-version') ?? '2025-03-26';
  if (version === '2025-03-26' || version === '2024-11-05') return undefined;
  return jsonRpcErrorResponse(
    400,
    RpcErrorCode.InvalidRequest,
    `Bad Request: JSON-RPC batches are not supported by protocol ${version}; send one message per request`,
  );
}
