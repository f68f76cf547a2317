import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { z } from 'zod';
import { GatewayError } from '@mcp-gateway/core';
import { hashPassword, type Principal, type UserRecord, type UserStore } from '@mcp-gateway/auth';
import type { AuditLog } from '@mcp-gateway/observability';
import type { RestAccess } from '../auth/request-access.ts';
import { invalidBody, readJson } from './catalog-routes.ts';
import { forbidden } from './tokens-routes.ts';

/** Options of {@link createUsersRoutes}. */
export interface UsersRoutesOptions {
  users: UserStore;
  access: RestAccess;
  /** Records who created, changed or deleted which user (never a password or its hash). */
  audit?: AuditLog;
  /** Hashes a new password. Default: the auth package's `hashPassword` (scrypt). */
  hashPassword?: (password: string) => Promise<string>;
  /** Revokes every API token a user owns; called when the user is disabled or deleted, so no token outlives it. */
  revokeTokensOf?: (userId: string) => Promise<number>;
}

/** Shorter passwords are refused. */
export const MIN_PASSWORD_LENGTH = 12;

/** A password as the API and the CLI accept it. */
export const passwordSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'password is required' : 'password must be a string'),
  })
  .min(MIN_PASSWORD_LENGTH, `password must be at least ${MIN_PASSWORD_LENGTH} characters`)
  .max(1024, 'password must be at most 1024 characters');

const names = (field: string) =>
  z
    .array(
      z
        .string({ error: `${field} must be a list of strings` })
        .trim()
        .min(1, `${field} must not contain empty strings`)
        .max(64, `${field} entries must be at most 64 characters`),
      { error: `${field} must be a list of strings` },
    )
    .max(100, `${field} must have at most 100 entries`);

const userFields = {
  username: z
    .string({
      error: (issue) => (issue.input === undefined ? 'username is required' : 'username must be a string'),
    })
    .trim()
    .min(1, 'username must not be empty')
    .max(100, 'username must be at most 100 characters')
    .regex(/^[^\s:]+$/, 'username must not contain spaces or ":"')
    .describe('Unique; the name to sign in with (Basic auth, so no ":").'),
  password: passwordSchema.describe(
    `At least ${MIN_PASSWORD_LENGTH} characters. Stored hashed; never returned.`,
  ),
  roles: names('roles').describe(
    '`admin`, `developer`, `viewer` or roles of your own. Default: none (viewer).',
  ),
  teams: names('teams').describe('Team ids the user belongs to.'),
  disabled: z
    .boolean({ error: 'disabled must be true or false' })
    .describe('A disabled user cannot sign in.'),
};

/** Body of `POST /v1/users`. Unknown fields are refused. */
export const userCreateSchema = z.strictObject({
  username: userFields.username,
  password: userFields.password,
  roles: userFields.roles.default([]),
  teams: userFields.teams.default([]),
  disabled: userFields.disabled.default(false),
});

/** Body of `PATCH /v1/users/{id}`: absent fields stay as they are. */
export const userPatchSchema = z.strictObject({
  roles: userFields.roles.optional(),
  teams: userFields.teams.optional(),
  disabled: userFields.disabled.optional(),
  password: userFields.password.optional(),
});

