import { randomUUID } from 'node:crypto';
import {
  isInitializeRequest,
  type Server,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import {
  checkHostAndOrigin,
  createSessionServer,
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
  readonly transport: WebStandardStreamableHTTPServerTransport;
  lastSeen: number;
}

/**
 * Serves the gateway's router over MCP streamable HTTP (protocol 2025-03-26 … 2025-11-25) with stateful sessions:
 * `initialize` opens a session (`Mcp-Session-Id`), later requests must carry it (unknown or ended → 404), DELETE
 * ends it. Each session is an SDK `Server` whose handlers delegate to the router, so transports never touch the
 * registry. List changes reach every open session.
 */
export function createStreamableHttpHandler(options: StreamableHttpHandlerOptions): StreamableHttpHandler {
  const { router } = options;
  const logger = options.logger ?? silentLogger;
  const idleMs = options.sessionIdleTimeoutMs ?? 30 * 60_000;
  const maxSessions = options.maxSessions ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const allowedHosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const generateSessionId = options.generateSessionId ?? randomUUID;
  const sessions = new Map<string, Session>();

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

  const createServer = (): Server =>
    createSessionServer({
      router,
      logger,
      serverInfo: options.serverInfo,
      instructions: options.instructions,
    });

  const startSession = async (request: Request, body: unknown): Promise<Response> => {
    if (sessions.size >= maxSessions && !evictIdlest()) {
      return jsonRpcErrorResponse(503, RpcErrorCode.InternalError, 'too many open sessions; try again later');
    }
    const server = createServer();
    let sessionId: string | undefined;
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: generateSessionId,
      maxRequestBodySize: maxBodyBytes,
      onsessioninitialized: (id) => {
        sessionId = id;
        sessions.set(id, { server, transport, lastSeen: Date.now() });
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
    const response = await transport.handleRequest(request, { parsedBody: body });
    if (sessionId === undefined) {
      // The initialize failed (bad version, bad params): nothing to keep.
      await server.close().catch(() => undefined);
    }
    return response;
  };

  return {
    async fetch(request) {
      const refused = checkHostAndOrigin(request, allowedHosts, allowedOrigins);
      if (refused) return refused;
      const sessionId = request.headers.get('mcp-session-id') ?? undefined;

      if (request.method === 'POST') {
        const parsed = await readJsonBody(request, maxBodyBytes);
        if (parsed instanceof Response) return parsed;
        const replay = new Request(request.url, {
          method: 'POST',
          headers: request.headers,
          body: parsed.text,
          signal: request.signal,
        });
        if (sessionId === undefined) {
          if (isInitializeRequest(parsed.body)) return startSession(replay, parsed.body);
          return jsonRpcErrorResponse(
            400,
            RpcErrorCode.InvalidRequest,
            'Bad Request: no Mcp-Session-Id header; send initialize first to open a session',
          );
        }
        const session = sessions.get(sessionId);
        if (!session) return sessionNotFound();
        session.lastSeen = Date.now();
        return session.transport.handleRequest(replay, { parsedBody: parsed.body });
      }

      if (request.method === 'GET' || request.method === 'DELETE') {
        if (sessionId === undefined) {
          return jsonRpcErrorResponse(
            400,
            RpcErrorCode.InvalidRequest,
            'Bad Request: Mcp-Session-Id header is required',
          );
        }
        const session = sessions.get(sessionId);
        if (!session) return sessionNotFound();
        session.lastSeen = Date.now();
        const response = await session.transport.handleRequest(request);
        if (request.method === 'DELETE') void closeSession(sessionId);
        return response;
      }

      return new Response(null, { status: 405, headers: { allow: 'GET, POST, DELETE' } });
    },

    sessionCount: () => sessions.size,

    async close() {
      clearInterval(sweeper);
      await Promise.all([...sessions.keys()].map((id) => closeSession(id)));
    },
  };
}

function sessionNotFound(): Response {
  return jsonRpcErrorResponse(
    404,
    RpcErrorCode.InvalidRequest,
    'Session not found: it ended or never existed; initialize a new one',
  );
}
