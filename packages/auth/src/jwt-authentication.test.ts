import { generateKeyPairSync } from 'node:crypto';
import { startAuthorizationServer } from '@mcp-gateway/testing';
import type { AuthorizationServer } from '@mcp-gateway/testing';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from './authenticator.ts';
import type { AuthenticateContext, Authenticator } from './authenticator.ts';
import { jwtOptionsFromEnv } from './jwt-options-from-env.ts';
import { createJwtVerifier } from './jwt-verifier.ts';
import type { JwtVerifierOptions } from './jwt-verifier.ts';
import { isAuthFailure } from './principal.ts';
import type { AuthFailure, Principal } from './principal.ts';
import { createRevocationList } from './revocation-list.ts';

const RESOURCE = 'https://gateway.test/mcp';
const SERVER_A = 'https://gateway.test/servers/a/mcp';
const SERVER_B = 'https://gateway.test/servers/b/mcp';

function post(token?: string, url = RESOURCE): Request {
  return new Request(url, {
    method: 'POST',
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

async function accepted(
  auth: Authenticator,
  request: Request,
  context?: AuthenticateContext,
): Promise<Principal> {
  const result = await auth.authenticate(request, context);
  if (isAuthFailure(result)) throw new Error(`expected a principal, got ${result.status}: ${result.message}`);
  return result;
}

async function refused(
  auth: Authenticator,
  request: Request,
  context?: AuthenticateContext,
): Promise<AuthFailure> {
  const result = await auth.authenticate(request, context);
  if (!isAuthFailure(result)) throw new Error(`expected a refusal, got principal ${result.id}`);
  return result;
}

describe('JWT bearer authentication against a real authorization server', () => {
  let server: AuthorizationServer;
  let now: number;
  const nowSeconds = () => Math.floor(now / 1000);

  beforeAll(async () => {
    server = await startAuthorizationServer({ clients: { agent: 'agent-secret' }, clock: () => now });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    now = Date.now();
  });

  const authenticator = (extra: Partial<JwtVerifierOptions> = {}) => {
    const revokedJtis = createRevocationList();
    const jwt = createJwtVerifier({
      jwksUrl: server.jwksUrl,
      audience: RESOURCE,
      issuer: server.issuer,
      clock: () => now,
      revokedJtis,
      ...extra,
    });
    return { auth: createAuthenticator({ jwt, resource: RESOURCE }), revokedJtis };
  };

  it('accepts a client_credentials token whose aud is the requested resource, with its scopes', async () => {
    const response = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'agent',
        client_secret: 'agent-secret',
        resource: RESOURCE,
        scope: 'mcp:tools mcp:prompts',
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { access_token: string; token_type: string };
    expect(body.token_type).toBe('Bearer');
    const { auth } = authenticator();
    const principal = await accepted(auth, post(body.access_token));
    expect(principal).toMatchObject({ id: 'agent', kind: 'jwt', scopes: ['mcp:tools', 'mcp:prompts'] });

    const wrongClient = await fetch(server.tokenEndpoint, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'agent',
        client_secret: 'nope',
      }),
    });
    expect(wrongClient.status).toBe(401);
  });

  it('accepts ES256 tokens and reads roles and teams from their claims', async () => {
    const { auth } = authenticator();
    const token = await server.issueToken(
      { sub: 'alice', aud: RESOURCE, roles: ['developer'], groups: ['red'] },
      { alg: 'ES256' },
    );
    expect(await accepted(auth, post(token))).toMatchObject({
      id: 'alice',
      roles: ['developer'],
      teams: ['red'],
    });
  });

  it('accepts EdDSA with a configured key and HS512 with a configured secret', async () => {
    const ed = generateKeyPairSync('ed25519');
    const edAuth = createAuthenticator({
      jwt: createJwtVerifier({
        keys: [
          { kid: 'ed-1', alg: 'EdDSA', key: ed.publicKey.export({ format: 'pem', type: 'spki' }).toString() },
        ],
        audience: RESOURCE,
        clock: () => now,
      }),
    });
    const edToken = await new SignJWT({ sub: 'bob', aud: RESOURCE })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'ed-1' })
      .setExpirationTime(nowSeconds() + 60)
      .sign(ed.privateKey);
    expect((await accepted(edAuth, post(edToken))).id).toBe('bob');

    const secret = 'a-very-long-shared-secret-for-hs512-tokens!!';
    const hsAuth = createAuthenticator({
      jwt: createJwtVerifier({ secret, algorithms: ['HS512'], audience: RESOURCE, clock: () => now }),
    });
    const hsToken = await new SignJWT({ sub: 'carol', aud: RESOURCE })
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime(nowSeconds() + 60)
      .sign(new TextEncoder().encode(secret));
    expect((await accepted(hsAuth, post(hsToken))).id).toBe('carol');
  });

  it('refuses alg "none" with a 401 that points at the resource metadata', async () => {
    const { auth } = authenticator();
    const token = await server.issueToken({ sub: 'mallory', aud: RESOURCE }, { alg: 'none' });
    const failure = await refused(auth, post(token));
    expect(failure).toMatchObject({ status: 401, error: 'invalid_token' });
    expect(failure.message).toContain('alg "none"');
    expect(failure.wwwAuthenticate).toContain(
      'resource_metadata="https://gateway.test/.well-known/oauth-protected-resource/mcp"',
    );
    const response = auth.challengeResponse(failure);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="mcp-gateway", resource_metadata=/,
    );
    expect(await response.json()).toEqual({ error: { code: 'invalid_token', message: failure.message } });
  });

  it('never lets an RS256 public key verify an HS256 token (key confusion)', async () => {
    const pem = server.publicKeyPem('RS256');
    const forged = await server.issueToken({ sub: 'mallory', aud: RESOURCE }, { alg: 'HS256', secret: pem });

    // Default allowlist for a JWKS: no HS algorithm at all.
    const { auth } = authenticator();
    expect((await refused(auth, post(forged))).message).toBe('token algorithm HS256 is not allowed');

    // Even with HS256 wrongly allowlisted next to the RSA key, the PEM is never used as an HMAC secret.
    const confused = createAuthenticator({
      jwt: createJwtVerifier({
        keys: [{ alg: 'RS256', key: pem }],
        algorithms: ['RS256', 'HS256'],
        audience: RESOURCE,
        clock: () => now,
      }),
    });
    expect((await refused(confused, post(forged))).message).toBe('no key to verify a HS256 token');

    // With a real HS secret configured too, the forged token simply fails its signature.
    const both = createAuthenticator({
      jwt: createJwtVerifier({
        secret: 'the-real-shared-secret-of-at-least-32-bytes',
        keys: [{ alg: 'RS256', key: pem }],
        algorithms: ['RS256', 'HS256'],
        audience: RESOURCE,
        clock: () => now,
      }),
    });
    expect((await refused(both, post(forged))).message).toBe('token signature is invalid');
  });

  it('refuses a token whose signature was tampered with', async () => {
    const { auth } = authenticator();
    const token = await server.issueToken({ sub: 'alice', aud: RESOURCE });
    const [header, payload] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), sub: 'admin' }),
    ).toString('base64url');
    const failure = await refused(auth, post(`${header}.${forgedPayload}.${token.split('.')[2]}`));
    expect(failure).toMatchObject({ status: 401, message: 'token signature is invalid' });
  });

  it('refetches the JWKS for an unknown kid at most once per cooldown, and picks up rotated keys', async () => {
    const { auth } = authenticator({ jwksCooldownMs: 30_000 });
    const valid = await server.issueToken({ sub: 'alice', aud: RESOURCE });
    const before = server.jwksRequests;
    await accepted(auth, post(valid));
    expect(server.jwksRequests - before).toBe(1);

    for (let i = 0; i < 5; i++) {
      const unknown = await server.issueToken({ sub: 'mallory', aud: RESOURCE }, { kid: `made-up-${i}` });
      expect((await refused(auth, post(unknown))).message).toBe(`unknown signing key (kid "made-up-${i}")`);
    }
    expect(server.jwksRequests - before).toBe(1);

    // A legitimately rotated key is found once the cooldown has passed.
    server.rotateKey('RS256');
    const rotated = await server.issueToken({ sub: 'alice', aud: RESOURCE });
    expect((await refused(auth, post(rotated))).message).toMatch(/unknown signing key/);
    now += 30_001;
    expect((await accepted(auth, post(rotated))).id).toBe('alice');
    expect(server.jwksRequests - before).toBe(2);
  });

  it('refuses a token minted for another audience, and binds per-virtual-server audiences', async () => {
    const { auth } = authenticator();
    const other = await server.issueToken({ sub: 'alice', aud: 'https://other-service.test/' });
    expect(await refused(auth, post(other))).toMatchObject({
      status: 401,
      message: 'token audience is not this resource',
    });

    const forA = await server.issueToken({ sub: 'alice', aud: SERVER_A });
    expect((await accepted(auth, post(forA, SERVER_A), { resource: SERVER_A })).id).toBe('alice');
    const onB = await refused(auth, post(forA, SERVER_B), { resource: SERVER_B });
    expect(onB.message).toBe('token audience is not this resource');
    expect(onB.wwwAuthenticate).toContain('oauth-protected-resource/servers/b/mcp');
    // The gateway-wide audience is accepted on every virtual server.
    const gatewayWide = await server.issueToken({ sub: 'alice', aud: RESOURCE });
    await accepted(auth, post(gatewayWide, SERVER_B), { resource: SERVER_B });
  });

  it('refuses a token from an untrusted issuer', async () => {
    const { auth } = authenticator();
    const token = await server.issueToken({ sub: 'alice', aud: RESOURCE, iss: 'https://evil.test' });
    expect((await refused(auth, post(token))).message).toBe('token issuer is not trusted');
  });

  it('refuses expired tokens beyond the clock tolerance and accepts small skew', async () => {
    const { auth } = authenticator({ clockToleranceSeconds: 30 });
    const expired = await server.issueToken({ sub: 'alice', aud: RESOURCE, exp: nowSeconds() - 120 });
    expect((await refused(auth, post(expired))).message).toBe('token expired');
    const skewed = await server.issueToken({ sub: 'alice', aud: RESOURCE, exp: nowSeconds() - 10 });
    await accepted(auth, post(skewed));
    expect(() =>
      createJwtVerifier({ jwksUrl: server.jwksUrl, audience: RESOURCE, clockToleranceSeconds: 300 }),
    ).toThrow(/clockToleranceSeconds/);
  });

  it('refuses a token whose nbf is in the future', async () => {
    const { auth } = authenticator();
    const early = await server.issueToken({ sub: 'alice', aud: RESOURCE, nbf: nowSeconds() + 300 });
    expect((await refused(auth, post(early))).message).toBe('token is not valid yet (nbf)');
  });

  it('refuses tokens without exp by default', async () => {
    const { auth } = authenticator();
    const forever = await server.issueToken({ sub: 'alice', aud: RESOURCE, exp: undefined });
    expect((await refused(auth, post(forever))).message).toBe('token has no expiry (exp)');
  });

  it('refuses a token passed in the query string, even a valid one', async () => {
    const { auth } = authenticator();
    const token = await server.issueToken({ sub: 'alice', aud: RESOURCE });
    const failure = await refused(auth, new Request(`${RESOURCE}?access_token=${token}`, { method: 'POST' }));
    expect(failure).toMatchObject({ status: 401, error: 'invalid_request' });
    expect(failure.message).toContain('query string are refused');
    await refused(auth, post(token, `${RESOURCE}?access_token=${token}`));
  });

  it('answers a valid token without the required scope with 403 insufficient_scope naming the scope', async () => {
    const { auth } = authenticator();
    const token = await server.issueToken({ sub: 'alice', aud: RESOURCE, scope: 'mcp:prompts' });
    const failure = await refused(auth, post(token), { requiredScopes: ['mcp:tools'] });
    expect(failure).toMatchObject({ status: 403, error: 'insufficient_scope', scope: ['mcp:tools'] });
    expect(failure.wwwAuthenticate).toContain('error="insufficient_scope"');
    expect(failure.wwwAuthenticate).toContain('scope="mcp:tools"');
    expect(auth.challengeResponse(failure).status).toBe(403);
    const enough = await server.issueToken({ sub: 'alice', aud: RESOURCE, scope: 'mcp:tools' });
    await accepted(auth, post(enough), { requiredScopes: ['mcp:tools'] });
  });

  it('refuses a token whose jti has been revoked', async () => {
    const { auth, revokedJtis } = authenticator();
    const token = await server.issueToken({ sub: 'alice', aud: RESOURCE, jti: 'token-42' });
    await accepted(auth, post(token));
    revokedJtis.replace(['token-42']);
    expect((await refused(auth, post(token))).message).toBe('token has been revoked');
  });

  it('asks for credentials with no error code when none were sent', async () => {
    const { auth } = authenticator();
    const failure = await refused(auth, post());
    expect(failure).toMatchObject({ status: 401, message: 'authentication required' });
    expect(failure.error).toBeUndefined();
    expect(failure.wwwAuthenticate).not.toContain('error=');
  });
});

