import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer, Socket } from 'node:net';
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer as WsServer } from 'ws';
import type { WebSocket } from 'ws';
import { listenWithUpgrade, waitFor, within } from './test-helpers.ts';
import { createWebSocketClientTransport } from './websocket-client-transport.ts';
import type { WebSocketClientTransport } from './websocket-client-transport.ts';
import { createWebSocketServer } from './websocket-server.ts';
import type { WebSocketServerOptions } from './websocket-server.ts';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await within('cleanup', Promise.resolve(cleanup()));
});

/** Our server on loopback with a host that answers every request with the method it saw. */
async function serveEcho(options: Partial<WebSocketServerOptions> = {}) {
  const wss = createWebSocketServer({
    onSession: async (transport) => {
      transport.onmessage = (message: JSONRPCMessage) => {
        if ('method' in message && 'id' in message) {
          void transport.send({ jsonrpc: '2.0', id: message.id, result: { method: message.method } });
        }
      };
      await transport.start();
    },
    ...options,
  });
  const http = await listenWithUpgrade(wss);
  cleanups.push(
    () => http.close(),
    () => wss.close(),
  );
  return { wss, http };
}

/** A bare `ws` server standing in for a misbehaving upstream; `onConnection` scripts it. */
async function serveRaw(
  options: { acceptMcp: boolean },
  onConnection: (ws: WebSocket) => void = () => undefined,
): Promise<string> {
  const wss = new WsServer({
    noServer: true,
    handleProtocols: (protocols) => (options.acceptMcp && protocols.has('mcp') ? 'mcp' : false),
  });
  const server = createHttpServer();
  server.on('upgrade', (request, socket, head) =>
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws)),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`;
}

function track(transport: WebSocketClientTransport) {
  const state = { closes: 0, errors: [] as Error[], messages: [] as JSONRPCMessage[] };
  transport.onclose = () => (state.closes += 1);
  transport.onerror = (error) => state.errors.push(error);
  transport.onmessage = (message: JSONRPCMessage) => state.messages.push(message);
  cleanups.push(() => transport.close());
  return state;
}

describe('createWebSocketClientTransport', () => {
  it('connects with the mcp subprotocol, exchanges messages and closes once', async () => {
    const { http, wss } = await serveEcho();
    const transport = createWebSocketClientTransport({ url: http.url, headers: { 'x-test': 'yes' } });
    const state = track(transport);
    expect(transport.sessionId).toBeUndefined();

    await within('start()', transport.start());
    await transport.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    await waitFor('the answer', () => state.messages.length === 1);
    expect(state.messages).toEqual([{ jsonrpc: '2.0', id: 1, result: { method: 'tools/list' } }]);
    expect(wss.sessionCount()).toBe(1);
    expect(transport.describeClose()).toBeUndefined();

    await within('close()', transport.close());
    await transport.close();
    expect(state.closes).toBe(1);
    expect(transport.describeClose()).toBe('closed by the client with code 1000: client closed');
    await waitFor('the server session to end', () => wss.sessionCount() === 0);
    await expect(
      transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    ).rejects.toMatchObject({
      details: { reason: 'not-connected' },
    });
    await expect(transport.start()).rejects.toMatchObject({ details: { reason: 'already-started' } });
  });

  it('sends the configured headers with the upgrade', async () => {
    let seen: string | undefined;
    const { http } = await serveEcho({
      onSession: (transport, { request }) => {
        seen = request.headers.authorization;
        return transport.start();
      },
    });
    const transport = createWebSocketClientTransport({
      url: http.url,
      headers: { Authorization: 'Bearer t0k' },
    });
    track(transport);
    await within('start()', transport.start());
    expect(seen).toBe('Bearer t0k');
  });

  it('reports the server closing the connection', async () => {
    const { http, wss } = await serveEcho();
    const transport = createWebSocketClientTransport({ url: http.url });
    const state = track(transport);
    await within('start()', transport.start());
    await wss.close();
    await waitFor('onclose', () => state.closes === 1);
    expect(transport.describeClose()).toBe('closed by the server with code 1001: server shutting down');
  });

  it('rejects start() naming the URL when the server refuses the upgrade', async () => {
    const { http } = await serveEcho({ allowedOrigins: [] });
    const transport = createWebSocketClientTransport({
      url: `${http.url}?token=secret`,
      headers: { Origin: 'https://evil.example' },
    });
    const state = track(transport);
    const failure = await within('start()', transport.start()).catch((error: unknown) => error);
    expect(failure).toMatchObject({
      code: 'upstream-connect-failed',
      details: { reason: 'connect-failed', url: `${http.url}?…` },
    });
    expect((failure as Error).message).toBe(
      `could not connect to WebSocket upstream ${http.url}?…: the server answered HTTP 403 instead of upgrading: ` +
        'Forbidden: origin "https://evil.example" is not allowed',
    );
    expect((failure as Error).message).not.toContain('secret');
    await waitFor('onclose', () => state.closes === 1);
  });

  it('rejects start() when the server does not accept the mcp subprotocol', async () => {
    const url = await serveRaw({ acceptMcp: false });
    const transport = createWebSocketClientTransport({ url });
    const state = track(transport);
    await expect(within('start()', transport.start())).rejects.toThrow(
      `could not connect to WebSocket upstream ${url}: the server did not accept the "mcp" subprotocol`,
    );
    await waitFor('onclose', () => state.closes === 1);
  });

  it('rejects start() for a port nobody listens on', async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const transport = createWebSocketClientTransport({ url: `ws://user:pw@127.0.0.1:${port}/ws` });
    const state = track(transport);
    const failure = await within('start()', transport.start()).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'upstream-connect-failed' });
    expect((failure as Error).message).toMatch(
      new RegExp(`^could not connect to WebSocket upstream ws://127\\.0\\.0\\.1:${port}/ws: .*ECONNREFUSED`),
    );
    await waitFor('onclose', () => state.closes === 1);
  });

  it('rejects start() after connectTimeoutMs when the server never answers the upgrade', async () => {
    const sockets = new Set<Socket>();
    const silent: TcpServer = createTcpServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          silent.close(() => resolve());
        }),
    );
    const { port } = silent.address() as AddressInfo;

    const transport = createWebSocketClientTransport({
      url: `ws://127.0.0.1:${port}/`,
      connectTimeoutMs: 200,
    });
    const state = track(transport);
    const started = Date.now();
    await expect(within('start()', transport.start())).rejects.toThrow(
      `could not connect to WebSocket upstream ws://127.0.0.1:${port}/: no connection within connectTimeoutMs (200 ms)`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    await waitFor('onclose', () => state.closes === 1);
  });

  it('rejects start() when close() is called while connecting', async () => {
    const silent = createTcpServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const { port } = silent.address() as AddressInfo;
    const transport = createWebSocketClientTransport({ url: `ws://127.0.0.1:${port}/` });
    const state = track(transport);
    const starting = transport.start();
    await within('close()', transport.close());
    await expect(starting).rejects.toThrow('close() was called before the connection opened');
    expect(state.closes).toBe(1);
  });

  it('reports frames that are not one JSON-RPC message and keeps reading', async () => {
    const url = await serveRaw({ acceptMcp: true }, (ws) => {
      ws.send('not json');
      ws.send(Buffer.from('{}'), { binary: true });
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }));
    });
    const transport = createWebSocketClientTransport({ url });
    const state = track(transport);
    await within('start()', transport.start());
    await waitFor('the valid message', () => state.messages.length === 1);
    expect(state.messages).toEqual([{ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }]);
    expect(state.errors.map((error) => (error as { details?: unknown }).details)).toEqual([
      { reason: 'invalid-message', url },
      { reason: 'invalid-message', url },
    ]);
    expect(state.errors[0]?.message).toContain('Parse error');
    expect(state.errors[1]?.message).toContain('binary frames are not supported');
  });

  it('closes with 1009 when the upstream sends more than maxMessageBytes', async () => {
    const url = await serveRaw({ acceptMcp: true }, (ws) => {
      ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'x'.repeat(4096) }));
    });
    const transport = createWebSocketClientTransport({ url, maxMessageBytes: 1024 });
    const state = track(transport);
    await within('start()', transport.start());
    await waitFor('onclose', () => state.closes === 1);
    expect(transport.describeClose()).toBe(
      'closed after an error: WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: Max payload size exceeded',
    );
    expect(state.messages).toEqual([]);
    expect(state.errors[0]).toMatchObject({ details: { reason: 'connection-error' } });
  });

  it('rejects send() before start() and fires onclose once when closed unstarted', async () => {
    const transport = createWebSocketClientTransport({ url: 'ws://127.0.0.1:1/' });
    const state = track(transport);
    await expect(transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' })).rejects.toThrow(
      'WebSocket transport to ws://127.0.0.1:1/ is not open (idle)',
    );
    await transport.close();
    await transport.close();
    expect(state.closes).toBe(1);
  });

  it('throws config-invalid for unusable options', () => {
    expect(() => createWebSocketClientTransport({ url: 'http://127.0.0.1/' })).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => createWebSocketClientTransport({ url: 'not a url' })).toThrow(
      /absolute ws:\/\/ or wss:\/\/ URL/,
    );
    expect(() => createWebSocketClientTransport({ url: 'ws://127.0.0.1/', connectTimeoutMs: 0 })).toThrow(
      /connectTimeoutMs/,
    );
    try {
      createWebSocketClientTransport({ url: 'ws://127.0.0.1/#x' });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'config-invalid', details: { reason: 'invalid-options' } });
    }
  });
});
