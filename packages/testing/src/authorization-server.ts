import { createHmac, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { listenOnLoopback } from './loopback-server.ts';

/** Algorithms the test authorization server signs with (`none` only through `issueToken`, for attack tests). */
export type TestSigningAlgorithm = 'RS256' | 'ES256' | 'HS256' | 'none';

/** Options of {@link startAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /** client_id → client_secret accepted by the token endpoint. Default: any client, secrets not checked. */
  clients?: Readonly<Record<string, string>>;
  /** Lifetime of issued tokens, in seconds. Default 300. */
  expiresIn?: number;
  /** Epoch milliseconds, for `iat`/`exp`. Default `Date.now`. */
  clock?: () => number;
}

/** Options of {@link AuthorizationServer.issueToken}. */
export interface IssueTokenOptions {
  /** Default RS256. */
  alg?: TestSigningAlgorithm;
  /** The `kid` header; default the newest key's id for the algorithm (none for HS256 and `none`). */
  kid?: string;
  /** Seconds until `exp`; default the server's. Claims given explicitly (`exp`, `iat`, `iss`) win. */
  expiresIn?: number;
  /** The HMAC key for HS256 (e.g. an RS256 public key's PEM, to try key confusion). Default a fixed test secret. */
  secret?: string | Uint8Array;
}