describe('jwtOptionsFromEnv', () => {
  it('reads a secret or a JWKS URL, and requires an audience', () => {
    expect(jwtOptionsFromEnv({})).toBeUndefined();
    expect(
      jwtOptionsFromEnv({
        MCP_GATEWAY_JWT_SECRET: 'x'.repeat(32),
        MCP_GATEWAY_JWT_AUDIENCE: 'https://gw.test/mcp',
        MCP_GATEWAY_JWT_ISSUER: 'https://idp.test, https://idp2.test',
      }),
    ).toEqual({
      secret: 'x'.repeat(32),
      audience: ['https://gw.test/mcp'],
      issuer: ['https://idp.test', 'https://idp2.test'],
    });
    expect(
      jwtOptionsFromEnv({ MCP_GATEWAY_JWT_JWKS_URL: 'https://idp.test/jwks', MCP_GATEWAY_JWT_AUDIENCE: 'a' }),
    ).toEqual({ jwksUrl: 'https://idp.test/jwks', audience: ['a'] });
    expect(() => jwtOptionsFromEnv({ MCP_GATEWAY_JWT_SECRET: 'x'.repeat(32) })).toThrow(
      /MCP_GATEWAY_JWT_AUDIENCE is required/,
    );
  });

  it('refuses a short HS256 secret at creation', () => {
    expect(() => createJwtVerifier({ secret: 'short', audience: RESOURCE })).toThrow(/at least 32 bytes/);
  });
});
