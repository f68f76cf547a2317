import { parseJSONRPCMessage } from '@modelcontextprotocol/server';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import {
  checkHostAndOrigin,
  describeError,
  GatewayError,
  jsonRpcErrorResponse,
  readJsonBody,
  RpcErrorCode,
  silentLogger,
} from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import { SseServerTransport } from './sse-server-transport.ts';

/** What {@link SseHandlerOptions.onSession} learns about a new session besides its transport. */
export interface SseSessionContext {
  sessionId: string;
  /** The `GET` request that opened the stream (headers for auth, the abort signal, …). */
  request: Request;
}

/** Options of {@link createSseHandler}. Sizes in bytes, durations in milliseconds; defaults in brackets. */
export interface SseHandlerOptions {
  /**
   * Called for every new stream with its transport, before the response is returned: connect an SDK `Server`
   * here (`await server.connect(transport)`). If it throws, the session is closed and the GET answered 500.
   */
  onSession: (transport: Transport, context: SseSessionContext) => void | Promise<void>;
  /** Path that opens a stream with `GET` ['/sse']. */
  ssePath?: string;
  /** Path that takes messages with `POST ?sessionId=<id>`; announced in the `endpoint` event ['/message']. */
  messagePath?: string;
  logger?: Logger;
  /** Largest POST body accepted; larger ones get 413 and are not read beyond the limit [4 MiB]. */
  maxBodyBytes?: number;
  /** Interval of `: ping` comment lines that keep proxies from closing idle streams; 0 disables [15000]. */
  keepAliveMs?: number;
  /** Bytes queued per stream for a client that does not read; beyond them the session ends [8 MiB]. */
  maxBufferedBytes?: number;
  /** Streams beyond this count are refused with 503 [10000]. */
  maxSessions?: number;
  /** Session id generator [crypto.randomUUID]. */
  generateSessionId?: () => string;
  /** Host names accepted in the `Host` header; empty accepts any [none: any]. */
  allowedHosts?: readonly string[];
  /** Origins accepted when a browser sends `Origin` (same-host origins always are); others get 403 [none]. */
  allowedOrigins?: readonly string[];
  /**
   * Who sent a request (for example the authenticated principal's id). A session remembers the principal of the
   * `GET` that opened it, and a `POST` for it from another principal gets the same 404 as an unknown session
   * [none: sessions are not bound].
   */
  principalOf?: (request: Request) => string | undefined;
}

/** A web-standard fetch handler serving the legacy HTTP+SSE transport, plus session housekeeping. */
export interface SseHandler {
  /** Answers one HTTP request: `GET` on the SSE path or `POST` on the message path. */
  fetch(request: Request): Promise<Response>;
  /** Number of open sessions. */
  sessionCount(): number;
  /** Ends every stream (each transport's `onclose` fires) and refuses new ones with 503. Idempotent. */
  close(): Promise<void>;
}

const DEFAULTS = {
  ssePath: '/sse',
  messagePath: '/message',
  maxBodyBytes: 4 * 1024 * 1024,
  keepAliveMs: 15_000,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxSessions: 10_000,
};

/**
 * Serves MCP over the deprecated HTTP+SSE transport (protocol 2024-11-05), which SDK v2 no longer ships:
 * `GET <ssePath>` opens a `text/event-stream` whose first event, `endpoint`, names `<messagePath>?sessionId=<id>`;
 * server→client messages follow as `message` events, and the client POSTs each message to the endpoint (202).
 * The handler never knows what serves a session: `onSession` connects whatever the host wants to the transport.
 */
