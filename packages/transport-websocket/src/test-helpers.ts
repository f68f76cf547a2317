// Helpers shared by this package's tests (not exported from index.ts).
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { WebSocketServer } from './websocket-server.ts';

/** A node:http server on 127.0.0.1 that hands upgrades of `/ws` to a {@link WebSocketServer}. */
export interface LoopbackHttpServer {
  port: number;
  /** `ws://127.0.0.1:<port>/ws` */
  url: string;
  /** Stops listening and destroys every socket it still holds (HTTP or upgraded). */
  close(): Promise<void>;
}

/** Mounts `wss` the way the README tells an app to: on `upgrade`, for one path only. */
export async function listenWithUpgrade(wss: WebSocketServer): Promise<LoopbackHttpServer> {
  const sockets = new Set<Socket>();
  const server = createServer((_request, response) => response.writeHead(404).end());
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (request, socket, head) => {
    if (new URL(request.url ?? '/', 'http://x').pathname === '/ws') wss.handleUpgrade(request, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `ws://127.0.0.1:${port}/ws`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** Rejects when `promise` takes longer than `ms`, so no test waits forever. */
export async function within<T>(what: string, promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true, or fails after `ms`. */
export async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The outcome of a raw `ws` client's handshake: open, or the HTTP answer that refused it. */
export type HandshakeOutcome =
  { open: true; ws: WebSocket } | { open: false; status: number; body: string; ws: WebSocket };

/** Connects a plain `ws` client (offering `protocols`) and reports how the handshake ended. */
export function openRawClient(
  url: string,
  protocols: string[] = ['mcp'],
  options: WebSocket.ClientOptions = {},
): Promise<HandshakeOutcome> {
  const ws = new WebSocket(url, protocols, options);
  return within(
    `the handshake with ${url}`,
    new Promise<HandshakeOutcome>((resolve, reject) => {
      ws.once('open', () => resolve({ open: true, ws }));
      ws.once('error', reject);
      ws.once('unexpected-response', (request, response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('end', () => {
          request.destroy();
          resolve({
            open: false,
            status: response.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ws,
          });
        });
      });
    }),
  );
}

/** Opens a raw client that must succeed. */
export async function openClient(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const outcome = await openRawClient(url, ['mcp'], options);
  if (!outcome.open) throw new Error(`handshake refused with ${outcome.status}: ${outcome.body}`);
  return outcome.ws;
}

/** The next text message `ws` receives, parsed as JSON. */
export function nextJson(ws: WebSocket, ms = 5000): Promise<unknown> {
  return within(
    'a message',
    new Promise((resolve) => {
      ws.once('message', (data: Buffer) => resolve(JSON.parse(data.toString('utf8'))));
    }),
    ms,
  );
}

/** Resolves with the close code and reason once `ws` is closed. */
export function closeOf(ws: WebSocket, ms = 5000): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: 1006, reason: '' });
  return within(
    'the socket to close',
    new Promise((resolve) => {
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
    }),
    ms,
  );
}

/**
 * Performs the WebSocket handshake by hand on a plain TCP socket and returns it paused: a client that never reads
 * (or answers pings) again. `headers` are added to the upgrade request.
 */
export async function openStalledClient(port: number, headers: Record<string, string> = {}): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const request = [
    'GET /ws HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    'Sec-WebSocket-Protocol: mcp',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  const head = await within(
    'the hand-made handshake',
    new Promise<string>((resolve, reject) => {
      let received = '';
      const onData = (chunk: Buffer): void => {
        received += chunk.toString('latin1');
        const end = received.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.off('data', onData);
        socket.pause();
        resolve(received.slice(0, end));
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed during the handshake: ${received}`)));
      socket.write(request);
    }),
  );
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`handshake refused: ${head}`);
  return socket;
}
