import { setTimeout as sleep } from 'node:timers/promises';
import type { Socket } from 'node:net';
import { createFixtureServer } from '@mcp-gateway/testing';
import type { Logger } from '@mcp-gateway/core';
import { Client } from '@modelcontextprotocol/client';
import type { Progress } from '@modelcontextprotocol/client';
import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  closeOf,
  listenWithUpgrade,
  nextJson,
  openClient,
  openRawClient,
  openStalledClient,
  waitFor,
  within,
} from './test-helpers.ts';
import type { LoopbackHttpServer } from './test-helpers.ts';
import { createWebSocketClientTransport } from './websocket-client-transport.ts';
import { createWebSocketServer, isWebSocketUpgrade } from './websocket-server.ts';
import type { WebSocketServer, WebSocketServerOptions } from './websocket-server.ts';

const REQUEST = { timeout: 10_000 };

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await within('cleanup', Promise.resolve(cleanup()));
});

interface Served {
  wss: WebSocketServer;
  http: LoopbackHttpServer;
}

/** A WebSocket server mounted on a loopback HTTP server; both are torn down after the test. */
async function serve(options: WebSocketServerOptions): Promise<Served> {
  const wss = createWebSocketServer(options);
  const http = await listenWithUpgrade(wss);
  cleanups.push(
    () => http.close(),
    () => wss.close(),
  );
  return { wss, http };
}

/** Serves a fresh fixture MCP server per session, as a gateway host would serve its own. */
function serveFixtures(options: Partial<WebSocketServerOptions> = {}): Promise<Served> {
  return serve({
    onSession: async (transport) => {
      const server = createFixtureServer({ name: 'fixture' });
      await server.connect(transport);
    },
    ...options,
  });
}

/**
 * A minimal host without the SDK, for raw-protocol checks: it answers every request with the method it saw and
 * hands each transport to `onTransport`.
 */
function serveEcho(
  options: Partial<WebSocketServerOptions> = {},
  onTransport?: (transport: Transport) => void,
): Promise<Served> {
  return serve({
    onSession: async (transport) => {
      transport.onmessage = (message: JSONRPCMessage) => {
        if ('method' in message && 'id' in message) {
          void transport.send({ jsonrpc: '2.0', id: message.id, result: { method: message.method } });
        }
      };
      onTransport?.(transport);
      await transport.start();
    },
    ...options,
  });
}

async function connectClient(url: string): Promise<Client> {
  const client = new Client({ name: 'websocket-test', version: '1.0.0' });
  await within('the MCP handshake', client.connect(createWebSocketClientTransport({ url }), REQUEST));
  cleanups.push(() => client.close());
  return client;
}

async function rawClient(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = await openClient(url, options);
  cleanups.push(() => ws.terminate());
  return ws;
}

function textOf(result: { content?: unknown }): string {
  const [first] = result.content as { type: string; text?: string }[];
  return first?.text ?? '';
}

function recordingLogger(): Logger & { events: string[] } {
  const events: string[] = [];
  const logger: Logger = {
    debug: (fields) => void events.push(String(fields.event)),
    info: (fields) => void events.push(String(fields.event)),
    warn: (fields) => void events.push(String(fields.event)),
    error: (fields) => void events.push(String(fields.event)),
    child: () => logger,
  };
  return Object.assign(logger, { events });
}

