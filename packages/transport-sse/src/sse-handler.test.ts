import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
// Tests serve the fetch handler the way an app does; the library itself never imports a server adapter.
import { getRequestListener } from '@hono/node-server';
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import type { McpServer, Transport } from '@modelcontextprotocol/server';
import { createFixtureServer } from '@mcp-gateway/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createSseHandler } from './sse-handler.ts';
import type { SseHandler, SseHandlerOptions } from './sse-handler.ts';

const REQUEST = { timeout: 10_000 };
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

/** Everything a test opened; afterEach closes it all, clients first. */
const cleanups: (() => Promise<unknown> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Harness {
  handler: SseHandler;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  sseUrl: URL;
  /** Transports handed to onSession, by session id, with the number of times each fired onclose. */
  sessions: Map<string, { transport: Transport; closeCount: number; server: McpServer | undefined }>;
}

/**
 * Serves a handler over real loopback HTTP. By default each session gets its own fixture MCP server;
 * `serveFixture: false` leaves the transport unconnected so a test can drive it.
 */
async function startHarness(
  options: Partial<SseHandlerOptions> & { serveFixture?: boolean } = {},
): Promise<Harness> {
  const { serveFixture = true, ...handlerOptions } = options;
  const sessions: Harness['sessions'] = new Map();
  const handler = createSseHandler({
    ...handlerOptions,
    onSession: async (transport, context) => {
      const entry = { transport, closeCount: 0, server: undefined as McpServer | undefined };
      sessions.set(context.sessionId, entry);
      // Set before connecting: the SDK chains an existing onclose rather than replacing it.
      transport.onclose = () => {
        entry.closeCount += 1;
      };
      if (serveFixture) {
        entry.server = createFixtureServer({ name: `fixture-${sessions.size}` });
        await entry.server.connect(transport);
      }
    },
  });
  const server = createServer(
    getRequestListener((request) => handler.fetch(request), { overrideGlobalObjects: false }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    await handler.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  return { handler, origin, sseUrl: new URL('/sse', origin), sessions };
}

async function connectClient(url: URL): Promise<Client> {
  const client = new Client({ name: 'sse-test', version: '1.0.0' });
  cleanups.push(() => client.close());
  await client.connect(new SSEClientTransport(url), REQUEST);
  return client;
}

async function waitFor(condition: () => boolean, what: string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface SseEvent {
  event: string | undefined;
  data: string | undefined;
  /** Comment lines (`: ping`), without the colon. */
  comments: string[];
}

/** Opens `GET url` with fetch and hands out its SSE events (comments included) one at a time. */
async function openEventStream(url: URL | string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  cleanups.push(() => abort.abort());
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    response,
    /** The next event, or undefined once the server ended the stream. */
    async next(): Promise<SseEvent | undefined> {
      while (!buffer.includes('\n\n')) {
        const { value, done } = await withTimeout(reader.read(), 'an SSE event');
        if (done) return undefined;
        buffer += value;
      }
      const end = buffer.indexOf('\n\n');
      const lines = buffer.slice(0, end).split('\n');
      buffer = buffer.slice(end + 2);
      const field = (name: string) =>
        lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
      return {
        event: field('event'),
        data: field('data'),
        comments: lines.filter((line) => line.startsWith(':')).map((line) => line.slice(1).trim()),
      };
    },
    close: () => abort.abort(),
  };
}

function post(url: URL | string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
}

/** A raw node:http request, for headers fetch will not let us set (Host) or a chunked body. */
function rawRequest(
  url: URL,
  init: { method?: string; headers?: Record<string, string>; chunks?: Buffer[] },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const request = httpRequest(
        url,
        { method: init.method ?? 'GET', headers: init.headers },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
          );
          response.on('error', reject);
        },
      );
      // The server may answer and hang up before it has read everything we send.
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      for (const chunk of init.chunks ?? []) request.write(chunk);
      request.end();
    }),
    `${init.method ?? 'GET'} ${url.pathname}`,
  );
}

