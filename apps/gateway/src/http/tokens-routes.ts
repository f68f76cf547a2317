import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { GatewayError } from '@mcp-gateway/core';
import {
  ADMIN_SCOPES,
  hasScopes,
  ROLES,
  type AdminAction,
  type ApiTokenInfo,
  type Principal,
  type TokenService,
} from '@mcp-gateway/auth';
import type { AuditLog } from '@mcp-gateway/observability';
import type { RestAccess } from '../auth/request-access.ts';
import { invalidBody, invalidQuery, readJson } from './catalog-routes.ts';
import { restError } from './rest-error.ts';

/** Options of {@link createTokensRoutes}. */
export interface TokensRoutesOptions {
  tokens: TokenService;
  access: RestAccess;
  /** Records who created or revoked which token (never the token text). */
  audit?: AuditLog;
}

/** Who owns a token the anonymous local admin creates without naming an owner. */
export const LOCAL_ADMIN_OWNER = 'admin';

const MAX_EXPIRY_DAYS = 3650;

const names = (field: string) =>
  z
    .array(
      z
        .string({ error: `${field} must be a list of strings` })
        .trim()
        .min(1, `${field} must not contain empty strings`)
        .max(200, `${field} entries must be at most 200 characters`),
      { error: `${field} must be a list of strings` },
    )
    .max(100, `${field} must have at most 100 entries`);

/** Body of `POST /v1/tokens`. Unknown fields are refused. */
export const tokenCreateSchema = z
  .strictObject({
    name: z
      .string({
        error: (issue) => (issue.input === undefined ? 'name is required' : 'name must be a string'),
      })
      .trim()
      .min(1, 'name must not be empty')
      .max(100, 'name must be at most 100 characters')
      .describe('What the token is for, shown in listings.'),
    scopes: names('scopes')
      .optional()
      .describe(
        'What the token may do (`admin:read`, `admin:write`, …); `*` is everything its owner may do. Default: the creator’s scopes. Never more than the creator holds.',
      ),
    virtualServers: names('virtualServers')
      .optional()
      .describe(
        'The only virtual server ids the token may be used on. Default: any (or the creator’s limit).',
      ),
    expiresAt: z.iso
      .datetime({
        offset: true,
        error: 'expiresAt must be an ISO 8601 date-time such as 2030-01-01T00:00:00Z',
      })
      .optional()
      .describe('When the token stops working. Give this or `expiresInDays`, not both; default: never.'),
    expiresInDays: z
      .number({ error: 'expiresInDays must be a number' })
      .int('expiresInDays must be a whole number')
      .min(1, 'expiresInDays must be at least 1')
      .max(MAX_EXPIRY_DAYS, `expiresInDays must be at most ${MAX_EXPIRY_DAYS}`)
      .optional()
      .describe('Days from now until the token stops working.'),
    ownerId: z
      .string({ error: 'ownerId must be a string' })
      .trim()
      .min(1, 'ownerId must not be empty')
      .optional()
      .describe('The user the token acts for (admins only). Default: the caller.'),
    roles: names('roles')
      .optional()
      .describe(
        'Roles the token carries. Default: the caller’s own when the token is theirs, none otherwise. Never more powerful than the caller’s unless the caller is an admin.',
      ),
    teams: names('teams')
      .optional()
      .describe('Teams the token carries. Default as for roles; only the caller’s own teams unless admin.'),
  })
  .refine((body) => body.expiresAt === undefined || body.expiresInDays === undefined, {
    path: ['expiresInDays'],
    message: 'give expiresAt or expiresInDays, not both',
  });

/** Query string of `GET /v1/tokens`. */
export const tokenListQuerySchema = z.strictObject({
  owner: z
    .string()
    .min(1, 'owner must not be empty')
    .optional()
    .describe('Only tokens of this user id (admins; others only ever see their own).'),
});

/** A token as the API shows it: never its hash, and the token text only in the response that created it. */
export function presentToken(info: ApiTokenInfo) {
  return {
    id: info.id,
    name: info.name,
    prefix: info.prefix,
    ownerId: info.ownerId,
    roles: info.roles,
    teams: info.teams,
    scopes: info.scopes,
    virtualServers: info.virtualServers,
    expiresAt: info.expiresAt?.toISOString() ?? null,
    createdAt: info.createdAt.toISOString(),
    lastUsedAt: info.lastUsedAt?.toISOString() ?? null,
    revokedAt: info.revokedAt?.toISOString() ?? null,
  };
}

