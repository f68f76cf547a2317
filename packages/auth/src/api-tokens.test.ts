import { GatewayError } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticator.ts';
import { createBasicVerifier } from './basic-verifier.ts';
import { hashPassword } from './password-hash.ts';
import { isAuthFailure } from './principal.ts';
import type { AuthFailure, Principal } from './principal.ts';
import { createRevocationList } from './revocation-list.ts';
import { assertSafeBinding } from './safe-binding.ts';
import { createTokenService, hashApiToken } from './token-service.ts';
import { createInMemoryTokenStore } from './token-store.ts';
import type { TokenStore } from './token-store.ts';
import { createInMemoryUserStore } from './user-store.ts';

const URL_ROOT = 'http://127.0.0.1:8080/mcp';

function bearer(token: string, url = URL_ROOT): Request {
  return new Request(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

/** The in-memory store, counting the calls the call path must not make. */
function countingStore(): TokenStore & { lookups: number; lastUsedWrites: number } {
  const inner = createInMemoryTokenStore();
  const counted = {
    ...inner,
    lookups: 0,
    lastUsedWrites: 0,
    async findByHash(hash: string) {
      counted.lookups += 1;
      return inner.findByHash(hash);
    },
    async recordLastUsed(uses: ReadonlyArray<{ id: string; at: Date }>) {
      counted.lastUsedWrites += 1;
      return inner.recordLastUsed(uses);
    },
  };
  return counted;
}

function principalOf(result: Principal | AuthFailure): Principal {
  if (isAuthFailure(result)) throw new Error(`expected a principal, got ${result.status}: ${result.message}`);
  return result;
}

function failureOf(result: Principal | AuthFailure): AuthFailure {
  if (!isAuthFailure(result)) throw new Error(`expected a refusal, got principal ${result.id}`);
  return result;
}

describe('API tokens', () => {
  it('are shown once, stored only as a hash, and verified into the owner principal', async () => {
    const store = countingStore();
    let now = Date.parse('2026-08-01T10:00:00Z');
    const tokens = createTokenService({ store, clock: () => now, lastUsedFlushMs: 0 });
    const { token, info } = await tokens.create({
      name: 'ci',
      ownerId: 'alice',
      roles: ['developer'],
      teams: ['red'],
      scopes: ['mcp:tools'],
    });
    expect(token).toMatch(/^mgw_[A-Za-z0-9_-]{43}$/);
    expect(info).not.toHaveProperty('hash');
    expect(info.prefix).toBe(token.slice(0, 8));
    const [stored] = await store.list();
    expect(stored?.hash).toBe(hashApiToken(token));
    expect(JSON.stringify(await store.list())).not.toContain(token);
    expect(JSON.stringify(await tokens.list())).not.toContain(stored?.hash);

    const auth = createAuthenticator({ tokens });
    const principal = principalOf(await auth.authenticate(bearer(token)));
    expect(principal).toMatchObject({
      id: 'alice',
      kind: 'token',
      roles: ['developer'],
      teams: ['red'],
      scopes: ['mcp:tools'],
      claims: { tokenId: info.id, tokenName: 'ci' },
    });

    // Served from memory after the first use: no store query, and last-used written in one batch.
    for (let i = 0; i < 50; i++) {
      now += 1_000;
      principalOf(await auth.authenticate(bearer(token)));
    }
    expect(store.lookups).toBe(1);
    expect(store.lastUsedWrites).toBe(0);
    await tokens.flush();
    expect(store.lastUsedWrites).toBe(1);
    expect((await tokens.list())[0]?.lastUsedAt?.getTime()).toBe(now);
    await tokens.close();
  });

  it('refuses unknown, malformed and expired tokens', async () => {
    let now = Date.parse('2026-08-01T10:00:00Z');
    const tokens = createTokenService({
      store: createInMemoryTokenStore(),
      clock: () => now,
      lastUsedFlushMs: 0,
    });
    const auth = createAuthenticator({ tokens });
    const unknown = `mgw_${Buffer.alloc(32, 7).toString('base64url')}`;
    expect(failureOf(await auth.authenticate(bearer(unknown)))).toMatchObject({
      status: 401,
      error: 'invalid_token',
      message: 'unknown API token',
    });
    expect(failureOf(await auth.authenticate(bearer('mgw_short'))).message).toBe('malformed API token');
    const { token } = await tokens.create({
      name: 'short-lived',
      ownerId: 'alice',
      expiresAt: new Date(now + 60_000),
    });
    principalOf(await auth.authenticate(bearer(token)));
    now += 60_000;
    expect(failureOf(await auth.authenticate(bearer(token))).message).toBe('token expired');
  });

  it('are refused as soon as they are revoked, here and (through the revocation list) on other replicas', async () => {
    const store = createInMemoryTokenStore();
    const here = createTokenService({ store, lastUsedFlushMs: 0 });
    const replicaList = createRevocationList();
    const replica = createTokenService({ store, revoked: replicaList, lastUsedFlushMs: 0 });
    const { token, info } = await here.create({ name: 'laptop', ownerId: 'alice' });
    const authHere = createAuthenticator({ tokens: here });
    const authReplica = createAuthenticator({ tokens: replica });
    principalOf(await authHere.authenticate(bearer(token)));
    principalOf(await authReplica.authenticate(bearer(token))); // now cached on the replica

    expect(await here.revoke(info.id)).toBe(true);
    expect(failureOf(await authHere.authenticate(bearer(token))).message).toBe('token has been revoked');
    // The replica still holds the token in memory until its revocation list is refreshed from the store.
    replicaList.replace(await store.listRevokedIds(new Date()));
    expect(failureOf(await authReplica.authenticate(bearer(token))).message).toBe('token has been revoked');
    expect(await here.revoke('no-such-token')).toBe(false);
  });

  it('scoped to virtual server A are refused on B and on the gateway-wide endpoint', async () => {
    const tokens = createTokenService({ store: createInMemoryTokenStore(), lastUsedFlushMs: 0 });
    const auth = createAuthenticator({ tokens });
    const { token } = await tokens.create({ name: 'only-a', ownerId: 'alice', virtualServers: ['a'] });
    expect(
      principalOf(await auth.authenticate(bearer(token), { virtualServerId: 'a' })).virtualServers,
    ).toEqual(['a']);
    const onB = failureOf(await auth.authenticate(bearer(token), { virtualServerId: 'b' }));
    expect(onB).toMatchObject({ status: 403, message: 'this token is not valid for virtual server b' });
    expect(auth.challengeResponse(onB).status).toBe(403);
    const onRoot = failureOf(await auth.authenticate(bearer(token)));
    expect(onRoot.status).toBe(403);
    expect(onRoot.message).toContain('limited to virtual servers a');
  });

  it('without the required scope get 403 insufficient_scope', async () => {
    const tokens = createTokenService({ store: createInMemoryTokenStore(), lastUsedFlushMs: 0 });
    const auth = createAuthenticator({ tokens, requiredScopes: ['mcp'] });
    const { token: narrow } = await tokens.create({
      name: 'admin-only',
      ownerId: 'alice',
      scopes: ['admin:read'],
    });
    expect(failureOf(await auth.authenticate(bearer(narrow)))).toMatchObject({
      status: 403,
      error: 'insufficient_scope',
      scope: ['mcp'],
    });
    const { token: full } = await tokens.create({ name: 'everything', ownerId: 'alice' });
    principalOf(await auth.authenticate(bearer(full)));
  });
});

describe('Basic authentication', () => {
  const basic = (user: string, password: string) =>
    new Request(URL_ROOT, {
      headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
    });

  it('signs people in against scrypt hashes, and is off unless configured', async () => {
    const now = new Date();
    const users = createInMemoryUserStore([
      {
        id: 'u1',
        username: 'alice',
        passwordHash: await hashPassword('correct horse: battery staple', { cost: 2 ** 12 }),
        roles: ['developer'],
        teams: ['red'],
        disabled: false,
        createdAt: now,
        updatedAt: now,
      },
    ]);
    const auth = createAuthenticator({ basic: createBasicVerifier({ users }) });
    expect(
      principalOf(await auth.authenticate(basic('alice', 'correct horse: battery staple'))),
    ).toMatchObject({
      id: 'u1',
      kind: 'user',
      roles: ['developer'],
      teams: ['red'],
    });
    const wrong = failureOf(await auth.authenticate(basic('alice', 'wrong')));
    expect(wrong).toMatchObject({ status: 401, message: 'invalid username or password' });
    expect(wrong.wwwAuthenticate).toContain('Basic realm="mcp-gateway"');
    expect(failureOf(await auth.authenticate(basic('nobody', 'x'))).message).toBe(
      'invalid username or password',
    );

    const tokensOnly = createAuthenticator({
      tokens: createTokenService({ store: createInMemoryTokenStore(), lastUsedFlushMs: 0 }),
    });
    expect(failureOf(await tokensOnly.authenticate(basic('alice', 'x'))).message).toBe(
      'Basic authentication is not enabled',
    );
  });
});

describe('anonymous access and binding', () => {
  it('with no method configured, is single-user local mode: anonymous with the admin role', async () => {
    const auth = createAuthenticator({});
    expect(auth.configured).toBe(false);
    expect(principalOf(await auth.authenticate(new Request(URL_ROOT)))).toMatchObject({
      id: 'anonymous',
      kind: 'anonymous',
      roles: ['admin'],
    });
  });

  it('assertSafeBinding refuses a non-loopback bind without authentication', () => {
    expect(() => assertSafeBinding({ host: '127.0.0.1', authConfigured: false })).not.toThrow();
    expect(() => assertSafeBinding({ host: '::1', authConfigured: false })).not.toThrow();
    expect(() => assertSafeBinding({ host: 'localhost', authConfigured: false })).not.toThrow();
    expect(() => assertSafeBinding({ host: '0.0.0.0', authConfigured: true })).not.toThrow();
    expect(() =>
      assertSafeBinding({ host: '0.0.0.0', authConfigured: false, allowUnauthenticated: true }),
    ).not.toThrow();
    let error: unknown;
    try {
      assertSafeBinding({ host: '0.0.0.0', authConfigured: false });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ code: 'config-invalid' });
    expect((error as Error).message).toContain('refusing to listen on 0.0.0.0 without authentication');
  });
});