function errorCodeOf(body: string): number | undefined {
  return (JSON.parse(body) as { error?: { code?: number } }).error?.code;
}

describe('createSseHandler with the official SDK client', () => {
  it('lists tools and calls echo through the handler', async () => {
    const harness = await startHarness();
    const client = await connectClient(harness.sseUrl);

    const { tools } = await client.listTools(undefined, REQUEST);
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['echo', 'add', 'slow', 'add_tool']),
    );
    const result = await client.callTool({ name: 'echo', arguments: { message: 'hello' } }, REQUEST);
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: hello' }]);
    expect(harness.handler.sessionCount()).toBe(1);
  });

  it('streams progress notifications while a slow tool runs', async () => {
    const harness = await startHarness();
    const client = await connectClient(harness.sseUrl);

    const progress: number[] = [];
    const result = await client.callTool(
      { name: 'slow', arguments: { ms: 200 } },
      { ...REQUEST, onprogress: (update) => progress.push(update.progress) },
    );
    expect(result.content).toEqual([{ type: 'text', text: 'slept 200' }]);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress[0]).toBe(0);
  });

  it('delivers notifications/tools/list_changed when a tool is added', async () => {
    const harness = await startHarness();
    const client = await connectClient(harness.sseUrl);
    let listChanged = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      listChanged += 1;
    });

    await client.callTool({ name: 'add_tool', arguments: { name: 'late_tool' } }, REQUEST);
    await waitFor(() => listChanged > 0, 'tools/list_changed');
    const { tools } = await client.listTools(undefined, REQUEST);
    expect(tools.map((tool) => tool.name)).toContain('late_tool');
  });

  it('keeps two concurrent sessions apart', async () => {
    const harness = await startHarness();
    const first = await connectClient(harness.sseUrl);
    const second = await connectClient(harness.sseUrl);
    let secondListChanged = 0;
    second.setNotificationHandler('notifications/tools/list_changed', () => {
      secondListChanged += 1;
    });
    expect(harness.handler.sessionCount()).toBe(2);
    expect(new Set(harness.sessions.keys()).size).toBe(2);

    const [a, b] = await Promise.all([
      first.callTool({ name: 'whoami', arguments: {} }, REQUEST),
      second.callTool({ name: 'whoami', arguments: {} }, REQUEST),
    ]);
    expect(a.content).not.toEqual(b.content);

    await first.callTool({ name: 'add_tool', arguments: { name: 'only_first' } }, REQUEST);
    const firstTools = (await first.listTools(undefined, REQUEST)).tools.map((tool) => tool.name);
    const secondTools = (await second.listTools(undefined, REQUEST)).tools.map((tool) => tool.name);
    expect(firstTools).toContain('only_first');
    expect(secondTools).not.toContain('only_first');
    expect(secondListChanged).toBe(0);
  });

  it('fires onclose and forgets the session when the client disconnects', async () => {
    const harness = await startHarness();
    const client = await connectClient(harness.sseUrl);
    expect(harness.handler.sessionCount()).toBe(1);
    const [entry] = harness.sessions.values();

    await client.close();
    await waitFor(() => harness.handler.sessionCount() === 0, 'the session to end');
    expect(entry?.closeCount).toBe(1);

    const sessionId = [...harness.sessions.keys()][0]!;
    const late = await post(`${harness.origin}/message?sessionId=${sessionId}`, JSON.stringify(INITIALIZE));
    expect(late.status).toBe(404);
    await late.body?.cancel();
  });
});

