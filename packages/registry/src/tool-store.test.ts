import type { Tool } from '@mcp-gateway/core';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import type { GatewayStore } from './gateway-store.ts';
import { RegistryError } from './registry-error.ts';
import { dialects, emptyRegistry, openTestDatabase, sequentialIds } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';
import type { ToolStore } from './tool-store.ts';

const echo: Tool = {
  name: 'echo',
  description: 'Echoes its input',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
};

function tool(name: string, extra: Partial<Tool> = {}): Tool {
  return { name, inputSchema: { type: 'object' }, ...extra };
}

for (const dialect of dialects) {
  describe(`tool store on ${dialect}`, () => {
    const ids = sequentialIds();
    let database: Database;
    let store: ToolStore;
    let gateways: GatewayStore;
    let now: Date;

    beforeAll(async () => {
      database = await openTestDatabase(dialect);
      store = createToolStore({ db: database.db, clock: () => now, generateId: ids.next });
      gateways = createGatewayStore({ db: database.db, clock: () => now, generateId: ids.next });
    });
    afterAll(() => database?.close());
    beforeEach(async () => {
      await emptyRegistry(database);
      now = new Date('2026-03-01T10:00:00.000Z');
      ids.reset();
    });

    const addGateway = (name = 'files') =>
      gateways.create({ name, transport: 'stdio', command: 'mcp-files' });

    it('creates a local tool with defaults and reads it back', async () => {
      const created = await store.create({ definition: echo });
      expect(created).toEqual({
        id: '00000000-0000-4000-8000-000000000001',
        gatewayId: undefined,
        originalName: 'echo',
        integration: 'mcp',
        integrationConfig: undefined,
        definition: echo,
        enabled: true,
        alias: undefined,
        descriptionOverride: undefined,
        annotationsOverride: undefined,
        tags: [],
        visibility: 'public',
        version: 1,
        createdAt: now,
        updatedAt: now,
        createdBy: undefined,
        updatedBy: undefined,
      });
      expect(await store.get(created.id)).toEqual(created);
      expect(await store.list()).toEqual({ items: [created] });
    });

    it('stores every field of an adapter tool', async () => {
      const created = await store.create({
        definition: tool('get_weather', { annotations: { readOnlyHint: true } }),
        integration: 'rest',
        integrationConfig: { url: 'https://api.example.com/weather', method: 'GET' },
        enabled: false,
        alias: 'weather',
        descriptionOverride: 'Current weather',
        annotationsOverride: { readOnlyHint: false, title: 'Weather' },
        tags: ['ops', 'ops', 'eu'],
        createdBy: 'alice',
      });
      expect(await store.get(created.id)).toMatchObject({
        integration: 'rest',
        integrationConfig: { url: 'https://api.example.com/weather', method: 'GET' },
        enabled: false,
        alias: 'weather',
        descriptionOverride: 'Current weather',
        annotationsOverride: { readOnlyHint: false, title: 'Weather' },
        tags: ['ops', 'eu'],
        createdBy: 'alice',
        updatedBy: 'alice',
      });
    });

    it('gives a tool under a gateway a name-based id and rejects an unknown gateway', async () => {
      const gateway = await addGateway();
      const first = await store.create({ definition: echo, gatewayId: gateway.id });
      await store.remove(first.id);
      const again = await store.create({ definition: echo, gatewayId: gateway.id });
      expect(again.id).toBe(first.id);
      expect(again.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

      const error = await store
        .create({ definition: echo, gatewayId: '00000000-0000-4000-8000-999999999999' })
        .catch((e) => e);
      expect(error).toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'gatewayId', message: 'no such gateway' }],
      });
    });

    it('keeps names unique per gateway and among local tools, and aliases unique everywhere', async () => {
      const gateway = await addGateway();
      await store.create({ definition: echo });
      await store.create({ definition: echo, gatewayId: gateway.id }); // same name, other scope: fine
      await expect(store.create({ definition: echo })).rejects.toMatchObject({
        code: 'conflict',
        message: 'a tool named "echo" already exists among local tools',
        details: { field: 'name' },
      });
      await expect(store.create({ definition: echo, gatewayId: gateway.id })).rejects.toMatchObject({
        code: 'conflict',
        details: { field: 'name' },
      });
      await store.create({ definition: tool('a'), alias: 'shared' });
      const error = await store.create({ definition: tool('b'), alias: 'shared' }).catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({
        code: 'conflict',
        message: 'another tool already has the alias "shared"',
        details: { field: 'alias' },
      });
      expect((await store.list()).items).toHaveLength(3);
    });

    it('reports every invalid field at once', async () => {
      const error = await store
        .create({
          definition: { name: '' } as Tool,
          alias: 'not a name!',
          tags: ['ok', ' padded'],
          integration: 'REST',
          enabled: 'yes' as unknown as boolean,
        })
        .catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error.code).toBe('invalid-input');
      expect(error.details).toEqual([
        { path: 'definition.inputSchema', message: 'is required' },
        { path: 'definition.name', message: 'must not be empty' },
        { path: 'alias', message: 'must be 1 to 64 letters, digits, "_" or "-"' },
        {
          path: 'tags.1',
          message: 'must be a non-empty string of at most 64 characters, without surrounding spaces',
        },
        {
          path: 'integration',
          message: 'must be 1 to 32 lowercase letters, digits or "-", starting with a letter',
        },
        { path: 'enabled', message: 'must be true or false' },
      ]);
      expect(error.message).toMatch(/^invalid tool: definition.inputSchema: is required; .*; and 3 more$/);
      expect((await store.list()).items).toEqual([]);
    });

    it('updates overrides, bumps the version, and clears with null', async () => {
      const created = await store.create({ definition: echo, alias: 'say', createdBy: 'alice' });
      now = new Date('2026-03-01T11:00:00.000Z');
      const updated = await store.update(created.id, {
        enabled: false,
        alias: null,
        descriptionOverride: 'Repeats text',
        annotationsOverride: { destructiveHint: false },
        tags: ['b', 'a'],
        updatedBy: 'bob',
      });
      expect(updated).toEqual({
        ...created,
        enabled: false,
        alias: undefined,
        descriptionOverride: 'Repeats text',
        annotationsOverride: { destructiveHint: false },
        tags: ['b', 'a'],
        version: 2,
        updatedAt: now,
        updatedBy: 'bob',
      });
      expect(await store.get(created.id)).toEqual(updated);
    });

    it('lets a local tool change its definition (and so its name) but not a discovered one', async () => {
      const local = await store.create({ definition: echo });
      const renamed = await store.update(local.id, { definition: tool('shout') });
      expect(renamed).toMatchObject({ originalName: 'shout', definition: tool('shout'), version: 2 });

      const gateway = await addGateway();
      const discovered = await store.create({ definition: echo, gatewayId: gateway.id });
      await expect(store.update(discovered.id, { definition: tool('other') })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'definition', message: 'belongs to the upstream; only local items can change it' }],
      });
      expect(await store.get(discovered.id)).toEqual(discovered);
    });

    it('refuses a write on a stale version with precondition-failed and changes nothing', async () => {
      const created = await store.create({ definition: echo });
      const updated = await store.update(created.id, { enabled: false }, { ifVersion: 1 });
      expect(updated?.version).toBe(2);

      const error = await store.update(created.id, { alias: 'late' }, { ifVersion: 1 }).catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({
        code: 'precondition-failed',
        message: `tool "${created.id}" is at version 2, not 1; re-read it and try again`,
        details: { id: created.id, expectedVersion: 1, actualVersion: 2 },
      });
      await expect(store.remove(created.id, { ifVersion: 1 })).rejects.toMatchObject({
        code: 'precondition-failed',
      });
      expect(await store.get(created.id)).toEqual(updated);
      await expect(store.update(created.id, {}, { ifVersion: 0 })).rejects.toMatchObject({
        code: 'invalid-input',
      });

      expect(await store.remove(created.id, { ifVersion: 2 })).toBe(true);
      expect(await store.update(created.id, { enabled: true }, { ifVersion: 2 })).toBeUndefined();
      expect(await store.update(created.id, { enabled: true })).toBeUndefined();
      expect(await store.remove(created.id, { ifVersion: 2 })).toBe(false);
    });

    it('pages through every tool exactly once, in creation order, even with equal timestamps', async () => {
      const names: string[] = [];
      for (let index = 0; index < 23; index++) {
        if (index % 4 === 0) now = new Date(now.getTime() + 1_000); // runs of equal created_at
        const name = `tool_${String(index).padStart(2, '0')}`;
        names.push(name);
        await store.create({ definition: tool(name) });
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.list({ limit: 5, cursor });
        seen.push(...page.items.map((item) => item.originalName));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== undefined);
      expect(seen).toEqual(names);
      expect(pages).toBe(5);
      expect((await store.list()).items).toHaveLength(23); // default limit 50
      expect((await store.list({ limit: 10_000 })).items).toHaveLength(23); // lowered to 500
      // A page ending exactly on the last row has no next cursor.
      expect((await store.list({ limit: 23 })).nextCursor).toBeUndefined();
    });

    it('rejects a malformed cursor or limit', async () => {
      await expect(store.list({ cursor: 'garbage' })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'cursor', message: 'is not a cursor this list returned' }],
      });
      await expect(store.list({ limit: 0 })).rejects.toMatchObject({ code: 'invalid-input' });
      await expect(store.list({ limit: 2.5 })).rejects.toMatchObject({ code: 'invalid-input' });
    });

    it('filters by tag, gateway, enabled and a case-insensitive search', async () => {
      const gateway = await addGateway();
      await store.create({
        definition: tool('search_issues', { description: 'Find GitHub issues' }),
        tags: ['dev'],
      });
      await store.create({
        definition: tool('deploy'),
        alias: 'ship_it',
        enabled: false,
        tags: ['ops', 'dev'],
      });
      await store.create({
        definition: tool('read_file'),
        gatewayId: gateway.id,
        descriptionOverride: '100%_sure',
      });
      const names = async (options: Parameters<ToolStore['list']>[0]) =>
        (await store.list(options)).items.map((item) => item.originalName);

      expect(await names({ tag: 'dev' })).toEqual(['search_issues', 'deploy']);
      expect(await names({ tag: 'de' })).toEqual([]);
      expect(await names({ gatewayId: gateway.id })).toEqual(['read_file']);
      expect(await names({ gatewayId: null })).toEqual(['search_issues', 'deploy']);
      expect(await names({ enabled: false })).toEqual(['deploy']);
      expect(await names({ search: 'github' })).toEqual(['search_issues']); // description
      expect(await names({ search: 'SHIP' })).toEqual(['deploy']); // alias
      expect(await names({ search: '%_s' })).toEqual(['read_file']); // no LIKE wildcards
      expect(await names({ search: 'E', tag: 'dev', enabled: true })).toEqual(['search_issues']);
    });

    it('syncs what an upstream lists: adds, updates changed definitions, removes the rest, keeps overrides', async () => {
      const gateway = await addGateway();
      expect(await store.syncDiscovered(gateway.id, [echo, tool('list_files'), tool('old')])).toEqual({
        added: ['echo', 'list_files', 'old'],
        updated: [],
        removed: [],
      });
      const listed = (await store.list({ gatewayId: gateway.id })).items;
      const echoRecord = listed.find((item) => item.originalName === 'echo')!;
      await store.update(echoRecord.id, { alias: 'repeat', enabled: false, tags: ['x'], updatedBy: 'alice' });

      now = new Date('2026-03-01T12:00:00.000Z');
      const changedEcho = { ...echo, description: 'Echoes, louder' };
      // Same definition with keys in another order counts as unchanged (jsonb does not keep key order).
      const reordered = { inputSchema: { type: 'object' as const }, name: 'list_files' };
      expect(
        await store.syncDiscovered(gateway.id, [changedEcho, reordered, tool('new'), tool('new')]),
      ).toEqual({
        added: ['new'],
        updated: ['echo'],
        removed: ['old'],
      });
      expect(await store.get(echoRecord.id)).toMatchObject({
        definition: changedEcho,
        alias: 'repeat',
        enabled: false,
        tags: ['x'],
        version: 3,
        updatedAt: now,
        updatedBy: undefined,
      });
      const listFiles = (await store.list({ search: 'list_files' })).items[0];
      expect(listFiles).toMatchObject({ version: 1, createdAt: new Date('2026-03-01T10:00:00.000Z') });

      expect(await store.syncDiscovered(gateway.id, [changedEcho, reordered, tool('new')])).toEqual({
        added: [],
        updated: [],
        removed: [],
      });
      expect(await store.syncDiscovered(gateway.id, [])).toEqual({
        added: [],
        updated: [],
        removed: ['echo', 'list_files', 'new'],
      });
      expect((await store.list()).items).toEqual([]);
    });

    it('leaves local tools and other gateways alone when syncing, and gives a relisted tool its old id', async () => {
      const files = await addGateway('files');
      const other = await addGateway('other');
      await store.create({ definition: echo });
      await store.syncDiscovered(other.id, [echo]);
      await store.syncDiscovered(files.id, [echo]);
      const first = (await store.list({ gatewayId: files.id })).items[0]!;
      await store.syncDiscovered(files.id, []);
      await store.syncDiscovered(files.id, [echo]);
      expect((await store.list({ gatewayId: files.id })).items[0]?.id).toBe(first.id);
      expect((await store.list({ gatewayId: null })).items).toHaveLength(1);
      expect((await store.list({ gatewayId: other.id })).items).toHaveLength(1);
    });

    it('rejects a sync for an unknown gateway or with a malformed item, writing nothing', async () => {
      await expect(
        store.syncDiscovered('00000000-0000-4000-8000-999999999999', [echo]),
      ).rejects.toMatchObject({
        code: 'not-found',
      });
      const gateway = await addGateway();
      await expect(
        store.syncDiscovered(gateway.id, [echo, { name: 'broken' } as Tool]),
      ).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'tools.1.inputSchema', message: 'is required' }],
      });
      expect((await store.list()).items).toEqual([]);
    });

    it('syncs a large catalog in one call', async () => {
      const gateway = await addGateway();
      const many = Array.from({ length: 1_200 }, (_, index) => tool(`tool_${index}`));
      const result = await store.syncDiscovered(gateway.id, many);
      expect(result.added).toHaveLength(1_200);
      const { rows } = await sql<{ count: number }>`select count(*)::int as count from tools`.execute(
        database.db,
      );
      expect(rows[0]?.count).toBe(1_200);
    });

    it('deletes a gateway’s tools with the gateway', async () => {
      const gateway = await addGateway();
      await store.syncDiscovered(gateway.id, [echo]);
      await store.create({ definition: tool('local') });
      await gateways.remove(gateway.id);
      expect((await store.list()).items.map((item) => item.originalName)).toEqual(['local']);
    });
  });
}
