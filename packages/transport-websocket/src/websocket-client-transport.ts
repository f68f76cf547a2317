import type { ClientRequest, IncomingMessage } from 'node:http';
import { describeError, silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { WebSocket } from 'ws';
import { parseWebSocketMessage } from './parse-websocket-message.ts';
import { MCP_SUBPROTOCOL } from './subprotocol.ts';
import { createWebSocketError } from './websocket-error.ts';
import type { WebSocketErrorReason } from './websocket-error.ts';

/** Options of {@link createWebSocketClientTransport}. Sizes in bytes, durations in milliseconds. */
export interface WebSocketClientTransportOptions {
  /** The upstream's endpoint, `ws://` or `wss://`. */
  url: string | URL;
  /** Extra headers of the upgrade request, e.g. `Authorization`. */
  headers?: Record<string, string>;
  /** Receives connection lifecycle events [silent]. */
  logger?: Logger;
  /** Largest message accepted from the upstream; a larger one closes the connection with 1009 [32 MiB]. */
  maxMessageBytes?: number;
  /** How long `start()` waits for the handshake (DNS, TCP, TLS, upgrade) [10000]. */
  connectTimeoutMs?: number;
}

/**
 * The SDK `Transport` over one WebSocket to an MCP server. `sessionId` stays undefined: the SDK `Client` takes a
 * defined one as "already initialized" and skips the handshake.
 */
export interface WebSocketClientTransport extends Transport {
  /**
   * Why the connection is gone, for error messages and status pages (`closed by the server with code 1001:
   * server shutting down`); undefined until it is.
   */
  describeClose(): string | undefined;
}

const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** How long `close()` waits for the server to answer the close frame before it drops the connection. */
const CLOSE_GRACE_MS = 1000;
/** How much of an HTTP error body (instead of the upgrade) is quoted in the connect error. */
const ERROR_BODY_BYTES = 1024;

/**
 * Creates a transport that connects to an MCP server over WebSocket on `start()` (subprotocol `mcp`, one
 * JSON-RPC message per text frame). `start()` resolves once the connection is open and rejects with a
 * `GatewayError` (code `upstream-connect-failed`) naming the URL when the connection is refused, times out, is
 * answered with an HTTP error, or the server does not accept `mcp`. Frames that are not one JSON-RPC message go
 * to `onerror` and are skipped. Invalid options throw a `GatewayError` (code `config-invalid`) right here.
 *
 * @example
 * const transport = createWebSocketClientTransport({ url: 'ws://127.0.0.1:8080/ws' });
 * await new Client({ name: 'gateway', version: '1.0.0' }).connect(transport);
 */
export function createWebSocketClientTransport(
  options: WebSocketClientTransportOptions,
): WebSocketClientTransport {
  const { url, label, maxMessageBytes, connectTimeoutMs } = validateClientOptions(options);
  const headers = { ...options.headers };
  const logger = options.logger ?? silentLogger;

  let phase: 'idle' | 'connecting' | 'open' | 'closed' = 'idle';
  let socket: WebSocket | undefined;
  let closeRequested = false;
  let closeFired = false;
  let closeDescription: string | undefined;
  let terminateTimer: NodeJS.Timeout | undefined;
  let lastError: Error | undefined;
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const error = (reason: WebSocketErrorReason, message: string, cause?: unknown) =>
    createWebSocketError({ reason, url: label }, message, cause);

  const callHandler = (handler: string, call: () => void): void => {
    try {
      call();
    } catch (thrown) {
      logger.error(
        { event: 'handler-throw', url: label, handler, err: describeError(thrown) },
        `the transport's ${handler} handler threw`,
      );
    }
  };
  const report = (reported: Error): void => callHandler('onerror', () => transport.onerror?.(reported));

  const fireClose = (): void => {
    phase = 'closed';
    clearTimeout(terminateTimer);
    if (!closeFired) {
      closeFired = true;
      callHandler('onclose', () => transport.onclose?.());
    }
    resolveClosed();
  };

  const onMessage = (data: WebSocket.RawData, isBinary: boolean): void => {
    const parsed = parseWebSocketMessage(data, isBinary);
    if (!parsed.ok) {
      const rejected = error(
        'invalid-message',
        `WebSocket upstream ${label} sent a message that was skipped: ${parsed.message}`,
        parsed.cause,
      );
      logger.warn({ event: 'message-reject', url: label, code: parsed.code }, rejected.message);
      report(rejected);
      return;
    }
    callHandler('onmessage', () => transport.onmessage?.(parsed.message));
  };

  const connect = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      let settled = false;
      const fail = (why: string, cause?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        const failure = error(
          'connect-failed',
          `could not connect to WebSocket upstream ${label}: ${why}`,
          cause,
        );
        logger.warn({ event: 'upstream-connect-fail', url: label, err: why }, failure.message);
        closeDescription = `never opened: ${why}`;
        reject(failure);
        ws.terminate(); // its 'close' event fires onclose
      };

      let ws: WebSocket;
      try {
        ws = new WebSocket(url, [MCP_SUBPROTOCOL], {
          headers,
          maxPayload: maxMessageBytes,
          perMessageDeflate: false,
          followRedirects: false,
        });
      } catch (cause) {
        // e.g. a header value ws refuses; nothing was opened, so the transport is simply over.
        closeDescription = `never opened: ${describeError(cause)}`;
        reject(
          error(
            'connect-failed',
            `could not connect to WebSocket upstream ${label}: ${describeError(cause)}`,
            cause,
          ),
        );
        fireClose();
        return;
      }
      socket = ws;
      const connectTimer = setTimeout(
        () => fail(`no connection within connectTimeoutMs (${connectTimeoutMs} ms)`),
        connectTimeoutMs,
      );

      ws.on('unexpected-response', (_request: ClientRequest, response: IncomingMessage) => {
        void readErrorBody(response).then((body) =>
          fail(`the server answered HTTP ${response.statusCode ?? '?'} instead of upgrading${body}`),
        );
      });
      ws.on('open', () => {
        if (settled) return;
        if (ws.protocol !== MCP_SUBPROTOCOL) {
          fail(`the server did not accept the "${MCP_SUBPROTOCOL}" subprotocol`);
          return;
        }
        settled = true;
        clearTimeout(connectTimer);
        phase = 'open';
        logger.info({ event: 'upstream-connect', url: label }, `connected to WebSocket upstream ${label}`);
        resolve();
      });
      ws.on('error', (cause) => {
        if (!settled) {
          const why = cause.message.includes('subprotocol')
            ? `the server did not accept the "${MCP_SUBPROTOCOL}" subprotocol (${cause.message})`
            : closeRequested
              ? 'close() was called before the connection opened'
              : describeError(cause);
          fail(why, cause);
          return;
        }
        if (phase === 'closed') return;
        lastError ??= cause;
        logger.warn({ event: 'upstream-error', url: label, err: describeError(cause) }, cause.message);
        report(error('connection-error', `WebSocket upstream ${label}: ${cause.message}`, cause));
        // ws closes the connection itself (1009 for an oversized message) and stops reading, so it would wait
        // its own 30 s for the server's close frame; drop the connection sooner.
        terminateTimer ??= setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      });
      ws.on('message', onMessage);
      ws.on('close', (code, reason) => {
        if (!settled)
          fail(closeRequested ? 'close() was called before the connection opened' : 'connection closed');
        if (closeDescription === undefined) {
          const by = closeRequested ? 'by the client' : 'by the server';
          const text = reason.toString('utf8');
          closeDescription =
            lastError === undefined
              ? `closed ${by} with code ${code}${text === '' ? '' : `: ${text}`}`
              : `closed after an error: ${describeError(lastError)}`;
          const level = closeRequested ? 'info' : 'warn';
          logger[level](
            { event: 'upstream-close', url: label, code, reason: text },
            `WebSocket upstream ${label} ${closeDescription}`,
          );
        }
        fireClose();
      });
    });

  const transport: WebSocketClientTransport = {
    async start() {
      if (phase !== 'idle') {
        throw error(
          'already-started',
          `WebSocket transport to ${label} was already ${phase === 'closed' ? 'closed' : 'started'}; Client.connect() starts it`,
        );
      }
      phase = 'connecting';
      await connect();
    },

    send(message: JSONRPCMessage) {
      const ws = socket;
      if (phase !== 'open' || ws === undefined || ws.readyState !== WebSocket.OPEN) {
        return Promise.reject(
          error(
            'not-connected',
            `WebSocket transport to ${label} is not open (${closeDescription ?? phase})`,
          ),
        );
      }
      return new Promise<void>((resolve, reject) => {
        ws.send(JSON.stringify(message), (cause) => {
          if (cause === undefined || cause === null) resolve();
          else
            reject(
              error(
                'connection-error',
                `sending to WebSocket upstream ${label} failed: ${cause.message}`,
                cause,
              ),
            );
        });
      });
    },

    async close() {
      closeRequested = true;
      const ws = socket;
      if (ws === undefined) {
        closeDescription ??= 'closed before start()';
        fireClose();
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'client closed');
      else if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      if (ws.readyState !== WebSocket.CLOSED && terminateTimer === undefined) {
        terminateTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
      }
      await closed;
    },

    describeClose: () => (phase === 'closed' ? closeDescription : undefined),
  };
  return transport;
}