export function createSseHandler(options: SseHandlerOptions): SseHandler {
  const config = validateOptions(options);
  const { ssePath, messagePath, maxBodyBytes, keepAliveMs, maxBufferedBytes, maxSessions } = config;
  const logger = options.logger ?? silentLogger;
  const generateSessionId = options.generateSessionId ?? (() => crypto.randomUUID());
  const allowedHosts = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()));
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const sessions = new Map<string, SseServerTransport>();
  /** The principal that opened each session, when `principalOf` is set. */
  const principals = new Map<string, string | undefined>();
  const { principalOf } = options;
  let closed = false;

  /** The open session a POST names, if it belongs to the POST's principal. */
  const sessionFor = (request: Request, sessionId: string): SseServerTransport | undefined => {
    const transport = sessions.get(sessionId);
    if (transport === undefined || transport.closed) return undefined;
    if (principalOf && principalOf(request) !== principals.get(sessionId)) {
      logger.warn({ sessionId }, "sse message for another principal's session refused");
      return undefined;
    }
    return transport;
  };

  const openStream = async (request: Request): Promise<Response> => {
    if (closed) {
      return jsonRpcErrorResponse(503, RpcErrorCode.InternalError, 'Service Unavailable: shutting down');
    }
    if (sessions.size >= maxSessions) {
      return jsonRpcErrorResponse(503, RpcErrorCode.InternalError, 'Too many open sessions; try again later');
    }
    const sessionId = generateSessionId();
    if (sessions.has(sessionId)) {
      throw new Error(`generateSessionId returned a session id in use: ${sessionId}`);
    }
    const transport = new SseServerTransport({
      sessionId,
      endpoint: `${messagePath}?sessionId=${encodeURIComponent(sessionId)}`,
      maxBufferedBytes,
      keepAliveMs,
      signal: request.signal,
      onEnd: (reason) => {
        sessions.delete(sessionId);
        principals.delete(sessionId);
        if (reason === 'buffer-overflow') {
          logger.warn({ sessionId, reason }, 'sse client not reading; session closed');
        } else {
          logger.info({ sessionId, reason }, 'sse session closed');
        }
      },
    });
    sessions.set(sessionId, transport);
    if (principalOf) principals.set(sessionId, principalOf(request));
    logger.info({ sessionId }, 'sse session opened');
    try {
      await options.onSession(transport, { sessionId, request });
    } catch (error) {
      logger.error({ sessionId, err: describeError(error) }, 'sse onSession failed');
      await transport.close();
      return jsonRpcErrorResponse(
        500,
        RpcErrorCode.InternalError,
        'Internal error: could not start the session',
      );
    }
    return new Response(transport.stream, {
      status: 200,
      headers: {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache, no-transform',
        // Tells nginx-style proxies not to hold events back in a buffer.
        'x-accel-buffering': 'no',
      },
    });
  };

  const postMessage = async (request: Request): Promise<Response> => {
    const sessionId = new URL(request.url).searchParams.get('sessionId');
    if (sessionId === null || sessionId === '') {
      return jsonRpcErrorResponse(
        400,
        RpcErrorCode.InvalidRequest,
        'Bad Request: the sessionId query parameter is required',
      );
    }
    if (!sessionFor(request, sessionId)) return sessionNotFound();
    if (!isJsonContentType(request.headers.get('content-type'))) {
      return jsonRpcErrorResponse(
        415,
        RpcErrorCode.InvalidRequest,
        'Unsupported Media Type: send application/json',
      );
    }
    const body = await readJsonBody(request, maxBodyBytes);
    if (body instanceof Response) return body;
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(body.body);
    } catch {
      return jsonRpcErrorResponse(
        400,
        RpcErrorCode.InvalidRequest,
        'Invalid Request: the body is not one JSON-RPC message',
      );
    }
    // The session may have ended while the body was read.
    const transport = sessionFor(request, sessionId);
    if (transport === undefined) return sessionNotFound();
    try {
      transport.receive(message, { request });
    } catch (error) {
      logger.error({ sessionId, err: describeError(error) }, 'sse message handler failed');
      return jsonRpcErrorResponse(500, RpcErrorCode.InternalError, 'Internal error');
    }
    return new Response(null, { status: 202 });
  };

  return {
    async fetch(request) {
      const refused = checkHostAndOrigin(request, allowedHosts, allowedOrigins);
      if (refused) return refused;
      const { pathname } = new URL(request.url);
      if (pathname === ssePath && request.method === 'GET') return openStream(request);
      if (pathname === messagePath && request.method === 'POST') return postMessage(request);
      if (pathname === ssePath || pathname === messagePath) {
        const allow = [
          pathname === ssePath ? 'GET' : undefined,
          pathname === messagePath ? 'POST' : undefined,
        ];
        return new Response(null, { status: 405, headers: { allow: allow.filter(Boolean).join(', ') } });
      }
      return new Response('Not Found', { status: 404 });
    },

    sessionCount: () => sessions.size,

    async close() {
      closed = true;
      for (const transport of [...sessions.values()]) transport.shutDown();
    },
  };
}

function validateOptions(options: SseHandlerOptions): typeof DEFAULTS {
  const invalid = (message: string) => new GatewayError('config-invalid', `createSseHandler: ${message}`);
  if (typeof options.onSession !== 'function') throw invalid('onSession must be a function');
  if (options.principalOf !== undefined && typeof options.principalOf !== 'function') {
    throw invalid('principalOf must be a function');
  }
  const config = {
    ssePath: options.ssePath ?? DEFAULTS.ssePath,
    messagePath: options.messagePath ?? DEFAULTS.messagePath,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
    keepAliveMs: options.keepAliveMs ?? DEFAULTS.keepAliveMs,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
    maxSessions: options.maxSessions ?? DEFAULTS.maxSessions,
  };
  for (const key of ['ssePath', 'messagePath'] as const) {
    if (!/^\/[^?#]*$/.test(config[key])) {
      throw invalid(`${key} must be a path starting with "/", got "${config[key]}"`);
    }
  }
  for (const key of ['maxBodyBytes', 'maxBufferedBytes', 'maxSessions'] as const) {
    if (!Number.isSafeInteger(config[key]) || config[key] < 1) {
      throw invalid(`${key} must be a positive integer`);
    }
  }
  if (!Number.isSafeInteger(config.keepAliveMs) || config.keepAliveMs < 0) {
    throw invalid('keepAliveMs must be a non-negative integer (0 disables pings)');
  }
  return config;
}

function sessionNotFound(): Response {
  return jsonRpcErrorResponse(
    404,
    RpcErrorCode.InvalidRequest,
    'Session not found: it ended or never existed; open a new stream',
  );
}

function isJsonContentType(contentType: string | null): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}