describe('createSseHandler on the wire', () => {
  it('opens with the endpoint event and answers POSTs with 202 and messages on the stream', async () => {
    const harness = await startHarness({ generateSessionId: () => 'session-1' });
    const stream = await openEventStream(harness.sseUrl);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream');
    expect(stream.response.headers.get('cache-control')).toContain('no-cache');

    const endpoint = await stream.next();
    expect(endpoint).toEqual({ event: 'endpoint', data: '/message?sessionId=session-1', comments: [] });
    expect(harness.handler.sessionCount()).toBe(1);

    const accepted = await post(new URL(endpoint!.data!, harness.sseUrl), JSON.stringify(INITIALIZE));
    expect(accepted.status).toBe(202);
    expect(await accepted.text()).toBe('');

    const message = await stream.next();
    expect(message?.event).toBe('message');
    expect(JSON.parse(message!.data!)).toMatchObject({
      jsonrpc: '2.0',
      id: 1,
      result: { protocolVersion: '2024-11-05', serverInfo: { name: 'fixture-1' } },
    });
  });

  it('announces the configured message path', async () => {
    const harness = await startHarness({ ssePath: '/legacy/sse', messagePath: '/legacy/messages' });
    const stream = await openEventStream(new URL('/legacy/sse', harness.origin));
    const endpoint = await stream.next();
    expect(endpoint?.data).toMatch(/^\/legacy\/messages\?sessionId=[0-9a-f-]{36}$/);
    const accepted = await post(new URL(endpoint!.data!, harness.origin), JSON.stringify(INITIALIZE));
    expect(accepted.status).toBe(202);
  });

  it('refuses bad POSTs with the right status and a JSON body', async () => {
    const harness = await startHarness({ generateSessionId: () => 'session-1' });
    const stream = await openEventStream(harness.sseUrl);
    await stream.next();
    const endpoint = `${harness.origin}/message?sessionId=session-1`;

    const unknown = await post(`${harness.origin}/message?sessionId=nope`, JSON.stringify(INITIALIZE));
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/json');
    expect(await unknown.json()).toMatchObject({
      jsonrpc: '2.0',
      id: null,
      error: { message: /Session not found/ },
    });

    const missing = await post(`${harness.origin}/message`, JSON.stringify(INITIALIZE));
    expect(missing.status).toBe(400);
    expect(errorCodeOf(await missing.text())).toBe(-32600);

    const wrongType = await post(endpoint, JSON.stringify(INITIALIZE), 'text/plain');
    expect(wrongType.status).toBe(415);
    await wrongType.body?.cancel();

    const notJson = await post(endpoint, '{ not json');
    expect(notJson.status).toBe(400);
    expect(errorCodeOf(await notJson.text())).toBe(-32700);

    const notJsonRpc = await post(endpoint, JSON.stringify({ hello: 'world' }));
    expect(notJsonRpc.status).toBe(400);
    expect(errorCodeOf(await notJsonRpc.text())).toBe(-32600);

    const wrongMethod = await fetch(harness.sseUrl, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET');

    // None of that ended the session.
    const accepted = await post(endpoint, JSON.stringify(INITIALIZE), 'application/json; charset=utf-8');
    expect(accepted.status).toBe(202);
    expect((await stream.next())?.event).toBe('message');
  });

  it('answers 413 for an oversized body, declared or chunked, and keeps serving', async () => {
    const harness = await startHarness({ generateSessionId: () => 'session-1', maxBodyBytes: 1024 });
    const stream = await openEventStream(harness.sseUrl);
    await stream.next();
    const endpoint = new URL('/message?sessionId=session-1', harness.origin);
    const big = JSON.stringify({ ...INITIALIZE, padding: 'x'.repeat(64 * 1024) });

    const declared = await post(endpoint, big);
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { message: /limit is 1024 bytes/ } });

    // No content-length: the handler must stop reading at the limit.
    const chunked = await rawRequest(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      chunks: Array.from({ length: 16 }, () => Buffer.from(big.slice(0, 16 * 1024))),
    });
    expect(chunked.status).toBe(413);

    const accepted = await post(endpoint, JSON.stringify(INITIALIZE));
    expect(accepted.status).toBe(202);
    expect((await stream.next())?.event).toBe('message');
    expect(harness.handler.sessionCount()).toBe(1);
  });

  it('refuses a foreign Host or Origin with 403', async () => {
    const harness = await startHarness({
      allowedHosts: ['127.0.0.1', 'localhost'],
      allowedOrigins: ['http://app.example'],
    });

    const foreignHost = await rawRequest(harness.sseUrl, { headers: { host: 'evil.example' } });
    expect(foreignHost.status).toBe(403);
    expect(JSON.parse(foreignHost.body)).toMatchObject({
      error: { message: 'Forbidden: host "evil.example" is not allowed' },
    });

    const foreignOrigin = await rawRequest(harness.sseUrl, { headers: { origin: 'http://evil.example' } });
    expect(foreignOrigin.status).toBe(403);
    expect(JSON.parse(foreignOrigin.body)).toMatchObject({
      error: { message: 'Forbidden: origin "http://evil.example" is not allowed' },
    });

    const foreignPost = await rawRequest(new URL('/message?sessionId=x', harness.origin), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      chunks: [Buffer.from(JSON.stringify(INITIALIZE))],
    });
    expect(foreignPost.status).toBe(403);
    expect(harness.handler.sessionCount()).toBe(0);

    // An allowed origin and the server's own origin both pass.
    for (const origin of ['http://app.example', harness.origin]) {
      const allowed = await fetch(harness.sseUrl, { headers: { origin } });
      expect(allowed.status).toBe(200);
      await allowed.body?.cancel();
    }
  });

  it('refuses streams beyond maxSessions with 503', async () => {
    const harness = await startHarness({ maxSessions: 1 });
    const first = await openEventStream(harness.sseUrl);
    expect((await first.next())?.event).toBe('endpoint');
    const second = await fetch(harness.sseUrl);
    expect(second.status).toBe(503);
    await second.body?.cancel();

    first.close();
    await waitFor(() => harness.handler.sessionCount() === 0, 'the first session to end');
    const third = await openEventStream(harness.sseUrl);
    expect(third.response.status).toBe(200);
  });

  it('sends keep-alive comments on an idle stream', async () => {
    const harness = await startHarness({ keepAliveMs: 20 });
    const stream = await openEventStream(harness.sseUrl);
    expect((await stream.next())?.event).toBe('endpoint');
    const ping = await stream.next();
    expect(ping).toEqual({ event: undefined, data: undefined, comments: ['ping'] });
  });

  it("answers a POST for another principal's session exactly like one for an unknown session", async () => {
    const harness = await startHarness({
      generateSessionId: () => 'session-1',
      principalOf: (request) => request.headers.get('x-principal') ?? undefined,
    });
    const stream = await openEventStream(harness.sseUrl, { 'x-principal': 'alice' });
    const endpoint = new URL((await stream.next())!.data!, harness.origin);
    const postAs = (url: URL, principal: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...principal },
        body: JSON.stringify(INITIALIZE),
      });
    const unknown = await postAs(new URL('/message?sessionId=nope', harness.origin), {
      'x-principal': 'alice',
    });
    expect(unknown.status).toBe(404);
    const unknownBody = await unknown.text();
    const others: Array<Record<string, string>> = [{ 'x-principal': 'mallory' }, {}];
    for (const other of others) {
      const refused = await postAs(endpoint, other);
      expect(refused.status).toBe(404);
      expect(await refused.text()).toBe(unknownBody);
    }
    const accepted = await postAs(endpoint, { 'x-principal': 'alice' });
    expect(accepted.status).toBe(202);
    // Only the owner's message was handled: the first message on the stream answers it.
    expect(JSON.parse((await stream.next())!.data!)).toMatchObject({
      id: 1,
      result: { protocolVersion: '2024-11-05' },
    });
    expect(harness.handler.sessionCount()).toBe(1);
  });

  it('answers 500 and ends the session when onSession throws', async () => {
    const handler = createSseHandler({
      onSession: () => {
        throw new Error('no server for you');
      },
    });
    const response = await handler.fetch(new Request('http://127.0.0.1/sse'));
    expect(response.status).toBe(500);
    expect(handler.sessionCount()).toBe(0);
  });

  it('rejects invalid options when it is created', () => {
    const onSession = () => undefined;
    expect(() => createSseHandler({ onSession, ssePath: 'sse' })).toThrow(/ssePath must be a path/);
    expect(() => createSseHandler({ onSession, maxBufferedBytes: 0 })).toThrow(/maxBufferedBytes/);
    expect(() => createSseHandler({ onSession, keepAliveMs: -1 })).toThrow(/keepAliveMs/);
  });
});

