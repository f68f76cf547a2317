import { createRouter, RpcError } from '@mcp-gateway/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestUpstream, tool } from './in-memory-upstream.test-support.ts';
import { runWithAuthContext } from './principal.ts';
import type { Principal } from './principal.ts';
import {
  createInMemoryRateLimitStore,
  createRateLimiter,
  RATE_LIMITED_RPC_CODE,
  rateLimitResponse,
} from './rate-limiter.ts';
import type { RateLimitStore } from './rate-limiter.ts';
import { createKyselyRateLimitStore } from './kysely/kysely-rate-limit-store.ts';
import { dialects, openTestDatabase } from './kysely/test-database.test-support.ts';
import type { TestDatabase } from './kysely/test-database.test-support.ts';

const alice: Principal = { id: 'alice', kind: 'user', roles: ['developer'], teams: [], scopes: ['*'] };
const bob: Principal = { id: 'bob', kind: 'user', roles: ['developer'], teams: [], scopes: ['*'] };

/** The same behaviour suite for every store: in process, and shared through PGlite and Postgres. */
const stores: Array<{
  name: string;
  open: () => Promise<{ store: RateLimitStore; close: () => Promise<void> }>;
}> = [
  { name: 'in-memory', open: async () => ({ store: createInMemoryRateLimitStore(), close: async () => {} }) },
  ...dialects.map((dialect) => ({
    name: dialect,
    open: async () => {
      const database: TestDatabase = await openTestDatabase(dialect);
      return { store: createKyselyRateLimitStore(database.db), close: () => database.close() };
    },
  })),
];

for (const { name, open } of stores) {
  describe(`rate limiter on the ${name} store`, () => {
    let store: RateLimitStore;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await open()));
    afterAll(() => close());

    it('refuses with a retry time once a bucket is empty, then recovers as it refills', async () => {
      let now = 1_000_000;
      const limiter = createRateLimiter({
        rules: [{ scope: 'principal', capacity: 2, refillPerSecond: 1 }],
        store,
        clock: () => now,
      });
      expect(await limiter.check({ principal: `alice-${name}` })).toEqual({ allowed: true, retryAfterMs: 0 });
      expect((await limiter.check({ principal: `alice-${name}` })).allowed).toBe(true);
      const refused = await limiter.check({ principal: `alice-${name}` });
      expect(refused).toMatchObject({ allowed: false, retryAfterMs: 1000 });
      expect((await limiter.check({ principal: `bob-${name}` })).allowed).toBe(true);
      now += 400;
      expect(await limiter.check({ principal: `alice-${name}` })).toMatchObject({
        allowed: false,
        retryAfterMs: 600,
      });
      now += 600;
      expect((await limiter.check({ principal: `alice-${name}` })).allowed).toBe(true);
      now += 10_000; // refills to capacity, never beyond
      for (let i = 0; i < 2; i++)
        expect((await limiter.check({ principal: `alice-${name}` })).allowed).toBe(true);
      expect((await limiter.check({ principal: `alice-${name}` })).allowed).toBe(false);
    });

    it('spends each token once under concurrent checks', async () => {
      const limiter = createRateLimiter({
        rules: [{ scope: 'tool', capacity: 5, refillPerSecond: 0.001 }],
        store,
        clock: () => 5_000_000,
      });
      const results = await Promise.all(
        Array.from({ length: 20 }, () => limiter.check({ tool: `search-${name}` })),
      );
      expect(results.filter((r) => r.allowed)).toHaveLength(5);
    });
  });
}

describe('rate limiter hooks', () => {
  it('refuse an over-limit call before the upstream with -32029 and the retry time, then recover', async () => {
    let now = 0;
    const limiter = createRateLimiter({
      rules: [
        { scope: 'principal', capacity: 1, refillPerSecond: 0.5 },
        { scope: 'virtual-server', capacity: 100, refillPerSecond: 100 },
      ],
      clock: () => now,
    });
    const upstream = createTestUpstream('u', { tools: [tool('echo')] });
    const router = createRouter({ hooks: [limiter.hooks] });
    router.setMembers([{ upstream, namespace: '' }]);
    const call = (principal: Principal) =>
      runWithAuthContext({ principal, virtualServerId: 'vs' }, () =>
        router.handle('tools/call', { name: 'echo' }),
      );

    await call(alice);
    let refused: unknown;
    try {
      await call(alice);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(RpcError);
    expect(refused).toMatchObject({
      code: RATE_LIMITED_RPC_CODE,
      message: 'rate limit exceeded; retry after 2000 ms',
      data: { retryAfterMs: 2000 },
    });
    await call(bob);
    expect(upstream.requests).toHaveLength(2);
    now += 2_000;
    await call(alice);
    expect(upstream.requests).toHaveLength(3);
    router.close();
  });

  it('gives HTTP callers a 429 with Retry-After in whole seconds', async () => {
    const response = rateLimitResponse({ retryAfterMs: 1_200 });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('2');
    expect(await response.json()).toEqual({
      error: {
        code: 'rate-limited',
        message: 'rate limit exceeded; retry after 1200 ms',
        details: { retryAfterMs: 1_200 },
      },
    });
  });

  it('rejects rules that could never allow a call', () => {
    expect(() => createRateLimiter({ rules: [{ scope: 'tool', capacity: 0, refillPerSecond: 1 }] })).toThrow(
      /capacity ≥ 1/,
    );
  });
});
