import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import type { GatewayStore } from './gateway-store.ts';
import { createResourceStore } from './resource-store.ts';
import type { ResourceStore } from './resource-store.ts';
import { dialects, emptyRegistry, openTestDatabase, sequentialIds } from './test-database.test-support.ts';

for (const dialect of dialects) {
  describe(`resource store on ${dialect}`, () => {
    const ids = sequentialIds();
    let database: Database;
    let store: ResourceStore;
    let gateways: GatewayStore;
    let now: Date;

    beforeAll(async () => {
      database = await openTestDatabase(dialect);
      store = createResourceStore({ db: database.db, clock: () => now, generateId: ids.next });
      gateways = createGatewayStore({ db: database.db, clock: () => now, generateId: ids.next });
    });
    afterAll(() => database?.close());
    beforeEach(async () => {
      await emptyRegistry(database);
      now = new Date('2026-03-01T10:00:00.000Z');
      ids.reset();
    });

    const addGateway = () => gateways.create({ name: 'files', transport: 'stdio', command: 'mcp-files' });

    it('creates a local static resource with text content', async () => {
      const created = await store.create({
        definition: { uri: 'docs://handbook', name: 'Handbook', mimeType: 'text/markdown' },
        localContent: { text: '# Handbook', mimeType: 'text/markdown' },
      });
      expect(created).toEqual({
        id: '00000000-0000-4000-8000-000000000001',
        gatewayId: undefined,
        uri: 'docs://handbook',
        kind: 'resource',
        definition: { uri: 'docs://handbook', name: 'Handbook', mimeType: 'text/markdown' },
        localContent: { text: '# Handbook', mimeType: 'text/markdown' },
        enabled: true,
        tags: [],
        visibility: 'public',
        version: 1,
        createdAt: now,
        updatedAt: now,
        createdBy: undefined,
        updatedBy: undefined,
      });
      const logo = await store.create({
        definition: { uri: 'docs://logo', name: 'Logo' },
        localContent: { blob: 'iVBORw0KGgo=', mimeType: 'image/png' },
      });
      expect(await store.get(logo.id)).toMatchObject({
        localContent: { blob: 'iVBORw0KGgo=', mimeType: 'image/png' },
      });
    });

    it('checks content: base64 blobs with a MIME type, none on templates or discovered resources', async () => {
      await expect(
        store.create({
          definition: { uri: 'docs://x', name: 'X' },
          localContent: { blob: 'not base64!', mimeType: 'image' },
        }),
      ).rejects.toMatchObject({
        code: 'invalid-input',
        details: [
          { path: 'localContent.blob', message: 'must be base64' },
          { path: 'localContent.mimeType', message: 'must be a MIME type such as text/plain' },
        ],
      });
      await expect(
        store.create({
          definition: { uriTemplate: 'docs://{id}', name: 'Doc' },
          localContent: { text: 'x' },
        }),
      ).rejects.toMatchObject({
        details: [{ path: 'localContent', message: 'a resource template has no content of its own' }],
      });
      const template = await store.create({ definition: { uriTemplate: 'docs://{id}', name: 'Doc' } });
      expect(template.kind).toBe('template');
      // The database refuses it too, whatever the path.
      await expect(store.update(template.id, { localContent: { text: 'x' } })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [
          { path: 'localContent', message: 'only local concrete resources (not templates) have content' },
        ],
      });
    });

    it('syncs resources and templates together, keyed by URI', async () => {
      const gateway = await addGateway();
      expect(
        await store.syncDiscovered(gateway.id, [
          { uri: 'file:///a', name: 'a' },
          { uriTemplate: 'file:///{path}', name: 'any file' },
        ]),
      ).toEqual({ added: ['file:///a', 'file:///{path}'], updated: [], removed: [] });
      // Rows synced together share created_at, so they list in id order: sort to compare.
      const listed = (await store.list({ gatewayId: gateway.id })).items.sort((a, b) =>
        a.uri < b.uri ? -1 : 1,
      );
      expect(listed.map((item) => [item.uri, item.kind])).toEqual([
        ['file:///a', 'resource'],
        ['file:///{path}', 'template'],
      ]);
      await store.update(listed[0]!.id, { enabled: false, tags: ['secret'] });
      expect(
        await store.syncDiscovered(gateway.id, [
          { uri: 'file:///a', name: 'a', description: 'now described' },
          { uri: 'file:///b', name: 'b' },
        ]),
      ).toEqual({ added: ['file:///b'], updated: ['file:///a'], removed: ['file:///{path}'] });
      expect(await store.get(listed[0]!.id)).toMatchObject({ enabled: false, tags: ['secret'], version: 3 });
      await expect(store.update(listed[0]!.id, { localContent: { text: 'x' } })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [
          { path: 'localContent', message: 'belongs to the upstream; only local items can change it' },
        ],
      });
    });

    it('keeps URIs unique per scope, searches URIs and names, pages every row once', async () => {
      const gateway = await addGateway();
      await store.create({ definition: { uri: 'file:///same', name: 'local' } });
      await store.create({ definition: { uri: 'file:///same', name: 'remote' }, gatewayId: gateway.id });
      await expect(
        store.create({ definition: { uri: 'file:///same', name: 'again' } }),
      ).rejects.toMatchObject({
        code: 'conflict',
        message: 'a resource "file:///same" already exists among local resources',
        details: { field: 'uri' },
      });
      for (let index = 0; index < 9; index++) {
        await store.create({ definition: { uri: `mem://item/${index}`, name: `Item ${index}` } });
      }
      expect((await store.list({ search: 'mem://ITEM/3' })).items.map((item) => item.uri)).toEqual([
        'mem://item/3',
      ]);
      expect((await store.list({ search: 'remote' })).items.map((item) => item.gatewayId)).toEqual([
        gateway.id,
      ]);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 4, cursor });
        seen.push(...page.items.map((item) => item.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toHaveLength(11);
      expect(new Set(seen).size).toBe(11);
    });
  });
}
