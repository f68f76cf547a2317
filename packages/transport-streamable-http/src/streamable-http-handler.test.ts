import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createRouter,
  emptyUpstreamCatalog,
  type Router,
  type Upstream,
  type UpstreamNotification,
} from '@mcp-gateway/core';
import { createStreamableHttpHandler, type StreamableHttpHandler } from './streamable-http-handler.ts';

/**
 * A minimal upstream that can push notifications to the router. Tools: `echo` (answers at once), `progress`
 * (reports progress first), `ask` (asks the calling client through elicitation first), `slow` (`arguments.ms`).
 */
function echoUpstream() {
  const listeners = new Set<(n: UpstreamNotification) => void>();
  const calls: string[] = [];
  const upstream: Upstream = {
    id: 'echo',
    name: 'echo',
    start() {},
    async close() {},
    getState: () => ({ status: 'ready', reconnects: 0 }),
    getCatalog: () => ({
      ...emptyUpstreamCatalog,
      tools: ['echo', 'progress', 'ask', 'slow'].map((name) => ({
        name,
        inputSchema: { type: 'object' as const },
      })),
      resources: [{ uri: 'memo://one', name: 'one' }],
    }),
    getCapabilities: () => ({ tools: {}, logging: {}, resources: { subscribe: true } }),
    async request(method, params, options) {
      if (method === 'resources/subscribe' || method === 'resources/unsubscribe') {
        calls.push(`${method} ${String(params?.uri)}`);
        return {};
      }
      const args = (params?.arguments ?? {}) as Record<string, unknown>;
      switch (params?.name) {
        case 'progress':
          options?.onProgress?.({ progress: 1, total: 2 });
          await new Promise((resolve) => setTimeout(resolve, 20));
          break;
        case 'ask': {
          const answer = await options!.downstream!.request('elicitation/create', {
            mode: 'form',
            message: 'Your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } } },
          });
          return { content: [{ type: 'text', text: JSON.stringify(answer) }] };
        }
        case 'slow':
          await new Promise((resolve) => setTimeout(resolve, Number(args.ms ?? 0)));
          break;
      }
      return { content: [{ type: 'text', text: JSON.stringify(args) }] };
    },
    onChange: () => () => undefined,
    onNotification(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async notify() {},
    async releaseSession() {},
  };
  return { upstream, calls, push: (n: UpstreamNotification) => listeners.forEach((l) => l(n)) };
}

interface Harness {
  url: string;
  handler: StreamableHttpHandler;
  router: Router;
  push: (n: UpstreamNotification) => void;
  /** Subscribe and unsubscribe requests the upstream received. */
  upstreamCalls: string[];
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  for (const harness of open.splice(0)) await harness.close();
});

