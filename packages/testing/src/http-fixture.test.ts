import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { startHttpFixture } from './http-fixture.ts';

const REQUEST = { timeout: 10_000 };
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url));
  const client = new Client({ name: 'fixture-test', version: '1.0.0' });
  await client.connect(transport, REQUEST);
  return { client, transport };
}

describe('startHttpFixture', () => {
  it('serves one session per client, tells two fixtures apart, and ends a session on DELETE', async () => {
    await using a = await startHttpFixture({ name: 'a' });
    await using b = await startHttpFixture({ name: 'b', path: '/custom' });
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(b.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/custom$/);

    const first = await connect(a.url);
    const second = await connect(a.url);
    const other = await connect(b.url);
    try {
      expect(a.sessionCount()).toBe(2);
      expect(first.transport.sessionId).not.toBe(second.transport.sessionId);
      expect((await other.client.callTool({ name: 'whoami' }, REQUEST)).content).toEqual([
        { type: 'text', text: 'b' },
      ]);

      await first.transport.terminateSession();
      expect(a.sessionCount()).toBe(1);
      const stale = await fetch(a.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, 'mcp-session-id': first.transport.sessionId ?? '' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
      });
      expect(stale.status).toBe(404);
      await stale.body?.cancel();
    } finally {
      await Promise.allSettled([first.client.close(), second.client.close(), other.client.close()]);
    }
  });

  it('refuses requests that are neither an initialize nor part of a session', async () => {
    await using fixture = await startHttpFixture({ name: 'a' });

    const ping = await fetch(fixture.url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(ping.status).toBe(400);
    await ping.body?.cancel();

    const get = await fetch(fixture.url, { headers: { accept: 'text/event-stream' } });
    expect(get.status).toBe(400);
    await get.body?.cancel();

    const elsewhere = await fetch(new URL('/other', fixture.url), { method: 'POST', headers: MCP_HEADERS });
    expect(elsewhere.status).toBe(404);
    await elsewhere.body?.cancel();

    expect(fixture.sessionCount()).toBe(0);
  });

  it('returns the session id on initialize', async () => {
    await using fixture = await startHttpFixture({ name: 'a' });
    const response = await fetch(fixture.url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify(INITIALIZE),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('mcp-session-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.text()).toContain('"serverInfo":{"name":"a"');
    expect(fixture.sessionCount()).toBe(1);
  });

  it('closes promptly while a client holds streams open', async () => {
    const fixture = await startHttpFixture({ name: 'a' });
    const { client } = await connect(fixture.url);
    try {
      // A call in flight keeps its response stream open, and the client's GET stream stays open too.
      const pending = client.callTool({ name: 'slow', arguments: { ms: 20_000 } }, REQUEST);
      pending.catch(() => {});
      await client.ping(REQUEST);

      const started = Date.now();
      await fixture.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(fixture.sessionCount()).toBe(0);
      await expect(fetch(fixture.url, { method: 'POST' })).rejects.toThrow();
    } finally {
      await client.close();
    }
  });
});
