import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { exportRegistry } from './export-registry.ts';
import { createGatewayStore } from './gateway-store.ts';
import { importRegistry } from './import-registry.ts';
import { effectiveOwnership } from './ownership.ts';
import type { VisibilityFilter } from './ownership.ts';
import { createPromptStore } from './prompt-store.ts';
import { RegistryError } from './registry-error.ts';
import { createResourceStore } from './resource-store.ts';
import { dialects, emptyRegistry, openTestDatabase } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';
import { createVirtualServerStore } from './virtual-server-store.ts';

const schema = { type: 'object' as const };
const alice: VisibilityFilter = { principalId: 'alice', teams: ['red'] };
const bob: VisibilityFilter = { principalId: 'bob', teams: [] };
const carol: VisibilityFilter = { principalId: 'carol', teams: ['red', 'blue'] };

describe('effectiveOwnership', () => {
  it("takes the gateway's ownership unless the item's own is more restrictive", () => {
    const gateway = { owner: 'alice', team: 'red', visibility: 'team' as const };
    expect(effectiveOwnership({ visibility: 'public' }, gateway)).toBe(gateway);
    expect(effectiveOwnership({ owner: 'bob', visibility: 'team', team: 'blue' }, gateway)).toBe(gateway);
    const item = { owner: 'bob', visibility: 'private' as const };
    expect(effectiveOwnership(item, gateway)).toBe(item);
    expect(effectiveOwnership({ visibility: 'public' }, undefined)).toEqual({ visibility: 'public' });
  });
});

