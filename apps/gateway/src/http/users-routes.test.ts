import { PGlite } from '@electric-sql/pglite';
import { Hono } from 'hono';
import { Kysely, PGliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anonymousPrincipal,
  createKyselyUserStore,
  createPolicy,
  hashPassword,
  migrateAuth,
  verifyPassword,
  type Principal,
  type UserStore,
} from '@mcp-gateway/auth';
import { createAuditLog, type AuditEntry } from '@mcp-gateway/observability';
import { requestPrincipal, setRequestPrincipal, type RestAccess } from '../auth/request-access.ts';
import { renderRestError } from './rest-error.ts';
import { createUsersRoutes } from './users-routes.ts';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };
type UserBody = {
  id: string;
  username: string;
  roles: string[];
  teams: string[];
  disabled: boolean;
  hasPassword: boolean;
  createdAt: string;
  updatedAt: string;
};

const callers: Record<string, Principal> = {
  admin: { id: 'u-admin', kind: 'user', roles: ['admin'], teams: [], scopes: ['*'] },
  viewer: { id: 'u-viewer', kind: 'user', roles: ['viewer'], teams: ['red'], scopes: ['*'] },
  developer: { id: 'u-dev', kind: 'user', roles: ['developer'], teams: [], scopes: ['*'] },
  readOnlyAdminToken: {
    id: 'u-admin',
    kind: 'token',
    roles: ['admin'],
    teams: [],
    scopes: ['admin:read'],
    virtualServers: ['vs-1'],
    claims: { tokenId: 't-1', tokenName: 'ro' },
  },
};