/** A small OAuth 2.1 authorization server on 127.0.0.1, disposable with `await using`. */
export interface AuthorizationServer {
  /** `http://127.0.0.1:<port>`: the `iss` of every token. */
  readonly issuer: string;
  readonly jwksUrl: string;
  readonly tokenEndpoint: string;
  /** The HS256 secret `issueToken({ alg: 'HS256' })` uses by default. */
  readonly hmacSecret: string;
  /** Signs a JWT with `claims` (plus `iss`, `iat`, `exp` unless given). */
  issueToken(claims: Record<string, unknown>, options?: IssueTokenOptions): Promise<string>;
  /** Adds a new signing key for `alg` to the JWKS and makes it the default; returns its kid. */
  rotateKey(alg: 'RS256' | 'ES256'): string;
  /** The current public key for `alg` as PEM (SPKI). */
  publicKeyPem(alg: 'RS256' | 'ES256'): string;
  /** How many times `/jwks.json` was fetched. */
  readonly jwksRequests: number;
  /** How many token requests the token endpoint answered. */
  readonly tokenRequests: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly alg: 'RS256' | 'ES256';
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const DEFAULT_HMAC_SECRET = 'test-hmac-secret-that-is-at-least-32-bytes-long';
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Starts a test authorization server: `/.well-known/oauth-authorization-server` (RFC 8414), `/jwks.json` with an
 * RS256 and an ES256 key, and `/token` for the client_credentials grant, whose tokens have `aud` set to the
 * requested `resource` (RFC 8707) and `scope` to the requested scope. Only Node's crypto; no network beyond loopback.
 */
export async function startAuthorizationServer(
  options: AuthorizationServerOptions = {},
): Promise<AuthorizationServer> {
  const clock = options.clock ?? Date.now;
  const lifetime = options.expiresIn ?? 300;
  const keys: SigningKey[] = [];
  let jwksRequests = 0;
  let tokenRequests = 0;
  let counter = 0;

  const rotateKey = (alg: 'RS256' | 'ES256'): string => {
    const pair =
      alg === 'RS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `${alg.toLowerCase()}-${++counter}`;
    keys.push({ kid, alg, privateKey: pair.privateKey, publicKey: pair.publicKey });
    return kid;
  };
  rotateKey('RS256');
  rotateKey('ES256');
  const newest = (alg: 'RS256' | 'ES256'): SigningKey => {
    const key = keys.filter((k) => k.alg === alg).at(-1);
    if (!key) throw new Error(`no ${alg} key`);
    return key;
  };

  let issuer = '';
  const issueToken = async (
    claims: Record<string, unknown>,
    issue: IssueTokenOptions = {},
  ): Promise<string> => {
    const alg = issue.alg ?? 'RS256';
    const now = Math.floor(clock() / 1000);
    const payload = { iss: issuer, iat: now, exp: now + (issue.expiresIn ?? lifetime), ...claims };
    const header: Record<string, unknown> = { alg, typ: 'JWT' };
    const signingKey = alg === 'RS256' || alg === 'ES256' ? newest(alg) : undefined;
    const kid = issue.kid ?? signingKey?.kid;
    if (kid !== undefined) header.kid = kid;
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
    let signature: Buffer;
    if (alg === 'none') signature = Buffer.alloc(0);
    else if (alg === 'HS256')
      signature = createHmac('sha256', issue.secret ?? DEFAULT_HMAC_SECRET)
        .update(input)
        .digest();
    else if (alg === 'RS256') signature = sign('sha256', Buffer.from(input), signingKey!.privateKey);
    else
      signature = sign('sha256', Buffer.from(input), {
        key: signingKey!.privateKey,
        dsaEncoding: 'ieee-p1363',
      });
    return `${input}.${signature.toString('base64url')}`;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', issuer);
    if (request.method === 'GET' && url.pathname === '/.well-known/oauth-authorization-server') {
      return sendJson(response, 200, {
        issuer,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks.json`,
        grant_types_supported: ['client_credentials'],
        token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        response_types_supported: [],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (request.method === 'GET' && url.pathname === '/jwks.json') {
      jwksRequests += 1;
      return sendJson(response, 200, {
        keys: keys.map((key) => ({
          ...key.publicKey.export({ format: 'jwk' }),
          kid: key.kid,
          alg: key.alg,
          use: 'sig',
        })),
      });
    }
    if (request.method === 'POST' && url.pathname === '/token') {
      tokenRequests += 1;
      const form = new URLSearchParams(await readBody(request));
      if (form.get('grant_type') !== 'client_credentials') {
        return sendJson(response, 400, { error: 'unsupported_grant_type' });
      }
      const client = clientOf(request.headers.authorization, form);
      if (!client || (options.clients && options.clients[client.id] !== client.secret)) {
        return sendJson(response, 401, { error: 'invalid_client' });
      }
      const resources = form.getAll('resource');
      for (const resource of resources) {
        if (!URL.canParse(resource) || new URL(resource).hash !== '') {
          return sendJson(response, 400, { error: 'invalid_target' });
        }
      }
      const scope = form.get('scope') ?? undefined;
      const claims: Record<string, unknown> = { sub: client.id, client_id: client.id, jti: randomUUID() };
      if (resources.length > 0) claims.aud = resources.length === 1 ? resources[0] : resources;
      if (scope !== undefined) claims.scope = scope;
      const token = await issueToken(claims);
      return sendJson(response, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: lifetime,
        ...(scope === undefined ? {} : { scope }),
      });
    }
    sendJson(response, 404, { error: 'not_found' });
  };

  const server = await listenOnLoopback((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent)
        sendJson(response, 500, { error: 'server_error', error_description: String(error) });
      else response.destroy();
    });
  });
  issuer = server.origin;

  return {
    issuer,
    jwksUrl: `${issuer}/jwks.json`,
    tokenEndpoint: `${issuer}/token`,
    hmacSecret: DEFAULT_HMAC_SECRET,
    issueToken,
    rotateKey,
    publicKeyPem: (alg) => newest(alg).publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    get jwksRequests() {
      return jwksRequests;
    },
    get tokenRequests() {
      return tokenRequests;
    },
    close: () => server.close(),
    [Symbol.asyncDispose]: () => server.close(),
  };
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

function clientOf(
  authorization: string | undefined,
  form: URLSearchParams,
): { id: string; secret: string | undefined } | undefined {
  if (authorization?.toLowerCase().startsWith('basic ')) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return undefined;
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    };
  }
  const id = form.get('client_id');
  return id === null || id === '' ? undefined : { id, secret: form.get('client_secret') ?? undefined };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
