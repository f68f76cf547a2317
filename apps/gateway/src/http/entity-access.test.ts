import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anonymousPrincipal, createPolicy, type Principal } from '@mcp-gateway/auth';
import { createRouter, silentLogger, type Router } from '@mcp-gateway/core';
import {
  createDatabase,
  createGatewayStore,
  createPromptStore,
  createResourceStore,
  createToolStore,
  createVirtualServerStore,
  type Database,
  type GatewayStore,
  type ToolStore,
} from '@mcp-gateway/registry';
import { requestPrincipal, setRequestPrincipal, type RestAccess } from '../auth/request-access.ts';
import { createUpstreamManager, type UpstreamManager } from '../upstreams/upstream-manager.ts';
import { createAdminActions } from './admin-actions.ts';
import { createCatalogRoutes } from './catalog-routes.ts';
import { visibilityFilterFor } from './entity-access.ts';
import { createGatewaysRoutes } from './gateways-routes.ts';
import { renderRestError } from './rest-error.ts';
import { createServersRoutes } from './servers-routes.ts';

type ErrorBody = { error: { code: string; message: string } };
type Entity = {
  id: string;
  name?: string;
  originalName?: string;
  owner?: string;
  team?: string;
  visibility: string;
};

const principal = (id: string, roles: string[], teams: string[] = []): Principal => ({
  id,
  kind: 'user',
  roles,
  teams,
  scopes: ['*'],
});
const principals: Record<string, Principal> = {
  alice: principal('alice', ['developer'], ['red']),
  bob: principal('bob', ['developer']),
  carol: principal('carol', ['developer'], ['red']),
  root: principal('root', ['admin']),
};