describe('REST API /v1/users', () => {
  let pglite: PGlite;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let db: Kysely<any>;
  let users: UserStore;
  let app: Hono;
  const audited: AuditEntry[] = [];
  const audit = createAuditLog({ write: async (entries) => void audited.push(...entries) });

  beforeAll(async () => {
    pglite = new PGlite();
    db = new Kysely({ dialect: new PGliteDialect({ pglite }) });
    await migrateAuth(db);
    users = createKyselyUserStore(db);
    const access: RestAccess = {
      principal: (request) => requestPrincipal(request) ?? anonymousPrincipal(),
      policy: createPolicy({ visibilityOf: () => undefined }),
    };
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
    app.route(
      '/v1/users',
      // The real scrypt, at a lower cost so the suite stays quick.
      createUsersRoutes({ users, access, audit, hashPassword: (p) => hashPassword(p, { cost: 1024 }) }),
    );
  });
  afterAll(async () => {
    await audit.close();
    await db?.destroy();
    if (pglite && !pglite.closed) await pglite.close();
  });

  const request = (
    caller: keyof typeof callers,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ) =>
    app.request(`/v1/users${path}`, {
      method: init.method ?? 'GET',
      headers: { 'content-type': 'application/json', 'x-test-caller': caller },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const errorOf = async (response: Response) => ((await response.json()) as ErrorBody).error;
  const password = 'correct horse battery staple';

  it('creates a user with a hashed password that is never returned', async () => {
    const response = await request('admin', '', {
      method: 'POST',
      body: { username: 'alice', password, roles: ['developer'], teams: ['red'] },
    });
    expect(response.status).toBe(201);
    const text = await response.text();
    expect(text).not.toContain(password);
    expect(text).not.toContain('scrypt$');
    const created = JSON.parse(text) as UserBody;
    expect(response.headers.get('location')).toBe(`/v1/users/${created.id}`);
    expect(created).toMatchObject({
      username: 'alice',
      roles: ['developer'],
      teams: ['red'],
      disabled: false,
      hasPassword: true,
    });
    const stored = await users.findByUsername('alice');
    expect(stored?.passwordHash).toMatch(/^scrypt\$/);
    expect(await verifyPassword(password, stored?.passwordHash ?? '')).toBe(true);

    const listed = await request('admin', '');
    const listText = await listed.text();
    expect(listText).toContain('"alice"');
    expect(listText).not.toContain('scrypt$');
    expect(((await (await request('admin', `/${created.id}`)).json()) as UserBody).username).toBe('alice');
  });

  it('answers 409 for a username that is taken', async () => {
    const duplicate = await request('admin', '', { method: 'POST', body: { username: 'alice', password } });
    expect(duplicate.status).toBe(409);
    expect(await errorOf(duplicate)).toEqual({
      code: 'conflict',
      message: 'the username "alice" is already taken',
      details: { field: 'username' },
    });
    expect((await users.list()).filter((u) => u.username === 'alice')).toHaveLength(1);
  });

  it('refuses a short password (and other bad input) with 400 naming the field', async () => {
    const short = await request('admin', '', {
      method: 'POST',
      body: { username: 'bob', password: 'short' },
    });
    expect(short.status).toBe(400);
    const error = await errorOf(short);
    expect(error.code).toBe('invalid-input');
    expect(error.message).toBe('invalid request: password: password must be at least 12 characters');
    expect(error.details).toEqual([{ path: 'password', message: 'password must be at least 12 characters' }]);

    const cases: Array<[unknown, string]> = [
      [{ password }, 'username: username is required'],
      [{ username: 'bob' }, 'password: password is required'],
      [{ username: 'b:ob', password }, 'username: username must not contain spaces or ":"'],
      [{ username: 'bob', password, roles: 'admin' }, 'roles: roles must be a list of strings'],
      [{ username: 'bob', password, passwordHash: 'x' }, 'passwordHash: unknown field'],
    ];
    for (const [body, message] of cases) {
      const response = await request('admin', '', { method: 'POST', body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(response)).message).toContain(message);
    }
    expect(await users.findByUsername('bob')).toBeUndefined();
  });

  it('is for admins only: others get 403, a read-only admin token may only read', async () => {
    for (const caller of ['viewer', 'developer'] as const) {
      const createResponse = await request(caller, '', {
        method: 'POST',
        body: { username: 'mallory', password },
      });
      expect(createResponse.status, caller).toBe(403);
      expect(await errorOf(createResponse)).toMatchObject({
        code: 'forbidden',
        message: 'only admins may manage users',
      });
      expect((await request(caller, '')).status, caller).toBe(403);
    }
    expect(await users.findByUsername('mallory')).toBeUndefined();

    expect((await request('readOnlyAdminToken', '')).status).toBe(200);
    const write = await request('readOnlyAdminToken', '', {
      method: 'POST',
      body: { username: 'mallory', password },
    });
    expect(write.status).toBe(403);
  });

  it('GET /me answers every caller with its principal and nothing secret', async () => {
    const viewer = await request('viewer', '/me');
    expect(viewer.status).toBe(200);
    expect(await viewer.json()).toEqual({
      id: 'u-viewer',
      kind: 'user',
      roles: ['viewer'],
      teams: ['red'],
      scopes: ['*'],
    });
    const token = await request('readOnlyAdminToken', '/me');
    expect(await token.json()).toEqual({
      id: 'u-admin',
      kind: 'token',
      roles: ['admin'],
      teams: [],
      scopes: ['admin:read'],
      virtualServers: ['vs-1'],
    });
  });

  it('changes roles, teams, disabled and the password; deletes; 404 for unknown ids', async () => {
    const created = (await (
      await request('admin', '', { method: 'POST', body: { username: 'carol', password } })
    ).json()) as UserBody;
    const changed = await request('admin', `/${created.id}`, {
      method: 'PATCH',
      body: { roles: ['viewer'], disabled: true, password: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({
      username: 'carol',
      roles: ['viewer'],
      teams: [],
      disabled: true,
    });
    const stored = await users.get(created.id);
    expect(await verifyPassword('a brand new passphrase', stored?.passwordHash ?? '')).toBe(true);
    expect(await verifyPassword(password, stored?.passwordHash ?? '')).toBe(false);

    const short = await request('admin', `/${created.id}`, { method: 'PATCH', body: { password: 'tiny' } });
    expect(short.status).toBe(400);
    expect((await errorOf(short)).message).toContain('password: password must be at least 12 characters');
    const rename = await request('admin', `/${created.id}`, { method: 'PATCH', body: { username: 'c' } });
    expect(rename.status).toBe(400);
    expect((await errorOf(rename)).message).toContain('username: unknown field');

    expect((await request('admin', `/${created.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await users.get(created.id)).toBeUndefined();
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const response = await request('admin', `/${created.id}`, {
        method,
        ...(method === 'PATCH' ? { body: { disabled: false } } : {}),
      });
      expect(response.status, method).toBe(404);
      expect((await errorOf(response)).message).toBe(`no user with id "${created.id}"`);
    }
  });

  it('records changes in the audit log without passwords or hashes', async () => {
    await audit.flush();
    audited.length = 0;
    const created = (await (
      await request('admin', '', { method: 'POST', body: { username: 'dave', password } })
    ).json()) as UserBody;
    await request('admin', `/${created.id}`, {
      method: 'PATCH',
      body: { password: 'another long passphrase' },
    });
    await request('admin', `/${created.id}`, { method: 'DELETE' });
    await audit.flush();
    expect(audited.map((entry) => [entry.actor, entry.entityType, entry.action])).toEqual([
      ['u-admin', 'user', 'create'],
      ['u-admin', 'user', 'update'],
      ['u-admin', 'user', 'delete'],
    ]);
    expect(audited[1]?.after).toMatchObject({ username: 'dave', changedFields: ['password'] });
    const text = JSON.stringify(audited);
    expect(text).not.toContain(password);
    expect(text).not.toContain('another long passphrase');
    expect(text).not.toContain('scrypt$');
  });
});
