import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDatabase,
  createGatewayStore,
  createPromptStore,
  createResourceStore,
  createToolStore,
  createVirtualServerStore,
  type Database,
  type GatewayRecord,
  type ToolStore,
  type VirtualServerRecord,
} from '@mcp-gateway/registry';
import { renderRestError } from './rest-error.ts';
import { createServersRoutes, createTagsRoutes, type VirtualServerChange } from './servers-routes.ts';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type ServerBody = Omit<VirtualServerRecord, 'createdAt' | 'updatedAt'> & {
  endpoints: { mcp: string; sse: string; ws: string };
};
type PageBody = { items: ServerBody[]; nextCursor?: string };

describe('REST API /v1/servers and /v1/tags', () => {
  let database: Database;
  let tools: ToolStore;
  let gateway: GatewayRecord;
  let app: Hono;
  const published: VirtualServerChange[] = [];
  const ids: Record<string, string> = {};

  const request = (
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    app.request(path, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...init.headers },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const errorOf = async (response: Response) => ((await response.json()) as ErrorBody).error;
  const create = (body: Record<string, unknown>) => request('/v1/servers', { method: 'POST', body });

  beforeAll(async () => {
    database = await createDatabase();
    const options = { db: database.db };
    tools = createToolStore(options);
    const prompts = createPromptStore(options);
    const resources = createResourceStore(options);
    gateway = await createGatewayStore(options).create({
      name: 'github',
      transport: 'streamable-http',
      url: 'https://gh.example/mcp',
      tags: ['dev'],
    });
    await tools.syncDiscovered(gateway.id, [
      { name: 'create_issue', inputSchema: { type: 'object' } },
      { name: 'search', inputSchema: { type: 'object' } },
    ]);
    await prompts.syncDiscovered(gateway.id, [{ name: 'triage' }]);
    await resources.syncDiscovered(gateway.id, [{ uri: 'repo://readme', name: 'README' }]);
    for (const tool of (await tools.list()).items) ids[tool.originalName] = tool.id;
    ids.triage = (await prompts.list()).items[0]!.id;
    ids.readme = (await resources.list()).items[0]!.id;
    await tools.update(ids.search!, { tags: ['dev', 'search'] });

    app = new Hono();
    app.onError((error, c) =>
      renderRestError(c, error, (fields) => {
        throw new Error(`unexpected error: ${JSON.stringify(fields)}`);
      }),
    );
    app.route(
      '/v1/servers',
      createServersRoutes({
        servers: createVirtualServerStore(options),
        publish: async (change) => {
          published.push(change);
        },
        endpointsOf: (id) => ({
          mcp: `http://gw.test/servers/${id}/mcp`,
          sse: `http://gw.test/servers/${id}/sse`,
          ws: `ws://gw.test/servers/${id}/ws`,
        }),
      }),
    );
    app.route('/v1/tags', createTagsRoutes({ db: database.db }));
  });
  afterAll(() => database?.close());

  it('creates a server with members, endpoints, Location and ETag', async () => {
    published.length = 0;
    const response = await create({
      name: 'Issue desk',
      description: 'Triage issues',
      icon: 'https://example.com/icon.png',
      tags: ['dev'],
      members: [
        { kind: 'tool', id: ids.create_issue, alias: 'open' },
        { kind: 'tool', id: ids.search },
        { kind: 'prompt', id: ids.triage, alias: 'open' },
        { kind: 'resource', id: ids.readme, alias: 'desk://readme' },
      ],
    });
    expect(response.status).toBe(201);
    const server = (await response.json()) as ServerBody;
    expect(response.headers.get('location')).toBe(`/v1/servers/${server.id}`);
    expect(response.headers.get('etag')).toBe(`W/"${server.id}-1"`);
    expect(server.members.map((member) => [member.kind, member.alias])).toEqual([
      ['tool', 'open'],
      ['tool', undefined],
      ['prompt', 'open'],
      ['resource', 'desk://readme'],
    ]);
    expect(server.missingMembers).toEqual([]);
    expect(server.endpoints).toEqual({
      mcp: `http://gw.test/servers/${server.id}/mcp`,
      sse: `http://gw.test/servers/${server.id}/sse`,
      ws: `ws://gw.test/servers/${server.id}/ws`,
    });
    expect(published).toEqual([{ kind: 'virtual-server', id: server.id, version: 1 }]);

    const read = await request(`/v1/servers/${server.id}`);
    expect(read.headers.get('etag')).toBe(`W/"${server.id}-1"`);
    expect(((await read.json()) as ServerBody).endpoints.mcp).toContain(server.id);
  });

  it('answers 422 pointing at a member id that does not exist, and writes nothing', async () => {
    const response = await create({
      name: 'Broken',
      members: [
        { kind: 'tool', id: ids.search },
        { kind: 'tool', id: 'no-such-tool' },
        { kind: 'prompt', id: ids.create_issue },
      ],
    });
    expect(response.status).toBe(422);
    expect(await errorOf(response)).toMatchObject({
      code: 'invalid-input',
      details: [
        { path: 'members.1.id', message: 'no tool with id "no-such-tool"' },
        { path: 'members.2.id', message: `no prompt with id "${ids.create_issue}"` },
      ],
    });
    expect(((await (await request('/v1/servers?q=broken')).json()) as PageBody).items).toEqual([]);
  });

  it('answers 409 naming an alias used twice for one kind', async () => {
    const response = await create({
      name: 'Twice',
      members: [
        { kind: 'tool', id: ids.create_issue, alias: 'go' },
        { kind: 'prompt', id: ids.triage, alias: 'go' },
        { kind: 'tool', id: ids.search, alias: 'go' },
      ],
    });
    expect(response.status).toBe(409);
    const error = await errorOf(response);
    expect(error.code).toBe('conflict');
    expect(error.message).toContain('members.2 and members.0 are both the tool alias "go"');
    const taken = await create({ name: 'Issue desk' });
    expect(taken.status).toBe(409);
    expect((await errorOf(taken)).message).toContain('"Issue desk"');
  });

  it('refuses malformed bodies and queries with 400 naming the field', async () => {
    const badIcon = await create({ name: 'Iconic', icon: 'javascript:alert(1)' });
    expect(badIcon.status).toBe(400);
    expect((await errorOf(badIcon)).details).toEqual([
      { path: 'icon', message: 'icon must be an http:// or https:// URL or a data:image/… URI' },
    ]);
    const badAlias = await create({
      name: 'A',
      members: [{ kind: 'tool', id: ids.search, alias: 'has space' }],
    });
    expect((await errorOf(badAlias)).details).toEqual([expect.objectContaining({ path: 'members.0.alias' })]);
    const twice = await create({
      name: 'A',
      members: [
        { kind: 'tool', id: ids.search },
        { kind: 'tool', id: ids.search },
      ],
    });
    expect((await errorOf(twice)).details).toEqual([
      { path: 'members.1.id', message: `the tool "${ids.search}" is already members.0` },
    ]);
    const badKind = await create({ name: 'A', members: [{ kind: 'gateway', id: gateway.id }] });
    expect((await errorOf(badKind)).details).toEqual([expect.objectContaining({ path: 'members.0.kind' })]);
    const unknownQuery = await request(`/v1/servers?gateway=${gateway.id}`);
    expect(unknownQuery.status).toBe(400);
    expect((await errorOf(unknownQuery)).message).toBe('invalid query: gateway: unknown query parameter');
  });

  it('lists with filters, search and cursor pages', async () => {
    for (const name of ['Alpha', 'Beta', 'Gamma']) {
      expect((await create({ name, enabled: name !== 'Beta', tags: ['greek'] })).status).toBe(201);
    }
    const greek = (await (await request('/v1/servers?tag=greek')).json()) as PageBody;
    expect(greek.items.map((server) => server.name)).toEqual(['Alpha', 'Beta', 'Gamma']);
    const disabled = (await (await request('/v1/servers?enabled=false')).json()) as PageBody;
    expect(disabled.items.map((server) => server.name)).toEqual(['Beta']);
    const search = (await (await request('/v1/servers?q=ISSUES')).json()) as PageBody;
    expect(search.items.map((server) => server.name)).toEqual(['Issue desk']);

    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const page = (await (
        await request(`/v1/servers?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      ).json()) as PageBody;
      names.push(...page.items.map((server) => server.name));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(names).toEqual(['Issue desk', 'Alpha', 'Beta', 'Gamma']);
  });

  it('changes a server with If-Match, replaces members as a whole, and answers 412 when stale', async () => {
    const { id } = ((await (await request('/v1/servers?q=alpha')).json()) as PageBody).items[0]!;
    published.length = 0;
    const changed = await request(`/v1/servers/${id}`, {
      method: 'PATCH',
      headers: { 'if-match': `W/"${id}-1"` },
      body: { description: 'First letter', members: [{ kind: 'tool', id: ids.search, alias: 'find' }] },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).toBe(`W/"${id}-2"`);
    const server = (await changed.json()) as ServerBody;
    expect(server.members).toEqual([{ kind: 'tool', id: ids.search, alias: 'find', position: 0 }]);
    expect(published).toEqual([{ kind: 'virtual-server', id, version: 2 }]);

    const renamed = await request(`/v1/servers/${id}`, { method: 'PATCH', body: { description: null } });
    expect(((await renamed.json()) as ServerBody).members).toHaveLength(1);

    const stale = await request(`/v1/servers/${id}`, {
      method: 'PATCH',
      headers: { 'if-match': `W/"${id}-2"` },
      body: { enabled: false },
    });
    expect(stale.status).toBe(412);
    expect((await errorOf(stale)).message).toBe(
      'virtual server changed since you read it (version 3 now, you sent 2); GET it again and retry',
    );
    const missing = await request(`/v1/servers/${id}`, {
      method: 'PATCH',
      body: { members: [{ kind: 'resource', id: 'gone' }] },
    });
    expect(missing.status).toBe(422);
    expect((await errorOf(missing)).details).toEqual([
      { path: 'members.0.id', message: 'no resource with id "gone"' },
    ]);
    const duplicate = await request(`/v1/servers/${id}`, {
      method: 'PATCH',
      body: {
        members: [
          { kind: 'resource', id: ids.readme, alias: 'x://a' },
          { kind: 'tool', id: ids.search, alias: 'x' },
          { kind: 'tool', id: ids.create_issue, alias: 'x' },
        ],
      },
    });
    expect(duplicate.status).toBe(409);
    expect((await request('/v1/servers/nope', { method: 'PATCH', body: {} })).status).toBe(404);
  });

  it('reports members whose item is gone in missingMembers', async () => {
    const { id } = ((await (await request('/v1/servers?q=issue')).json()) as PageBody).items[0]!;
    await tools.syncDiscovered(gateway.id, [{ name: 'search', inputSchema: { type: 'object' } }]);
    const server = (await (await request(`/v1/servers/${id}`)).json()) as ServerBody;
    expect(server.members).toHaveLength(4);
    expect(server.missingMembers).toEqual([
      { kind: 'tool', id: ids.create_issue, alias: 'open', position: 0 },
    ]);
    await tools.syncDiscovered(gateway.id, [
      { name: 'create_issue', inputSchema: { type: 'object' } },
      { name: 'search', inputSchema: { type: 'object' } },
    ]);
    expect(((await (await request(`/v1/servers/${id}`)).json()) as ServerBody).missingMembers).toEqual([]);
  });

  it('counts tags across kinds', async () => {
    const response = await request('/v1/tags');
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as {
      items: Array<{ tag: string; count: number; byKind: Record<string, number> }>;
    };
    expect(items.map((item) => item.tag)).toEqual(['dev', 'greek', 'search']);
    expect(items[0]).toEqual({
      tag: 'dev',
      count: 3,
      byKind: { gateway: 1, tool: 1, resource: 0, prompt: 0, 'virtual-server': 1 },
    });
    expect(items[1]).toMatchObject({ tag: 'greek', count: 3, byKind: { 'virtual-server': 3 } });
  });

  it('deletes with If-Match and then answers 404', async () => {
    const { id } = ((await (await request('/v1/servers?q=gamma')).json()) as PageBody).items[0]!;
    expect(
      (await request(`/v1/servers/${id}`, { method: 'DELETE', headers: { 'if-match': `W/"${id}-5"` } }))
        .status,
    ).toBe(412);
    published.length = 0;
    expect(
      (await request(`/v1/servers/${id}`, { method: 'DELETE', headers: { 'if-match': `W/"${id}-1"` } }))
        .status,
    ).toBe(204);
    expect(published).toEqual([{ kind: 'virtual-server', id, version: 2 }]);
    const gone = await request(`/v1/servers/${id}`);
    expect(gone.status).toBe(404);
    expect((await errorOf(gone)).message).toBe(`no virtual server with id "${id}"`);
  });
});
