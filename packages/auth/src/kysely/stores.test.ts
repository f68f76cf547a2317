import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenService } from '../token-service.ts';
import { createInMemoryTokenStore } from '../token-store.ts';
import type { ApiTokenRecord, TokenStore } from '../token-store.ts';
import { createInMemoryToolPinStore } from '../tool-pin-store.ts';
import type { ToolPinStore } from '../tool-pin-store.ts';
import { createInMemoryUserStore } from '../user-store.ts';
import type { UserStore } from '../user-store.ts';
import { authMigrations, migrateAuth } from './auth-migrations.ts';
import { createKyselyJwtRevocationStore } from './kysely-revocation-store.ts';
import { createKyselyTokenStore } from './kysely-token-store.ts';
import { createKyselyToolPinStore } from './kysely-tool-pin-store.ts';
import { createKyselyUserStore } from './kysely-user-store.ts';
import { dialects, openTestDatabase } from './test-database.test-support.ts';
import type { TestDatabase } from './test-database.test-support.ts';

interface Stores {
  tokens: TokenStore;
  users: UserStore;
  pins: ToolPinStore;
}

/** One suite per interface, run against every implementation: in memory, PGlite, Postgres. */
const implementations: Array<{ name: string; open: () => Promise<Stores & { close(): Promise<void> }> }> = [
  {
    name: 'in-memory',
    open: async () => ({
      tokens: createInMemoryTokenStore(),
      users: createInMemoryUserStore(),
      pins: createInMemoryToolPinStore(),
      close: async () => {},
    }),
  },
  ...dialects.map((dialect) => ({
    name: dialect,
    open: async () => {
      const database: TestDatabase = await openTestDatabase(dialect);
      return {
        tokens: createKyselyTokenStore(database.db),
        users: createKyselyUserStore(database.db),
        pins: createKyselyToolPinStore(database.db),
        close: () => database.close(),
      };
    },
  })),
];

