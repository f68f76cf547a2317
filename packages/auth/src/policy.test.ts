import { createRouter, RpcError } from '@mcp-gateway/core';
import type { Tool } from '@mcp-gateway/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestUpstream, tool } from './in-memory-upstream.test-support.ts';
import { createPolicy } from './policy.ts';
import type { EntityVisibility } from './policy.ts';
import { runWithAuthContext } from './principal.ts';
import type { Principal } from './principal.ts';

const alice: Principal = { id: 'alice', kind: 'user', roles: ['developer'], teams: ['red'], scopes: ['*'] };
const bob: Principal = { id: 'bob', kind: 'user', roles: ['developer'], teams: ['blue'], scopes: ['*'] };
const carol: Principal = { id: 'carol', kind: 'user', roles: ['viewer'], teams: ['red'], scopes: ['*'] };
const root: Principal = { id: 'root', kind: 'user', roles: ['admin'], teams: [], scopes: ['*'] };
const anonymous: Principal = { id: 'anonymous', kind: 'anonymous', roles: [], teams: [], scopes: [] };

/** Ownership of the public tool names, as the lead's registry snapshot would give it. */
const visibility: Record<string, EntityVisibility> = {
  red__deploy: { owner: 'alice', team: 'red', visibility: 'private' },
  red__status: { owner: 'alice', team: 'red', visibility: 'team' },
  red__docs: { owner: 'alice', team: 'red', visibility: 'public' },
};

function setup() {
  const policy = createPolicy({
    visibilityOf: (kind, name) => (kind === 'tool' ? visibility[name] : undefined),
  });
  const upstream = createTestUpstream('red-upstream', {
    tools: [tool('deploy'), tool('status'), tool('docs'), tool('untracked')],
  });
  const router = createRouter({ hooks: [policy.hooks] });
  router.setMembers([{ upstream, namespace: 'red' }]);
  const call = (principal: Principal, name: string, virtualServerId?: string) =>
    runWithAuthContext({ principal, virtualServerId }, () =>
      router.handle('tools/call', { name, arguments: {} }),
    );
  const list = async (principal: Principal) => {
    const result = await router.handle('tools/list', undefined);
    return (policy.filterListResult(principal, 'tools/list', result).tools as Tool[]).map((t) => t.name);
  };
  return { policy, upstream, router, call, list };
}

async function errorOf(promise: Promise<unknown>): Promise<RpcError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RpcError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('policy through the real router', () => {
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  it("hides another team's private tool and refuses it exactly like an unknown tool", async () => {
    const { router, upstream, call, list } = setup();
    close = () => router.close();
    expect(await list(bob)).toEqual(['red__docs', 'red__untracked']);
    expect(await list(alice)).toEqual(['red__deploy', 'red__status', 'red__docs', 'red__untracked']);

    const denied = await errorOf(call(bob, 'red__deploy'));
    const unknown = await errorOf(call(bob, 'red__does_not_exist'));
    expect({ code: denied.code, message: denied.message, data: denied.data }).toEqual({
      code: -32602,
      message: 'Unknown tool: red__deploy',
      data: undefined,
    });
    expect(unknown.code).toBe(denied.code);
    expect(unknown.message).toBe('Unknown tool: red__does_not_exist');
    expect(await errorOf(call(bob, 'red__status'))).toMatchObject({ message: 'Unknown tool: red__status' });
    expect(upstream.requests).toEqual([]);
  });

  it('lets the owner, team members (team visibility), admins and everyone (public) call', async () => {
    const { router, upstream, call } = setup();
    close = () => router.close();
    await call(alice, 'red__deploy');
    await call(carol, 'red__status');
    await call(root, 'red__deploy');
    await call(bob, 'red__docs');
    await call(anonymous, 'red__untracked');
    expect(upstream.requests.map((r) => r.params?.name)).toEqual([
      'deploy',
      'status',
      'deploy',
      'docs',
      'untracked',
    ]);
    expect(await errorOf(call(carol, 'red__deploy'))).toMatchObject({ message: 'Unknown tool: red__deploy' });
    expect(await errorOf(call(anonymous, 'red__status'))).toMatchObject({
      message: 'Unknown tool: red__status',
    });
  });

  it('refuses a principal scoped to virtual server A on B, and any call with no auth context', async () => {
    const { router, call } = setup();
    close = () => router.close();
    const scoped: Principal = { ...alice, kind: 'token', virtualServers: ['a'] };
    await call(scoped, 'red__docs', 'a');
    expect(await errorOf(call(scoped, 'red__docs', 'b'))).toMatchObject({
      message: 'Unknown tool: red__docs',
    });
    expect(await errorOf(router.handle('tools/call', { name: 'red__docs' }))).toMatchObject({
      code: -32602,
      message: 'Unknown tool: red__docs',
    });
  });

  it('explains its decisions step by step', () => {
    const { policy, router } = setup();
    close = () => router.close();
    const denied = policy.explain(bob, { kind: 'tool', name: 'red__deploy' });
    expect(denied.allowed).toBe(false);
    expect(denied.text).toBe(
      [
        'principal bob (user); roles: developer; effective role: developer; teams: blue',
        'tool red__deploy: visibility private, owner alice, team red',
        'private, and bob is not the owner',
        'decision: DENY (the call fails as "Unknown tool")',
      ].join('\n'),
    );
    const allowed = policy.explain(carol, { kind: 'tool', name: 'red__status' });
    expect(allowed.allowed).toBe(true);
    expect(allowed.steps[2]).toBe('team visibility and the principal is in team red');
    expect(policy.explain(bob, { kind: 'tool', name: 'other' }).steps[1]).toBe(
      'tool other: no ownership record; default visibility public',
    );
  });
});

