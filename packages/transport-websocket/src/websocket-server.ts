import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { describeError, RpcErrorCode, silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { WebSocket, WebSocketServer as WsServer } from 'ws';
import type { RawData } from 'ws';
import { parseWebSocketMessage } from './parse-websocket-message.ts';
import { MCP_SUBPROTOCOL, offeredSubprotocols } from './subprotocol.ts';
import { createWebSocketError } from './websocket-error.ts';

/** What {@link WebSocketServerOptions.onSession} learns about a new session. */
export interface WebSocketSessionContext {
  /** The session's id, also `transport.sessionId`. */
  sessionId: string;
  /** The HTTP upgrade request: its headers for authentication, its URL for routing. */
  request: IncomingMessage;
}

/** Options of {@link createWebSocketServer}. Sizes in bytes, durations in milliseconds; defaults in brackets. */
export interface WebSocketServerOptions {
  /**
   * Called once per accepted connection with a fresh SDK `Transport`; the host connects whatever serves it
   * (`await server.connect(transport)`). Messages that arrive before the transport is started are held (up to
   * `maxBufferedBytes`). A throw or rejection closes the connection with 1011.
   */
  onSession: (transport: Transport, context: WebSocketSessionContext) => void | Promise<void>;
  /** Receives session lifecycle events and refusals [silent]. */
  logger?: Logger;
  /** Largest message a client may send; a larger one closes the connection with 1009 [4 MiB]. */
  maxMessageBytes?: number;
  /** Host names accepted in the `Host` header; empty accepts any [none: any]. */
  allowedHosts?: readonly string[];
  /** Origins accepted when a browser sends `Origin` (besides the server's own host); others get 403 [none]. */
  allowedOrigins?: readonly string[];
  /** Ping interval; a client that has not answered the previous ping is terminated; 0 disables [30000]. */
  keepAliveMs?: number;
  /**
   * Unsent bytes a client may leave queued; beyond this it is not reading, so the session is closed with 1008
   * instead of buffering without bound [8 MiB].
   */
  maxBufferedBytes?: number;
  /** Connections beyond this count are refused with 503 [10000]. */
  maxSessions?: number;
  /** Session id generator [crypto.randomUUID]. */
  generateSessionId?: () => string;
}

/** Accepts MCP WebSocket connections handed over by an HTTP server's `upgrade` event. */
export interface WebSocketServer {
  /**
   * Checks an upgrade request (Host, Origin, the `mcp` subprotocol, the session limit) and either completes the
   * WebSocket handshake or answers with an HTTP error and destroys the socket. Call it from `upgrade` for your path.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Number of open sessions. */
  sessionCount(): number;
  /** Refuses new connections, closes every session with 1001 and resolves once their sockets are gone. */
  close(): Promise<void>;
}

interface Session {
  end(code: number, reason: string): Promise<void>;
  checkAlive(): void;
}

interface Refusal {
  status: number;
  message: string;
}

interface ServerSettings {
  maxMessageBytes: number;
  keepAliveMs: number;
  maxBufferedBytes: number;
  maxSessions: number;
  allowedHosts: ReadonlySet<string>;
  allowedOrigins: ReadonlySet<string>;
}

/** How long a closing socket may take to finish the close handshake before it is destroyed. */
const CLOSE_GRACE_MS = 1000;

/** WebSocket close codes (RFC 6455 §7.4.1). */
const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  PolicyViolation: 1008,
  InternalError: 1011,
} as const;

/**
 * Serves MCP over WebSocket (subprotocol `mcp`, one JSON-RPC message per text frame) on a `ws` server in
 * `noServer` mode, so any Node HTTP server can mount it on its `upgrade` event. Each connection becomes one
 * session whose SDK `Transport` goes to `onSession`; the package never knows what serves it. Frames are parsed
 * here: invalid JSON is answered with -32700, a non-JSON-RPC envelope or a binary frame with -32600, and the
 * socket stays open. Invalid options throw a `GatewayError` (code `config-invalid`) right here.
 *
 * @example
 * const wss = createWebSocketServer({ onSession: (transport) => createMyServer().connect(transport) });
 * httpServer.on('upgrade', (req, socket, head) => {
 *   if (new URL(req.url ?? '/', 'http://x').pathname === '/ws') wss.handleUpgrade(req, socket, head);
 *   else socket.destroy();
 * });
 */