async function serve(
  options: Partial<Parameters<typeof createStreamableHttpHandler>[0]> = {},
): Promise<Harness> {
  const router = createRouter();
  const { upstream, push, calls } = echoUpstream();
  router.setMembers([{ upstream, namespace: '' }]);
  const handler = createStreamableHttpHandler({
    router,
    allowedHosts: ['127.0.0.1', 'localhost'],
    ...options,
  });
  const server: Server = createServer(
    getRequestListener(
      (request) => {
        // As the gateway's auth middleware does: the principal is recorded against the request object itself.
        const principal = request.headers.get('x-principal');
        if (principal !== null) principals.set(request, principal);
        return handler.fetch(request);
      },
      { overrideGlobalObjects: false },
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const harness: Harness = {
    url,
    handler,
    router,
    push,
    upstreamCalls: calls,
    async close() {
      await handler.close();
      router.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  open.push(harness);
  return harness;
}

/** Who sent each request (the `x-principal` header), recorded by the harness before the handler runs. */
const principals = new WeakMap<Request, string>();
const principalOf = (request: Request) => principals.get(request);

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function initialize(
  url: string,
  version: string,
): Promise<{ response: Response; sessionId: string | null }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: JSON_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  return { response, sessionId: response.headers.get('mcp-session-id') };
}

describe('streamable HTTP handler', () => {
  for (const version of ['2025-03-26', '2025-06-18', '2025-11-25']) {
    it(`opens a session for protocol ${version} and serves it`, async () => {
      const { url } = await serve();
      const { response, sessionId } = await initialize(url, version);
      expect(response.status).toBe(200);
      expect(sessionId).toEqual(expect.any(String));
      expect(await response.text()).toContain(`"protocolVersion":"${version}"`);
      const call = await fetch(url, {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'mcp-session-id': sessionId!, 'mcp-protocol-version': version },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo', arguments: { a: 1 } },
        }),
      });
      expect(call.status).toBe(200);
      expect(await call.text()).toContain('{\\"a\\":1}');
    });
  }

  it('answers 404 for an unknown session and for one ended with DELETE', async () => {
    const { url } = await serve();
    const unknown = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-session-id': 'nope' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(unknown.status).toBe(404);
    const { sessionId } = await initialize(url, '2025-11-25');
    const ended = await fetch(url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId! } });
    expect(ended.status).toBe(200);
    const after = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
    });
    expect(after.status).toBe(404);
  });

  it('refuses bad requests at the edge and keeps serving', async () => {
    const { url } = await serve();
    const wrongType = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', accept: JSON_HEADERS.accept },
      body: '{}',
    });
    expect(wrongType.status).toBe(415);
    const wrongAccept = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/html' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(wrongAccept.status).toBe(406);
    const badVersion = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-protocol-version': '1999-01-01' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }),
    });
    expect(badVersion.status).toBe(400);
    const badVersionBody = (await badVersion.json()) as { id: number; error: { message: string } };
    expect(badVersionBody.id).toBe(5);
    expect(badVersionBody.error.message).toContain('2025-11-25');
    const huge = await fetch(url, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: 'x'.repeat(10 * 1024 * 1024),
    });
    expect(huge.status).toBe(413);
    const { sessionId } = await initialize(url, '2025-11-25');
    const batch = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify([{ jsonrpc: '2.0', id: 1, method: 'ping' }]),
    });
    expect(batch.status).toBe(400);
    expect(await batch.text()).toContain('batches are not supported by protocol 2025-11-25');
    const foreign = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, origin: 'http://evil.example' },
      body: '{}',
    });
    expect(foreign.status).toBe(403);
    // Still serving.
    expect((await initialize(url, '2025-11-25')).response.status).toBe(200);
  });

  it('closes the session of a client that never reads its stream instead of buffering without bound', async () => {
    const harness = await serve({ maxBufferedBytes: 256 * 1024 });
    const { sessionId } = await initialize(harness.url, '2025-11-25');
    await fetch(harness.url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-session-id': sessionId!, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    expect(harness.handler.sessionCount()).toBe(1);
    // A raw socket opens the GET stream and then never reads.
    const { port } = new URL(harness.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\nMcp-Session-Id: ${sessionId}\r\n` +
        'Mcp-Protocol-Version: 2025-11-25\r\n\r\n',
    );
    socket.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 2000 && harness.handler.sessionCount() > 0; i++) {
      harness.push({ method: 'notifications/message', params: { level: 'info', data: big } });
      if (i % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await expect.poll(() => harness.handler.sessionCount(), { timeout: 10_000 }).toBe(0);
    socket.destroy();
  });

  it('serves the official SDK client end to end', async () => {
    const { url } = await serve();
    const client = new Client({ name: 'sdk', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const result = await client.callTool({ name: 'echo', arguments: { hello: 'world' } });
    expect(result.content).toEqual([{ type: 'text', text: '{"hello":"world"}' }]);
    await client.close();
  });
});

/** An SDK client over streamable HTTP that records the media type of every POST answered with 200. */
async function recordingClient(url: string, capabilities: Record<string, unknown> = {}) {
  const answeredAs: string[] = [];
  const client = new Client({ name: 'sdk', version: '1' }, { capabilities });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'POST' && response.status === 200) {
          answeredAs.push((response.headers.get('content-type') ?? '').split(';')[0]!);
        }
        return response;
      },
    }),
  );
  answeredAs.length = 0; // initialize: checked separately
  return { client, answeredAs };
}

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text;

async function openSession(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...JSON_HEADERS, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  await response.text();
  const sessionId = response.headers.get('mcp-session-id')!;
  const session = { ...JSON_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  await fetch(url, {
    method: 'POST',
    headers: { ...session, ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  return { sessionId, headers: session };
}

describe('response modes', () => {
  it('auto: answers plain JSON when nothing streams, and a session id with the initialize answer', async () => {
    const { url } = await serve();
    const init = await fetch(url, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    });
    expect(init.headers.get('content-type')).toBe('application/json');
    expect(init.headers.get('mcp-session-id')).toEqual(expect.any(String));
    expect(((await init.json()) as { result: { protocolVersion: string } }).result.protocolVersion).toBe(
      '2025-11-25',
    );
    const { headers } = await openSession(url);
    const call = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'echo', arguments: { a: 1 }, _meta: { progressToken: 'p' } },
      }),
    });
    expect(call.status).toBe(200);
    expect(call.headers.get('content-type')).toBe('application/json');
    expect(await call.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: '{"a":1}' }] },
    });
  });

  it('auto: switches to SSE when progress or a server→client request must reach the caller first', async () => {
    const { url } = await serve();
    const { client, answeredAs } = await recordingClient(url, { elicitation: { form: {} } });
    client.setRequestHandler('elicitation/create', async () => ({
      action: 'accept',
      content: { name: 'Ada' },
    }));
    expect(text(await client.callTool({ name: 'echo', arguments: { b: 2 } }))).toBe('{"b":2}');
    const updates: number[] = [];
    await client.callTool(
      { name: 'progress', arguments: {} },
      { onprogress: (progress) => updates.push(progress.progress) },
    );
    expect(updates).toEqual([1]);
    expect(JSON.parse(text(await client.callTool({ name: 'ask', arguments: {} })))).toEqual({
      action: 'accept',
      content: { name: 'Ada' },
    });
    expect(await client.listTools()).toMatchObject({ tools: expect.any(Array) });
    // echo, progress, ask, the elicitation answer (202, not recorded), tools/list.
    expect(answeredAs).toEqual([
      'application/json',
      'text/event-stream',
      'text/event-stream',
      'application/json',
    ]);
    await client.close();
  });

  it('auto: a call still running after streamAfterMs is answered over a resumable SSE stream', async () => {
    const { url } = await serve({ streamAfterMs: 50 });
    const { headers } = await openSession(url);
    const call = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 300 } },
      }),
    });
    expect(call.headers.get('content-type')).toBe('text/event-stream');
    const body = await call.text();
    expect(body).toMatch(/^id: /m); // the priming event: the stream can be resumed
    expect(body).toContain('{\\"ms\\":300}');
  });

  it('auto: answers a batch as one JSON array (2025-03-26)', async () => {
    const { url } = await serve();
    const init = await initialize(url, '2025-03-26');
    await init.response.text();
    const batch = await fetch(url, {
      method: 'POST',
      headers: { ...JSON_HEADERS, 'mcp-session-id': init.sessionId!, 'mcp-protocol-version': '2025-03-26' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'ping' },
        { jsonrpc: '2.0', id: 'b', method: 'tools/call', params: { name: 'echo', arguments: { c: 3 } } },
      ]),
    });
    expect(batch.headers.get('content-type')).toBe('application/json');
    expect(await batch.json()).toEqual([
      { jsonrpc: '2.0', id: 'a', result: {} },
      { jsonrpc: '2.0', id: 'b', result: { content: [{ type: 'text', text: '{"c":3}' }] } },
    ]);
  });

  it('sse: streams every answer', async () => {
    const { url } = await serve({ responseMode: 'sse' });
    const { client, answeredAs } = await recordingClient(url);
    await client.callTool({ name: 'echo', arguments: {} });
    await client.listTools();
    expect(answeredAs).toEqual(['text/event-stream', 'text/event-stream']);
    await client.close();
  });

  it('json: never streams; server→client requests of a call reach the client on its GET stream', async () => {
    const { url } = await serve({ responseMode: 'json' });
    const { client, answeredAs } = await recordingClient(url, { elicitation: { form: {} } });
    client.setRequestHandler('elicitation/create', async () => ({
      action: 'accept',
      content: { name: 'Grace' },
    }));
    expect(JSON.parse(text(await client.callTool({ name: 'ask', arguments: {} })))).toEqual({
      action: 'accept',
      content: { name: 'Grace' },
    });
    await client.callTool({ name: 'progress', arguments: {} }, { onprogress: () => undefined });
    expect(answeredAs).toEqual(['application/json', 'application/json']);
    await client.close();
  });

  it('stateless: answers JSON, and SSE when a call reports progress', async () => {
    const { url } = await serve({ mode: 'stateless' });
    const call = (id: number, name: string, meta?: Record<string, unknown>) =>
      fetch(url, {
        method: 'POST',
        headers: { ...JSON_HEADERS, 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name, arguments: { id }, ...(meta ? { _meta: meta } : {}) },
        }),
      });
    const plain = await call(1, 'echo');
    expect(plain.headers.get('content-type')).toBe('application/json');
    expect(await plain.json()).toMatchObject({ id: 1, result: { content: [{ text: '{"id":1}' }] } });
    const streamed = await call(2, 'progress', { progressToken: 't' });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream');
    const events = await streamed.text();
    expect(events.indexOf('notifications/progress')).toBeLessThan(events.indexOf('"id":2'));
  });

  it('refuses invalid options at creation', () => {
    const router = createRouter();
    expect(() => createStreamableHttpHandler({ router, responseMode: 'xml' as unknown as 'json' })).toThrow(
      /responseMode must be/,
    );
    expect(() => createStreamableHttpHandler({ router, streamAfterMs: -1 })).toThrow(/streamAfterMs/);
    router.close();
  });
});

describe('sessions bound to their principal', () => {
  it("answers another principal's requests on a session exactly like an unknown session", async () => {
    const { url } = await serve({ principalOf });
    const alice = { 'x-principal': 'alice' };
    const { sessionId, headers } = await openSession(url, alice);
    const ping = (extra: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { ...headers, ...extra },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
      });
    const unknown = await fetch(url, {
      method: 'POST',
      headers: { ...headers, ...alice, 'mcp-session-id': 'no-such-session' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }),
    });
    const unknownBody = await unknown.text();
    expect(unknown.status).toBe(404);

    const others: Array<Record<string, string>> = [{ 'x-principal': 'mallory' }, {}];
    for (const other of others) {
      const post = await ping(other);
      expect(post.status).toBe(404);
      expect(await post.text()).toBe(unknownBody);
      const get = await fetch(url, {
        method: 'GET',
        headers: { ...headers, ...other, accept: 'text/event-stream' },
      });
      expect(get.status).toBe(404);
      const replay = await fetch(url, {
        method: 'GET',
        headers: { ...headers, ...other, accept: 'text/event-stream', 'last-event-id': 'x_0' },
      });
      expect(replay.status).toBe(404);
      const del = await fetch(url, { method: 'DELETE', headers: { ...headers, ...other } });
      expect(del.status).toBe(404);
    }

    // The owner is unaffected: the session is still there and answers.
    const mine = await ping(alice);
    expect(mine.status).toBe(200);
    expect(await mine.json()).toEqual({ jsonrpc: '2.0', id: 9, result: {} });
    const ended = await fetch(url, { method: 'DELETE', headers: { ...headers, ...alice } });
    expect(ended.status).toBe(200);
    expect((await ping(alice)).status).toBe(404);
    expect(sessionId).toEqual(expect.any(String));
  });

  it('binds a session opened without a principal to "none"', async () => {
    const { url } = await serve({ principalOf });
    const { headers } = await openSession(url);
    const call = (extra: Record<string, string>) =>
      fetch(url, {
        method: 'POST',
        headers: { ...headers, ...extra },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      });
    expect((await call({ 'x-principal': 'alice' })).status).toBe(404);
    expect((await call({})).status).toBe(200);
  });
});

describe('2026-07-28 subscriptions/listen', () => {
  it('delivers resources/updated for the URIs a listen stream asked for, and only while it is open', async () => {
    const harness = await serve();
    const client = new Client({ name: 'modern', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(harness.url)));
    expect(client.getProtocolEra()).toBe('modern');
    const updated: string[] = [];
    client.setNotificationHandler('notifications/resources/updated', (notification) => {
      updated.push(notification.params.uri);
    });
    const subscription = await client.listen({ resourceSubscriptions: ['memo://one'] });
    expect(subscription.honoredFilter.resourceSubscriptions).toEqual(['memo://one']);
    await expect.poll(() => harness.upstreamCalls).toEqual(['resources/subscribe memo://one']);

    harness.push({ method: 'notifications/resources/updated', params: { uri: 'memo://other' } });
    harness.push({ method: 'notifications/resources/updated', params: { uri: 'memo://one' } });
    await expect.poll(() => updated).toEqual(['memo://one']);

    await subscription.close();
    await expect
      .poll(() => harness.upstreamCalls)
      .toEqual(['resources/subscribe memo://one', 'resources/unsubscribe memo://one']);
    await client.close();
  });
});

describe('2026-07-28 requestState', () => {
  it("is bound to the principal: another principal's retry is refused, the caller's own succeeds", async () => {
    const { url } = await serve({ principalOf });
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    };
    const call = async (principal: string, id: number, extra: Record<string, unknown> = {}) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          ...JSON_HEADERS,
          'x-principal': principal,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'ask',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id,
          method: 'tools/call',
          params: { name: 'ask', arguments: {}, _meta: meta, ...extra },
        }),
      });
      return (await response.json()) as {
        result?: { resultType?: string; requestState: string; inputRequests: Record<string, unknown> };
        error?: { code: number };
      };
    };
    const first = await call('alice', 1);
    expect(first.result?.resultType).toBe('input_required');
    const answer = (requestState: string) => ({
      requestState,
      inputResponses: {
        [Object.keys(first.result!.inputRequests)[0]!]: { action: 'accept', content: { name: 'Ada' } },
      },
    });
    const stolen = await call('mallory', 2, answer(first.result!.requestState));
    expect(stolen.error?.code).toBe(-32602);
    const own = await call('alice', 3, answer(first.result!.requestState));
    expect(own.result).toMatchObject({ content: [{ text: '{"action":"accept","content":{"name":"Ada"}}' }] });
  });
});
