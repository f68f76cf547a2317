import { setTimeout as sleep } from 'node:timers/promises';
import {
  RpcError,
  RpcErrorCode,
  type Upstream,
  type UpstreamChange,
  type UpstreamStatus,
} from '@mcp-gateway/core';
import {
  InMemoryTransport,
  McpServer,
  ProtocolError,
  ResourceTemplate,
  Server,
  type Transport,
} from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { createMcpUpstream, toRpcError, type McpUpstreamOptions } from './mcp-upstream.ts';

/** Every wait in this file gives up after this long, so a broken behaviour fails instead of hanging. */
const WAIT_MS = 5_000;
const FAST_BACKOFF = { initialMs: 5, maxMs: 20 };

type AnyServer = McpServer | Server;

/** Serves a fresh server per connection attempt over linked in-memory transports, like a respawned child. */
interface ServedUpstream {
  /** The `connect` option: a new linked pair and a new server each time. */
  connect: () => Promise<Transport>;
  /** How many times `connect` was called. */
  readonly connects: number;
  /** The server of the latest connection. */
  readonly server: AnyServer;
  /** The server side of the latest connection; closing it drops the connection. */
  readonly serverTransport: InMemoryTransport;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function serve(createServer: () => AnyServer): ServedUpstream {
  let connects = 0;
  let server: AnyServer | undefined;
  let serverTransport: InMemoryTransport | undefined;
  const served: ServedUpstream = {
    async connect() {
      connects += 1;
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const next = createServer();
      await next.connect(serverSide);
      cleanups.push(() => next.close());
      server = next;
      serverTransport = serverSide;
      return clientSide;
    },
    get connects() {
      return connects;
    },
    get server() {
      if (!server) throw new Error('not connected yet');
      return server;
    },
    get serverTransport() {
      if (!serverTransport) throw new Error('not connected yet');
      return serverTransport;
    },
  };
  return served;
}

function newUpstream(options: Partial<McpUpstreamOptions> & Pick<McpUpstreamOptions, 'connect'>): Upstream {
  const upstream = createMcpUpstream({
    id: 'upstream-1',
    name: 'fixture',
    keepAliveMs: 0,
    timeoutMs: 2_000,
    connectTimeoutMs: 2_000,
    backoff: FAST_BACKOFF,
    ...options,
  });
  cleanups.push(() => upstream.close());
  return upstream;
}

/** Records every change an upstream emits. */
function recordChanges(upstream: Upstream): UpstreamChange[] {
  const changes: UpstreamChange[] = [];
  upstream.onChange((change) => changes.push(change));
  return changes;
}

const statusesOf = (changes: UpstreamChange[]): UpstreamStatus[] =>
  changes.flatMap((change) => (change.type === 'state' ? [change.state.status] : []));

/** Resolves once `predicate` holds, checking after every change and every few milliseconds. */
async function waitFor(predicate: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

const waitForStatus = (upstream: Upstream, status: UpstreamStatus, timeoutMs = WAIT_MS) =>
  waitFor(
    () => upstream.getState().status === status,
    `status ${status} (now ${JSON.stringify(upstream.getState())})`,
    timeoutMs,
  );

/** Resolves to the RpcError a call rejected with, or fails the test when it did not reject with one. */
async function rpcErrorOf(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with an RpcError');
}

/** Timers and handles that keep the event loop alive right now. */
const activeTimers = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

/** A small but complete server: a tool, a slow tool, a prompt, a resource and a resource template. */
function fixtureServer(): McpServer {
  const server = new McpServer(
    { name: 'fixture-server', version: '1.2.3' },
    { capabilities: { tools: { listChanged: true }, prompts: {}, resources: {} } },
  );
  server.registerTool(
    'echo',
    { description: 'Echoes.', inputSchema: z.object({ message: z.string() }) },
    ({ message }) => ({ content: [{ type: 'text', text: `Echo: ${message}` }] }),
  );
  server.registerTool('hang', { description: 'Never answers until cancelled.' }, (ctx) => {
    const { signal } = ctx.mcpReq;
    return new Promise((_, reject) => {
      signal.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
    });
  });
  server.registerTool(
    'progress',
    { description: 'Reports progress, then answers.', inputSchema: z.object({ steps: z.number() }) },
    async ({ steps }, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      for (let step = 1; step <= steps; step++) {
        if (progressToken !== undefined) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress: step, total: steps, message: `step ${step}` },
          });
        }
        await sleep(5);
      }
      return { content: [{ type: 'text', text: 'done' }] };
    },
  );
  server.registerPrompt('greet', { description: 'Greets.' }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'Hello' } }],
  }));
  server.registerResource('info', 'mem://info', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: 'info' }],
  }));
  server.registerResource(
    'item',
    new ResourceTemplate('mem://items/{id}', { list: undefined }),
    { mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri: uri.href, text: 'item' }] }),
  );
  return server;
}

