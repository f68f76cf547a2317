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

/** A minimal upstream with one `echo` tool that can push notifications to the router. */
function echoUpstream() {
  const listeners = new Set<(n: UpstreamNotification) => void>();
  const upstream: Upstream = {
    id: 'echo',
    name: 'echo',
    start() {},
    async close() {},
    getState: () => ({ status: 'ready', reconnects: 0 }),
    getCatalog: () => ({
      ...emptyUpstreamCatalog,
      tools: [{ name: 'echo', inputSchema: { type: 'object' } }],
    }),
    getCapabilities: () => ({ tools: {}, logging: {} }),
    async request(_method, params) {
      return { content: [{ type: 'text', text: JSON.stringify(params?.arguments ?? {}) }] };
    },
    onChange: () => () => undefined,
    onNotification(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async notify() {},
    async releaseSession() {},
  };
  return { upstream, push: (n: UpstreamNotification) => listeners.forEach((l) => l(n)) };
}

interface Harness {
  url: string;
  handler: StreamableHttpHandler;
  router: Router;
  push: (n: UpstreamNotification) => void;
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
  const { upstream, push } = echoUpstream();
  router.setMembers([{ upstream, namespace: '' }]);
  const handler = createStreamableHttpHandler({
    router,
    allowedHosts: ['127.0.0.1', 'localhost'],
    ...options,
  });
  const server: Server = createServer(
    getRequestListener((request) => handler.fetch(request), { overrideGlobalObjects: false }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const harness: Harness = {
    url,
    handler,
    router,
    push,
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