/** The first bytes of an HTTP error answer, for the connect error: the JSON-RPC message if there is one. */
async function readErrorBody(response: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body cut short still tells something; use what arrived.
  }
  const text = Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_BYTES).trim();
  if (text === '') return '';
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === 'string') return `: ${message}`;
  } catch {
    // Not JSON: quote it as it is.
  }
  return `: ${text.replace(/\s+/g, ' ')}`;
}

/** `ws://host:port/path` without credentials or query, safe for logs and error messages. */
function describeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

function validateClientOptions(options: WebSocketClientTransportOptions): {
  url: URL;
  label: string;
  maxMessageBytes: number;
  connectTimeoutMs: number;
} {
  let url: URL;
  try {
    url = new URL(options?.url);
  } catch (cause) {
    throw invalidOption(
      `url must be an absolute ws:// or wss:// URL, got ${JSON.stringify(String(options?.url))}`,
      cause,
    );
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw invalidOption(`url must use ws:// or wss://, got ${url.protocol}//`);
  }
  if (url.hash !== '') throw invalidOption('url must not have a #fragment (WebSocket URLs cannot carry one)');
  if (options.headers !== undefined) {
    for (const [name, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string') throw invalidOption(`header ${name} must be a string`);
    }
  }
  return {
    url,
    label: describeUrl(url),
    maxMessageBytes: positiveInteger('maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES),
    connectTimeoutMs: positiveInteger(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
    ),
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw invalidOption(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function invalidOption(message: string, cause?: unknown) {
  return createWebSocketError(
    { reason: 'invalid-options' },
    `createWebSocketClientTransport: ${message}`,
    cause,
  );
}
