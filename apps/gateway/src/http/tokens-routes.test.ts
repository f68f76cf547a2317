import { PGlite } from '@electric-sql/pglite';
import { Hono } from 'hono';
import { Kysely, PGliteDialect } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  anonymousPrincipal,
  createKyselyTokenStore,
  createPolicy,
  createTokenService,
  migrateAuth,
  type Principal,
  type TokenService,
} from '@mcp-gateway/auth';
import { createAuditLog, type AuditEntry } from '@mcp-gateway/observability';
import { requestPrincipal, setRequestPrincipal, type RestAccess } from '../auth/request-access.ts';
import { renderRestError } from './rest-error.ts';
import { createTokensRoutes } from './tokens-routes.ts';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type TokenBody = {
  id: string;
  name: string;
  prefix: string;
  ownerId: string;
  roles: string[];
  teams: string[];
  scopes: string[];
  virtualServers: string[] | null;
  expiresAt: string | null;
  revokedAt: string | null;
  token?: string;
};

const user = (id: string, roles: string[], teams: string[] = []): Principal => ({
  id,
  kind: 'user',
  roles,
  teams,
  scopes: ['*'],
});

/** Callers by the name a test sends in `x-test-caller`. */
const callers: Record<string, Principal> = {
  admin: user('u-admin', ['admin']),
  dev: user('u-dev', ['developer'], ['red']),
  otherDev: user('u-other', ['developer'], ['blue']),
  viewer: user('u-viewer', ['viewer']),
  local: anonymousPrincipal({ roles: ['admin'], scopes: ['*'] }),
  // An API token of u-dev limited to some scopes and one virtual server.
  limitedToken: {
    id: 'u-dev',
    kind: 'token',
    roles: ['developer'],
    teams: ['red'],
    scopes: ['admin:read', 'admin:write', 'mcp:call'],
    virtualServers: ['vs-1'],
  },
};