describe('createSseHandler resource limits', () => {
  it('ends the session of a client that never reads, within the buffer cap', async () => {
    const maxBufferedBytes = 1024 * 1024;
    const harness = await startHarness({ serveFixture: false, maxBufferedBytes, keepAliveMs: 0 });

    // A raw socket that sends the GET and then never reads: TCP flow control stalls the server's writes.
    const socket: Socket = connect(Number(new URL(harness.origin).port), '127.0.0.1');
    cleanups.push(() => void socket.destroy());
    await withTimeout(new Promise((resolve) => socket.once('connect', resolve)), 'the socket to connect');
    socket.pause();
    socket.write('GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
    await waitFor(() => harness.sessions.size === 1, 'the session to open');
    const [entry] = harness.sessions.values();
    const transport = entry!.transport;

    const payload = 'x'.repeat(256 * 1024);
    const maxMessages = 1_000; // 256 MB if nothing stopped it
    const before = process.memoryUsage();
    let sent = 0;
    let refused: unknown;
    while (sent < maxMessages) {
      try {
        await transport.send({
          jsonrpc: '2.0',
          method: 'notifications/message',
          params: { level: 'info', data: payload },
        });
      } catch (error) {
        refused = error;
        break;
      }
      sent += 1;
      // Let the HTTP layer write what the socket takes.
      await new Promise((resolve) => setImmediate(resolve));
    }
    const after = process.memoryUsage();

    expect(refused).toBeInstanceOf(Error);
    expect(sent).toBeLessThan(maxMessages);
    expect(entry!.closeCount).toBe(1);
    expect(harness.handler.sessionCount()).toBe(0);
    // Kernel socket buffers absorb a few MB; the rest is bounded by the cap, far below what was offered.
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(64 * 1024 * 1024);
    await expect(transport.send({ jsonrpc: '2.0', method: 'notifications/message' })).rejects.toThrow(
      /closed/,
    );
    // The HTTP layer drops the connection once the stream errors: reading what is left ends in close.
    await withTimeout(
      new Promise((resolve) => {
        socket.on('data', () => undefined).on('error', () => undefined);
        if (socket.destroyed) resolve(undefined);
        else socket.once('close', resolve);
        socket.resume();
      }),
      'the server to drop the connection',
    );
  });

  it('close() ends every stream promptly and refuses new ones', async () => {
    const harness = await startHarness();
    const streams = [await openEventStream(harness.sseUrl), await openEventStream(harness.sseUrl)];
    for (const stream of streams) expect((await stream.next())?.event).toBe('endpoint');
    const client = await connectClient(harness.sseUrl);
    const pending = client.callTool({ name: 'slow', arguments: { ms: 20_000 } }, REQUEST);
    pending.catch(() => undefined);
    expect(harness.handler.sessionCount()).toBe(3);

    await harness.handler.close();
    expect(harness.handler.sessionCount()).toBe(0);
    for (const stream of streams) expect(await stream.next()).toBeUndefined();
    expect([...harness.sessions.values()].map((entry) => entry.closeCount)).toEqual([1, 1, 1]);

    const refused = await fetch(harness.sseUrl);
    expect(refused.status).toBe(503);
    await refused.body?.cancel();
    await harness.handler.close();
  });
});
