import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { createQueryCounter } from '@mcp-gateway/registry';
import {
  createTestDatabase,
  startHttpFixture,
  startPostgres,
  type HttpFixture,
  type PostgresServer,
} from '@mcp-gateway/testing';
import { startGateway, type RunningGateway } from '../start-gateway.ts';
import { connectClient, testConfig, waitFor, waitForReadyUpstreams } from '../test-support.ts';

type ToolResult = { content: Array<{ text?: string }> };
const text = (result: unknown) => (result as ToolResult).content.map((c) => c.text ?? '').join('');

async function putConfig(gateway: RunningGateway, document: unknown, mode = 'merge') {
  return fetch(`${gateway.url}/v1/config?mode=${mode}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(document),
  });
}

/** Two gateway processes' worth of state (two gateways, two pools, two change feeds) on one real Postgres. */
describe('registry across replicas on one Postgres', () => {
  let postgres: PostgresServer;
  let fixture: HttpFixture;
  let a: RunningGateway;
  let b: RunningGateway;
  const counter = createQueryCounter();
  const configs: Array<AsyncDisposable> = [];
  const clients: Client[] = [];

  beforeAll(async () => {
    postgres = await startPostgres();
    const databaseUrl = await createTestDatabase(postgres.url);
    fixture = await startHttpFixture({ name: 'shared' });
    const configA = await testConfig({ databaseUrl });
    const configB = await testConfig({ databaseUrl });
    configs.push(configA, configB);
    a = await startGateway({
      config: configA,
      databasePlugins: [counter],
      gateways: [
        {
          name: 'shared',
          transport: 'streamable-http',
          url: fixture.url,
          args: [],
          env: {},
          headers: {},
          enabled: true,
          tags: [],
        },
      ],
    });
    b = await startGateway({ config: configB });
    await waitForReadyUpstreams(a, 1);
    await waitForReadyUpstreams(b, 1);
  }, 60_000);

  afterAll(async () => {
    for (const client of clients) await client.close().catch(() => undefined);
    await a?.close();
    await b?.close();
    for (const config of configs) await config[Symbol.asyncDispose]();
    await fixture?.close();
    await postgres?.stop();
  });

  it('records what upstreams list as discovered items', async () => {
    await waitFor('discovered tools in the registry', async () => {
      const response = await fetch(`${a.url}/v1/config`);
      const document = (await response.json()) as { tools: Array<{ gateway?: string; name: string }> };
      return document.tools.some((t) => t.gateway === 'shared' && t.name === 'echo') ? true : undefined;
    });
  });

  it("a change made through A shows in B's tools/list within 1 s", async () => {
    const client = await connectClient(b);
    clients.push(client);
    const response = await putConfig(a, {
      version: 1,
      gateways: [],
      tools: [{ gateway: 'shared', name: 'echo', alias: 'say' }],
      prompts: [],
      resources: [],
      virtualServers: [],
    });
    expect(response.status).toBe(200);
    await waitFor(
      'the alias in B',
      async () => ((await client.listTools()).tools.some((t) => t.name === 'say') ? true : undefined),
      1_000,
    );
    expect(text(await client.callTool({ name: 'say', arguments: { message: 'hi' } }))).toBe('Echo: hi');
  });

  it('serves a virtual server: only its members, under their aliases, on its own endpoint', async () => {
    const response = await putConfig(a, {
      version: 1,
      gateways: [],
      tools: [],
      prompts: [],
      resources: [],
      virtualServers: [
        {
          name: 'helpdesk',
          description: 'Only what the helpdesk needs',
          members: [
            { kind: 'tool', gateway: 'shared', name: 'whoami', alias: 'who' },
            { kind: 'tool', gateway: 'shared', name: 'echo' },
            { kind: 'prompt', gateway: 'shared', name: 'greeting' },
          ],
        },
      ],
    });
    expect(response.status).toBe(200);
    const server = await waitFor('the virtual server in B', () =>
      b.catalog.servers().find((s) => s.name === 'helpdesk'),
    );
    const { Client: SdkClient, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
    const client = new SdkClient({ name: 'vs', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${b.url}/servers/${server.id}/mcp`)));
    clients.push(client);
    expect(client.getServerVersion()?.name).toBe('helpdesk');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['say', 'who']);
    expect(text(await client.callTool({ name: 'who', arguments: {} }))).toBe('shared');
    await expect(client.callTool({ name: 'shared__add', arguments: { a: 1, b: 2 } })).rejects.toMatchObject({
      code: -32602,
      message: 'Unknown tool: shared__add',
    });
    expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['shared__greeting']);
    const missing = await fetch(`${b.url}/servers/00000000-0000-0000-0000-000000000000/mcp`, {
      method: 'POST',
    });
    expect(missing.status).toBe(404);
  });

  it('tools/list, tools/call, prompts/get and resources/read issue no database query, with overrides and views', async () => {
    const client = await connectClient(a);
    clients.push(client);
    await waitFor('the alias in A', async () =>
      (await client.listTools()).tools.some((t) => t.name === 'say') ? true : undefined,
    );
    counter.reset();
    await client.listTools();
    await client.callTool({ name: 'say', arguments: { message: 'x' } });
    await client.getPrompt({ name: 'shared__greeting', arguments: { name: 'Q' } });
    await client.readResource({ uri: 'mcpgw://shared/fixture://info' });
    expect(counter.count()).toBe(0);
  });

  it('an import with bad entries changes nothing and reports every one of them', async () => {
    const before = await (await fetch(`${a.url}/v1/config`)).text();
    const response = await putConfig(a, {
      version: 1,
      gateways: [
        { name: 'ok-one', transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' },
        { name: 'bad', transport: 'stdio' },
        { name: '', transport: 'sse', url: 'not a url' },
      ],
      tools: [],
      prompts: [],
      resources: [],
      virtualServers: [],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; details: Array<{ path: string }> } };
    expect(body.error.code).toBe('invalid-input');
    const paths = body.error.details.map((d) => d.path);
    expect(paths.some((p) => p.startsWith('gateways.1'))).toBe(true);
    expect(paths.some((p) => p.startsWith('gateways.2'))).toBe(true);
    expect(await (await fetch(`${a.url}/v1/config`)).text()).toBe(before);
  });

  it('exports YAML with secrets masked', async () => {
    const response = await fetch(`${a.url}/v1/config?format=yaml`);
    expect(response.headers.get('content-type')).toContain('yaml');
    const yaml = await response.text();
    expect(yaml).toContain('name: shared');
    expect(yaml).toContain('version: 1');
  });
});