describe('REST API /v1/tokens', () => {
  let pglite: PGlite;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let db: Kysely<any>;
  let tokens: TokenService;
  let app: Hono;
  const audited: AuditEntry[] = [];
  const audit = createAuditLog({
    write: async (entries) => void audited.push(...entries),
    flushIntervalMs: 0,
  });

  beforeAll(async () => {
    pglite = new PGlite();
    db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
    await migrateAuth(db);
    tokens = createTokenService({ store: createKyselyTokenStore(db), lastUsedFlushMs: 0 });
    const access: RestAccess = {
      principal: (request) => requestPrincipal(request) ?? anonymousPrincipal(),
      policy: createPolicy({ visibilityOf: () => undefined }),
    };
    // Mounted as gateway-app mounts it: the app's error rendering, and a stand-in for the auth middleware that
    // records the caller named by a test header.
    app = new Hono();
    app.onError((error, c) =>
      renderRestError(c, error, (fields) => {
        throw new Error(`unexpected error: ${JSON.stringify(fields)}`);
      }),
    );
    app.use('*', async (c, next) => {
      const caller = callers[c.req.header('x-test-caller') ?? ''];
      if (caller) setRequestPrincipal(c.req.raw, caller);
      await next();
    });
    app.route('/v1/tokens', createTokensRoutes({ tokens, access, audit }));
  });
  afterAll(async () => {
    await audit.close();
    await tokens?.close();
    await db?.destroy();
    if (pglite && !pglite.closed) await pglite.close();
  });
  beforeEach(async () => {
    await db.deleteFrom('api_tokens').execute();
  });

  const request = (
    caller: keyof typeof callers,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ) =>
    app.request(`/v1/tokens${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', 'x-test-caller': caller },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  const create = async (caller: keyof typeof callers, body: Record<string, unknown>) => {
    const response = await request(caller, '', { method: 'POST', body });
    expect(response.status, JSON.stringify(await response.clone().json())).toBe(201);
    return (await response.json()) as TokenBody & { token: string };
  };
  const errorOf = async (response: Response) => ((await response.json()) as ErrorBody).error;
  const list = async (caller: keyof typeof callers, query = '') =>
    ((await (await request(caller, query)).json()) as { items: TokenBody[] }).items;

  it('shows the token text once, at creation, and never in a listing or a read', async () => {
    const response = await request('dev', '', { method: 'POST', body: { name: 'ci' } });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const created = (await response.json()) as TokenBody & { token: string };
    expect(response.headers.get('location')).toBe(`/v1/tokens/${created.id}`);
    expect(created.token).toMatch(/^mgw_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({
      name: 'ci',
      ownerId: 'u-dev',
      roles: ['developer'],
      teams: ['red'],
      scopes: ['*'],
      virtualServers: null,
      expiresAt: null,
      revokedAt: null,
      prefix: created.token.slice(0, 8),
    });
    expect(created).not.toHaveProperty('hash');

    const verified = await tokens.verify(created.token);
    expect(verified).toMatchObject({ principal: { id: 'u-dev', kind: 'token', roles: ['developer'] } });

    const listed = await request('dev', '');
    const listText = await listed.text();
    expect(listText).toContain(created.id);
    expect(listText).not.toContain(created.token);
    expect(listText).not.toContain('hash');
    const read = await request('dev', `/${created.id}`);
    expect(read.status).toBe(200);
    const readBody = (await read.json()) as TokenBody;
    expect(readBody.token).toBeUndefined();
    expect(readBody.name).toBe('ci');
  });

  it('never lets a non-admin mint a token with more than they hold', async () => {
    const admin = await request('dev', '', { method: 'POST', body: { name: 'x', roles: ['admin'] } });
    expect(admin.status).toBe(403);
    expect(await errorOf(admin)).toEqual({
      code: 'forbidden',
      message: 'you may not grant the role "admin"',
      details: { field: 'roles' },
    });
    const team = await request('dev', '', { method: 'POST', body: { name: 'x', teams: ['blue'] } });
    expect(team.status).toBe(403);
    expect((await errorOf(team)).message).toBe('you are not in the team "blue"');
    const forSomeoneElse = await request('dev', '', {
      method: 'POST',
      body: { name: 'x', ownerId: 'u-other' },
    });
    expect(forSomeoneElse.status).toBe(403);
    expect((await errorOf(forSomeoneElse)).message).toBe('you may only create tokens for yourself');
    expect(await list('admin')).toEqual([]);

    // A weaker role is fine.
    expect((await create('dev', { name: 'read-only', roles: ['viewer'] })).roles).toEqual(['viewer']);
    // Viewers manage their own tokens (how they reach MCP), with their own role at most, and no one else's.
    const viewer = await request('viewer', '', { method: 'POST', body: { name: 'v' } });
    expect(viewer.status).toBe(201);
    expect(((await viewer.json()) as { roles: string[] }).roles).toEqual(['viewer']);
    const viewerForOther = await request('viewer', '', {
      method: 'POST',
      body: { name: 'v', ownerId: 'u-dev' },
    });
    expect(viewerForOther.status).toBe(403);
    const viewerEscalates = await request('viewer', '', {
      method: 'POST',
      body: { name: 'v', roles: ['developer'] },
    });
    expect(viewerEscalates.status).toBe(403);
  });

  it('caps scopes and virtual servers to those of a limited creator, and hands them on by default', async () => {
    const wider = await request('limitedToken', '', { method: 'POST', body: { name: 'x', scopes: ['*'] } });
    expect(wider.status).toBe(403);
    expect(await errorOf(wider)).toMatchObject({
      message: 'you do not hold the scope "*"',
      details: { field: 'scopes' },
    });
    const otherServer = await request('limitedToken', '', {
      method: 'POST',
      body: { name: 'x', virtualServers: ['vs-2'] },
    });
    expect(otherServer.status).toBe(403);
    expect((await errorOf(otherServer)).message).toBe('you may not use the virtual server "vs-2"');

    const inherited = await create('limitedToken', { name: 'child' });
    expect(inherited).toMatchObject({
      ownerId: 'u-dev',
      scopes: ['admin:read', 'admin:write', 'mcp:call'],
      virtualServers: ['vs-1'],
    });
    const narrower = await create('limitedToken', { name: 'narrow', scopes: ['mcp:call'] });
    expect(narrower.scopes).toEqual(['mcp:call']);
  });

  it("answers 404 for someone else's token, while admins see, filter and revoke every token", async () => {
    const mine = await create('dev', { name: 'mine' });
    const theirs = await create('otherDev', { name: 'theirs' });

    for (const method of ['GET', 'DELETE']) {
      const response = await request('otherDev', `/${mine.id}`, { method });
      expect(response.status, method).toBe(404);
      expect(await errorOf(response)).toMatchObject({
        code: 'not-found',
        message: `no token with id "${mine.id}"`,
      });
    }
    expect(await tokens.verify(mine.token)).toHaveProperty('principal.id', 'u-dev');
    expect((await list('otherDev')).map((t) => t.name)).toEqual(['theirs']);
    const peek = await request('otherDev', '?owner=u-dev');
    expect(peek.status).toBe(403);

    expect((await list('admin')).map((t) => t.name)).toEqual(['mine', 'theirs']);
    expect((await list('admin', '?owner=u-other')).map((t) => t.name)).toEqual(['theirs']);
    const unknownQuery = await request('admin', '?ownr=x');
    expect(unknownQuery.status).toBe(400);
    expect((await errorOf(unknownQuery)).message).toContain('ownr');

    const revoked = await request('admin', `/${theirs.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(204);
    expect(await tokens.verify(theirs.token)).toEqual({ error: 'token has been revoked' });
    expect((await list('otherDev'))[0]?.revokedAt).toEqual(expect.any(String));

    // Owners revoke their own.
    expect((await request('dev', `/${mine.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await tokens.verify(mine.token)).toEqual({ error: 'token has been revoked' });
  });

  it('lets the anonymous local admin create tokens for the admin user or an owner it names', async () => {
    const own = await create('local', { name: 'local' });
    expect(own).toMatchObject({ ownerId: 'admin', roles: ['admin'], scopes: ['*'] });
    const forAlice = await create('local', { name: 'alice', ownerId: 'alice', roles: ['developer'] });
    expect(forAlice).toMatchObject({ ownerId: 'alice', roles: ['developer'], teams: [] });
    const bare = await create('admin', { name: 'bare', ownerId: 'bob' });
    expect(bare).toMatchObject({ ownerId: 'bob', roles: [], teams: [] });
    expect((await list('local', '?owner=admin')).map((t) => t.name)).toEqual(['local']);
  });

  it('refuses malformed requests with 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'name: name is required'],
      [{ name: ' ' }, 'name: name must not be empty'],
      [{ name: 'x', scopes: 'admin:read' }, 'scopes: scopes must be a list of strings'],
      [{ name: 'x', expiresInDays: 0 }, 'expiresInDays: expiresInDays must be at least 1'],
      [
        { name: 'x', expiresInDays: 1, expiresAt: '2099-01-01T00:00:00Z' },
        'expiresInDays: give expiresAt or expiresInDays, not both',
      ],
      [{ name: 'x', expiresAt: 'tomorrow' }, 'expiresAt: expiresAt must be an ISO 8601 date-time'],
      [{ name: 'x', expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt: expiresAt must be in the future'],
      [{ name: 'x', colour: 'red' }, 'colour: unknown field'],
      ['{nope', 'not valid JSON'],
    ];
    for (const [body, message] of cases) {
      const response = await request('dev', '', { method: 'POST', body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(response);
      expect(error.code).toBe('invalid-input');
      expect(error.message, JSON.stringify(body)).toContain(message);
    }
    expect(await list('admin')).toEqual([]);
  });

  it('sets the expiry from expiresInDays or expiresAt', async () => {
    const before = Date.now();
    const inDays = await create('dev', { name: 'week', expiresInDays: 7 });
    const expiry = Date.parse(inDays.expiresAt ?? '');
    expect(expiry).toBeGreaterThanOrEqual(before + 7 * 86_400_000);
    expect(expiry).toBeLessThan(Date.now() + 7 * 86_400_000 + 1000);
    const at = await create('dev', { name: 'fixed', expiresAt: '2099-01-01T00:00:00+01:00' });
    expect(at.expiresAt).toBe('2098-12-31T23:00:00.000Z');
  });

  it('records creations and revocations in the audit log without the token text', async () => {
    await audit.flush();
    audited.length = 0;
    const created = await create('dev', { name: 'audited' });
    await request('dev', `/${created.id}`, { method: 'DELETE' });
    await audit.flush();
    expect(audited.map((entry) => [entry.actor, entry.entityType, entry.entityId, entry.action])).toEqual([
      ['u-dev', 'token', created.id, 'create'],
      ['u-dev', 'token', created.id, 'delete'],
    ]);
    expect(audited[0]?.after).toMatchObject({ name: 'audited', ownerId: 'u-dev' });
    expect(JSON.stringify(audited)).not.toContain(created.token);
  });
});
