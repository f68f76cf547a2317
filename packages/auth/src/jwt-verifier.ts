import { createPublicKey, createSecretKey } from 'node:crypto';
import type { JsonWebKey as NodeJsonWebKey, KeyObject } from 'node:crypto';
import { GatewayError, silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import type { Principal } from './principal.ts';
import type { RevocationList } from './revocation-list.ts';

/** Signature algorithms the verifier knows. `none` is not one of them and never will be. */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512', 'RS256', 'ES256', 'EdDSA'] as const;

/** One of {@link JWT_ALGORITHMS}. */
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

/** A public key given in configuration: a PEM (SPKI) string or a public JWK, for one asymmetric algorithm. */
export interface JwtPublicKey {
  kid?: string;
  alg: Exclude<JwtAlgorithm, 'HS256' | 'HS384' | 'HS512'>;
  key: string | JWK;
}

/** Options of {@link createJwtVerifier}. At least one of `secret`, `keys`, `jwksUrl` is required. */
export interface JwtVerifierOptions {
  /** Shared secret for HS256/384/512, at least 32 bytes. It is never tried for any other algorithm. */
  secret?: string | Uint8Array;
  /** Public keys from configuration. */
  keys?: readonly JwtPublicKey[];
  /** A JWKS document (`https://issuer/.well-known/jwks.json`); symmetric (`oct`) keys in it are ignored. */
  jwksUrl?: string;
  /**
   * The allowlist. Default: HS256 when `secret` is set, plus RS256, ES256 and EdDSA when keys or a JWKS URL are.
   * A secret and an asymmetric key never verify each other's algorithms, whatever this list says.
   */
  algorithms?: readonly JwtAlgorithm[];
  /**
   * Audiences this gateway accepts (its resource URL, RFC 8707). Required: a token minted for another service is
   * never accepted. The authenticator adds the per-virtual-server resource URL per request.
   */
  audience: string | readonly string[];
  /** Trusted issuer(s); when set, `iss` must be one of them. */
  issuer?: string | readonly string[];
  /** Allowed clock skew for `exp`, `nbf` and `iat`, in seconds. Default 30, at most 60. */
  clockToleranceSeconds?: number;
  /** Tokens must carry `exp`. Default true. */
  requireExpiry?: boolean;
  /** Revoked `jti` values. */
  revokedJtis?: RevocationList;
  /** Least time between two JWKS fetches (an unknown `kid` never triggers more). Default 30 000 ms. */
  jwksCooldownMs?: number;
  /** Refetch the JWKS when it is older than this. Default 600 000 ms. */
  jwksMaxAgeMs?: number;
  /** Timeout of one JWKS fetch. Default 5000 ms. */
  jwksTimeoutMs?: number;
  /** Claims read as roles and teams. Default roles: `roles`; teams: `teams` then `groups`. */
  claimNames?: { roles?: readonly string[]; teams?: readonly string[] };
  fetch?: typeof fetch;
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  logger?: Logger;
}

/** The outcome of one verification: a principal, or a message for the 401. */
export type JwtVerifyResult = { principal: Principal } | { error: string };

/** Verifies bearer JWTs against an algorithm allowlist and keys held in memory. */
export interface JwtVerifier {
  /** `audience` adds accepted audiences for this request (the virtual server's resource URL). */
  verify(token: string, options?: { audience?: string | readonly string[] }): Promise<JwtVerifyResult>;
}

type KeyFamily = 'oct' | 'rsa' | 'ec-p256' | 'ed25519' | 'other';

interface CandidateKey {
  readonly kid?: string;
  /** The algorithm the key was published or configured for, if any. */
  readonly alg?: string;
  readonly key: KeyObject;
  readonly family: KeyFamily;
}

const MAX_CLOCK_TOLERANCE_SECONDS = 60;
const MIN_SECRET_BYTES = 32;
const MAX_JWKS_BYTES = 1024 * 1024;

/** Creates a {@link JwtVerifier}; throws a `GatewayError('config-invalid')` on unusable options. */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const fetchImpl = options.fetch ?? fetch;
  const tolerance = options.clockToleranceSeconds ?? 30;
  if (!(tolerance >= 0 && tolerance <= MAX_CLOCK_TOLERANCE_SECONDS)) {
    throw configError(`clockToleranceSeconds must be between 0 and ${MAX_CLOCK_TOLERANCE_SECONDS}`);
  }
  const audiences = toList(options.audience);
  if (audiences.length === 0 || audiences.some((a) => a === '')) {
    throw configError(
      'JWT audience is required: set it to the gateway resource URL so tokens minted for other services are refused',
    );
  }
  const issuers = options.issuer === undefined ? undefined : toList(options.issuer);
  const secret = options.secret === undefined ? undefined : toSecretKey(options.secret);
  const staticKeys = (options.keys ?? []).map(toCandidate);
  const jwksUrl = options.jwksUrl === undefined ? undefined : parseJwksUrl(options.jwksUrl);
  if (!secret && staticKeys.length === 0 && !jwksUrl) {
    throw configError('JWT verification needs a secret, public keys or a JWKS URL');
  }
  const algorithms = new Set<string>(
    options.algorithms ?? [
      ...(secret ? (['HS256'] as const) : []),
      ...(staticKeys.length > 0 || jwksUrl ? (['RS256', 'ES256', 'EdDSA'] as const) : []),
    ],
  );
  for (const alg of algorithms) {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(alg))
      throw configError(`unsupported JWT algorithm ${alg}`);
  }
  const cooldownMs = options.jwksCooldownMs ?? 30_000;
  const maxAgeMs = options.jwksMaxAgeMs ?? 600_000;
  const timeoutMs = options.jwksTimeoutMs ?? 5_000;
  const rolesClaims = options.claimNames?.roles ?? ['roles'];
  const teamsClaims = options.claimNames?.teams ?? ['teams', 'groups'];

  let remoteKeys: CandidateKey[] = [];
  let lastAttemptAt: number | undefined;
  let lastSuccessAt: number | undefined;
  let inFlight: Promise<void> | undefined;

  const fetchJwks = async (url: URL): Promise<void> => {
    lastAttemptAt = clock();
    const response = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`JWKS fetch answered HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > MAX_JWKS_BYTES) throw new Error('JWKS document is too large');
    const body = JSON.parse(text) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw new Error('JWKS document has no "keys" array');
    const next: CandidateKey[] = [];
    for (const jwk of body.keys as JWK[]) {
      if (jwk.kty === 'oct' || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
      try {
        const key = createPublicKey({ key: jwk as NodeJsonWebKey, format: 'jwk' });
        next.push({ kid: jwk.kid, alg: jwk.alg, key, family: familyOfKey(key) });
      } catch (error) {
        logger.warn({ kid: jwk.kid, err: String(error) }, 'ignoring an unusable JWKS key');
      }
    }
    remoteKeys = next;
    lastSuccessAt = clock();
  };

  /** Fetches the JWKS unless one was fetched (or tried) less than the cooldown ago; concurrent callers share it. */
  const refresh = async (reason: 'stale' | 'unknown-kid'): Promise<void> => {
    if (!jwksUrl) return;
    if (inFlight) return inFlight;
    if (lastAttemptAt !== undefined && clock() - lastAttemptAt < cooldownMs) return;
    inFlight = fetchJwks(jwksUrl)
      .catch((error: unknown) => {
        logger.warn(
          { url: jwksUrl.href, reason, err: String(error) },
          'JWKS fetch failed; keeping the keys we had',
        );
      })
      .finally(() => (inFlight = undefined));
    return inFlight;
  };

  const candidatesFor = (alg: string, kid: string | undefined): CandidateKey[] => {
    const family = familyOfAlgorithm(alg);
    if (family === 'oct') return secret ? [{ key: secret, family: 'oct' }] : [];
    return [...staticKeys, ...remoteKeys].filter(
      (c) =>
        c.family === family && (c.alg === undefined || c.alg === alg) && (kid === undefined || c.kid === kid),
    );
  };

  return {
    async verify(token, verifyOptions) {
      let header: { alg?: string; kid?: string };
      try {
        header = decodeProtectedHeader(token);
      } catch {
        return { error: 'malformed token' };
      }
      const alg = header.alg;
      if (alg === undefined || alg.toLowerCase() === 'none') {
        return { error: 'unsigned tokens (alg "none") are refused' };
      }
      if (!algorithms.has(alg)) return { error: `token algorithm ${alg} is not allowed` };
      if (familyOfAlgorithm(alg) !== 'oct' && jwksUrl) {
        const stale = lastSuccessAt === undefined || clock() - lastSuccessAt > maxAgeMs;
        if (stale) await refresh('stale');
      }
      let candidates = candidatesFor(alg, header.kid);
      if (candidates.length === 0 && jwksUrl && familyOfAlgorithm(alg) !== 'oct') {
        await refresh('unknown-kid');
        candidates = candidatesFor(alg, header.kid);
      }
      if (candidates.length === 0) {
        return {
          error:
            header.kid === undefined
              ? `no key to verify a ${alg} token`
              : `unknown signing key (kid "${header.kid}")`,
        };
      }
      const expected = [...audiences, ...toList(verifyOptions?.audience)];
      let lastError = 'token signature is invalid';
      for (const candidate of candidates) {
        try {
          const { payload } = await jwtVerify(token, candidate.key, {
            algorithms: [alg],
            audience: expected,
            issuer: issuers,
            clockTolerance: tolerance,
            currentDate: new Date(clock()),
            requiredClaims: options.requireExpiry === false ? [] : ['exp'],
          });
          return toPrincipal(payload);
        } catch (error) {
          lastError = describeJoseError(error);
          // Only a signature mismatch is worth trying the next key for; a claim failure is final.
          if ((error as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break;
        }
      }
      return { error: lastError };
    },
  };

  function toPrincipal(payload: JWTPayload): JwtVerifyResult {
    if (typeof payload.sub !== 'string' || payload.sub === '') return { error: 'token has no subject (sub)' };
    if (typeof payload.jti === 'string' && options.revokedJtis?.has(payload.jti)) {
      return { error: 'token has been revoked' };
    }
    const scopes =
      typeof payload.scope === 'string'
        ? payload.scope.split(' ').filter((s) => s !== '')
        : stringList(payload.scp);
    return {
      principal: {
        id: payload.sub,
        kind: 'jwt',
        roles: firstClaim(payload, rolesClaims),
        teams: firstClaim(payload, teamsClaims),
        scopes,
        claims: payload,
      },
    };
  }
}

function firstClaim(payload: JWTPayload, names: readonly string[]): string[] {
  for (const name of names) {
    if (payload[name] !== undefined) return stringList(payload[name]);
  }
  return [];
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((s) => s !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function toList(value: string | readonly string[] | undefined): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : [...value];
}

function configError(message: string): GatewayError {
  return new GatewayError('config-invalid', message);
}

function toSecretKey(secret: string | Uint8Array): KeyObject {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw configError(
      `the JWT secret must be at least ${MIN_SECRET_BYTES} bytes (HS256 needs a 256-bit key)`,
    );
  }
  return createSecretKey(bytes);
}

function toCandidate(config: JwtPublicKey): CandidateKey {
  let key: KeyObject;
  try {
    key =
      typeof config.key === 'string'
        ? createPublicKey(config.key)
        : createPublicKey({ key: config.key as NodeJsonWebKey, format: 'jwk' });
  } catch (error) {
    throw new GatewayError('config-invalid', `JWT public key ${config.kid ?? ''} is not a valid public key`, {
      cause: error,
    });
  }
  if (key.type !== 'public') throw configError('JWT keys must be public keys');
  const family = familyOfKey(key);
  if (family !== familyOfAlgorithm(config.alg)) {
    throw configError(`JWT key ${config.kid ?? ''} does not fit algorithm ${config.alg}`);
  }
  return { kid: config.kid, alg: config.alg, key, family };
}

function parseJwksUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw configError(`JWKS URL is not a URL: ${value}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw configError('JWKS URL must be http(s)');
  return url;
}

function familyOfAlgorithm(alg: string): KeyFamily {
  if (alg.startsWith('HS')) return 'oct';
  if (alg.startsWith('RS') || alg.startsWith('PS')) return 'rsa';
  if (alg === 'ES256') return 'ec-p256';
  if (alg === 'EdDSA') return 'ed25519';
  return 'other';
}

function familyOfKey(key: KeyObject): KeyFamily {
  if (key.type === 'secret') return 'oct';
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsa';
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'ec-p256' : 'other';
    case 'ed25519':
      return 'ed25519';
    default:
      return 'other';
  }
}

function describeJoseError(error: unknown): string {
  const { code, claim } = error as { code?: string; claim?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'token expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud') return 'token audience is not this resource';
      if (claim === 'iss') return 'token issuer is not trusted';
      if (claim === 'nbf') return 'token is not valid yet (nbf)';
      if (claim === 'exp') return 'token has no expiry (exp)';
      return `token claim ${claim ?? ''} is invalid`;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'token signature is invalid';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'token algorithm is not allowed';
    default:
      return 'malformed token';
  }
}
