import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive, startHttpFixture } from '@mcp-gateway/testing';
import type { GatewayInput } from './config/index.ts';
import { startGateway } from './start-gateway.ts';
import {
  connectClient,
  stdioFixtureGateway,
  testConfig,
  waitFor,
  waitForReadyUpstreams,
} from './test-support.ts';

type ToolResult = { content: Array<{ text?: string }> };
const text = (result: unknown) => (result as ToolResult).content.map((c) => c.text ?? '').join('');

const stdio = stdioFixtureGateway;

function http(name: string, url: string, extra: Partial<GatewayInput> = {}): GatewayInput {
  return {
    name,
    transport: 'streamable-http',
    url,
    args: [],
    env: {},
    headers: {},
    enabled: true,
    tags: [],
    ...extra,
  };
}

const cleanups: Array<() => PromiseLike<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * A streamable-HTTP "server" that handshakes and lists correctly, then answers tools/call with garbage: `broken`
 * gets truncated JSON, `huge` a 50 MiB result, `stranger` a response with an id nobody asked for.
 */
async function startGarbageServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const message = JSON.parse(body) as { id?: number; method: string; params?: { name?: string } };
      const reply = (result: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'garbage-session' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
      };
      switch (message.method) {
        case 'initialize':
          return reply({
            protocolVersion: '2025-06-18',
            capabilities: { tools: {} },
            serverInfo: { name: 'garbage', version: '1' },
          });
        case 'tools/list':
          return reply({
            tools: ['broken', 'huge', 'stranger'].map((name) => ({ name, inputSchema: { type: 'object' } })),
          });
        case 'tools/call':
          if (message.params?.name === 'huge') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.write(`{"jsonrpc":"2.0","id":${message.id},"result":{"content":[{"type":"text","text":"`);
            const chunk = 'x'.repeat(1024 * 1024);
            let sent = 0;
            const pump = () => {
              while (sent < 50 && res.write(chunk)) sent += 1;
              if (sent < 50)
                res.once('drain', () => {
                  sent += 1;
                  pump();
                });
              else res.end('"}]}}');
            };
            res.on('error', () => undefined);
            return pump();
          }
          if (message.params?.name === 'stranger') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(JSON.stringify({ jsonrpc: '2.0', id: 999_999, result: { content: [] } }));
          }
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{"jsonrpc": "2.0", "id": ');
        default:
          if (message.id === undefined) return res.writeHead(202).end();
          return reply({});
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`, server };
}

describe('failure is contained', () => {
  it('a killed stdio child fails the call in flight, is restarted, and the next call works', async () => {
    const config = await testConfig();
    const gateway = await startGateway({ config, gateways: [stdio('beta'), stdio('other')] });
    cleanups.push(
      () => config[Symbol.asyncDispose](),
      () => gateway.close(),
    );
    await waitForReadyUpstreams(gateway, 2);
    const client = await connectClient(gateway);
    cleanups.push(() => client.close());

    const pid = Number(text(await client.callTool({ name: 'beta__pid', arguments: {} })));
    expect(isProcessAlive(pid)).toBe(true);
    const inFlight = client.callTool({ name: 'beta__slow', arguments: { ms: 10_000 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.kill(pid, 'SIGKILL');

    await expect(inFlight).rejects.toThrow(/upstream "beta" closed the connection during tools\/call/);
    // Other upstreams are untouched.
    expect(text(await client.callTool({ name: 'other__whoami', arguments: {} }))).toBe('other');

    // The supervisor restarts the child; the next call goes to the new process.
    const record = (await gateway.store.list()).find((r) => r.name === 'beta');
    await waitFor('beta to reconnect', () =>
      gateway.manager.status(record!.id)?.status === 'ready' ? true : undefined,
    );
    const status = gateway.manager.status(record!.id)!;
    expect(status.reconnects).toBe(1);
    expect(status.lastError).toContain('connection closed');
    const newPid = Number(text(await client.callTool({ name: 'beta__pid', arguments: {} })));
    expect(newPid).not.toBe(pid);
    expect(text(await client.callTool({ name: 'beta__echo', arguments: { message: 'back' } }))).toBe(
      'Echo: back',
    );
  });

  it('a stdio server that keeps crashing is marked unhealthy with its last error, and others keep serving', async () => {
    const config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [
        {
          ...stdio('crasher'),
          command: process.execPath,
          args: ['-e', 'console.error("boom: missing API key"); process.exit(3)'],
        },
        stdio('steady'),
      ],
    });
    cleanups.push(
      () => config[Symbol.asyncDispose](),
      () => gateway.close(),
    );
    await waitForReadyUpstreams(gateway, 1);
    const crasher = (await gateway.store.list()).find((r) => r.name === 'crasher')!;
    const status = await waitFor(
      'the crash loop to mark the upstream unhealthy',
      () => {
        const current = gateway.manager.status(crasher.id);
        return current?.status === 'unhealthy' ? current : undefined;
      },
      20_000,
    );
    expect(status.lastError).toMatch(/exited with code 3/);
    expect(status.lastError).toContain('boom: missing API key');
    const client = await connectClient(gateway);
    cleanups.push(() => client.close());
    expect(text(await client.callTool({ name: 'steady__whoami', arguments: {} }))).toBe('steady');
  });

  it('a call that outlives the upstream timeout fails naming the upstream while others keep serving', async () => {
    const config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [stdio('sleepy', { timeoutMs: 500 }), stdio('quick')],
    });
    cleanups.push(
      () => config[Symbol.asyncDispose](),
      () => gateway.close(),
    );
    await waitForReadyUpstreams(gateway, 2);
    const client = await connectClient(gateway);
    cleanups.push(() => client.close());

    const started = Date.now();
    const hung = client.callTool({ name: 'sleepy__slow', arguments: { ms: 5_000 } });
    expect(text(await client.callTool({ name: 'quick__echo', arguments: { message: 'meanwhile' } }))).toBe(
      'Echo: meanwhile',
    );
    await expect(hung).rejects.toMatchObject({
      code: -32001,
      message: expect.stringContaining('upstream "sleepy" did not answer tools/call within 500 ms'),
    });
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('an upstream answering garbage gives the caller an error within the timeout', async () => {
    const garbage = await startGarbageServer();
    cleanups.push(() => new Promise((resolve) => garbage.server.close(resolve)));
    garbage.server.unref();
    const config = await testConfig();
    const gateway = await startGateway({
      config,
      maxUpstreamResponseBytes: 1024 * 1024,
      gateways: [http('junk', garbage.url, { timeoutMs: 1_000 }), stdio('fine')],
    });
    cleanups.push(
      () => config[Symbol.asyncDispose](),
      () => gateway.close(),
    );
    await waitForReadyUpstreams(gateway, 2);
    const client = await connectClient(gateway);
    cleanups.push(() => client.close());

    await expect(client.callTool({ name: 'junk__broken', arguments: {} })).rejects.toThrow(/upstream "junk"/);
    // A 50 MiB result is cut at the limit (1 MiB here): an error naming the upstream, the gateway unharmed.
    await expect(client.callTool({ name: 'junk__huge', arguments: {} })).rejects.toThrow(/upstream "junk"/);
    // An answer with an id nobody asked for is dropped; the caller gets a timeout naming the upstream.
    await expect(client.callTool({ name: 'junk__stranger', arguments: {} })).rejects.toMatchObject({
      code: -32001,
      message: expect.stringContaining('upstream "junk" did not answer tools/call'),
    });
    expect(text(await client.callTool({ name: 'fine__whoami', arguments: {} }))).toBe('fine');
  });

  it('an unreachable upstream shows its error in the REST API and does not block the others', async () => {
    const config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [http('down', 'http://127.0.0.1:9/mcp'), stdio('up')],
    });
    cleanups.push(
      () => config[Symbol.asyncDispose](),
      () => gateway.close(),
    );
    await waitForReadyUpstreams(gateway, 1);
    const client = await connectClient(gateway);
    cleanups.push(() => client.close());
    expect(text(await client.callTool({ name: 'up__whoami', arguments: {} }))).toBe('up');

    const body = await waitFor('the down upstream to report an error', async () => {
      const response = await fetch(`${gateway.url}/v1/gateways`);
      const list = (await response.json()) as {
        items: Array<{ name: string; runtime: { status: string; lastError?: string } }>;
      };
      const down = list.items.find((item) => item.name === 'down');
      return down?.runtime.lastError ? down : undefined;
    });
    expect(body.runtime.status).not.toBe('ready');
    expect(body.runtime.lastError).toMatch(/connect/);
  });

  it('an HTTP upstream that goes away fails calls with its name, then recovers when it returns', async () => {
    let fixture = await startHttpFixture({ name: 'flaky' });
    const config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [http('flaky', fixture.url, { timeoutMs: 2_000 })],
      keepAliveMs: 200,
    });
    cleanups.push(
      () => config[Symbol.asyncDispose](),
      () => gateway.close(),
      () => fixture.close(),
    );
    await waitForReadyUpstreams(gateway, 1);
    const client = await connectClient(gateway);
    cleanups.push(() => client.close());

    const port = new URL(fixture.url).port;
    await fixture.close();
    await expect(client.callTool({ name: 'flaky__whoami', arguments: {} })).rejects.toThrow(
      /upstream "flaky"/,
    );

    fixture = await startHttpFixture({ name: 'flaky', port: Number(port) });
    await waitFor(
      'flaky to serve again',
      async () =>
        text(await client.callTool({ name: 'flaky__whoami', arguments: {} })) === 'flaky' || undefined,
      20_000,
    );
  });
});