describe('createMcpUpstream', () => {
  it('rejects invalid backoff options at creation', () => {
    expect(() =>
      createMcpUpstream({
        id: 'x',
        name: 'x',
        connect: () => Promise.reject(new Error('unused')),
        backoff: { initialMs: 0 },
      }),
    ).toThrow(/initialMs/);
  });

  it('connects, lists the whole catalog and becomes ready', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect });
    const changes = recordChanges(upstream);
    expect(upstream.getState()).toEqual({ status: 'connecting', reconnects: 0 });
    upstream.start();
    upstream.start();
    await waitForStatus(upstream, 'ready');

    expect(served.connects).toBe(1);
    const catalog = upstream.getCatalog();
    expect(catalog.tools.map((t) => t.name).sort()).toEqual(['echo', 'hang', 'progress']);
    expect(catalog.tools.find((t) => t.name === 'echo')?.inputSchema).toMatchObject({
      type: 'object',
      properties: { message: { type: 'string' } },
    });
    expect(catalog.prompts.map((p) => p.name)).toEqual(['greet']);
    expect(catalog.resources.map((r) => r.uri)).toEqual(['mem://info']);
    expect(catalog.resourceTemplates.map((t) => t.uriTemplate)).toEqual(['mem://items/{id}']);
    expect(upstream.getCapabilities()).toMatchObject({
      tools: { listChanged: true },
      prompts: {},
      resources: {},
    });

    const state = upstream.getState();
    expect(state).toMatchObject({ status: 'ready', reconnects: 0, serverInfo: { name: 'fixture-server' } });
    expect(state.connectedAt).toBeInstanceOf(Date);
    expect(typeof state.protocolVersion).toBe('string');
    expect(changes).toContainEqual({ type: 'catalog', kinds: ['tools', 'prompts', 'resources'] });
  });

  it('fetches every page of a paginated list', async () => {
    const cursorsSeen: Array<string | undefined> = [];
    const pages: Record<string, { names: string[]; nextCursor?: string }> = {
      start: { names: ['t1', 't2'], nextCursor: 'page-2' },
      'page-2': { names: ['t3', 't4'], nextCursor: 'page-3' },
      'page-3': { names: ['t5'] },
    };
    const served = serve(() => {
      const server = new Server({ name: 'paged', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler('tools/list', (request) => {
        const cursor = request.params?.cursor;
        cursorsSeen.push(cursor);
        const page = pages[cursor ?? 'start'];
        if (!page) throw new ProtocolError(-32602, `bad cursor ${cursor}`);
        return {
          tools: page.names.map((name) => ({ name, inputSchema: { type: 'object' as const } })),
          ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
        };
      });
      return server;
    });
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');

    expect(upstream.getCatalog().tools.map((t) => t.name)).toEqual(['t1', 't2', 't3', 't4', 't5']);
    expect(cursorsSeen).toEqual([undefined, 'page-2', 'page-3']);
    // The server offers neither prompts nor resources, so they are not asked for.
    expect(upstream.getCatalog().prompts).toEqual([]);
    expect(upstream.getCatalog().resources).toEqual([]);
  });

  it('treats a missing resources/templates/list as an empty list', async () => {
    const served = serve(() => {
      const server = new Server(
        { name: 'no-templates', version: '1.0.0' },
        { capabilities: { resources: {} } },
      );
      server.setRequestHandler('resources/list', () => ({
        resources: [{ uri: 'mem://only', name: 'only' }],
      }));
      return server;
    });
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');
    expect(upstream.getCatalog().resources.map((r) => r.uri)).toEqual(['mem://only']);
    expect(upstream.getCatalog().resourceTemplates).toEqual([]);
  });

  it('fails the connection when a server repeats a cursor', async () => {
    const served = serve(() => {
      const server = new Server({ name: 'loop', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler('tools/list', () => ({ tools: [], nextCursor: 'same' }));
      return server;
    });
    const upstream = newUpstream({ connect: served.connect, crashLoopFailures: 1 });
    upstream.start();
    await waitForStatus(upstream, 'unhealthy');
    expect(upstream.getState().lastError).toContain('repeated the cursor "same"');
  });

  it('re-lists on list_changed and reports a catalog change', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');
    const changes = recordChanges(upstream);

    (served.server as McpServer).registerTool('added_later', { description: 'New.' }, () => ({
      content: [],
    }));
    await waitFor(
      () => changes.some((c) => c.type === 'catalog'),
      'a catalog change after tools/list_changed',
    );

    expect(changes).toEqual([{ type: 'catalog', kinds: ['tools'] }]);
    expect(upstream.getCatalog().tools.map((t) => t.name)).toContain('added_later');
    // Other kinds are kept as they were.
    expect(upstream.getCatalog().prompts.map((p) => p.name)).toEqual(['greet']);
  });

  it('passes a result through unchanged', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');

    expect(await upstream.request('tools/call', { name: 'echo', arguments: { message: 'hi' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: hi' }],
    });
    expect(await upstream.request('resources/read', { uri: 'mem://items/7' })).toMatchObject({
      contents: [{ uri: 'mem://items/7', text: 'item' }],
    });
  });

  it('relays progress of a call', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');

    const progress: unknown[] = [];
    const result = await upstream.request(
      'tools/call',
      { name: 'progress', arguments: { steps: 2 } },
      { onProgress: (update) => progress.push(update) },
    );
    expect(result).toEqual({ content: [{ type: 'text', text: 'done' }] });
    expect(progress).toEqual([
      { progress: 1, total: 2, message: 'step 1' },
      { progress: 2, total: 2, message: 'step 2' },
    ]);
  });

  it('keeps the code, message and data of an upstream JSON-RPC error', async () => {
    const served = serve(() => {
      const server = new Server({ name: 'erroring', version: '1.0.0' }, { capabilities: { tools: {} } });
      server.setRequestHandler('tools/list', () => ({ tools: [] }));
      server.setRequestHandler('tools/call', () => {
        throw new ProtocolError(-32042, 'the upstream refused', { reason: 'quota' });
      });
      return server;
    });
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');

    const error = await rpcErrorOf(upstream.request('tools/call', { name: 'anything' }));
    expect(error).toMatchObject({ code: -32042, message: 'the upstream refused', data: { reason: 'quota' } });

    const notFound = await rpcErrorOf(upstream.request('prompts/get', { name: 'x' }));
    expect(notFound.code).toBe(RpcErrorCode.MethodNotFound);
    expect(notFound.message).not.toMatch(/^MCP error/);
  });

  it('fails a call that takes too long with -32001 naming the upstream', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect, timeoutMs: 100 });
    upstream.start();
    await waitForStatus(upstream, 'ready');

    const startedAt = Date.now();
    const error = await rpcErrorOf(upstream.request('tools/call', { name: 'hang' }));
    expect(error.code).toBe(RpcErrorCode.RequestTimeout);
    expect(error.message).toBe('upstream "fixture" did not answer tools/call within 100 ms');
    expect(Date.now() - startedAt).toBeLessThan(2_000);

    const perCall = await rpcErrorOf(upstream.request('tools/call', { name: 'hang' }, { timeoutMs: 30 }));
    expect(perCall.message).toContain('within 30 ms');
    // The session survives a timeout.
    expect(upstream.getState().status).toBe('ready');
    expect(await upstream.request('tools/call', { name: 'echo', arguments: { message: 'still' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: still' }],
    });
  });

  it('fails a call cancelled by the caller', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');

    const controller = new AbortController();
    const call = upstream.request('tools/call', { name: 'hang' }, { signal: controller.signal });
    controller.abort(new Error('client went away'));
    const error = await rpcErrorOf(call);
    expect(error.message).toContain('"fixture"');
  });

  it('reconnects with a new transport when the connection closes', async () => {
    const served = serve(fixtureServer);
    const upstream = newUpstream({ connect: served.connect });
    upstream.start();
    await waitForStatus(upstream, 'ready');
    const firstConnectedAt = upstream.getState().connectedAt;
    const changes = recordChanges(upstream);

    await served.serverTransport.close();
    await waitFor(() => served.connects === 2 && upstream.getState().status === 'ready', 'a reconnect');

    expect(statusesOf(changes)).toContain('reconnecting');
    expect(statusesOf(changes).at(-1)).toBe('ready');
    const state = upstream.getState();
    expect(state.reconnects).toBe(1);
    expect(state.lastError).toBe('session: connection closed');
    expect(state.connectedAt).not.toBe(firstConnectedAt);
    expect(changes).toContainEqual({ type: 'catalog', kinds: ['tools', 'prompts', 'resources'] });
    expect(await upstream.request('tools/call', { name: 'echo', arguments: { message: 'again' } })).toEqual({
      content: [{ type: 'text', text: 'Echo: again' }],
    });
  });

  it('keeps the catalog while reconnecting and lets a call wait for the new session', async () => {
    const served = serve(fixtureServer);
    let failNext = false;
    const upstream = newUpstream({
      connect: async () => {
        if (failNext) {
          failNext = false;
          throw new Error('not yet');
        }
        return served.connect();
      },
      backoff: { initialMs: 50, maxMs: 100 },
    });
    upstream.start();
    await waitForStatus(upstream, 'ready');
    const tools = upstream.getCatalog().tools;

    failNext = true;
    await served.serverTransport.close();
    await waitForStatus(upstream, 'reconnecting');
    expect(upstream.getCatalog().tools).toBe(tools);

    const result = await upstream.request('tools/call', { name: 'echo', arguments: { message: 'waited' } });
    expect(result).toEqual({ content: [{ type: 'text', text: 'Echo: waited' }] });
    expect(upstream.getState()).toMatchObject({ status: 'ready', reconnects: 1 });
  });

  it('marks a crash loop unhealthy and fails calls at once, then recovers', async () => {
    let attempts = 0;
    let healthy = false;
    const served = serve(fixtureServer);
    const upstream = newUpstream({
      connect: async () => {
        attempts += 1;
        if (!healthy) throw new Error('spawn fixture-server ENOENT');
        return served.connect();
      },
      crashLoopFailures: 3,
      timeoutMs: 10_000,
    });
    const changes = recordChanges(upstream);
    let attemptsWhenUnhealthy: number | undefined;
    upstream.onChange((change) => {
      if (change.type === 'state' && change.state.status === 'unhealthy') attemptsWhenUnhealthy ??= attempts;
    });
    upstream.start();
    await waitForStatus(upstream, 'unhealthy');

    expect(attemptsWhenUnhealthy).toBe(3);
    expect(statusesOf(changes).slice(0, 3)).toEqual(['connecting', 'connecting', 'unhealthy']);
    const state = upstream.getState();
    expect(state.lastError).toBe('connect: spawn fixture-server ENOENT');
    expect(state.lastErrorAt).toBeInstanceOf(Date);

    const startedAt = Date.now();
    const error = await rpcErrorOf(upstream.request('tools/call', { name: 'echo' }));
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(error.code).toBe(RpcErrorCode.InternalError);
    expect(error.message).toBe(
      'upstream "fixture" is unavailable for tools/call: unhealthy; last error: connect: spawn fixture-server ENOENT',
    );
    expect(error.data).toEqual({ upstream: 'fixture', status: 'unhealthy' });

    // Retries go on (slowly) and the first success makes it ready again.
    healthy = true;
    await waitForStatus(upstream, 'ready');
    expect(upstream.getCatalog().tools.length).toBeGreaterThan(0);
  });

  it('fails the handshake of a server that never answers within connectTimeoutMs', async () => {
    const upstream = newUpstream({
      // The server side of the pair is never started, so initialize goes unanswered.
      connect: () => InMemoryTransport.createLinkedPair()[0],
      connectTimeoutMs: 50,
      crashLoopFailures: 1,
    });
    upstream.start();
    await waitForStatus(upstream, 'unhealthy');
    expect(upstream.getState().lastError).toMatch(/^connect: /);
  });

  it('reopens the session when a keep-alive ping goes unanswered', async () => {
    let connects = 0;
    let answerPings = true;
    const served = serve(() => {
      const server = fixtureServer();
      server.server.setRequestHandler('ping', () => (answerPings ? {} : new Promise<never>(() => undefined)));
      return server;
    });
    const upstream = newUpstream({
      connect: () => {
        connects += 1;
        return served.connect();
      },
      keepAliveMs: 20,
      timeoutMs: 50,
    });
    upstream.start();
    await waitForStatus(upstream, 'ready');
    answerPings = false;
    await waitFor(() => upstream.getState().reconnects === 1, 'a reconnect after a failed ping');
    answerPings = true;
    await waitForStatus(upstream, 'ready');
    expect(connects).toBeGreaterThanOrEqual(2);
  });

  it('closes for good: state closed, calls fail, no timers left', async () => {
    const served = serve(fixtureServer);
    const timersBefore = activeTimers();
    const upstream = newUpstream({ connect: served.connect, keepAliveMs: 20 });
    upstream.start();
    await waitForStatus(upstream, 'ready');
    const changes = recordChanges(upstream);

    let serverClosed = false;
    served.serverTransport.onclose = () => {
      serverClosed = true;
    };
    await upstream.close();
    await upstream.close();

    expect(upstream.getState().status).toBe('closed');
    expect(statusesOf(changes)).toEqual(['closed']);
    expect(serverClosed).toBe(true);
    const error = await rpcErrorOf(upstream.request('tools/call', { name: 'echo' }));
    expect(error.message).toBe('upstream "fixture" is unavailable for tools/call: it was removed');
    expect(error.data).toEqual({ upstream: 'fixture', status: 'closed' });
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
    // start() after close() does nothing.
    upstream.start();
    await sleep(20);
    expect(served.connects).toBe(1);
  });

  it('stops retrying when closed during backoff', async () => {
    let attempts = 0;
    const timersBefore = activeTimers();
    const upstream = newUpstream({
      connect: () => {
        attempts += 1;
        throw new Error('down');
      },
      // The retry is due 100 to 200 ms after the failure: long enough to close first, short enough to wait out.
      backoff: { initialMs: 200, maxMs: 200 },
    });
    upstream.start();
    await waitFor(() => attempts === 1 && upstream.getState().lastError !== undefined, 'the first failure');
    await upstream.close();
    await sleep(250);
    expect(attempts).toBe(1);
    expect(upstream.getState().status).toBe('closed');
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('wakes a call waiting for a reconnect when closed', async () => {
    const upstream = newUpstream({
      connect: () => {
        throw new Error('down');
      },
      timeoutMs: 10_000,
      crashLoopFailures: 100,
      backoff: { initialMs: 1_000, maxMs: 1_000 },
    });
    upstream.start();
    await waitFor(() => upstream.getState().lastError !== undefined, 'the first failure');
    const call = rpcErrorOf(upstream.request('tools/call', { name: 'echo' }));
    await sleep(10);
    const startedAt = Date.now();
    await upstream.close();
    const error = await call;
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(error.message).toContain('it was removed');
  });

  it('abandons a connection attempt in progress when closed', async () => {
    let clientSide: InMemoryTransport | undefined;
    let peerClosed = false;
    const timersBefore = activeTimers();
    const upstream = newUpstream({
      connect: () => {
        const [client, peer] = InMemoryTransport.createLinkedPair();
        // The peer accepts messages but never answers: the handshake hangs.
        peer.onclose = () => {
          peerClosed = true;
        };
        void peer.start();
        clientSide = client;
        return client;
      },
      connectTimeoutMs: 10_000,
    });
    upstream.start();
    await waitFor(() => clientSide !== undefined, 'the connection attempt');
    await sleep(10);
    await upstream.close();

    expect(upstream.getState().status).toBe('closed');
    await waitFor(() => peerClosed, 'the abandoned transport to close', 1_000);
    await sleep(10);
    expect(activeTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('closes a transport that connect() delivers after close()', async () => {
    let deliver: ((transport: Transport) => void) | undefined;
    let peerClosed = false;
    const upstream = newUpstream({
      connect: () => new Promise<Transport>((resolve) => (deliver = resolve)),
      connectTimeoutMs: 10_000,
    });
    upstream.start();
    await waitFor(() => deliver !== undefined, 'the connection attempt');
    await upstream.close();

    const [client, peer] = InMemoryTransport.createLinkedPair();
    peer.onclose = () => {
      peerClosed = true;
    };
    await peer.start();
    deliver?.(client);
    await waitFor(() => peerClosed, 'the late transport to close', 1_000);
    expect(upstream.getState().status).toBe('closed');
  });
});

describe('toRpcError', () => {
  const context = { upstream: 'up', method: 'tools/call', timeoutMs: 5 };

  it('returns an RpcError as it is', () => {
    const error = new RpcError(-32602, 'bad');
    expect(toRpcError(error, context)).toBe(error);
  });

  it('names the upstream and the method for anything else', () => {
    const error = toRpcError(new Error('socket hang up'), context);
    expect(error).toMatchObject({
      code: RpcErrorCode.InternalError,
      message: 'upstream "up" failed tools/call: socket hang up',
      data: { upstream: 'up' },
    });
    expect(toRpcError('a string', context).message).toBe('upstream "up" failed tools/call: a string');
  });
});