for (const dialect of dialects) {
  describe(`ownership and visibility on ${dialect}`, () => {
    let database: Database;
    let stores: {
      gateways: ReturnType<typeof createGatewayStore>;
      tools: ReturnType<typeof createToolStore>;
      prompts: ReturnType<typeof createPromptStore>;
      resources: ReturnType<typeof createResourceStore>;
      servers: ReturnType<typeof createVirtualServerStore>;
    };

    beforeAll(async () => {
      database = await openTestDatabase(dialect);
      const options = { db: database.db };
      stores = {
        gateways: createGatewayStore(options),
        tools: createToolStore(options),
        prompts: createPromptStore(options),
        resources: createResourceStore(options),
        servers: createVirtualServerStore(options),
      };
    });
    afterAll(() => database?.close());
    beforeEach(() => emptyRegistry(database));

    it('stores owner, team and visibility on every entity, public by default', async () => {
      const gateway = await stores.gateways.create({
        name: 'files',
        transport: 'stdio',
        command: 'mcp-files',
        owner: 'alice',
        team: 'red',
        visibility: 'team',
      });
      expect(gateway).toMatchObject({ owner: 'alice', team: 'red', visibility: 'team' });
      expect(await stores.gateways.get(gateway.id)).toEqual(gateway);

      const tool = await stores.tools.create({
        definition: { name: 'echo', inputSchema: schema },
        owner: 'bob',
        visibility: 'private',
      });
      expect(tool).toMatchObject({ owner: 'bob', team: undefined, visibility: 'private' });
      const prompt = await stores.prompts.create({
        definition: { name: 'p' },
        team: 'red',
        visibility: 'team',
      });
      expect(prompt).toMatchObject({ owner: undefined, team: 'red', visibility: 'team' });
      const resource = await stores.resources.create({ definition: { uri: 'note://a', name: 'a' } });
      expect(resource).toMatchObject({ owner: undefined, team: undefined, visibility: 'public' });
      const server = await stores.servers.create({ name: 'desk', owner: 'carol', visibility: 'private' });
      expect(server).toMatchObject({ owner: 'carol', visibility: 'private' });
      expect(await stores.servers.get(server.id)).toEqual(server);
    });

    it('updates and clears ownership; absent fields keep theirs', async () => {
      const tool = await stores.tools.create({
        definition: { name: 'echo', inputSchema: schema },
        owner: 'bob',
        team: 'red',
        visibility: 'team',
      });
      const kept = await stores.tools.update(tool.id, { enabled: false });
      expect(kept).toMatchObject({ owner: 'bob', team: 'red', visibility: 'team' });
      const changed = await stores.tools.update(tool.id, {
        owner: 'alice',
        team: null,
        visibility: 'private',
      });
      expect(changed).toMatchObject({ owner: 'alice', team: undefined, visibility: 'private' });

      const gateway = await stores.gateways.create({ name: 'g', transport: 'stdio', command: 'x' });
      expect(
        await stores.gateways.update(gateway.id, { owner: 'carol', visibility: 'private' }),
      ).toMatchObject({ owner: 'carol', visibility: 'private' });
      const server = await stores.servers.create({ name: 'desk', owner: 'carol' });
      expect(await stores.servers.update(server.id, { owner: null, visibility: 'team' })).toMatchObject({
        owner: undefined,
        visibility: 'team',
      });
    });

    it('refuses an unknown visibility, in the store and in the table', async () => {
      const bad = { visibility: 'secret' } as unknown as { visibility: 'public' };
      const error = await stores.tools
        .create({ definition: { name: 'echo', inputSchema: schema }, ...bad })
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as RegistryError).details).toEqual([
        { path: 'visibility', message: 'must be one of "private", "team", "public"' },
      ]);
      await expect(
        stores.gateways.create({ name: 'g', transport: 'stdio', command: 'x', ...bad }),
      ).rejects.toMatchObject({ code: 'invalid-input' });
      await expect(
        sql`insert into prompts (id, original_name, definition, tags, created_at, updated_at, visibility)
            values ('x', 'p', '{"name":"p"}', '[]', now(), now(), 'secret')`.execute(database.db),
      ).rejects.toMatchObject({ code: '23514' });
    });

    it('lists only what a principal may see, in SQL, and get hides the rest like an unknown id', async () => {
      const publicGateway = await stores.gateways.create({ name: 'open', transport: 'stdio', command: 'x' });
      const redGateway = await stores.gateways.create({
        name: 'red',
        transport: 'stdio',
        command: 'x',
        owner: 'dave',
        team: 'red',
        visibility: 'team',
      });
      const bobsGateway = await stores.gateways.create({
        name: 'bobs',
        transport: 'stdio',
        command: 'x',
        owner: 'bob',
        visibility: 'private',
      });
      const names = async (filter?: VisibilityFilter) =>
        (await stores.gateways.list({ visibleTo: filter })).map((gateway) => gateway.name);
      expect(await names()).toEqual(['bobs', 'open', 'red']);
      expect(await names(alice)).toEqual(['open', 'red']);
      expect(await names(bob)).toEqual(['bobs', 'open']);
      expect(await names({ teams: [] })).toEqual(['open']); // anonymous: owns nothing
      expect(await stores.gateways.get(bobsGateway.id, { visibleTo: alice })).toBeUndefined();
      expect(await stores.gateways.get(bobsGateway.id, { visibleTo: bob })).toMatchObject({ name: 'bobs' });

      // Discovered items follow their gateway unless their own row is more restrictive.
      await stores.tools.syncDiscovered(publicGateway.id, [
        { name: 'a', inputSchema: schema },
        { name: 'b', inputSchema: schema },
      ]);
      await stores.tools.syncDiscovered(redGateway.id, [{ name: 'c', inputSchema: schema }]);
      await stores.tools.syncDiscovered(bobsGateway.id, [{ name: 'd', inputSchema: schema }]);
      const toolB = (await stores.tools.list({ search: 'b' })).items.find(
        (tool) => tool.originalName === 'b',
      );
      await stores.tools.update(toolB!.id, { owner: 'carol', team: 'blue', visibility: 'team' });
      await stores.tools.create({
        definition: { name: 'mine', inputSchema: schema },
        owner: 'alice',
        visibility: 'private',
      });
      await stores.tools.create({ definition: { name: 'everyone', inputSchema: schema } });
      const toolNames = async (filter?: VisibilityFilter) =>
        (await stores.tools.list({ visibleTo: filter })).items.map((tool) => tool.originalName).sort();
      expect(await toolNames()).toEqual(['a', 'b', 'c', 'd', 'everyone', 'mine']);
      expect(await toolNames(alice)).toEqual(['a', 'c', 'everyone', 'mine']);
      expect(await toolNames(bob)).toEqual(['a', 'd', 'everyone']);
      expect(await toolNames(carol)).toEqual(['a', 'b', 'c', 'everyone']);
      // The filter combines with the others and with paging.
      const page = await stores.tools.list({ visibleTo: alice, gatewayId: null, limit: 1 });
      expect(page.items.map((tool) => tool.originalName)).toEqual(['mine']);
      const next = await stores.tools.list({ visibleTo: alice, gatewayId: null, cursor: page.nextCursor });
      expect(next.items.map((tool) => tool.originalName)).toEqual(['everyone']);
      const toolD = (await stores.tools.list({ gatewayId: bobsGateway.id })).items[0]!;
      expect(await stores.tools.get(toolD.id, { visibleTo: alice })).toBeUndefined();
      expect(await stores.tools.get(toolD.id, { visibleTo: bob })).toMatchObject({ originalName: 'd' });

      await stores.prompts.syncDiscovered(bobsGateway.id, [{ name: 'p' }]);
      await stores.prompts.create({ definition: { name: 'q' }, team: 'red', visibility: 'team' });
      const promptNames = async (filter: VisibilityFilter) =>
        (await stores.prompts.list({ visibleTo: filter })).items.map((prompt) => prompt.originalName).sort();
      expect(await promptNames(alice)).toEqual(['q']);
      expect(await promptNames(bob)).toEqual(['p']);

      await stores.resources.syncDiscovered(redGateway.id, [{ uriTemplate: 'x://{id}', name: 'x' }]);
      await stores.resources.create({
        definition: { uri: 'note://b', name: 'b' },
        owner: 'bob',
        visibility: 'private',
      });
      const uris = async (filter: VisibilityFilter) =>
        (await stores.resources.list({ visibleTo: filter })).items.map((resource) => resource.uri).sort();
      expect(await uris(alice)).toEqual(['x://{id}']);
      expect(await uris(bob)).toEqual(['note://b']);

      await stores.servers.create({ name: 'shared' });
      await stores.servers.create({ name: 'reds', team: 'red', visibility: 'team' });
      await stores.servers.create({ name: 'secret', owner: 'bob', visibility: 'private' });
      const serverNames = async (filter: VisibilityFilter) =>
        (await stores.servers.list({ visibleTo: filter })).items.map((server) => server.name).sort();
      expect(await serverNames(alice)).toEqual(['reds', 'shared']);
      expect(await serverNames(bob)).toEqual(['secret', 'shared']);
    });

    it('exports ownership (leaving out the public default) and imports it back', async () => {
      const gateway = await stores.gateways.create({
        name: 'files',
        transport: 'stdio',
        command: 'x',
        owner: 'alice',
        team: 'red',
        visibility: 'team',
      });
      await stores.tools.syncDiscovered(gateway.id, [{ name: 'read', inputSchema: schema }]);
      await stores.tools.create({
        definition: { name: 'echo', inputSchema: schema },
        owner: 'bob',
        visibility: 'private',
      });
      await stores.prompts.create({ definition: { name: 'p' } });
      await stores.servers.create({ name: 'desk', owner: 'carol', visibility: 'private' });
      const document = await exportRegistry(database.db);
      expect(document.gateways[0]).toMatchObject({ owner: 'alice', team: 'red', visibility: 'team' });
      expect(document.tools.find((tool) => tool.name === 'echo')).toMatchObject({
        owner: 'bob',
        visibility: 'private',
      });
      expect(document.tools.find((tool) => tool.name === 'read')).not.toHaveProperty('visibility');
      expect(document.prompts[0]).not.toHaveProperty('visibility');
      expect(document.virtualServers[0]).toMatchObject({ owner: 'carol', visibility: 'private' });

      // Importing the export changes nothing; a changed owner is an update, and a bad visibility is refused.
      const unchanged = await importRegistry(database.db, document, { mode: 'replace' });
      expect(unchanged).toMatchObject({ created: 0, updated: 0, deleted: 0 });
      const changed = structuredClone(document);
      changed.tools.find((tool) => tool.name === 'echo')!.owner = 'dave';
      delete changed.virtualServers[0]!.visibility;
      expect(await importRegistry(database.db, changed, { mode: 'merge' })).toMatchObject({ updated: 2 });
      const echo = (await stores.tools.list({ search: 'echo' })).items[0];
      expect(echo).toMatchObject({ owner: 'dave', visibility: 'private' });
      expect((await stores.servers.list()).items[0]).toMatchObject({ owner: 'carol', visibility: 'public' });
      const invalid = structuredClone(document) as unknown as { prompts: Array<Record<string, unknown>> };
      invalid.prompts[0]!.visibility = 'everyone';
      await expect(importRegistry(database.db, invalid, { mode: 'merge' })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'prompts.0.visibility', message: 'must be one of "private", "team", "public"' }],
      });
    });
  });
}