/** Most powerful first, as in `ROLES`; a lower index outranks a higher one. */
const rank = (role: string) => (ROLES as readonly string[]).indexOf(role);

/**
 * `/v1/tokens`: create (the token text is in that response only), list, read and revoke API tokens. Admins see and
 * manage every token; everyone else only their own, and someone else's token answers 404 as if it did not exist.
 * A new token never carries more than its creator: roles no more powerful, teams and scopes within the creator's,
 * virtual servers within the creator's limit.
 */
export function createTokensRoutes(options: TokensRoutesOptions): Hono {
  const { tokens, access, audit } = options;
  const app = new Hono();

  /** May `caller` do `action` to a token owned by `ownerId`? A token is private to its owner; admins pass. */
  const may = (caller: Principal, action: AdminAction, ownerId: string) =>
    ownsWithScope(caller, action, ownerId) ||
    access.policy.canAdmin(caller, action, { type: 'token', owner: ownerId, visibility: 'private' });
  /**
   * Everyone signed in manages their own tokens, viewers included (a token is how they reach MCP); a token or JWT
   * doing so needs the admin scope for the action, so a token limited to MCP cannot mint others.
   */
  const ownsWithScope = (caller: Principal, action: AdminAction, ownerId: string) => {
    if (caller.kind === 'anonymous' || ownerId !== caller.id) return false;
    if (caller.kind === 'user') return true;
    return (
      hasScopes(caller, [ADMIN_SCOPES.write]) || (action === 'read' && hasScopes(caller, [ADMIN_SCOPES.read]))
    );
  };
  /** May `caller` do `action` to tokens whoever owns them (an admin, with the scope for it)? */
  const mayAny = (caller: Principal, action: 'read' | 'update') =>
    access.policy.canAdmin(caller, action, { type: 'token', visibility: 'private' });
  /** The id a caller's own tokens are owned by; the anonymous local admin's are the `admin` user's. */
  const selfId = (caller: Principal) => (caller.kind === 'anonymous' ? LOCAL_ADMIN_OWNER : caller.id);

  /** The token with this id if `caller` may read it; someone else's is as unknown as a missing one. */
  async function find(caller: Principal, id: string): Promise<ApiTokenInfo> {
    const candidates = await tokens.list(mayAny(caller, 'read') ? undefined : { ownerId: selfId(caller) });
    const info = candidates.find((token) => token.id === id);
    if (!info || !may(caller, 'read', info.ownerId)) {
      throw new GatewayError('not-found', `no token with id "${id}"`, { details: { id } });
    }
    return info;
  }

  app.post('/', async (c) => {
    const caller = access.principal(c.req.raw);
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = tokenCreateSchema.safeParse(body.value);
    if (!parsed.success) return invalidBody(c, parsed.error);
    const input = parsed.data;

    const ownerId = input.ownerId ?? selfId(caller);
    if (!may(caller, 'create', ownerId)) {
      return forbidden(
        c,
        ownerId === selfId(caller)
          ? 'your role may not create API tokens'
          : 'you may only create tokens for yourself',
        'ownerId',
      );
    }
    const own = ownerId === selfId(caller);
    const roles = input.roles ?? (own ? [...caller.roles] : []);
    const teams = input.teams ?? (own ? [...caller.teams] : []);
    const refusal = escalation(caller, {
      roles,
      teams,
      scopes: input.scopes,
      virtualServers: input.virtualServers,
    });
    if (refusal) return forbidden(c, refusal.message, refusal.field);

    const expiresAt =
      input.expiresAt !== undefined
        ? new Date(input.expiresAt)
        : input.expiresInDays !== undefined
          ? new Date(Date.now() + input.expiresInDays * 86_400_000)
          : null;
    if (expiresAt !== null && expiresAt.getTime() <= Date.now()) {
      const message = 'expiresAt must be in the future';
      return restError(c, 400, {
        code: 'invalid-input',
        message: `invalid request: expiresAt: ${message}`,
        details: [{ path: 'expiresAt', message }],
      });
    }
    const { token, info } = await tokens.create({
      name: input.name,
      ownerId,
      roles,
      teams,
      // A creator limited in scopes or servers hands its limits on; `*` and "any server" stay the defaults.
      scopes: input.scopes ?? (caller.scopes.includes('*') ? ['*'] : [...caller.scopes]),
      virtualServers: input.virtualServers ?? (caller.virtualServers ? [...caller.virtualServers] : null),
      expiresAt,
    });
    audit?.recordChange({
      actor: caller.id,
      entityType: 'token',
      entityId: info.id,
      action: 'create',
      after: presentToken(info),
    });
    c.header('location', `/v1/tokens/${info.id}`);
    c.header('cache-control', 'no-store');
    return c.json({ ...presentToken(info), token }, 201);
  });

  app.get('/', async (c) => {
    const caller = access.principal(c.req.raw);
    const query = tokenListQuerySchema.safeParse(c.req.query());
    if (!query.success) return invalidQuery(c, query.error);
    const owner = query.data.owner;
    let filter: { ownerId?: string } | undefined;
    if (mayAny(caller, 'read')) filter = owner === undefined ? undefined : { ownerId: owner };
    else if (owner === undefined || owner === selfId(caller)) filter = { ownerId: selfId(caller) };
    else return forbidden(c, 'you may only list your own tokens', 'owner');
    const items = await tokens.list(filter);
    return c.json({
      items: items.filter((info) => may(caller, 'read', info.ownerId)).map(presentToken),
    });
  });

  app.get('/:id', async (c) => {
    const caller = access.principal(c.req.raw);
    return c.json(presentToken(await find(caller, c.req.param('id'))));
  });

  app.delete('/:id', async (c) => {
    const caller = access.principal(c.req.raw);
    const info = await find(caller, c.req.param('id'));
    if (!may(caller, 'delete', info.ownerId)) return forbidden(c, 'your role may not revoke API tokens');
    await tokens.revoke(info.id);
    audit?.recordChange({
      actor: caller.id,
      entityType: 'token',
      entityId: info.id,
      action: 'delete',
      before: presentToken(info),
    });
    return c.body(null, 204);
  });

  /**
   * Why the new token would carry more than `caller`, or `undefined` when it would not. Admins may grant any role
   * and team; scopes and virtual servers are capped for everyone (a limited admin token cannot mint a wider one).
   */
  function escalation(
    caller: Principal,
    wanted: {
      roles: readonly string[];
      teams: readonly string[];
      scopes?: readonly string[];
      virtualServers?: readonly string[];
    },
  ): { message: string; field: string } | undefined {
    if (!mayAny(caller, 'update')) {
      const own = caller.roles.map(rank).filter((index) => index !== -1);
      const strongest = own.length === 0 ? ROLES.length - 1 : Math.min(...own);
      const role = wanted.roles.find(
        (r) => !caller.roles.includes(r) && !(rank(r) !== -1 && rank(r) >= strongest),
      );
      if (role !== undefined) return { field: 'roles', message: `you may not grant the role "${role}"` };
      const team = wanted.teams.find((t) => !caller.teams.includes(t));
      if (team !== undefined) return { field: 'teams', message: `you are not in the team "${team}"` };
    }
    if (wanted.scopes && !caller.scopes.includes('*')) {
      const scope = wanted.scopes.find((s) => !caller.scopes.includes(s));
      if (scope !== undefined) return { field: 'scopes', message: `you do not hold the scope "${scope}"` };
    }
    if (wanted.virtualServers && caller.virtualServers) {
      const server = wanted.virtualServers.find((s) => !caller.virtualServers?.includes(s));
      if (server !== undefined) {
        return { field: 'virtualServers', message: `you may not use the virtual server "${server}"` };
      }
    }
    return undefined;
  }

  return app;
}

/** 403: the caller is known but may not do this; `field` names the part of the request that was refused. */
export function forbidden(c: Context, message: string, field?: string): Response {
  return restError(c, 403, {
    code: 'forbidden',
    message,
    ...(field === undefined ? {} : { details: { field } }),
  });
}