describe('MCP over WebSocket with the official SDK', () => {
  it('lists tools, calls them, streams progress and announces list changes', async () => {
    const { http } = await serveFixtures();
    const client = await connectClient(http.url);

    const { tools } = await client.listTools(undefined, REQUEST);
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'add', 'slow', 'add_tool']),
    );
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }, REQUEST))).toBe(
      'Echo: hi',
    );

    const progress: Progress[] = [];
    const slow = await client.callTool(
      { name: 'slow', arguments: { ms: 100 } },
      { ...REQUEST, onprogress: (update) => progress.push(update) },
    );
    expect(textOf(slow)).toBe('slept 100');
    expect(progress.map((update) => update.progress)).toEqual([0, 1, 2, 3]);

    const changed = new Promise<void>((resolve) =>
      client.setNotificationHandler('notifications/tools/list_changed', () => resolve()),
    );
    expect(textOf(await client.callTool({ name: 'add_tool', arguments: { name: 'late' } }, REQUEST))).toBe(
      'added late',
    );
    await within('notifications/tools/list_changed', changed);
    const relisted = await client.listTools(undefined, { ...REQUEST, cacheMode: 'refresh' });
    expect(relisted.tools.map((tool) => tool.name)).toContain('late');
  });

  it('keeps concurrent sessions apart', async () => {
    const sessionIds: string[] = [];
    const { wss, http } = await serveFixtures({
      onSession: async (transport, { sessionId }) => {
        sessionIds.push(sessionId);
        await createFixtureServer({ name: `fixture-${sessionIds.length}` }).connect(transport);
      },
    });
    const [first, second] = await Promise.all([connectClient(http.url), connectClient(http.url)]);
    expect(wss.sessionCount()).toBe(2);
    expect(new Set(sessionIds).size).toBe(2);

    let secondHeardChange = false;
    second.setNotificationHandler('notifications/tools/list_changed', () => {
      secondHeardChange = true;
    });
    await first.callTool({ name: 'add_tool', arguments: { name: 'only_first' } }, REQUEST);
    const [firstTools, secondTools] = await Promise.all([
      first.listTools(undefined, { ...REQUEST, cacheMode: 'refresh' }),
      second.listTools(undefined, { ...REQUEST, cacheMode: 'refresh' }),
    ]);
    expect(firstTools.tools.map((tool) => tool.name)).toContain('only_first');
    expect(secondTools.tools.map((tool) => tool.name)).not.toContain('only_first');
    expect(secondHeardChange).toBe(false);
    // Different servers answer: each session reached its own fixture.
    const names = await Promise.all(
      [first, second].map((client) => client.callTool({ name: 'whoami' }, REQUEST)),
    );
    expect(new Set(names.map(textOf)).size).toBe(2);

    await first.close();
    await waitFor('the first session to end', () => wss.sessionCount() === 1);
    expect(textOf(await second.callTool({ name: 'echo', arguments: { message: 'still' } }, REQUEST))).toBe(
      'Echo: still',
    );
  });

  it('close() ends every session promptly, fires onclose once each, and refuses new connections', async () => {
    const serverCloses = new Map<string, number>();
    const { wss, http } = await serveFixtures({
      onSession: async (transport, { sessionId }) => {
        const server = createFixtureServer({ name: 'fixture' });
        await server.connect(transport);
        const sdkOnClose = transport.onclose;
        transport.onclose = () => {
          serverCloses.set(sessionId, (serverCloses.get(sessionId) ?? 0) + 1);
          sdkOnClose?.();
        };
      },
    });
    const clients = await Promise.all([connectClient(http.url), connectClient(http.url)]);
    const clientClosed = clients.map(
      (client) =>
        new Promise<void>((resolve) => {
          client.onclose = () => resolve();
        }),
    );
    const started = Date.now();
    await within('wss.close()', wss.close(), 3000);
    await within('both clients to see the close', Promise.all(clientClosed), 3000);
    expect(Date.now() - started).toBeLessThan(1000); // well-behaved peers answer the close frame at once
    expect(wss.sessionCount()).toBe(0);
    expect([...serverCloses.values()]).toEqual([1, 1]);

    // Closing again, or the SDK closing its transport afterwards, changes nothing.
    await wss.close();
    await sleep(50);
    expect([...serverCloses.values()]).toEqual([1, 1]);

    const late = await openRawClient(http.url);
    expect(late).toMatchObject({ open: false, status: 503 });
  });
});

