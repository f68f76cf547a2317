import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import { loadRegistry } from './load-registry.ts';
import { createQueryCounter } from './query-counter.ts';
import { dialects, openTestDatabase } from './test-database.test-support.ts';
import { createToolStore } from './tool-store.ts';
import { createVirtualServerStore } from './virtual-server-store.ts';

for (const dialect of dialects) {
  describe(`loadRegistry on ${dialect}`, () => {
    const counter = createQueryCounter();
    let database: Database;
    beforeAll(async () => {
      database = await openTestDatabase(dialect, { plugins: [counter] });
    });
    afterAll(() => database?.close());

    it('reads every catalog in one transaction, with virtual-server members and missing ones', async () => {
      const { db } = database;
      const gateway = await createGatewayStore({ db }).create({
        name: 'g',
        transport: 'stdio',
        command: 'x',
      });
      const tools = createToolStore({ db });
      await tools.syncDiscovered(gateway.id, [
        { name: 'kept', inputSchema: { type: 'object' } },
        { name: 'dropped', inputSchema: { type: 'object' } },
      ]);
      const ids = Object.fromEntries((await tools.list()).items.map((tool) => [tool.originalName, tool.id]));
      const server = await createVirtualServerStore({ db }).create({
        name: 'vs',
        members: [
          { kind: 'tool', id: ids.kept! },
          { kind: 'tool', id: ids.dropped! },
        ],
      });
      await tools.syncDiscovered(gateway.id, [{ name: 'kept', inputSchema: { type: 'object' } }]);

      counter.reset();
      const contents = await loadRegistry(db);
      expect(counter.count()).toBe(6);
      expect(contents.gateways).toEqual([gateway]);
      expect(contents.tools.map((tool) => tool.originalName)).toEqual(['kept']);
      expect(contents.resources).toEqual([]);
      expect(contents.prompts).toEqual([]);
      expect(contents.virtualServers).toEqual([
        {
          ...server,
          missingMembers: [{ kind: 'tool', id: ids.dropped, alias: undefined, position: 1 }],
        },
      ]);
    });
  });
}
