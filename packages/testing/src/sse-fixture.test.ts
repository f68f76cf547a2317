import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { startSseFixture } from './sse-fixture.ts';

const REQUEST = { timeout: 10_000 };
const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 't', version: '1' } },
};

/** Opens `GET url` and hands out its SSE events one raw block (`event: …\ndata: …`) at a time. */
async function openEventStream(url: string) {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  return {
    response,
    async next(): Promise<string> {
      while (!buffer.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        buffer += value;
      }
      const end = buffer.indexOf('\n\n');
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      return event;
    },
    close: () => abort.abort(),
  };
}

function post(url: URL, body: string): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
}

async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('startSseFixture', () => {
  it('speaks the 2024-11-05 HTTP+SSE transport on the wire', async () => {
    await using fixture = await startSseFixture({ name: 'legacy' });
    expect(fixture.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/sse$/);
    const stream = await openEventStream(fixture.url);
    try {
      expect(stream.response.status).toBe(200);
      expect(stream.response.headers.get('content-type')).toBe('text/event-stream');

      const endpointEvent = await stream.next();
      expect(endpointEvent).toMatch(/^event: endpoint\ndata: \/message\?sessionId=[0-9a-f-]{36}$/);
      const endpoint = new URL(endpointEvent.slice('event: endpoint\ndata: '.length), fixture.url);
      expect(fixture.sessionCount()).toBe(1);

      const accepted = await post(endpoint, JSON.stringify(INITIALIZE));
      expect(accepted.status).toBe(202);
      expect(await accepted.text()).toBe('Accepted');

      const messageEvent = await stream.next();
      expect(messageEvent).toMatch(/^event: message\ndata: /);
      expect(JSON.parse(messageEvent.slice('event: message\ndata: '.length))).toMatchObject({
        jsonrpc: '2.0',
        id: 1,
        result: { protocolVersion: '2024-11-05', serverInfo: { name: 'legacy' } },
      });

      const invalid = await post(endpoint, 'not json');
      expect(invalid.status).toBe(400);
      await invalid.body?.cancel();

      const notJsonRpc = await post(endpoint, JSON.stringify({ hello: 'world' }));
      expect(notJsonRpc.status).toBe(400);
      await notJsonRpc.body?.cancel();
    } finally {
      stream.close();
    }
    // Dropping the stream ends the session.
    await waitFor(() => fixture.sessionCount() === 0);
  });

  it('answers 404 for an unknown session or path', async () => {
    await using fixture = await startSseFixture({ name: 'legacy' });
    const unknown = await post(new URL('/message?sessionId=nope', fixture.url), JSON.stringify(INITIALIZE));
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();

    const elsewhere = await fetch(new URL('/mcp', fixture.url));
    expect(elsewhere.status).toBe(404);
    await elsewhere.body?.cancel();
  });

  it('closes promptly while a client holds its stream open', async () => {
    const fixture = await startSseFixture({ name: 'legacy' });
    const client = new Client({ name: 'fixture-test', version: '1.0.0' });
    try {
      await client.connect(new SSEClientTransport(new URL(fixture.url)), REQUEST);
      const pending = client.callTool({ name: 'slow', arguments: { ms: 20_000 } }, REQUEST);
      pending.catch(() => {});
      expect(fixture.sessionCount()).toBe(1);

      const started = Date.now();
      await fixture.close();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(fixture.sessionCount()).toBe(0);
    } finally {
      await client.close();
    }
  });
});
