import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpFixture, type HttpFixture } from '@mcp-gateway/testing';
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { testConfig, waitForReadyUpstreams } from './test-support.ts';

const HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** Reads SSE events from a response until `stop` says so or the stream ends; returns them. */
async function readEvents(
  response: Response,
  stop: (events: Array<{ id?: string; data: string }>) => boolean,
): Promise<Array<{ id?: string; data: string }>> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: Array<{ id?: string; data: string }> = [];
  let buffer = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      const id = /^id: ?(.*)$/m.exec(block)?.[1];
      const data = [...block.matchAll(/^data: ?(.*)$/gm)].map((m) => m[1]).join('\n');
      events.push({ id, data });
    }
    if (stop(events)) {
      await reader.cancel();
      break;
    }
  }
  return events;
}

describe('resumable streams on /mcp', () => {
  let web: HttpFixture;
  let gateway: RunningGateway;
  let config: Awaited<ReturnType<typeof testConfig>>;

  beforeAll(async () => {
    web = await startHttpFixture({ name: 'web' });
    config = await testConfig();
    gateway = await startGateway({
      config,
      gateways: [
        {
          name: 'web',
          transport: 'streamable-http',
          url: web.url,
          args: [],
          env: {},
          headers: {},
          enabled: true,
          tags: [],
        },
      ],
    });
    await waitForReadyUpstreams(gateway, 1);
  });

  afterAll(async () => {
    await gateway?.close();
    await web?.close();
    await config?.[Symbol.asyncDispose]();
  });

  it('replays the rest of the stream that broke after Last-Event-ID, and nothing from other streams', async () => {
    const init = await fetch(gateway.mcpUrl, {
      method: 'POST',
      headers: HEADERS,
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
    const session = init.headers.get('mcp-session-id')!;
    await init.text();
    const headers = { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    await fetch(gateway.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });

    // Another stream on the same session, which must never show up in the replay.
    const other = await fetch(gateway.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'web__echo', arguments: { message: 'other' } },
      }),
    });
    expect(await other.text()).toContain('Echo: other');

    const call = await fetch(gateway.mcpUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'web__slow', arguments: { ms: 800 }, _meta: { progressToken: 'p' } },
      }),
    });
    // Read up to the first progress notification, then drop the connection.
    const first = await readEvents(call, (events) =>
      events.some((e) => e.data.includes('notifications/progress')),
    );
    const lastId = first.filter((e) => e.id).at(-1)?.id;
    expect(lastId).toEqual(expect.any(String));

    // The server notices the dropped connection asynchronously; a resume right away may still find it open (409).
    let resumed = new Response(null, { status: 409 });
    for (let attempt = 0; attempt < 20 && resumed.status === 409; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      resumed = await fetch(gateway.mcpUrl, {
        method: 'GET',
        headers: { ...headers, accept: 'text/event-stream', 'last-event-id': lastId! },
      });
    }
    expect(resumed.status).toBe(200);
    const rest = await readEvents(resumed, (events) => events.some((e) => e.data.includes('"id":3')));
    const replayed = rest.map((e) => e.data).join('\n');
    expect(replayed).toContain('slept 800');
    expect(replayed).not.toContain('Echo: other');
  });
});