const t0 = new Date('2026-08-01T10:00:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

function tokenRecord(id: string, extra: Partial<ApiTokenRecord> = {}): ApiTokenRecord {
  return {
    id,
    name: `token ${id}`,
    hash: id.padEnd(64, '0'),
    prefix: 'mgw_abcd',
    ownerId: 'alice',
    roles: ['developer'],
    teams: ['red'],
    scopes: ['mcp'],
    virtualServers: null,
    expiresAt: null,
    createdAt: t0,
    lastUsedAt: null,
    revokedAt: null,
    ...extra,
  };
}

for (const { name, open } of implementations) {
  describe(`auth stores: ${name}`, () => {
    let stores: Stores & { close(): Promise<void> };
    beforeAll(async () => {
      stores = await open();
    });
    afterAll(() => stores.close());

    it('token store: insert, find by hash, list, revoke, batch last-used, revoked ids', async () => {
      const { tokens } = stores;
      await tokens.insert(tokenRecord('t1', { virtualServers: ['a', 'b'], expiresAt: later(60_000) }));
      await tokens.insert(tokenRecord('t2', { ownerId: 'bob', createdAt: later(1) }));
      expect(await tokens.findByHash('t1'.padEnd(64, '0'))).toEqual(
        tokenRecord('t1', { virtualServers: ['a', 'b'], expiresAt: later(60_000) }),
      );
      expect(await tokens.findByHash('f'.repeat(64))).toBeUndefined();
      expect((await tokens.list()).map((t) => t.id)).toEqual(['t1', 't2']);
      expect((await tokens.list({ ownerId: 'bob' })).map((t) => t.id)).toEqual(['t2']);

      await tokens.recordLastUsed([
        { id: 't1', at: later(5_000) },
        { id: 't2', at: later(7_000) },
      ]);
      await tokens.recordLastUsed([{ id: 't1', at: later(2_000) }]); // older: ignored
      const [t1, t2] = await tokens.list();
      expect(t1?.lastUsedAt).toEqual(later(5_000));
      expect(t2?.lastUsedAt).toEqual(later(7_000));

      expect((await tokens.revoke('t1', later(10_000)))?.revokedAt).toEqual(later(10_000));
      expect(await tokens.revoke('missing', later(10_000))).toBeUndefined();
      expect(await tokens.listRevokedIds(later(20_000))).toEqual(['t1']);
      expect(await tokens.listRevokedIds(later(60_000))).toEqual([]); // expired anyway
    });

    it('user store: upsert, find, list, delete; usernames are unique', async () => {
      const { users } = stores;
      const alice = {
        id: 'u1',
        username: 'alice',
        passwordHash: 'scrypt$x',
        roles: ['developer'],
        teams: ['red', 'blue'],
        disabled: false,
        createdAt: t0,
        updatedAt: t0,
      };
      await users.upsert(alice);
      await users.upsert({
        ...alice,
        id: 'u2',
        username: 'bob',
        passwordHash: null,
        roles: ['viewer'],
        teams: [],
      });
      expect(await users.findByUsername('alice')).toEqual(alice);
      expect(await users.get('u2')).toMatchObject({ username: 'bob', passwordHash: null });
      await users.upsert({ ...alice, roles: ['admin'], updatedAt: later(1) });
      expect((await users.get('u1'))?.roles).toEqual(['admin']);
      await expect(users.upsert({ ...alice, id: 'u3' })).rejects.toThrow();
      expect((await users.list()).map((u) => u.username)).toEqual(['alice', 'bob']);
      expect(await users.delete('u2')).toBe(true);
      expect(await users.delete('u2')).toBe(false);
    });

    it('tool pin store: put replaces, get and list by upstream', async () => {
      const { pins } = stores;
      const pin = {
        upstreamId: 'docs',
        toolName: 'search',
        approvedHash: 'a'.repeat(64),
        approvedDefinition: '{"name":"search"}',
        approvedAt: t0,
        approvedBy: 'root',
        pendingHash: null,
        pendingDefinition: null,
        updatedAt: t0,
      };
      await pins.put(pin);
      await pins.put({ ...pin, upstreamId: 'other', toolName: 'x' });
      await pins.put({ ...pin, pendingHash: 'b'.repeat(64), pendingDefinition: '{"name":"search","x":1}' });
      expect(await pins.get('docs', 'search')).toEqual({
        ...pin,
        pendingHash: 'b'.repeat(64),
        pendingDefinition: '{"name":"search","x":1}',
      });
      expect((await pins.list('docs')).map((p) => p.toolName)).toEqual(['search']);
      expect(await pins.list()).toHaveLength(2);
      expect(await pins.delete('other', 'x')).toBe(true);
      expect(await pins.get('other', 'x')).toBeUndefined();
    });
  });
}

for (const dialect of dialects) {
  describe(`Kysely auth storage on ${dialect}`, () => {
    let database: TestDatabase;
    beforeAll(async () => {
      database = await openTestDatabase(dialect);
    });
    afterAll(() => database.close());
    beforeEach(async () => {
      await database.db.deleteFrom('api_tokens').execute();
    });

    it('migrations are named to sort after the registry and are idempotent', async () => {
      const names = Object.keys(authMigrations);
      expect(names.every((n) => n.startsWith('0100_auth_'))).toBe(true);
      expect([...names].sort()).toEqual(names);
      expect(await migrateAuth(database.db)).toEqual([]);
    });

    it('serves token verification from memory and writes last use in one batch', async () => {
      const store = createKyselyTokenStore(database.db);
      let now = t0.getTime();
      const tokens = createTokenService({ store, clock: () => now, lastUsedFlushMs: 0 });
      const { token, info } = await tokens.create({ name: 'ci', ownerId: 'alice', virtualServers: ['a'] });
      const first = await tokens.verify(token);
      expect(first).toMatchObject({ principal: { id: 'alice', kind: 'token', virtualServers: ['a'] } });
      now += 1_000;
      await tokens.verify(token);
      await tokens.close();
      expect((await store.list())[0]?.lastUsedAt).toEqual(new Date(now));
      expect(await tokens.revoke(info.id)).toBe(true);
      expect(await tokens.verify(token)).toEqual({ error: 'token has been revoked' });
    });

    it('revoked JWT ids: active until their token expires, then pruned', async () => {
      const revocations = createKyselyJwtRevocationStore(database.db);
      await revocations.revoke('jti-1', { expiresAt: later(60_000), at: t0 });
      await revocations.revoke('jti-1', { expiresAt: later(60_000), at: t0 }); // idempotent
      await revocations.revoke('jti-forever', { at: t0 });
      expect((await revocations.listActive(later(1))).sort()).toEqual(['jti-1', 'jti-forever']);
      expect(await revocations.listActive(later(60_000))).toEqual(['jti-forever']);
      expect(await revocations.prune(later(60_000))).toBe(1);
    });
  });
}