export function createWebSocketServer(options: WebSocketServerOptions): WebSocketServer {
  const settings = validateServerOptions(options);
  const { maxMessageBytes, keepAliveMs, maxBufferedBytes, maxSessions } = settings;
  const logger = options.logger ?? silentLogger;
  const generateSessionId = options.generateSessionId ?? randomUUID;
  const sessions = new Map<string, Session>();
  let closing: Promise<void> | undefined;

  const wss = new WsServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: maxMessageBytes,
    handleProtocols: (protocols) => (protocols.has(MCP_SUBPROTOCOL) ? MCP_SUBPROTOCOL : false),
  });

  const keepAliveTimer =
    keepAliveMs > 0
      ? setInterval(() => {
          for (const session of sessions.values()) session.checkAlive();
        }, keepAliveMs)
      : undefined;
  keepAliveTimer?.unref();

  const openSession = (ws: WebSocket, request: IncomingMessage): void => {
    const sessionId = generateSessionId();
    if (sessions.has(sessionId)) {
      logger.error({ event: 'session-open-fail', sessionId }, 'generateSessionId returned an id in use');
      ws.close(CloseCode.InternalError, 'duplicate session id');
      return;
    }
    const session = createSession(ws, sessionId, {
      logger,
      maxBufferedBytes,
      onEnd: () => sessions.delete(sessionId),
    });
    sessions.set(sessionId, session.handle);
    logger.info(
      { event: 'session-open', sessionId, remoteAddress: request.socket.remoteAddress },
      'WebSocket session opened',
    );
    void (async () => {
      try {
        await options.onSession(session.transport, { sessionId, request });
      } catch (error) {
        logger.error(
          { event: 'session-setup-fail', sessionId, err: describeError(error) },
          `onSession failed for WebSocket session ${sessionId}: ${describeError(error)}`,
        );
        void session.handle.end(CloseCode.InternalError, 'the server could not set up the session');
      }
    })();
  };

  return {
    handleUpgrade(request, socket, head) {
      const refusal =
        (closing === undefined ? undefined : { status: 503, message: 'The server is shutting down' }) ??
        checkHostAndOrigin(request, settings) ??
        checkSubprotocol(request) ??
        (sessions.size >= maxSessions
          ? { status: 503, message: `Too many WebSocket sessions (the limit is ${maxSessions})` }
          : undefined);
      if (refusal !== undefined) {
        logger.info(
          { event: 'upgrade-refuse', status: refusal.status, remoteAddress: request.socket.remoteAddress },
          `refused a WebSocket upgrade: ${refusal.message}`,
        );
        refuseUpgrade(socket, refusal);
        return;
      }
      try {
        wss.handleUpgrade(request, socket, head, (ws) => openSession(ws, request));
      } catch (error) {
        // ws throws when the same socket is handed over twice; the first handover owns it.
        logger.error({ event: 'upgrade-fail', err: describeError(error) }, describeError(error));
      }
    },
    sessionCount: () => sessions.size,
    close() {
      closing ??= (async () => {
        clearInterval(keepAliveTimer);
        await Promise.all(
          [...sessions.values()].map((session) => session.end(CloseCode.GoingAway, 'server shutting down')),
        );
        await new Promise<void>((resolve) => wss.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/** Whether `request` asks to upgrade to WebSocket (a GET with `Upgrade: websocket`). */
export function isWebSocketUpgrade(request: IncomingMessage): boolean {
  const upgrade = request.headers.upgrade;
  return request.method === 'GET' && typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket';
}

interface SessionDependencies {
  logger: Logger;
  maxBufferedBytes: number;
  onEnd: () => void;
}

/** One connection: its SDK transport, and the handle the server uses to end it and check it is alive. */
function createSession(
  ws: WebSocket,
  sessionId: string,
  dependencies: SessionDependencies,
): { transport: Transport; handle: Session } {
  const { logger, maxBufferedBytes, onEnd } = dependencies;
  let started = false;
  let ended = false;
  let closeFired = false;
  let alive = true;
  let pendingBytes = 0;
  const pending: Array<{ data: RawData; isBinary: boolean }> = [];
  let terminateTimer: NodeJS.Timeout | undefined;
  let resolveSocketClosed: () => void = () => {};
  const socketClosed = new Promise<void>((resolve) => {
    resolveSocketClosed = resolve;
  });

  const sessionClosed = (message: string, cause?: unknown) =>
    createWebSocketError({ reason: 'session-closed', sessionId }, message, cause);

  const callHandler = (handler: string, call: () => void): void => {
    try {
      call();
    } catch (error) {
      logger.error(
        { event: 'handler-throw', sessionId, handler, err: describeError(error) },
        `the transport's ${handler} handler threw`,
      );
    }
  };

  /** Marks the session over (once): forget it, tell the host. The socket may still be closing. */
  const finish = (): void => {
    if (ended) return;
    ended = true;
    pending.length = 0;
    onEnd();
    if (!closeFired) {
      closeFired = true;
      callHandler('onclose', () => transport.onclose?.());
    }
  };

  const end = (code: number, reason: string): Promise<void> => {
    if (!ended) {
      logger.info(
        { event: 'session-close', sessionId, code, reason, by: 'server' },
        `closing WebSocket session ${sessionId}: ${reason}`,
      );
      finish();
      if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
      // A peer that does not answer the close frame (or does not read at all) must not hold the socket.
      if (ws.readyState !== WebSocket.CLOSED)
        terminateTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    }
    return socketClosed;
  };

  /** Queues one text frame, unless the client has stopped reading what it was already sent. */
  const write = (text: string): Promise<void> => {
    if (ended || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(sessionClosed(`WebSocket session ${sessionId} is closed`));
    }
    const buffered = ws.bufferedAmount;
    if (buffered > maxBufferedBytes) {
      logger.warn(
        { event: 'session-backpressure', sessionId, bufferedBytes: buffered, maxBufferedBytes },
        `closing WebSocket session ${sessionId}: the client is not reading (${buffered} bytes unsent)`,
      );
      void end(CloseCode.PolicyViolation, 'client is not reading: send buffer limit exceeded');
      return Promise.reject(
        sessionClosed(
          `WebSocket session ${sessionId} was closed: the client stopped reading ` +
            `(${buffered} bytes unsent, maxBufferedBytes is ${maxBufferedBytes})`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      ws.send(text, (error) => {
        if (error === undefined || error === null) resolve();
        else
          reject(sessionClosed(`sending on WebSocket session ${sessionId} failed: ${error.message}`, error));
      });
    });
  };

  const handleFrame = (data: RawData, isBinary: boolean): void => {
    const parsed = parseWebSocketMessage(data, isBinary);
    if (!parsed.ok) {
      logger.debug(
        { event: 'message-reject', sessionId, code: parsed.code, reason: parsed.message },
        `rejected a message on WebSocket session ${sessionId}`,
      );
      const reply = { jsonrpc: '2.0', id: parsed.id, error: { code: parsed.code, message: parsed.message } };
      write(JSON.stringify(reply)).catch(() => undefined);
      return;
    }
    callHandler('onmessage', () => transport.onmessage?.(parsed.message));
  };

  ws.on('message', (data, isBinary) => {
    alive = true;
    if (ended) return;
    if (started) {
      handleFrame(data, isBinary);
      return;
    }
    // The host has not started the transport yet (onSession may be async): hold a bounded amount.
    pendingBytes += byteLength(data);
    if (pendingBytes > maxBufferedBytes) {
      logger.warn(
        { event: 'session-backpressure', sessionId, pendingBytes, maxBufferedBytes },
        `closing WebSocket session ${sessionId}: too much data before the session started`,
      );
      void end(CloseCode.PolicyViolation, 'too much data before the session started');
      return;
    }
    pending.push({ data, isBinary });
  });
  ws.on('pong', () => {
    alive = true;
  });
  ws.on('error', (error) => {
    // ws closes the connection itself (1009 for an oversized message, 1007 for invalid UTF-8, 1002 otherwise).
    logger.warn(
      { event: 'session-error', sessionId, err: describeError(error) },
      `WebSocket session ${sessionId}: ${error.message}`,
    );
    callHandler('onerror', () => transport.onerror?.(error));
    // ws stops reading after such an error, so it could not see the client's close frame: end it ourselves.
    void end(CloseCode.PolicyViolation, 'protocol error');
  });
  ws.on('close', (code, reason) => {
    clearTimeout(terminateTimer);
    if (!ended) {
      logger.info(
        { event: 'session-close', sessionId, code, reason: reason.toString('utf8'), by: 'client' },
        `WebSocket session ${sessionId} closed by the client`,
      );
    }
    finish();
    resolveSocketClosed();
  });

  const transport: Transport = {
    sessionId,
    async start() {
      if (started) {
        throw createWebSocketError(
          { reason: 'already-started', sessionId },
          `WebSocket session ${sessionId} was already started; Server.connect() starts it`,
        );
      }
      if (ended) throw sessionClosed(`WebSocket session ${sessionId} is closed`);
      started = true;
      for (const { data, isBinary } of pending.splice(0)) {
        if (ended) break;
        handleFrame(data, isBinary);
      }
      pendingBytes = 0;
    },
    send: (message: JSONRPCMessage) => write(JSON.stringify(message)),
    close: () => end(CloseCode.Normal, 'session closed'),
  };

  const handle: Session = {
    end,
    checkAlive() {
      if (ended || ws.readyState !== WebSocket.OPEN) return;
      if (!alive) {
        logger.warn(
          { event: 'session-timeout', sessionId },
          `terminating WebSocket session ${sessionId}: no pong since the last keep-alive ping`,
        );
        finish();
        ws.terminate();
        return;
      }
      alive = false;
      ws.ping();
    },
  };
  return { transport, handle };
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data.byteLength;
}

/** DNS-rebinding protection: a foreign Host or a present, foreign Origin gets 403. */
function checkHostAndOrigin(request: IncomingMessage, settings: ServerSettings): Refusal | undefined {
  const host = (request.headers.host ?? '').toLowerCase();
  if (settings.allowedHosts.size > 0) {
    const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    if (!hostname || !settings.allowedHosts.has(hostname)) {
      return { status: 403, message: `Forbidden: host "${host}" is not allowed` };
    }
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !settings.allowedOrigins.has(origin)) {
    let sameHost: boolean;
    try {
      sameHost = new URL(origin).host === host;
    } catch {
      sameHost = false;
    }
    if (!sameHost) return { status: 403, message: `Forbidden: origin "${origin}" is not allowed` };
  }
  return undefined;
}

function checkSubprotocol(request: IncomingMessage): Refusal | undefined {
  const offered = offeredSubprotocols(request.headers['sec-websocket-protocol']);
  if (offered.includes(MCP_SUBPROTOCOL)) return undefined;
  const detail = offered.length === 0 ? 'none was offered' : `offered: ${offered.join(', ')}`;
  return {
    status: 400,
    message: `MCP over WebSocket requires the subprotocol "${MCP_SUBPROTOCOL}" (Sec-WebSocket-Protocol: ${MCP_SUBPROTOCOL}); ${detail}`,
  };
}

/** Answers on the raw socket (no upgrade happened, so no HTTP response object exists) and closes it. */
function refuseUpgrade(socket: Duplex, refusal: Refusal): void {
  socket.on('error', () => undefined); // the peer may be gone already; nothing to report
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: null,
    error: { code: RpcErrorCode.InvalidRequest, message: refusal.message },
  });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}

function validateServerOptions(options: WebSocketServerOptions): ServerSettings {
  if (typeof options?.onSession !== 'function') {
    throw invalidOption('onSession must be a function that connects a server to the transport');
  }
  const allowedHosts = validateStrings('allowedHosts', options.allowedHosts);
  const allowedOrigins = validateStrings('allowedOrigins', options.allowedOrigins);
  return {
    maxMessageBytes: validateInteger('maxMessageBytes', options.maxMessageBytes, {
      fallback: 4 * 1024 * 1024,
    }),
    keepAliveMs: validateInteger('keepAliveMs', options.keepAliveMs, { fallback: 30_000, minimum: 0 }),
    maxBufferedBytes: validateInteger('maxBufferedBytes', options.maxBufferedBytes, {
      fallback: 8 * 1024 * 1024,
    }),
    maxSessions: validateInteger('maxSessions', options.maxSessions, { fallback: 10_000 }),
    allowedHosts: new Set(allowedHosts.map((host) => host.toLowerCase())),
    allowedOrigins: new Set(allowedOrigins),
  };
}

function validateInteger(
  name: string,
  value: number | undefined,
  { fallback, minimum = 1 }: { fallback: number; minimum?: number },
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw invalidOption(`${name} must be an integer ≥ ${minimum}, got ${String(value)}`);
  }
  return value;
}

function validateStrings(name: string, value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || item === '')) {
    throw invalidOption(`${name} must be an array of non-empty strings`);
  }
  return value;
}

function invalidOption(message: string) {
  return createWebSocketError({ reason: 'invalid-options' }, `createWebSocketServer: ${message}`);
}