/** Ownership and visibility on the REST routes, with two (and more) principals and a real policy. */
describe('REST routes with access: ownership and visibility', () => {
  let database: Database;
  let gateways: GatewayStore;
  let tools: ToolStore;
  let router: Router;
  let manager: UpstreamManager;
  let app: Hono;

  beforeAll(async () => {
    database = await createDatabase();
    const db = database.db;
    gateways = createGatewayStore({ db });
    tools = createToolStore({ db });
    router = createRouter();
    // Every gateway in these tests is disabled, so nothing connects.
    manager = createUpstreamManager({
      router,
      logger: silentLogger,
      createUpstream: () => {
        throw new Error('no upstream is started in these tests');
      },
    });
    const policy = createPolicy({ visibilityOf: () => undefined });
    const access: RestAccess = {
      principal: (request) => requestPrincipal(request) ?? anonymousPrincipal(),
      policy,
    };
    const publish = async () => {};
    const catalog = createCatalogRoutes({
      tools,
      prompts: createPromptStore({ db }),
      resources: createResourceStore({ db }),
      gateways,
      publish,
      access,
      createTool: (body, ownership) =>
        tools.create({
          definition: { name: String(body.name), inputSchema: { type: 'object' } },
          integration: body.integration,
          integrationConfig: { url: 'https://api.example/weather' },
          ...ownership,
        }),
    });
    app = new Hono();
    app.onError((error, c) =>
      renderRestError(c, error, (fields) => {
        throw new Error(`unexpected error: ${JSON.stringify(fields)}`);
      }),
    );
    // What the authentication middleware does: one principal per request (here named by a test header).
    app.use(async (c, next) => {
      const who = principals[c.req.header('x-test-principal') ?? ''];
      if (who) setRequestPrincipal(c.req.raw, who);
      await next();
    });
    app.route('/v1', createAdminActions({ router, manager, gateways, tools, publish, access }));
    app.route('/v1/tools', catalog.tools);
    app.route('/v1/prompts', catalog.prompts);
    app.route('/v1/resources', catalog.resources);
    app.route('/v1/gateways', createGatewaysRoutes({ store: gateways, manager, access }));
    app.route(
      '/v1/servers',
      createServersRoutes({
        servers: createVirtualServerStore({ db }),
        publish,
        access,
        endpointsOf: (id) => ({
          mcp: `/servers/${id}/mcp`,
          sse: `/servers/${id}/sse`,
          ws: `/servers/${id}/ws`,
        }),
      }),
    );
  });
  afterAll(async () => {
    await manager?.close();
    router?.close();
    await database?.close();
  });

  const call = (as: string | undefined, method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { 'content-type': 'application/json', ...(as ? { 'x-test-principal': as } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const json = async <T = Entity>(response: Response) => (await response.json()) as T;
  const names = async (as: string | undefined, path: string) =>
    (await json<{ items: Entity[] }>(await call(as, 'GET', path))).items
      .map((item) => item.name ?? item.originalName ?? '')
      .sort();
  const template = { messages: [{ role: 'user', text: 'hi' }] };

  it('stamps the caller as owner, lists only what each principal may see, and hides the rest as 404', async () => {
    const created = await call('alice', 'POST', '/v1/prompts', {
      name: 'mine',
      template,
      visibility: 'private',
    });
    expect(created.status).toBe(201);
    const mine = await json(created);
    expect(mine).toMatchObject({ owner: 'alice', visibility: 'private' });
    const teamPrompt = await json(
      await call('alice', 'POST', '/v1/prompts', { name: 'reds', template, team: 'red', visibility: 'team' }),
    );
    await call('bob', 'POST', '/v1/prompts', { name: 'open', template });

    expect(await names('alice', '/v1/prompts')).toEqual(['mine', 'open', 'reds']);
    expect(await names('carol', '/v1/prompts')).toEqual(['open', 'reds']);
    expect(await names('bob', '/v1/prompts')).toEqual(['open']);
    expect(await names('root', '/v1/prompts')).toEqual(['mine', 'open', 'reds']);
    expect(await names(undefined, '/v1/prompts')).toEqual(['open']);

    // Exactly what an unknown id gives: no hint that the prompt exists.
    const hidden = await call('bob', 'GET', `/v1/prompts/${mine.id}`);
    const unknown = await call('bob', 'GET', '/v1/prompts/no-such-id');
    expect(hidden.status).toBe(404);
    expect((await json<ErrorBody>(hidden)).error).toEqual({
      code: 'not-found',
      message: `no prompt with id "${mine.id}"`,
      details: { id: mine.id },
    });
    expect(unknown.status).toBe(404);
    expect((await call('bob', 'PATCH', `/v1/prompts/${teamPrompt.id}`, { enabled: false })).status).toBe(404);
    expect((await call('bob', 'DELETE', `/v1/prompts/${mine.id}`)).status).toBe(404);
    expect((await call('alice', 'GET', `/v1/prompts/${mine.id}`)).status).toBe(200);
  });

  it('lets owners and team members change an entity, refuses others with 403, and admins always', async () => {
    const open = await json(
      await call('alice', 'POST', '/v1/resources', { uri: 'note://a', name: 'a', text: 'x' }),
    );
    expect(open).toMatchObject({ owner: 'alice', visibility: 'public' });
    const refused = await call('bob', 'PATCH', `/v1/resources/${open.id}`, { tags: ['x'] });
    expect(refused.status).toBe(403);
    expect((await json<ErrorBody>(refused)).error).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('bob may not update this resource') as unknown,
    });
    expect((await call('bob', 'DELETE', `/v1/resources/${open.id}`)).status).toBe(403);

    const shared = await json(
      await call('alice', 'POST', '/v1/resources', {
        uri: 'note://b',
        name: 'b',
        text: 'x',
        team: 'red',
        visibility: 'team',
      }),
    );
    const byTeamMate = await call('carol', 'PATCH', `/v1/resources/${shared.id}`, { tags: ['red'] });
    expect(byTeamMate.status).toBe(200);
    expect(await json(byTeamMate)).toMatchObject({ owner: 'alice', team: 'red', tags: ['red'] });
    expect((await call('root', 'PATCH', `/v1/resources/${open.id}`, { enabled: false })).status).toBe(200);
    expect((await call('root', 'DELETE', `/v1/resources/${open.id}`)).status).toBe(204);
  });

  it('refuses giving an entity to someone else or to a team one is not in, unless admin', async () => {
    const forBob = await call('alice', 'POST', '/v1/prompts', { name: 'gift', template, owner: 'bob' });
    expect(forBob.status).toBe(403);
    expect((await json<ErrorBody>(forBob)).error.message).toContain('alice may not create this prompt');
    expect(
      (await call('alice', 'POST', '/v1/prompts', { name: 'blue', template, team: 'blue' })).status,
    ).toBe(403);
    expect((await call(undefined, 'POST', '/v1/prompts', { name: 'anon', template })).status).toBe(403);
    const byAdmin = await call('root', 'POST', '/v1/prompts', { name: 'gift', template, owner: 'bob' });
    expect(await json(byAdmin)).toMatchObject({ owner: 'bob', visibility: 'public' });

    const own = await json(await call('alice', 'POST', '/v1/prompts', { name: 'kept', template }));
    const handOver = await call('alice', 'PATCH', `/v1/prompts/${own.id}`, { owner: 'bob' });
    expect(handOver.status).toBe(403);
    expect((await json<ErrorBody>(handOver)).error.message).toContain('the new owner or team is not its own');
    const narrowed = await call('alice', 'PATCH', `/v1/prompts/${own.id}`, {
      team: 'red',
      visibility: 'team',
    });
    expect(await json(narrowed)).toMatchObject({ owner: 'alice', team: 'red', visibility: 'team' });
  });

  it("judges discovered tools by their gateway's ownership, on every route and admin action", async () => {
    const created = await call('alice', 'POST', '/v1/gateways', {
      name: 'private-files',
      transport: 'stdio',
      command: 'mcp-files',
      enabled: false,
      visibility: 'private',
    });
    expect(created.status).toBe(201);
    const gateway = await json(created);
    expect(gateway).toMatchObject({ owner: 'alice', visibility: 'private' });
    await tools.syncDiscovered(gateway.id, [{ name: 'read_file', inputSchema: { type: 'object' } }]);
    const tool = (await tools.list({ gatewayId: gateway.id })).items[0]!;

    expect(await names('bob', '/v1/gateways')).not.toContain('private-files');
    expect(await names('alice', '/v1/gateways')).toContain('private-files');
    expect((await call('bob', 'GET', `/v1/gateways/${gateway.id}`)).status).toBe(404);
    expect((await call('bob', 'PATCH', `/v1/gateways/${gateway.id}`, { tags: ['x'] })).status).toBe(404);
    expect((await call('bob', 'POST', `/v1/gateways/${gateway.id}/refresh`)).status).toBe(404);
    expect(await names('bob', '/v1/tools')).not.toContain('read_file');
    expect((await call('bob', 'GET', `/v1/tools/${tool.id}`)).status).toBe(404);
    expect((await call('bob', 'POST', `/v1/tools/${tool.id}/invoke`, {})).status).toBe(404);
    expect((await call('carol', 'GET', `/v1/tools/${tool.id}`)).status).toBe(404);

    // The gateway's owner manages its discovered tools, though their own rows name nobody.
    const aliased = await call('alice', 'PATCH', `/v1/tools/${tool.id}`, { alias: 'read_private' });
    expect(aliased.status).toBe(200);
    const row = await json<Entity & { alias: string }>(aliased);
    expect(row).toMatchObject({ alias: 'read_private', visibility: 'public' });
    expect(row.owner).toBeUndefined();
    expect((await call('alice', 'DELETE', `/v1/gateways/${gateway.id}`)).status).toBe(204);
  });

  it('owns adapter tools and virtual servers the same way', async () => {
    const tool = await call('bob', 'POST', '/v1/tools', {
      integration: 'rest',
      name: 'weather',
      visibility: 'private',
    });
    expect(tool.status).toBe(201);
    expect(await json(tool)).toMatchObject({ originalName: 'weather', owner: 'bob', visibility: 'private' });
    expect(await names('alice', '/v1/tools')).not.toContain('weather');

    const server = await json(
      await call('bob', 'POST', '/v1/servers', { name: 'desk', visibility: 'private' }),
    );
    expect(server).toMatchObject({ owner: 'bob', visibility: 'private' });
    expect(await names('alice', '/v1/servers')).toEqual([]);
    expect((await call('alice', 'PATCH', `/v1/servers/${server.id}`, { description: 'x' })).status).toBe(404);
    const shared = await call('bob', 'PATCH', `/v1/servers/${server.id}`, { visibility: 'public' });
    expect(await json(shared)).toMatchObject({ visibility: 'public' });
    expect(await names('alice', '/v1/servers')).toEqual(['desk']);
    expect((await call('alice', 'DELETE', `/v1/servers/${server.id}`)).status).toBe(403);
  });

  it('filters nothing for admins, and only public entities for anonymous callers', () => {
    const access: RestAccess = {
      principal: () => principals.root!,
      policy: createPolicy({ visibilityOf: () => undefined }),
    };
    expect(visibilityFilterFor(access, principals.root!, 'tool')).toBeUndefined();
    expect(visibilityFilterFor(access, principals.carol!, 'tool')).toEqual({
      principalId: 'carol',
      teams: ['red'],
    });
    expect(visibilityFilterFor(access, anonymousPrincipal({ teams: ['red'] }), 'tool')).toEqual({
      teams: [],
    });
  });
});
