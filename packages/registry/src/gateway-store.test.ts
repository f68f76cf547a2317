import { createTestDatabase } from '@mcp-gateway/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from './database.ts';
import type { Database, DatabaseDialect } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import type { GatewayStore } from './gateway-store.ts';
import { createQueryCounter } from './query-counter.ts';
import { RegistryError } from './registry-error.ts';

const dialects: DatabaseDialect[] = ['pglite', 'postgres'];

for (const dialect of dialects) {
  describe(`gateway store on ${dialect}`, () => {
    const counter = createQueryCounter();
    let database: Database;
    let store: GatewayStore;
    let now: Date;
    let nextId: number;

    beforeAll(async () => {
      const databaseUrl =
        dialect === 'postgres' ? await createTestDatabase(inject('postgresUrl')) : undefined;
      database = await createDatabase({ databaseUrl, plugins: [counter] });
      store = createGatewayStore({
        db: database.db,
        clock: () => now,
        generateId: () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`,
      });
    });
    afterAll(() => database?.close());
    beforeEach(async () => {
      await database.db.deleteFrom('gateways').execute();
      now = new Date('2026-03-01T10:00:00.000Z');
      nextId = 0;
      counter.reset();
    });

    it('opens the expected dialect', () => {
      expect(database.dialect).toBe(dialect);
    });

    it('creates a gateway with defaults and reads it back', async () => {
      const created = await store.create({ name: 'files', transport: 'stdio', command: 'mcp-files' });
      expect(created).toEqual({
        id: '00000000-0000-4000-8000-000000000001',
        name: 'files',
        transport: 'stdio',
        command: 'mcp-files',
        args: [],
        env: {},
        cwd: undefined,
        url: undefined,
        headers: {},
        passthroughHeaders: [],
        namespace: undefined,
        enabled: true,
        timeoutMs: undefined,
        tags: [],
        visibility: 'public',
        version: 1,
        createdAt: new Date('2026-03-01T10:00:00.000Z'),
        updatedAt: new Date('2026-03-01T10:00:00.000Z'),
        createdBy: undefined,
        updatedBy: undefined,
      });
      expect(await store.get(created.id)).toEqual(created);
      expect(await store.list()).toEqual([created]);
    });

    it('stores every field, keeping an empty namespace distinct from a derived one', async () => {
      const created = await store.create({
        name: 'search',
        transport: 'streamable-http',
        url: 'https://search.example.com/mcp',
        namespace: '',
        enabled: false,
        timeoutMs: 15_000,
        cwd: '/srv',
        createdBy: 'user-1',
      });
      expect(await store.get(created.id)).toMatchObject({
        url: 'https://search.example.com/mcp',
        namespace: '',
        enabled: false,
        timeoutMs: 15_000,
        cwd: '/srv',
        createdBy: 'user-1',
        updatedBy: 'user-1',
      });
    });

    it('round-trips jsonb arrays and objects exactly', async () => {
      const input = {
        args: ['--root', '/tmp/a b', 'ünïcødé ✓', '{"not":"json"}', ''],
        env: { API_KEY: 'k"ey\\with\nspecials', EMPTY: '' },
        headers: { authorization: 'Bearer abc', 'x-trace': '{}' },
        tags: ['prod', 'eu-west', '[]'],
      };
      const created = await store.create({ name: 'json', transport: 'stdio', command: 'node', ...input });
      expect(created).toMatchObject(input);
      expect(await store.get(created.id)).toMatchObject(input);
      expect((await store.list())[0]).toMatchObject(input);

      // Stored as real JSON (not a JSON string or a Postgres array), so SQL can query into it.
      const { rows } = await sql<{ args: string; env: string; tags: string }>`
        select jsonb_typeof(args) as args, jsonb_typeof(env) as env, jsonb_typeof(tags) as tags from gateways
      `.execute(database.db);
      expect(rows).toEqual([{ args: 'array', env: 'object', tags: 'array' }]);
    });

    it('lists gateways ordered by name', async () => {
      await store.create({ name: 'charlie', transport: 'sse', url: 'http://c.example' });
      await store.create({ name: 'alpha', transport: 'sse', url: 'http://a.example' });
      await store.create({ name: 'bravo', transport: 'sse', url: 'http://b.example' });
      expect((await store.list()).map((gateway) => gateway.name)).toEqual(['alpha', 'bravo', 'charlie']);
    });

    it('updates fields, bumps version and updatedAt, and leaves the rest alone', async () => {
      const created = await store.create({
        name: 'files',
        transport: 'stdio',
        command: 'mcp-files',
        args: ['--ro'],
        timeoutMs: 1_000,
        namespace: 'fs',
        createdBy: 'alice',
      });
      now = new Date('2026-03-01T11:00:00.000Z');
      const updated = await store.update(created.id, {
        name: 'files-v2',
        enabled: false,
        timeoutMs: null,
        namespace: null,
        tags: ['beta'],
        updatedBy: 'bob',
      });
      expect(updated).toEqual({
        ...created,
        name: 'files-v2',
        enabled: false,
        timeoutMs: undefined,
        namespace: undefined,
        tags: ['beta'],
        version: 2,
        updatedAt: new Date('2026-03-01T11:00:00.000Z'),
        updatedBy: 'bob',
      });
      expect(await store.get(created.id)).toEqual(updated);

      now = new Date('2026-03-01T12:00:00.000Z');
      const again = await store.update(created.id, { args: ['--rw'] });
      expect(again).toMatchObject({ version: 3, args: ['--rw'], name: 'files-v2', createdBy: 'alice' });
      expect(again?.updatedAt).toEqual(new Date('2026-03-01T12:00:00.000Z'));
      expect(again?.createdAt).toEqual(created.createdAt);
    });

    it('returns undefined when updating, and false when removing, a missing gateway', async () => {
      expect(await store.get('00000000-0000-4000-8000-999999999999')).toBeUndefined();
      expect(await store.update('00000000-0000-4000-8000-999999999999', { enabled: false })).toBeUndefined();
      expect(await store.remove('00000000-0000-4000-8000-999999999999')).toBe(false);
    });

    it('removes a gateway', async () => {
      const kept = await store.create({ name: 'kept', transport: 'stdio', command: 'a' });
      const removed = await store.create({ name: 'removed', transport: 'stdio', command: 'b' });
      expect(await store.remove(removed.id)).toBe(true);
      expect(await store.get(removed.id)).toBeUndefined();
      expect(await store.list()).toEqual([kept]);
    });

    it('rejects a duplicate name with a conflict and writes nothing', async () => {
      const first = await store.create({ name: 'files', transport: 'stdio', command: 'a' });
      const error = await store
        .create({ name: 'files', transport: 'sse', url: 'http://x.example' })
        .catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({
        code: 'conflict',
        message: 'a gateway named "files" already exists',
        details: { field: 'name' },
      });
      expect(error.cause).toMatchObject({ code: '23505' });
      expect(await store.list()).toEqual([first]);
    });

    it('rejects a rename onto a taken name and keeps the gateway unchanged', async () => {
      await store.create({ name: 'alpha', transport: 'stdio', command: 'a' });
      const bravo = await store.create({ name: 'bravo', transport: 'stdio', command: 'b' });
      await expect(store.update(bravo.id, { name: 'alpha' })).rejects.toMatchObject({
        code: 'conflict',
        message: 'a gateway named "alpha" already exists',
        details: { field: 'name' },
      });
      expect(await store.get(bravo.id)).toEqual(bravo);
    });

    it('lets exactly one of two concurrent creates with the same name win', async () => {
      const results = await Promise.allSettled([
        store.create({ name: 'race', transport: 'stdio', command: 'a' }),
        store.create({ name: 'race', transport: 'stdio', command: 'b' }),
      ]);
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const rejected = results.filter((result) => result.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect(rejected[0]?.reason).toMatchObject({ code: 'conflict' });
      expect(await store.list()).toHaveLength(1);
    });

    it('refuses an update or delete on a stale version with precondition-failed', async () => {
      const created = await store.create({ name: 'files', transport: 'stdio', command: 'a' });
      const updated = await store.update(created.id, { enabled: false }, { ifVersion: 1 });
      expect(updated?.version).toBe(2);
      counter.reset();
      const error = await store.update(created.id, { name: 'late' }, { ifVersion: 1 }).catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({
        code: 'precondition-failed',
        message: `gateway "${created.id}" is at version 2, not 1; re-read it and try again`,
        details: { id: created.id, expectedVersion: 1, actualVersion: 2 },
      });
      expect(counter.count()).toBe(2); // the guarded update, then one read to explain the miss
      await expect(store.remove(created.id, { ifVersion: 1 })).rejects.toMatchObject({
        code: 'precondition-failed',
      });
      expect(await store.get(created.id)).toEqual(updated);
      expect(await store.remove(created.id, { ifVersion: 2 })).toBe(true);
      expect(await store.update(created.id, { enabled: true }, { ifVersion: 2 })).toBeUndefined();
      expect(await store.remove(created.id, { ifVersion: 2 })).toBe(false);
    });

    it('issues exactly one query per store call', async () => {
      counter.reset();
      const created = await store.create({ name: 'counted', transport: 'stdio', command: 'a' });
      expect(counter.count()).toBe(1);
      await store.get(created.id);
      await store.list();
      expect(counter.count()).toBe(3);
      await store.update(created.id, { enabled: false });
      await store.remove(created.id);
      expect(counter.count()).toBe(5);
      counter.reset();
      expect(counter.count()).toBe(0);
    });
  });
}