describe('the WebSocket upgrade', () => {
  it('refuses a client that does not offer the mcp subprotocol, with 400 naming it', async () => {
    const { http, wss } = await serveEcho();
    for (const protocols of [[], ['graphql-ws']]) {
      const outcome = await openRawClient(http.url, protocols);
      expect(outcome.open).toBe(false);
      if (outcome.open) continue;
      expect(outcome.status).toBe(400);
      expect(JSON.parse(outcome.body)).toMatchObject({
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: expect.stringContaining('subprotocol "mcp"') },
      });
    }
    const offered = await openRawClient(http.url, ['graphql-ws', 'mcp']);
    expect(offered.open).toBe(true);
    expect(offered.ws.protocol).toBe('mcp');
    offered.ws.terminate();
    expect(wss.sessionCount()).toBeLessThanOrEqual(1);
  });

  it('refuses a foreign Origin or Host with 403 before upgrading', async () => {
    const sessions: string[] = [];
    const { http } = await serveEcho({
      allowedHosts: ['127.0.0.1', 'localhost'],
      allowedOrigins: ['https://app.example'],
      onSession: (transport, { sessionId }) => {
        sessions.push(sessionId);
        return transport.start();
      },
    });

    const foreignOrigin = await openRawClient(http.url, ['mcp'], { origin: 'https://evil.example' });
    expect(foreignOrigin).toMatchObject({ open: false, status: 403 });
    if (!foreignOrigin.open) {
      expect(JSON.parse(foreignOrigin.body)).toMatchObject({
        error: { code: -32600, message: 'Forbidden: origin "https://evil.example" is not allowed' },
      });
    }

    const foreignHost = await openRawClient(http.url, ['mcp'], { headers: { host: 'evil.example' } });
    expect(foreignHost).toMatchObject({ open: false, status: 403 });
    if (!foreignHost.open) {
      expect(JSON.parse(foreignHost.body)).toMatchObject({
        error: { message: 'Forbidden: host "evil.example" is not allowed' },
      });
    }
    expect(sessions).toEqual([]);

    for (const origin of ['https://app.example', `http://127.0.0.1:${http.port}`]) {
      const allowed = await openRawClient(http.url, ['mcp'], { origin });
      expect(allowed.open).toBe(true);
      allowed.ws.terminate();
    }
    expect(sessions).toHaveLength(2);
  });

  it('refuses connections beyond maxSessions with 503', async () => {
    const { http } = await serveEcho({ maxSessions: 1 });
    await rawClient(http.url);
    expect(await openRawClient(http.url)).toMatchObject({ open: false, status: 503 });
  });

  it('recognises upgrade requests', () => {
    const request = (method: string, upgrade?: string) =>
      ({ method, headers: upgrade === undefined ? {} : { upgrade } }) as Parameters<
        typeof isWebSocketUpgrade
      >[0];
    expect(isWebSocketUpgrade(request('GET', 'WebSocket'))).toBe(true);
    expect(isWebSocketUpgrade(request('POST', 'websocket'))).toBe(false);
    expect(isWebSocketUpgrade(request('GET', 'h2c'))).toBe(false);
    expect(isWebSocketUpgrade(request('GET'))).toBe(false);
  });
});

describe('messages from a raw client', () => {
  it('answers invalid JSON with -32700 and keeps the socket usable', async () => {
    const { http } = await serveEcho();
    const ws = await rawClient(http.url);

    ws.send('{"jsonrpc": "2.0", "id": 1,');
    expect(await nextJson(ws)).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: expect.stringContaining('not valid JSON') },
    });

    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    expect(await nextJson(ws)).toEqual({ jsonrpc: '2.0', id: 2, result: { method: 'tools/list' } });
  });

  it('answers envelopes that are not one JSON-RPC message with -32600', async () => {
    const { http } = await serveEcho();
    const ws = await rawClient(http.url);
    const cases: Array<[string, string | number | null, string]> = [
      ['42', null, 'one JSON-RPC object'],
      ['[{"jsonrpc":"2.0","id":1,"method":"ping"}]', null, 'batches are not supported'],
      ['{"jsonrpc":"1.0","id":7,"method":"ping"}', 7, '"jsonrpc" member must be "2.0"'],
      ['{"jsonrpc":"2.0","id":"a","method":5}', 'a', 'not a JSON-RPC request'],
    ];
    for (const [text, id, message] of cases) {
      ws.send(text);
      expect(await nextJson(ws)).toMatchObject({
        id,
        error: { code: -32600, message: expect.stringContaining(message) },
      });
    }
  });

  it('answers a binary frame with -32600', async () => {
    const { http } = await serveEcho();
    const ws = await rawClient(http.url);
    ws.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' })), { binary: true });
    expect(await nextJson(ws)).toMatchObject({
      id: null,
      error: { code: -32600, message: expect.stringContaining('binary frames are not supported') },
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }));
    expect(await nextJson(ws)).toMatchObject({ id: 3, result: { method: 'ping' } });
  });

  it('closes a connection that sends more than maxMessageBytes with 1009 and keeps serving others', async () => {
    const closes: number[] = [];
    const { http, wss } = await serveEcho({ maxMessageBytes: 1024 }, (transport) => {
      transport.onclose = () => closes.push(1);
    });
    const bystander = await rawClient(http.url);
    const offender = await rawClient(http.url);

    offender.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x'.repeat(2048) }));
    expect((await closeOf(offender)).code).toBe(1009);
    await waitFor('the offending session to end', () => wss.sessionCount() === 1);
    expect(closes).toEqual([1]);

    bystander.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'ping' }));
    expect(await nextJson(bystander)).toMatchObject({ id: 4, result: { method: 'ping' } });
  });

  it('delivers messages that arrive before an async onSession has started the transport', async () => {
    const { http } = await serve({
      onSession: async (transport) => {
        await sleep(100); // e.g. looking up the caller's credentials
        await createFixtureServer({ name: 'late-starter' }).connect(transport);
      },
    });
    const ws = await rawClient(http.url);
    ws.send(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    );
    expect(await nextJson(ws)).toMatchObject({ id: 1, result: { serverInfo: { name: 'late-starter' } } });
  });

  it('closes the connection with 1011 when onSession fails', async () => {
    const logger = recordingLogger();
    const { http, wss } = await serve({
      logger,
      onSession: async () => {
        throw new Error('no server for you');
      },
    });
    const ws = await rawClient(http.url);
    expect(await closeOf(ws)).toEqual({ code: 1011, reason: 'the server could not set up the session' });
    expect(wss.sessionCount()).toBe(0);
    expect(logger.events).toContain('session-setup-fail');
  });
});