describe('canAdmin', () => {
  const policy = createPolicy({ visibilityOf: () => undefined });
  const redGateway: EntityVisibility = { owner: 'alice', team: 'red', visibility: 'team' };
  const alicePrivate: EntityVisibility = { owner: 'alice', team: 'red', visibility: 'private' };

  it('viewer reads only; developer manages own and team entities; admin does everything', () => {
    expect(policy.canAdmin(carol, 'read', { type: 'gateway', ...redGateway })).toBe(true);
    expect(policy.canAdmin(carol, 'update', { type: 'gateway', ...redGateway })).toBe(false);
    expect(policy.canAdmin(carol, 'create', 'gateway')).toBe(false);

    expect(policy.canAdmin(alice, 'update', { type: 'gateway', ...redGateway })).toBe(true);
    expect(policy.canAdmin(alice, 'delete', { type: 'gateway', ...alicePrivate })).toBe(true);
    expect(policy.canAdmin(bob, 'update', { type: 'gateway', ...redGateway })).toBe(false);
    expect(policy.canAdmin(bob, 'read', { type: 'gateway', ...alicePrivate })).toBe(false);
    expect(
      policy.canAdmin(bob, 'create', { type: 'gateway', owner: 'bob', team: 'blue', visibility: 'team' }),
    ).toBe(true);
    expect(
      policy.canAdmin(bob, 'create', { type: 'gateway', owner: 'bob', team: 'red', visibility: 'team' }),
    ).toBe(false);
    expect(policy.canAdmin(alice, 'create', 'user')).toBe(false);

    expect(policy.canAdmin(root, 'delete', 'user')).toBe(true);
    expect(policy.canAdmin(anonymous, 'read', 'gateway')).toBe(false);
  });

  it('requires admin scopes from tokens and JWTs on top of their role', () => {
    const token: Principal = { ...root, kind: 'token', scopes: ['mcp'] };
    expect(policy.canAdmin(token, 'read', 'gateway')).toBe(false);
    expect(policy.canAdmin({ ...token, scopes: ['admin:read'] }, 'read', 'gateway')).toBe(true);
    expect(policy.canAdmin({ ...token, scopes: ['admin:read'] }, 'delete', 'gateway')).toBe(false);
    expect(policy.canAdmin({ ...token, scopes: ['admin:write'] }, 'delete', 'gateway')).toBe(true);
  });
});
