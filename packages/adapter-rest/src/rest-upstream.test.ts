import { Hono } from 'hono';
import { RpcError, RpcErrorCode, type UpstreamChange } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import {
  callTool,
  callToolWith,
  disposableUpstream,
  startApiServer,
  textOf,
} from './api-server.test-support.ts';
import { parseRetryAfter } from './retry-after.ts';
import type { RestToolDefinition } from './tool-definition.ts';

const MiB = 1024 * 1024;

/** A REST tool against `origin`, GET by default, with fast retries. */
const tool = (origin: string, path: string, extra: Partial<RestToolDefinition> = {}): RestToolDefinition => ({
  name: 'call',
  method: 'GET',
  url: `${origin}${path}`,
  retry: { initialDelayMs: 10, maxDelayMs: 50 },
  ...extra,
});

/** A clock a test moves by hand. */
const manualClock = (start = Date.parse('2026-01-01T00:00:00Z')) => {
  let now = start;
  return { clock: () => new Date(now), advance: (ms: number) => (now += ms) };
};

describe('createRestUpstream: the Upstream contract', () => {
  it('lists its tools with schemas and annotations, is always ready, and refuses other methods', async () => {
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      tools: [
        tool('https://api.example.com', '/users/{id}', { name: 'get_user', description: 'One user.' }),
        tool('https://api.example.com', '/users/{id}', { name: 'delete_user', method: 'DELETE' }),
        tool('https://api.example.com', '/users', {
          name: 'create_user',
          method: 'POST',
          inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          outputSchema: { type: 'object', properties: { id: { type: 'integer' } } },
        }),
      ],
    });
    expect(upstream.getState().status).toBe('ready');
    expect(upstream.getCapabilities()).toEqual({ tools: { listChanged: true } });
    const [getUser, deleteUser, createUser] = upstream.getCatalog().tools;
    expect(getUser).toMatchObject({
      name: 'get_user',
      description: 'One user.',
      inputSchema: { type: 'object', required: ['id'] },
      annotations: { readOnlyHint: true, openWorldHint: true },
    });
    expect(deleteUser?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    expect(createUser).toMatchObject({
      outputSchema: { type: 'object' },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    });
    await expect(upstream.request('resources/list', {})).rejects.toMatchObject({
      code: RpcErrorCode.MethodNotFound,
    });
    await expect(callTool(upstream, 'nope')).rejects.toBeInstanceOf(RpcError);
  });

  it('refuses invalid definitions at creation, naming the tool and the problem', () => {
    const create = (tools: RestToolDefinition[]) => () => disposableUpstream({ id: 'x', name: 'x', tools });
    expect(create([tool('https://a.example', '/{id}', { name: 'bad name' })])).toThrow(/name/);
    expect(create([tool('https://{host}/x', '')])).toThrow(/scheme or host/);
    expect(create([tool('ftp://a.example', '/x')])).toThrow(/not an http or https URL/);
    expect(create([tool('https://a.example', '/x', { response: { select: 'items[' } })])).toThrow(
      /tool "call": response.select "items\[" is not a JMESPath expression/,
    );
    expect(
      create([
        tool('https://a.example', '/{id}', { inputSchema: { type: 'object', properties: { other: {} } } }),
      ]),
    ).toThrow(/argument "id" is used but not in the input schema/);
    expect(create([tool('https://a.example', '/x'), tool('https://a.example', '/y')])).toThrow(/two tools/);
    expect(create([tool('https://a.example', '/x', { body: { value: 'x' } })])).toThrow(
      /a GET request has no body/,
    );
  });

  it('replaceTools swaps the catalog in place and announces it', async () => {
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      tools: [tool('https://a.example', '/a', { name: 'a' })],
    });
    const changes: UpstreamChange[] = [];
    upstream.onChange((change) => changes.push(change));
    upstream.replaceTools([tool('https://a.example', '/b', { name: 'b' })]);
    expect(upstream.getCatalog().tools.map((entry) => entry.name)).toEqual(['b']);
    expect(changes).toEqual([{ type: 'catalog', kinds: ['tools'] }]);
    expect(() => upstream.replaceTools([tool('https://a.example', '/{x', { name: 'c' })])).not.toThrow();
    expect(() => upstream.replaceTools([{ name: 'd' } as RestToolDefinition])).toThrow(/invalid/);
    expect(upstream.getCatalog().tools.map((entry) => entry.name)).toEqual(['c']);

    const invalid: string[] = [];
    upstream.replaceTools(
      [
        tool('https://a.example', '/e', { name: 'e' }),
        tool('https://a.example', '/f', { name: 'f', response: { select: 'items[' } }),
        { name: 'g' } as RestToolDefinition,
      ],
      { onInvalid: (error, index) => invalid.push(`${index}: ${error.message}`) },
    );
    expect(upstream.getCatalog().tools.map((entry) => entry.name)).toEqual(['e']);
    expect(invalid).toEqual([
      expect.stringMatching(/^1: .*tool "f": response.select "items\[" is not a JMESPath expression/),
      expect.stringMatching(/^2: upstream "api" tool "g" is invalid at method/),
    ]);
  });
  it('close() ends calls in flight at once and refuses new ones', async () => {
    const app = new Hono();
    app.get('/hang', async (c) => {
      await new Promise((resolve) => {
        c.req.raw.signal.addEventListener('abort', resolve);
        setTimeout(resolve, 5000);
      });
      return c.text('late');
    });
    await using server = await startApiServer(app);
    const upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/hang')],
    });
    const call = callTool(upstream, 'call').then(
      () => undefined,
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await upstream.close();
    expect(await call).toMatchObject({ message: 'upstream "api" closed during tools/call' });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(upstream.getState().status).toBe('closed');
    await expect(callTool(upstream, 'call')).rejects.toThrow('upstream "api" is closed');
  });
});