/** A user as the API shows it: never the password hash. */
export function presentUser(user: UserRecord) {
  return {
    id: user.id,
    username: user.username,
    roles: user.roles,
    teams: user.teams,
    disabled: user.disabled,
    hasPassword: user.passwordHash !== null,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

/** The caller as `GET /v1/users/me` shows it: who, how, roles, teams and scopes; no claims or secrets. */
export function presentPrincipal(principal: Principal) {
  return {
    id: principal.id,
    kind: principal.kind,
    roles: principal.roles,
    teams: principal.teams,
    scopes: principal.scopes,
    ...(principal.virtualServers === undefined ? {} : { virtualServers: principal.virtualServers }),
  };
}

/** Postgres' unique_violation: two requests raced for the same username. */
function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

/**
 * `/v1/users`: people who sign in with a password and own entities. Admins only (403 otherwise), except
 * `GET /v1/users/me`, which answers every caller with who the gateway thinks they are.
 */
export function createUsersRoutes(options: UsersRoutesOptions): Hono {
  const { users, access, audit } = options;
  const hash = options.hashPassword ?? ((password: string) => hashPassword(password));
  const app = new Hono();

  app.get('/me', (c) => c.json(presentPrincipal(access.principal(c.req.raw))));

  // Users are an admin-only entity type in the policy: this is "is the caller an admin (with the scope for it)?".
  app.use('*', async (c, next) => {
    const caller = access.principal(c.req.raw);
    const action = {
      GET: 'read',
      HEAD: 'read',
      POST: 'create',
      PATCH: 'update',
      PUT: 'update',
      DELETE: 'delete',
    }[c.req.method] as 'read' | 'create' | 'update' | 'delete' | undefined;
    if (action === undefined || !access.policy.canAdmin(caller, action, 'user')) {
      return forbidden(c, 'only admins may manage users');
    }
    await next();
  });

  async function save(user: UserRecord): Promise<void> {
    const clash = await users.findByUsername(user.username);
    if (clash && clash.id !== user.id) throw taken(user.username);
    try {
      await users.upsert(user);
    } catch (error) {
      if (isUniqueViolation(error)) throw taken(user.username, error);
      throw error;
    }
  }

  async function load(id: string): Promise<UserRecord> {
    const user = await users.get(id);
    if (!user) throw new GatewayError('not-found', `no user with id "${id}"`, { details: { id } });
    return user;
  }

  app.get('/', async (c) => c.json({ items: (await users.list()).map(presentUser) }));

  app.post('/', async (c) => {
    const caller = access.principal(c.req.raw);
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = userCreateSchema.safeParse(body.value);
    if (!parsed.success) return invalidBody(c, parsed.error);
    const { password, ...fields } = parsed.data;
    const now = new Date();
    const user: UserRecord = {
      id: randomUUID(),
      ...fields,
      passwordHash: await hash(password),
      createdAt: now,
      updatedAt: now,
    };
    await save(user);
    audit?.recordChange({
      actor: caller.id,
      entityType: 'user',
      entityId: user.id,
      action: 'create',
      after: presentUser(user),
    });
    c.header('location', `/v1/users/${user.id}`);
    return c.json(presentUser(user), 201);
  });

  app.get('/:id', async (c) => c.json(presentUser(await load(c.req.param('id')))));

  app.patch('/:id', async (c) => {
    const caller = access.principal(c.req.raw);
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = userPatchSchema.safeParse(body.value);
    if (!parsed.success) return invalidBody(c, parsed.error);
    const before = await load(c.req.param('id'));
    const patch = parsed.data;
    const after: UserRecord = {
      ...before,
      roles: patch.roles ?? before.roles,
      teams: patch.teams ?? before.teams,
      disabled: patch.disabled ?? before.disabled,
      passwordHash: patch.password === undefined ? before.passwordHash : await hash(patch.password),
      updatedAt: new Date(),
    };
    await save(after);
    if (after.disabled && !before.disabled) await options.revokeTokensOf?.(after.id);
    audit?.recordChange({
      actor: caller.id,
      entityType: 'user',
      entityId: after.id,
      action: 'update',
      before: presentUser(before),
      // Which fields the request set: a new password shows up here by name only, never its value or hash.
      after: { ...presentUser(after), changedFields: Object.keys(patch) },
    });
    return c.json(presentUser(after));
  });

  app.delete('/:id', async (c) => {
    const caller = access.principal(c.req.raw);
    const before = await load(c.req.param('id'));
    await users.delete(before.id);
    await options.revokeTokensOf?.(before.id);
    audit?.recordChange({
      actor: caller.id,
      entityType: 'user',
      entityId: before.id,
      action: 'delete',
      before: presentUser(before),
    });
    return c.body(null, 204);
  });

  return app;
}

function taken(username: string, cause?: unknown): GatewayError {
  return new GatewayError('conflict', `the username "${username}" is already taken`, {
    cause,
    details: { field: 'username' },
  });
}
