import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import { listTags } from './list-tags.ts';
import { createPromptStore } from './prompt-store.ts';
import { createResourceStore } from './resource-store.ts';
import { dialects, emptyRegistry, openTestDatabase } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';
import { createVirtualServerStore } from './virtual-server-store.ts';

for (const dialect of dialects) {
  describe(`listTags on ${dialect}`, () => {
    let database: Database;
    beforeAll(async () => {
      database = await openTestDatabase(dialect);
    });
    afterAll(() => database?.close());
    beforeEach(() => emptyRegistry(database));

    it('is empty for an empty registry', async () => {
      expect(await listTags(database.db)).toEqual([]);
    });

    it('counts each tag across every kind of entity, once per entity', async () => {
      const { db } = database;
      await createGatewayStore({ db }).create({
        name: 'g',
        transport: 'stdio',
        command: 'x',
        tags: ['prod', 'eu'],
      });
      const tools = createToolStore({ db });
      await tools.create({
        definition: { name: 'a', inputSchema: { type: 'object' } },
        tags: ['prod', 'prod'],
      });
      await tools.create({
        definition: { name: 'b', inputSchema: { type: 'object' } },
        tags: ['prod', 'Beta'],
      });
      await createResourceStore({ db }).create({ definition: { uri: 'x://1', name: 'one' }, tags: ['eu'] });
      await createPromptStore({ db }).create({ definition: { name: 'p' }, tags: ['beta'] });
      await createVirtualServerStore({ db }).create({ name: 'vs', tags: ['prod'] });

      const zero = { gateway: 0, tool: 0, resource: 0, prompt: 0, 'virtual-server': 0 };
      expect(await listTags(db)).toEqual([
        { tag: 'Beta', count: 1, byKind: { ...zero, tool: 1 } },
        { tag: 'beta', count: 1, byKind: { ...zero, prompt: 1 } },
        { tag: 'eu', count: 2, byKind: { ...zero, gateway: 1, resource: 1 } },
        { tag: 'prod', count: 4, byKind: { ...zero, gateway: 1, tool: 2, 'virtual-server': 1 } },
      ]);
    });
  });
}
