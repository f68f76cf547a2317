import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { createRestUpstream } from '@mcp-gateway/adapter-rest';
import { createRouter, silentLogger, type Router } from '@mcp-gateway/core';
import {
  createChangeFeed,
  createDatabase,
  createGatewayStore,
  createPromptStore,
  createQueryCounter,
  createResourceStore,
  createToolStore,
  createVirtualServerStore,
  type ChangeFeed,
  type Database,
} from '@mcp-gateway/registry';
import { createUpstreamFactory } from '../upstreams/upstream-factory.ts';
import { createUpstreamManager, type UpstreamManager } from '../upstreams/upstream-manager.ts';
import { createCatalogState, type CatalogState } from './catalog-state.ts';
import { createLocalUpstream } from './local-upstream.ts';
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

/** The catalog state's ownership index, on real upstreams (two fixtures) and an in-memory PGlite registry. */
describe('ownership and visibility in memory (visibilityOf)', () => {
  let database: Database;
  let feed: ChangeFeed;
  let router: Router;
  let manager: UpstreamManager;
  let catalog: CatalogState;
  const fixtures: HttpFixture[] = [];
  let teamGatewayId: string;

  beforeAll(async () => {
    database = await createDatabase();
    const teamFixture = await startHttpFixture({ name: 'team' });
    const openFixture = await startHttpFixture({ name: 'open' });
    fixtures.push(teamFixture, openFixture);
    const gateways = createGatewayStore({ db: database.db });
    teamGatewayId = (
      await gateways.create({
        name: 'team-gw',
        transport: 'streamable-http',
        url: teamFixture.url,
        owner: 'dave',
        team: 'red',
        visibility: 'team',
      })
    ).id;
    // Unprefixed: its names and URIs are exposed as they are.
    await gateways.create({
      name: 'open',
      transport: 'streamable-http',
      url: openFixture.url,
      namespace: '',
    });
    await createPromptStore({ db: database.db }).create({
      definition: { name: 'notes' },
      template: { messages: [{ role: 'user', text: 'hi' }] },
      owner: 'alice',
      visibility: 'private',
    });
    feed = await createChangeFeed({ database, pollIntervalMs: 0 });
    router = createRouter();
    manager = createUpstreamManager({
      router,
      logger: silentLogger,
      createUpstream: createUpstreamFactory({ logger: silentLogger, defaultTimeoutMs: 10_000 }),
    });
    catalog = createCatalogState({
      database,
      feed,
      manager,
      router,
      logger: silentLogger,
      local: createLocalUpstream(),
      rest: createRestUpstream({ id: 'rest', name: 'rest', tools: [] }),
      reloadDebounceMs: 10,
    });
    await catalog.load();
    // Both upstreams listed their items and the registry recorded them (the last thing a sync writes: templates).
    await waitFor('discovered items in the registry', () =>
      (catalog.contents()?.resources.filter((resource) => resource.kind === 'template').length ?? 0) >= 2
        ? true
        : undefined,
    );
    await catalog.reload();
  });
  afterAll(async () => {
    await catalog?.close();
    await manager?.close();
    router?.close();
    await feed?.close();
    for (const fixture of fixtures) await fixture.close();
    await database?.close();
  });

  const tools = () => createToolStore({ db: database.db });
  const itemOf = async (name: string) =>
    (await tools().list({ gatewayId: teamGatewayId, search: name })).items.find(
      (tool) => tool.originalName === name,
    )!;

  it("gives discovered items their gateway's ownership, local items their own", () => {
    const team = { owner: 'dave', team: 'red', visibility: 'team' };
    expect(catalog.visibilityOf('tool', 'team-gw__echo')).toEqual(team);
    expect(catalog.visibilityOf('prompt', 'team-gw__greeting')).toEqual(team);
    expect(catalog.visibilityOf('resource', 'mcpgw://team-gw/fixture://info')).toEqual(team);
    expect(catalog.visibilityOf('resource-template', 'mcpgw://team-gw/fixture://items/{id}')).toEqual(team);
    expect(catalog.visibilityOf('tool', 'whoami')).toEqual({ visibility: 'public' });
    expect(catalog.visibilityOf('prompt', 'notes')).toEqual({ owner: 'alice', visibility: 'private' });
    expect(catalog.visibilityOf('tool', 'no_such_tool')).toBeUndefined();
  });

  it('takes the item row when it is more restrictive, and follows aliases on reload', async () => {
    const echo = await itemOf('echo');
    const add = await itemOf('add');
    await tools().update(echo.id, { owner: 'bob', visibility: 'private' });
    await tools().update(add.id, { alias: 'plus', owner: 'erin', visibility: 'public' });
    await catalog.reload();
    expect(catalog.visibilityOf('tool', 'team-gw__echo')).toEqual({ owner: 'bob', visibility: 'private' });
    // A public row under a team gateway stays team: the gateway's is the more restrictive.
    expect(catalog.visibilityOf('tool', 'plus')).toEqual({ owner: 'dave', team: 'red', visibility: 'team' });
    expect(catalog.visibilityOf('tool', 'team-gw__add')).toBeUndefined();
  });

  it('answers for URIs expanded from a template, and for items the registry has not recorded yet', async () => {
    const team = { owner: 'dave', team: 'red', visibility: 'team' };
    expect(catalog.visibilityOf('resource', 'mcpgw://team-gw/fixture://items/999')).toEqual(team);
    expect(catalog.visibilityOf('resource', 'fixture://items/999')).toEqual({ visibility: 'public' });
    expect(catalog.visibilityOf('resource', 'mcpgw://unknown-ns/fixture://items/1')).toBeUndefined();

    // The upstream still lists `whoami`, but its row is gone (as between a re-list and the sync that records it).
    await database.db
      .deleteFrom('tools')
      .where('gateway_id', '=', teamGatewayId)
      .where('original_name', '=', 'whoami')
      .execute();
    await catalog.reload();
    expect(router.snapshot().toolRoutes.has('team-gw__whoami')).toBe(true);
    expect(catalog.visibilityOf('tool', 'team-gw__whoami')).toEqual(team);
  });

  it('puts owner, team and visibility on virtual servers', async () => {
    const server = await createVirtualServerStore({ db: database.db }).create({
      name: 'desk',
      owner: 'carol',
      team: 'blue',
      visibility: 'team',
    });
    await catalog.reload();
    expect(catalog.server(server.id)).toMatchObject({ owner: 'carol', team: 'blue', visibility: 'team' });
    await createResourceStore({ db: database.db }).create({
      definition: { uri: 'note://x', name: 'x' },
      visibility: 'private',
      owner: 'carol',
    });
    await catalog.reload();
    expect(catalog.visibilityOf('resource', 'note://x')).toEqual({ owner: 'carol', visibility: 'private' });
  });
});
