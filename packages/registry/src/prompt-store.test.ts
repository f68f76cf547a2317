import type { Prompt } from '@mcp-gateway/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import type { GatewayStore } from './gateway-store.ts';
import { createPromptStore } from './prompt-store.ts';
import type { PromptStore, PromptTemplate } from './prompt-store.ts';
import { RegistryError } from './registry-error.ts';
import { dialects, emptyRegistry, openTestDatabase, sequentialIds } from './test-database.test-support.ts';

const review: PromptTemplate = {
  messages: [
    { role: 'user', text: 'Review this {{language}} code:\n{{code}}' },
    { role: 'assistant', text: 'Looking at it now.' },
  ],
  arguments: [
    { name: 'code', description: 'The code to review', required: true, type: 'string' },
    { name: 'language', type: 'string' },
  ],
};

for (const dialect of dialects) {
  describe(`prompt store on ${dialect}`, () => {
    const ids = sequentialIds();
    let database: Database;
    let store: PromptStore;
    let gateways: GatewayStore;
    let now: Date;

    beforeAll(async () => {
      database = await openTestDatabase(dialect);
      store = createPromptStore({ db: database.db, clock: () => now, generateId: ids.next });
      gateways = createGatewayStore({ db: database.db, clock: () => now, generateId: ids.next });
    });
    afterAll(() => database?.close());
    beforeEach(async () => {
      await emptyRegistry(database);
      now = new Date('2026-03-01T10:00:00.000Z');
      ids.reset();
    });

    const addGateway = () => gateways.create({ name: 'docs', transport: 'stdio', command: 'mcp-docs' });

    it('creates a local prompt template, deriving the listed arguments from the typed ones', async () => {
      const created = await store.create({
        definition: { name: 'code_review', description: 'Reviews code' },
        template: review,
        tags: ['dev'],
        createdBy: 'alice',
      });
      expect(created).toEqual({
        id: '00000000-0000-4000-8000-000000000001',
        gatewayId: undefined,
        originalName: 'code_review',
        definition: {
          name: 'code_review',
          description: 'Reviews code',
          arguments: [
            { name: 'code', description: 'The code to review', required: true },
            { name: 'language' },
          ],
        },
        template: review,
        enabled: true,
        alias: undefined,
        descriptionOverride: undefined,
        tags: ['dev'],
        visibility: 'public',
        version: 1,
        createdAt: now,
        updatedAt: now,
        createdBy: 'alice',
        updatedBy: 'alice',
      });
      expect(await store.get(created.id)).toEqual(created);
    });

    it('reports every problem in a template', async () => {
      const error = await store
        .create({
          definition: { name: 'bad' },
          template: {
            messages: [{ role: 'system', text: 'x' }],
            arguments: [{ name: 'a' }, { name: 'a', type: 'date' }, { name: '1x' }],
          } as unknown as PromptTemplate,
        })
        .catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error.details).toEqual([
        { path: 'template.messages.0.role', message: 'must be one of "user", "assistant"' },
        {
          path: 'template.arguments.1.type',
          message: 'must be one of "string", "number", "integer", "boolean"',
        },
        {
          path: 'template.arguments.2.name',
          message: 'must be a letter or "_" then letters, digits, "_" or "-" (at most 64)',
        },
        { path: 'template.arguments.1.name', message: 'duplicate argument "a"' },
      ]);
      const gateway = await addGateway();
      await expect(
        store.create({ definition: { name: 'x' }, template: review, gatewayId: gateway.id }),
      ).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'template', message: 'only local prompts (without gatewayId) have a template' }],
      });
    });

    it('replaces a template and its listed arguments; refuses templates on discovered prompts', async () => {
      const created = await store.create({
        definition: { name: 'greet', description: 'Hi' },
        template: review,
      });
      const updated = await store.update(created.id, {
        template: {
          messages: [{ role: 'user', text: 'Hello {{who}}' }],
          arguments: [{ name: 'who', required: true }],
        },
      });
      expect(updated).toMatchObject({
        definition: { name: 'greet', description: 'Hi', arguments: [{ name: 'who', required: true }] },
        template: { messages: [{ role: 'user', text: 'Hello {{who}}' }] },
        version: 2,
      });

      const gateway = await addGateway();
      await store.syncDiscovered(gateway.id, [{ name: 'summarize' }]);
      const discovered = (await store.list({ gatewayId: gateway.id })).items[0]!;
      await expect(store.update(discovered.id, { template: review })).rejects.toMatchObject({
        code: 'invalid-input',
        details: [{ path: 'template', message: 'belongs to the upstream; only local items can change it' }],
      });
      // Overrides are fine on a discovered prompt.
      expect(
        await store.update(discovered.id, { alias: 'tldr', descriptionOverride: 'Short' }),
      ).toMatchObject({
        alias: 'tldr',
        descriptionOverride: 'Short',
        version: 2,
      });
    });

    it('syncs discovered prompts, keeping overrides', async () => {
      const gateway = await addGateway();
      const prompts: Prompt[] = [{ name: 'a' }, { name: 'b', arguments: [{ name: 'x' }] }];
      expect(await store.syncDiscovered(gateway.id, prompts)).toEqual({
        added: ['a', 'b'],
        updated: [],
        removed: [],
      });
      const b = (await store.list({ search: 'b' })).items.find((item) => item.originalName === 'b')!;
      await store.update(b.id, { enabled: false });
      expect(
        await store.syncDiscovered(gateway.id, [{ name: 'b', arguments: [{ name: 'y' }] }, { name: 'c' }]),
      ).toEqual({ added: ['c'], updated: ['b'], removed: ['a'] });
      expect(await store.get(b.id)).toMatchObject({
        enabled: false,
        definition: { arguments: [{ name: 'y' }] },
      });
    });

    it('keeps aliases unique and checks versions', async () => {
      const first = await store.create({ definition: { name: 'one' }, alias: 'p' });
      await expect(store.create({ definition: { name: 'two' }, alias: 'p' })).rejects.toMatchObject({
        code: 'conflict',
        details: { field: 'alias' },
      });
      await expect(store.create({ definition: { name: 'one' } })).rejects.toMatchObject({
        code: 'conflict',
        message: 'a prompt named "one" already exists among local prompts',
      });
      await store.update(first.id, { tags: ['t'] });
      await expect(store.update(first.id, { tags: [] }, { ifVersion: 1 })).rejects.toMatchObject({
        code: 'precondition-failed',
      });
      expect(await store.remove(first.id, { ifVersion: 2 })).toBe(true);
    });

    it('pages through every prompt exactly once and filters', async () => {
      for (let index = 0; index < 12; index++) {
        await store.create({
          definition: { name: `p${index}`, description: index % 3 === 0 ? 'Special' : 'plain' },
        });
      }
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ limit: 5, cursor });
        seen.push(...page.items.map((item) => item.originalName));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, index) => `p${index}`));
      expect((await store.list({ search: 'SPECIAL' })).items.map((item) => item.originalName)).toEqual([
        'p0',
        'p3',
        'p6',
        'p9',
      ]);
    });
  });
}
