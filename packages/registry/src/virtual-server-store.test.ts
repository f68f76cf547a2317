import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import type { GatewayRecord, GatewayStore } from './gateway-store.ts';
import { createPromptStore } from './prompt-store.ts';
import type { PromptStore } from './prompt-store.ts';
import { RegistryError } from './registry-error.ts';
import { createResourceStore } from './resource-store.ts';
import type { ResourceStore } from './resource-store.ts';
import { dialects, emptyRegistry, openTestDatabase, sequentialIds } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';
import type { ToolStore } from './tool-store.ts';
import { createVirtualServerStore } from './virtual-server-store.ts';
import type { VirtualServerStore } from './virtual-server-store.ts';

for (const dialect of dialects) {
  describe(`virtual server store on ${dialect}`, () => {
    const ids = sequentialIds();
    let database: Database;
    let store: VirtualServerStore;
    let gateways: GatewayStore;
    let tools: ToolStore;
    let prompts: PromptStore;
    let resources: ResourceStore;
    let now: Date;
    let gateway: GatewayRecord;

    beforeAll(async () => {
      database = await openTestDatabase(dialect);
      const options = { db: database.db, clock: () => now, generateId: ids.next };
      store = createVirtualServerStore(options);
      gateways = createGatewayStore(options);
      tools = createToolStore(options);
      prompts = createPromptStore(options);
      resources = createResourceStore(options);
    });
    afterAll(() => database?.close());
    beforeEach(async () => {
      await emptyRegistry(database);
      now = new Date('2026-03-01T10:00:00.000Z');
      ids.reset();
      gateway = await gateways.create({
        name: 'github',
        transport: 'streamable-http',
        url: 'https://gh.example/mcp',
      });
    });

    /** Syncs a few items from the gateway and returns their ids by name. */
    async function discover(): Promise<Record<string, string>> {
      await tools.syncDiscovered(gateway.id, [
        { name: 'create_issue', inputSchema: { type: 'object' } },
        { name: 'search', inputSchema: { type: 'object' } },
      ]);
      await prompts.syncDiscovered(gateway.id, [{ name: 'triage' }]);
      await resources.syncDiscovered(gateway.id, [{ uri: 'repo://readme', name: 'README' }]);
      const byName: Record<string, string> = {};
      for (const tool of (await tools.list()).items) byName[tool.originalName] = tool.id;
      for (const prompt of (await prompts.list()).items) byName[prompt.originalName] = prompt.id;
      for (const resource of (await resources.list()).items) byName[resource.uri] = resource.id;
      return byName;
    }

    it('creates a server with members in order and reads it back', async () => {
      const item = await discover();
      const created = await store.create({
        name: 'Issue desk',
        description: 'Just the issue tools',
        icon: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
        tags: ['support'],
        members: [
          { kind: 'tool', id: item.create_issue!, alias: 'open_ticket' },
          { kind: 'prompt', id: item.triage! },
          { kind: 'resource', id: item['repo://readme']!, alias: 'desk://readme' },
        ],
        createdBy: 'alice',
      });
      expect(created).toEqual({
        id: expect.any(String),
        name: 'Issue desk',
        description: 'Just the issue tools',
        icon: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
        enabled: true,
        tags: ['support'],
        members: [
          { kind: 'tool', id: item.create_issue, alias: 'open_ticket', position: 0 },
          { kind: 'prompt', id: item.triage, alias: undefined, position: 1 },
          { kind: 'resource', id: item['repo://readme'], alias: 'desk://readme', position: 2 },
        ],
        missingMembers: [],
        visibility: 'public',
        version: 1,
        createdAt: now,
        updatedAt: now,
        createdBy: 'alice',
        updatedBy: 'alice',
      });
      expect(await store.get(created.id)).toEqual(created);
      expect((await store.list()).items).toEqual([created]);
    });

    it('reports a member its upstream stopped listing as missing, and heals when it is listed again', async () => {
      const item = await discover();
      const server = await store.create({
        name: 'desk',
        members: [
          { kind: 'tool', id: item.create_issue! },
          { kind: 'tool', id: item.search! },
        ],
      });
      await tools.syncDiscovered(gateway.id, [{ name: 'search', inputSchema: { type: 'object' } }]);
      const dropped = await store.get(server.id);
      expect(dropped?.members).toHaveLength(2);
      expect(dropped?.missingMembers).toEqual([
        { kind: 'tool', id: item.create_issue, alias: undefined, position: 0 },
      ]);
      expect((await store.list()).items[0]?.missingMembers).toHaveLength(1);

      await tools.syncDiscovered(gateway.id, [
        { name: 'search', inputSchema: { type: 'object' } },
        { name: 'create_issue', inputSchema: { type: 'object' } },
      ]);
      expect((await store.get(server.id))?.missingMembers).toEqual([]);

      // Deleting the whole gateway drops every member; the server itself stays.
      await gateways.remove(gateway.id);
      expect((await store.get(server.id))?.missingMembers).toHaveLength(2);
    });

    it('rejects members that do not exist, are listed twice, or share an alias, all at once', async () => {
      const item = await discover();
      const error = await store
        .create({
          name: 'broken',
          members: [
            { kind: 'tool', id: item.create_issue!, alias: 'x' },
            { kind: 'tool', id: item.create_issue! },
            { kind: 'tool', id: item.search!, alias: 'x' },
            { kind: 'prompt', id: item.create_issue!, alias: 'bad alias' },
          ],
        })
        .catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error.details).toEqual([
        { path: 'members.1', message: `the tool "${item.create_issue}" is listed twice` },
        { path: 'members.2.alias', message: 'another tool already has the alias "x"' },
        { path: 'members.3.alias', message: 'must be 1 to 64 letters, digits, "_" or "-"' },
      ]);

      const missing = await store
        .create({
          name: 'ghosts',
          members: [
            { kind: 'tool', id: item.search! },
            { kind: 'prompt', id: item.search! },
            { kind: 'resource', id: 'nope' },
          ],
        })
        .catch((e) => e);
      expect(missing).toMatchObject({
        code: 'invalid-input',
        details: [
          { path: 'members.1.id', message: `no prompt with id "${item.search}"` },
          { path: 'members.2.id', message: 'no resource with id "nope"' },
        ],
      });
      expect((await store.list()).items).toEqual([]);
    });

    it('replaces members as a whole on update, checks versions, and conflicts on a taken name', async () => {
      const item = await discover();
      const server = await store.create({ name: 'desk', members: [{ kind: 'tool', id: item.search! }] });
      await store.create({ name: 'other' });
      now = new Date('2026-03-01T11:00:00.000Z');
      const updated = await store.update(
        server.id,
        {
          description: 'new',
          members: [{ kind: 'prompt', id: item.triage!, alias: 'triage_it' }],
          updatedBy: 'bob',
        },
        { ifVersion: 1 },
      );
      expect(updated).toMatchObject({
        description: 'new',
        members: [{ kind: 'prompt', id: item.triage, alias: 'triage_it', position: 0 }],
        version: 2,
        updatedAt: now,
        updatedBy: 'bob',
      });
      await expect(store.update(server.id, { enabled: false }, { ifVersion: 1 })).rejects.toMatchObject({
        code: 'precondition-failed',
      });
      await expect(store.update(server.id, { name: 'other' })).rejects.toMatchObject({
        code: 'conflict',
        message: 'a virtual server named "other" already exists',
        details: { field: 'name' },
      });
      // A failed member check leaves the server as it was.
      await expect(
        store.update(server.id, { members: [{ kind: 'tool', id: 'gone' }] }),
      ).rejects.toMatchObject({
        code: 'invalid-input',
      });
      expect(await store.get(server.id)).toEqual(updated);
      expect(await store.update(server.id, { description: null })).toMatchObject({
        description: undefined,
        version: 3,
      });
      expect(await store.update('missing', { enabled: false })).toBeUndefined();
    });

    it('validates name and icon, removes a server with its members, and pages and filters', async () => {
      await expect(store.create({ name: ' bad', icon: 'javascript:alert(1)' })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [
          {
            path: 'name',
            message:
              'must start with a letter or digit and contain only letters, digits, spaces, ".", "_" and "-"',
          },
          { path: 'icon', message: 'must be an http:// or https:// URL or a data:image/… URI' },
        ],
      });
      const item = await discover();
      const server = await store.create({ name: 'doomed', members: [{ kind: 'tool', id: item.search! }] });
      expect(await store.remove(server.id)).toBe(true);
      const { count } = await database.db
        .selectFrom('virtual_server_members')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .executeTakeFirstOrThrow();
      expect(Number(count)).toBe(0);

      for (let index = 0; index < 7; index++) {
        await store.create({
          name: `server ${index}`,
          description: index === 4 ? 'The Special one' : undefined,
          enabled: index % 2 === 0,
          tags: index < 2 ? ['beta'] : [],
        });
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 3, cursor });
        seen.push(...page.items.map((item) => item.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(Array.from({ length: 7 }, (_, index) => `server ${index}`));
      const names = async (options: Parameters<VirtualServerStore['list']>[0]) =>
        (await store.list(options)).items.map((item) => item.name);
      expect(await names({ search: 'special' })).toEqual(['server 4']);
      expect(await names({ tag: 'beta' })).toEqual(['server 0', 'server 1']);
      expect(await names({ enabled: false })).toEqual(['server 1', 'server 3', 'server 5']);
    });
  });
}