describe('requests: mapping, auth, validation, shaping', () => {
  const echo = () => {
    const app = new Hono();
    const seen: Array<{ method: string; url: string; headers: Record<string, string>; body: string }> = [];
    app.all('*', async (c) => {
      const body = await c.req.text();
      const entry = { method: c.req.method, url: c.req.url, headers: c.req.header(), body };
      seen.push(entry);
      return c.json(entry);
    });
    return { app, seen };
  };

  it('fills path, query, header and body from arguments and static values', async () => {
    const { app, seen } = echo();
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/orgs/{org}/items', {
          method: 'POST',
          query: { tag: { from: 'tags' }, format: { value: 'full' }, missing: { from: 'absent' } },
          headers: { 'X-Request-Id': { from: 'requestId' } },
          body: { fields: { title: { from: 'title' }, kind: { value: 'note' } } },
          inputSchema: {
            type: 'object',
            properties: {
              org: { type: 'string' },
              tags: { type: 'array', items: { type: 'string' } },
              absent: { type: 'string' },
              requestId: { type: 'string' },
              title: { type: 'string' },
            },
            required: ['org'],
          },
        }),
      ],
    });
    const result = await callTool(upstream, 'call', {
      org: 'a/b c',
      tags: ['x', 'y'],
      requestId: 'r-1',
      title: 'Hello; "world"',
    });
    expect(result.isError).toBeUndefined();
    const [request] = seen;
    expect(request?.url).toBe(`${server.origin}/orgs/a%2Fb%20c/items?tag=x&tag=y&format=full`);
    expect(request?.headers['x-request-id']).toBe('r-1');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request?.body ?? '')).toEqual({ title: 'Hello; "world"', kind: 'note' });
    expect(result.structuredContent).toMatchObject({ method: 'POST' });
  });

  it('sends each auth style: bearer, basic, API key in a header and in the query', async () => {
    const { app, seen } = echo();
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/bearer', { name: 'bearer', auth: { type: 'bearer', token: 't0ken' } }),
        tool(server.origin, '/basic', {
          name: 'basic',
          auth: { type: 'basic', username: 'ada', password: 'pa:ss' },
        }),
        tool(server.origin, '/header', {
          name: 'header',
          auth: { type: 'apiKey', in: 'header', name: 'X-Api-Key', value: 'k1' },
        }),
        tool(server.origin, '/query', {
          name: 'query',
          auth: { type: 'apiKey', in: 'query', name: 'api_key', value: 'k2' },
        }),
      ],
    });
    for (const name of ['bearer', 'basic', 'header', 'query']) await callTool(upstream, name);
    expect(seen.map((request) => request.headers.authorization)).toEqual([
      'Bearer t0ken',
      `Basic ${Buffer.from('ada:pa:ss').toString('base64')}`,
      undefined,
      undefined,
    ]);
    expect(seen[2]?.headers['x-api-key']).toBe('k1');
    expect(new URL(seen[3]?.url ?? '').searchParams.get('api_key')).toBe('k2');
  });

  it('validates arguments before any request, naming the field', async () => {
    const { app } = echo();
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/items/{id}', {
          query: { count: { from: 'count' } },
          inputSchema: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              count: { type: 'integer', minimum: 1 },
              filter: { type: 'object', properties: { since: { type: 'string', format: 'date' } } },
            },
            required: ['id'],
            additionalProperties: false,
          },
        }),
      ],
    });
    const wrongType = await callTool(upstream, 'call', { id: 'a', count: 'ten' });
    expect(wrongType.isError).toBe(true);
    expect(textOf(wrongType)).toBe('Invalid arguments for tool "call": count must be integer');
    const missing = await callTool(upstream, 'call', { count: 2 });
    expect(textOf(missing)).toContain('missing required "id"');
    const nested = await callTool(upstream, 'call', { id: 'a', filter: { since: 'yesterday' } });
    expect(textOf(nested)).toContain('filter.since must match format "date"');
    const unknown = await callTool(upstream, 'call', { id: 'a', colour: 'red' });
    expect(textOf(unknown)).toContain('unknown "colour"');
    const traversal = await callTool(upstream, 'call', { id: '..' });
    expect(textOf(traversal)).toContain('"id" may not be ".."');
    expect(server.connections()).toBe(0);
  });

  it('forwards the W3C traceparent from the call _meta', async () => {
    const { app, seen } = echo();
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/traced')],
    });
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await callToolWith(upstream, { name: 'call', _meta: { traceparent, tracestate: 'congo=t61rcWkgMzE' } });
    await callToolWith(upstream, { name: 'call', _meta: { traceparent: 'garbage' } });
    expect(seen[0]?.headers.traceparent).toBe(traceparent);
    expect(seen[0]?.headers.tracestate).toBe('congo=t61rcWkgMzE');
    expect(seen[1]?.headers.traceparent).toBeUndefined();
  });

  it('shapes JSON with JMESPath into structuredContent and text', async () => {
    const app = new Hono();
    app.get('/users', (c) =>
      c.json({
        total: 3,
        items: [
          { id: 1, name: 'Ada', email: 'ada@example.com' },
          { id: 2, name: 'Grace', email: 'grace@example.com' },
          { id: 3, name: 'Linus', email: 'linus@example.com' },
        ],
      }),
    );
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/users', { name: 'names', response: { select: 'items[?id > `1`].name' } }),
        tool(server.origin, '/users', {
          name: 'first',
          response: { select: 'items[0].{id: id, name: name}' },
          outputSchema: {
            type: 'object',
            properties: { id: { type: 'integer' }, name: { type: 'string' } },
            required: ['id', 'name'],
          },
        }),
        tool(server.origin, '/users', {
          name: 'strict',
          response: { select: 'items[0]' },
          outputSchema: { type: 'object', properties: { id: { type: 'string' } } },
        }),
      ],
    });
    const names = await callTool(upstream, 'names');
    expect(names.structuredContent).toEqual({ result: ['Grace', 'Linus'] });
    expect(textOf(names)).toBe('["Grace","Linus"]');
    const first = await callTool(upstream, 'first');
    expect(first.structuredContent).toEqual({ id: 1, name: 'Ada' });
    const strict = await callTool(upstream, 'strict');
    expect(strict.isError).toBe(true);
    expect(textOf(strict)).toContain("does not match the tool's output schema: id must be string");
  });

  it('returns images, audio and other binaries as MCP content by content type', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
    const app = new Hono();
    app.get('/logo.png', (c) => c.body(new Uint8Array(png), 200, { 'content-type': 'image/png' }));
    app.get('/beep.wav', (c) =>
      c.body(new Uint8Array([82, 73, 70, 70]), 200, { 'content-type': 'audio/wav' }),
    );
    app.get('/report.pdf', (c) =>
      c.body(new Uint8Array([37, 80, 68, 70]), 200, { 'content-type': 'application/pdf' }),
    );
    app.get('/hello.txt', (c) => c.text('hello'));
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/logo.png', { name: 'image' }),
        tool(server.origin, '/beep.wav', { name: 'audio' }),
        tool(server.origin, '/report.pdf', { name: 'pdf' }),
        tool(server.origin, '/hello.txt', { name: 'text' }),
      ],
    });
    expect((await callTool(upstream, 'image')).content).toEqual([
      { type: 'image', data: png.toString('base64'), mimeType: 'image/png' },
    ]);
    expect((await callTool(upstream, 'audio')).content).toEqual([
      { type: 'audio', data: 'UklGRg==', mimeType: 'audio/wav' },
    ]);
    expect((await callTool(upstream, 'pdf')).content).toEqual([
      {
        type: 'resource',
        resource: { uri: `${server.origin}/report.pdf`, mimeType: 'application/pdf', blob: 'JVBERg==' },
      },
    ]);
    expect((await callTool(upstream, 'text')).content).toEqual([{ type: 'text', text: 'hello' }]);
  });

  it('returns an API error status as a tool error with the body', async () => {
    const app = new Hono();
    app.get('/missing', (c) => c.json({ message: 'Not Found' }, 404));
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/missing', {
          auth: { type: 'apiKey', in: 'query', name: 'key', value: 's3cret' },
        }),
      ],
    });
    const result = await callTool(upstream, 'call');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe(
      `HTTP 404 Not Found from GET ${server.origin}/missing: {"message":"Not Found"}`,
    );
    expect(textOf(result)).not.toContain('s3cret');
  });
});