describe('unhealthy peers', () => {
  it('closes a client that stops reading once its send buffer passes maxBufferedBytes', async () => {
    const logger = recordingLogger();
    let transport: Transport | undefined;
    let closes = 0;
    const { http, wss } = await serveEcho({ logger, maxBufferedBytes: 1024 * 1024 }, (served) => {
      transport = served;
      served.onclose = () => (closes += 1);
    });
    const stalled: Socket = await openStalledClient(http.port);
    cleanups.push(() => void stalled.destroy());
    await waitFor('the session', () => transport !== undefined);

    // Push 256 KiB notifications until the server gives up; the kernel's socket buffers absorb a few dozen
    // MiB first, so the loop is bounded well above that.
    const payload = 'x'.repeat(256 * 1024);
    const sends: Array<Promise<unknown>> = [];
    let rejection: unknown;
    for (let index = 0; index < 1000 && rejection === undefined; index += 1) {
      sends.push(
        transport!
          .send({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: payload } })
          .catch((error: unknown) => {
            rejection ??= error;
          }),
      );
      if (index % 8 === 7) await sleep(1);
    }
    await within('every send to settle', Promise.all(sends), 5000);
    expect(rejection).toMatchObject({
      code: 'not-found',
      details: { reason: 'session-closed' },
      message: expect.stringContaining('the client stopped reading'),
    });
    expect(closes).toBe(1);
    expect(wss.sessionCount()).toBe(0);
    expect(logger.events).toContain('session-backpressure');
    await expect(
      transport!.send({
        jsonrpc: '2.0',
        method: 'notifications/message',
        params: { level: 'info', data: 'x' },
      }),
    ).rejects.toMatchObject({ details: { reason: 'session-closed' } });

    // The server let go of the socket: once the client reads again it reaches the end of the stream.
    const ended = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    stalled.resume();
    await within('the stalled socket to be closed by the server', ended, 5000);
  });

  it('terminates a peer that stops answering keep-alive pings, and spares one that answers', async () => {
    const logger = recordingLogger();
    const { http, wss } = await serveEcho({ logger, keepAliveMs: 100 });
    const healthy = await rawClient(http.url);
    const dead = await rawClient(http.url, { autoPong: false });

    expect((await closeOf(dead, 2000)).code).toBe(1006); // terminated, no close frame
    expect(logger.events).toContain('session-timeout');
    await sleep(200);
    expect(wss.sessionCount()).toBe(1);
    healthy.send(JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }));
    expect(await nextJson(healthy)).toMatchObject({ id: 9 });
  });
});

describe('createWebSocketServer options', () => {
  it('throws config-invalid for unusable options', () => {
    const onSession = () => undefined;
    expect(() => createWebSocketServer({} as WebSocketServerOptions)).toThrow(/onSession must be a function/);
    expect(() => createWebSocketServer({ onSession, maxMessageBytes: 0 })).toThrow(/maxMessageBytes/);
    expect(() => createWebSocketServer({ onSession, keepAliveMs: -1 })).toThrow(/keepAliveMs/);
    expect(() => createWebSocketServer({ onSession, allowedHosts: [''] })).toThrow(/allowedHosts/);
    try {
      createWebSocketServer({ onSession, maxSessions: 1.5 });
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'config-invalid', details: { reason: 'invalid-options' } });
    }
  });
});
