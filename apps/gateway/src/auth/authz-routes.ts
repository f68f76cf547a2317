import { Hono } from 'hono';
import { z } from 'zod';
import type { EntityKind, Policy, Principal, UserStore } from '@mcp-gateway/auth';
import { restErrorResponse } from '../http/rest-error.ts';
import type { RestAccess } from './request-access.ts';

/** Options of {@link createAuthzRoutes}. */
export interface AuthzRoutesOptions {
  policy: Policy;
  users: UserStore;
  access: RestAccess;
  /** Revokes a JWT by `jti`. */
  revokeJwt: (jti: string, expiresAt?: Date) => Promise<void>;
}

const revokeJwtSchema = z.strictObject({
  jti: z.string().min(1, 'jti must not be empty').max(512, 'jti must be at most 512 characters'),
  expiresAt: z.iso
    .datetime({
      error: "expiresAt must be an ISO 8601 date-time (the token's exp), e.g. 2026-12-01T00:00:00Z",
    })
    .optional(),
});

/**
 * `POST /v1/authz/jwt-revocations` with `{"jti", "expiresAt"?}` refuses that JWT from now on.
 * `GET /v1/authz/explain?principal=&tool=` (or `prompt=`, `resource=`): why a principal can or cannot call an item,
 * step by step. `principal` is a user id or username (its stored roles and teams are used), or `me` for the caller.
 * The answer is what the call path decides, from the same in-memory snapshot.
 */
export function createAuthzRoutes(options: AuthzRoutesOptions): Hono {
  const app = new Hono();
  app.get('/explain', async (c) => {
    const query = c.req.query();
    const target: [EntityKind, string] | undefined =
      query.tool !== undefined
        ? ['tool', query.tool]
        : query.prompt !== undefined
          ? ['prompt', query.prompt]
          : query.resource !== undefined
            ? ['resource', query.resource]
            : undefined;
    if (!target || !query.principal) {
      return restErrorResponse(400, {
        code: 'invalid-input',
        message: 'give principal (a user id, a username, or "me") and one of tool, prompt or resource',
      });
    }
    let principal: Principal | undefined;
    if (query.principal === 'me') principal = options.access.principal(c.req.raw);
    else {
      const user =
        (await options.users.get(query.principal)) ?? (await options.users.findByUsername(query.principal));
      if (user) {
        principal = {
          id: user.id,
          kind: 'user',
          roles: user.roles,
          teams: user.teams,
          scopes: ['*'],
        };
      }
    }
    if (!principal) {
      return restErrorResponse(404, {
        code: 'not-found',
        message: `no user with id or username "${query.principal}"`,
      });
    }
    const explanation = options.policy.explain(principal, { kind: target[0], name: target[1] });
    return c.json({
      principal: { id: principal.id, kind: principal.kind, roles: principal.roles, teams: principal.teams },
      [target[0]]: target[1],
      ...explanation,
    });
  });
  // Admins only (the middleware treats /v1/authz as policy): refuse a JWT from now on, on every replica.
  app.post('/jwt-revocations', async (c) => {
    const body = revokeJwtSchema.safeParse(await c.req.json().catch(() => undefined));
    if (!body.success) {
      return restErrorResponse(400, {
        code: 'invalid-input',
        message: body.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      });
    }
    const expiresAt = body.data.expiresAt === undefined ? undefined : new Date(body.data.expiresAt);
    await options.revokeJwt(body.data.jti, expiresAt);
    return c.json({ revoked: true, jti: body.data.jti }, 201);
  });
  return app;
}