describe('reliability: retries, timeouts, limits, circuit breaker', () => {
  it('honours Retry-After on 429, then succeeds', async () => {
    const app = new Hono();
    const arrivals: number[] = [];
    app.get('/busy', (c) => {
      arrivals.push(performance.now());
      return arrivals.length === 1 ? c.text('slow down', 429, { 'retry-after': '1' }) : c.json({ ok: true });
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/busy')],
    });
    const progress: string[] = [];
    const result = (await upstream.request(
      'tools/call',
      { name: 'call', arguments: {} },
      { onProgress: (update) => progress.push(update.message ?? '') },
    )) as { structuredContent?: unknown };
    expect(result.structuredContent).toEqual({ ok: true });
    expect(arrivals).toHaveLength(2);
    expect((arrivals[1] ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThanOrEqual(950);
    expect(progress).toEqual(['retrying after HTTP 429 (attempt 2 of 3)']);
  });

  it('gives up at once when Retry-After exceeds the cap', async () => {
    const app = new Hono();
    let count = 0;
    app.get('/busy', (c) => {
      count += 1;
      return c.text('come back in two minutes', 429, { 'retry-after': '120' });
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/busy', { retry: { maxRetryAfterMs: 5000 } })],
    });
    const result = await callTool(upstream, 'call');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('HTTP 429');
    expect(textOf(result)).toContain('Retry-After of 120 s exceeds the 5 s cap');
    expect(count).toBe(1);
  });

  it('retries 503 for idempotent methods only', async () => {
    const app = new Hono();
    const counts = { get: 0, post: 0 };
    app.get('/flaky', (c) => (++counts.get === 1 ? c.text('down', 503) : c.json({ ok: true })));
    app.post('/flaky', (c) => (++counts.post === 1 ? c.text('down', 503) : c.json({ ok: true })));
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/flaky', { name: 'get' }),
        tool(server.origin, '/flaky', { name: 'post', method: 'POST' }),
      ],
    });
    expect((await callTool(upstream, 'get')).structuredContent).toEqual({ ok: true });
    const post = await callTool(upstream, 'post');
    expect(post.isError).toBe(true);
    expect(textOf(post)).toContain('HTTP 503');
    expect(counts).toEqual({ get: 2, post: 1 });
  });

  it('retries network errors for idempotent methods, then reports the cause', async () => {
    const server = await startApiServer(new Hono());
    const { origin, port } = server;
    await server.close(); // nothing listens there any more: every connection is refused
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${port}`],
      tools: [tool(origin, '/gone')],
    });
    const result = await callTool(upstream, 'call');
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(
      new RegExp(`^GET ${origin}/gone failed: .*ECONNREFUSED.* \\(gave up after 3 attempts\\)$`),
    );
  });

  it('times out a hanging API per attempt, retries, and stops at the attempt limit and the time budget', async () => {
    const app = new Hono();
    let count = 0;
    app.get('/hang', async (c) => {
      count += 1;
      await new Promise((resolve) => {
        c.req.raw.signal.addEventListener('abort', resolve);
        setTimeout(resolve, 5000);
      });
      return c.text('too late');
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/hang', {
          name: 'attempts',
          timeoutMs: 150,
          retry: { maxAttempts: 3, initialDelayMs: 10 },
        }),
        tool(server.origin, '/hang', {
          name: 'budget',
          timeoutMs: 200,
          retry: { maxAttempts: 10, maxTotalMs: 500, initialDelayMs: 10 },
        }),
      ],
    });
    const started = performance.now();
    const attempts = await callTool(upstream, 'attempts');
    expect(attempts.isError).toBe(true);
    expect(textOf(attempts)).toContain(
      'timed out: no complete answer within 150 ms (gave up after 3 attempts)',
    );
    expect(count).toBe(3);
    expect(performance.now() - started).toBeLessThan(2000);

    count = 0;
    const budget = await callTool(upstream, 'budget');
    expect(budget.isError).toBe(true);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(count).toBeLessThanOrEqual(3);
  });

  it('bounds a slow body by the attempt timeout', async () => {
    const app = new Hono();
    app.get('/drip', () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          controller.enqueue(new TextEncoder().encode(`chunk ${sent}\n`));
          if (++sent === 20) controller.close();
        },
      });
      return new Response(body, { headers: { 'content-type': 'text/plain' } });
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/drip', { name: 'impatient', timeoutMs: 400, retry: { maxAttempts: 1 } }),
        tool(server.origin, '/drip', { name: 'patient', timeoutMs: 5000 }),
      ],
    });
    const impatient = await callTool(upstream, 'impatient');
    expect(impatient.isError).toBe(true);
    expect(textOf(impatient)).toContain('timed out');
    const patient = await callTool(upstream, 'patient');
    expect(textOf(patient).split('\n')).toHaveLength(21);
  });

  it('cuts a 50 MiB body at the cap without reading the rest', async () => {
    const app = new Hono();
    let produced = 0;
    const total = 50 * MiB;
    app.get('/huge', () => {
      const chunk = new Uint8Array(64 * 1024).fill(97);
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= total) {
            controller.close();
            return;
          }
          produced += chunk.byteLength;
          controller.enqueue(chunk);
        },
      });
      return new Response(body, {
        headers: { 'content-type': 'text/plain', 'content-length': String(total) },
      });
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/huge')],
    });
    const before = process.memoryUsage().arrayBuffers;
    const result = await callTool(upstream, 'call');
    const text = textOf(result);
    expect(text.endsWith('…[truncated: 1048576 of 52428800 bytes]')).toBe(true);
    expect(text.length).toBe(MiB + '…[truncated: 1048576 of 52428800 bytes]'.length);
    // The server stopped producing once the client hung up: most of the 50 MiB never existed.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(produced).toBeLessThan(16 * MiB);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(24 * MiB);
  });

  it('enforces a rate limit: calls over it fail with a tool error, tokens refill with time', async () => {
    const app = new Hono();
    let count = 0;
    app.get('/limited', (c) => c.json({ call: ++count }));
    await using server = await startApiServer(app);
    const time = manualClock();
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      clock: time.clock,
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/limited', { rateLimit: { limit: 2, intervalMs: 60_000 }, queueTimeoutMs: 0 }),
      ],
    });
    expect((await callTool(upstream, 'call')).isError).toBeUndefined();
    expect((await callTool(upstream, 'call')).isError).toBeUndefined();
    const over = await callTool(upstream, 'call');
    expect(over.isError).toBe(true);
    expect(textOf(over)).toBe(
      'tool "call" is over its rate limit of 2 calls per 60000 ms; try again in 30 s',
    );
    expect(count).toBe(2);
    time.advance(30_000);
    expect((await callTool(upstream, 'call')).structuredContent).toEqual({ call: 3 });
  });

  it('keeps rate and concurrency state across replaceTools while a tool keeps its limits', async () => {
    const app = new Hono();
    let count = 0;
    app.get('/limited', (c) => c.json({ call: ++count }));
    await using server = await startApiServer(app);
    const limited = tool(server.origin, '/limited', {
      name: 'limited',
      rateLimit: { limit: 1, intervalMs: 60_000 },
      queueTimeoutMs: 0,
    });
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [limited],
    });
    expect((await callTool(upstream, 'limited')).isError).toBeUndefined();
    // A registry reload recompiles every tool: the one whose limits did not change keeps its spent bucket.
    upstream.replaceTools([limited, tool(server.origin, '/other', { name: 'other' })]);
    expect(textOf(await callTool(upstream, 'limited'))).toContain('is over its rate limit of 1 calls');
    // New limits start a new bucket.
    upstream.replaceTools([{ ...limited, rateLimit: { limit: 2, intervalMs: 60_000 } }]);
    expect((await callTool(upstream, 'limited')).structuredContent).toEqual({ call: 2 });
    expect(count).toBe(2);
  });

  it('enforces a concurrency limit: a call waits for a slot up to the queue timeout, then fails', async () => {
    const app = new Hono();
    let inFlight = 0;
    let maxInFlight = 0;
    let open: () => void = () => undefined;
    let gate = new Promise<void>((resolve) => (open = resolve));
    app.get('/slow', async (c) => {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await gate;
      inFlight -= 1;
      return c.json({ ok: true });
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/slow', { name: 'quick_fail', maxConcurrent: 1, queueTimeoutMs: 100 }),
        tool(server.origin, '/slow', { name: 'waits', maxConcurrent: 1, queueTimeoutMs: 5000 }),
      ],
    });
    const first = callTool(upstream, 'quick_fail');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const rejected = await callTool(upstream, 'quick_fail');
    expect(rejected.isError).toBe(true);
    expect(textOf(rejected)).toBe(
      'tool "quick_fail" already runs 1 calls at once (its concurrency limit) and no slot freed within 100 ms; try again shortly',
    );
    open();
    expect((await first).structuredContent).toEqual({ ok: true });

    gate = new Promise<void>((resolve) => (open = resolve));
    maxInFlight = 0;
    const calls = [callTool(upstream, 'waits'), callTool(upstream, 'waits'), callTool(upstream, 'waits')];
    await new Promise((resolve) => setTimeout(resolve, 100));
    open();
    const results = await Promise.all(calls);
    expect(results.every((result) => result.isError === undefined)).toBe(true);
    expect(maxInFlight).toBe(1);
  });

  it('opens the circuit for a host after consecutive failures, fails fast, then half-opens after the cool-down', async () => {
    const app = new Hono();
    let healthy = false;
    let count = 0;
    app.get('/fragile', (c) => {
      count += 1;
      return healthy ? c.json({ ok: true }) : c.text('boom', 500);
    });
    await using server = await startApiServer(app);
    const time = manualClock();
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      clock: time.clock,
      circuitBreaker: { failureThreshold: 2, coolDownMs: 10_000 },
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/fragile', { name: 'a' }), tool(server.origin, '/fragile', { name: 'b' })],
    });
    expect(textOf(await callTool(upstream, 'a'))).toContain('HTTP 500');
    expect(textOf(await callTool(upstream, 'b'))).toContain('HTTP 500');
    const fast = await callTool(upstream, 'a');
    expect(fast.isError).toBe(true);
    expect(textOf(fast)).toBe(
      `circuit open for 127.0.0.1:${server.port}: 2 consecutive failures; calls to it fail fast for another 10 s`,
    );
    expect(count).toBe(2);

    time.advance(10_000); // half-open: one trial goes through, fails, and the circuit opens again
    expect(textOf(await callTool(upstream, 'a'))).toContain('HTTP 500');
    expect(textOf(await callTool(upstream, 'b'))).toContain('circuit open');
    expect(count).toBe(3);

    time.advance(10_000);
    healthy = true;
    expect((await callTool(upstream, 'b')).structuredContent).toEqual({ ok: true });
    expect((await callTool(upstream, 'a')).structuredContent).toEqual({ ok: true });
    expect(count).toBe(5);
  });

  it('gets an OAuth client-credentials token once, refreshes it before expiry, and retries once on 401', async () => {
    const app = new Hono();
    let issued = 0;
    const valid = new Set<string>();
    const apiCalls: string[] = [];
    app.post('/oauth/token', async (c) => {
      const form = await c.req.parseBody();
      const expected = `Basic ${Buffer.from('client-1:s3cret').toString('base64')}`;
      if (c.req.header('authorization') !== expected || form.grant_type !== 'client_credentials') {
        return c.json({ error: 'invalid_client' }, 401);
      }
      const token = `token-${++issued}`;
      valid.add(token);
      return c.json({ access_token: token, token_type: 'Bearer', expires_in: 3600, scope: form.scope });
    });
    app.get('/me', (c) => {
      const token = c.req.header('authorization')?.replace('Bearer ', '') ?? '';
      apiCalls.push(token);
      return valid.has(token) ? c.json({ token }) : c.json({ error: 'invalid_token' }, 401);
    });
    await using server = await startApiServer(app);
    const time = manualClock();
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'api',
      clock: time.clock,
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [
        tool(server.origin, '/me', {
          auth: {
            type: 'oauth2ClientCredentials',
            tokenUrl: `${server.origin}/oauth/token`,
            clientId: 'client-1',
            clientSecret: 's3cret',
            scopes: ['read'],
          },
        }),
      ],
    });
    const twoAtOnce = await Promise.all([callTool(upstream, 'call'), callTool(upstream, 'call')]);
    expect(twoAtOnce.map((result) => result.structuredContent)).toEqual([
      { token: 'token-1' },
      { token: 'token-1' },
    ]);
    expect(issued).toBe(1);

    time.advance(3000 * 1000); // 50 minutes: still fresh
    expect((await callTool(upstream, 'call')).structuredContent).toEqual({ token: 'token-1' });
    time.advance(550 * 1000); // 59 min 10 s: within a minute of expiry, refreshed before use
    expect((await callTool(upstream, 'call')).structuredContent).toEqual({ token: 'token-2' });
    expect(issued).toBe(2);

    valid.clear(); // the API revokes every token: one 401, a fresh token, one retry
    apiCalls.length = 0;
    expect((await callTool(upstream, 'call')).structuredContent).toEqual({ token: 'token-3' });
    expect(apiCalls).toEqual(['token-2', 'token-3']);
    expect(issued).toBe(3);
  });

  it('turns the router timeout into a RequestTimeout error', async () => {
    const app = new Hono();
    app.get('/hang', async (c) => {
      await new Promise((resolve) => {
        c.req.raw.signal.addEventListener('abort', resolve);
        setTimeout(resolve, 5000);
      });
      return c.text('late');
    });
    await using server = await startApiServer(app);
    await using upstream = disposableUpstream({
      id: 'api',
      name: 'slow-api',
      outboundAllow: [`127.0.0.1:${server.port}`],
      tools: [tool(server.origin, '/hang')],
    });
    await expect(
      upstream.request('tools/call', { name: 'call', arguments: {} }, { timeoutMs: 200 }),
    ).rejects.toMatchObject({
      code: RpcErrorCode.RequestTimeout,
      message: 'upstream "slow-api" did not answer tools/call within 200 ms',
    });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 21 Oct 2026 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
