/** What a masked secret looks like in API responses. */
export const SECRET_MASK = '********';

/**
 * Field names whose values are secrets, matched anywhere in the name and case-insensitively (authorization,
 * password, secret, token, api key, private key, cookie, credential). Names that only describe a secret
 * (`tokenId`, `passwordUpdatedAt`, `secretName`, `tokenUrl`) are left alone: see {@link maskSecrets}.
 */
export const SECRET_FIELD_PATTERN =
  /authorization|passw(or)?d|secret|token|api[-_]?key|private[-_]?key|cookie|credential|session[-_]?key/i;

const DESCRIPTIVE_SUFFIX =
  /(id|ids|name|type|count|prefix|at|url|uri|endpoint|expires|expiresin|enabled|scopes?|servers?)$/i;

/**
 * Paths for pino's `redact` option: the same secrets in log lines (request headers, common option and body
 * fields, one level deep).
 */
export const LOG_REDACT_PATHS: readonly string[] = [
  'authorization',
  'cookie',
  'password',
  'secret',
  'token',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.Authorization',
  '*.cookie',
  '*.password',
  '*.passwordHash',
  '*.secret',
  '*.clientSecret',
  '*.client_secret',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.refreshToken',
  '*.refresh_token',
  '*.apiKey',
  '*.api_key',
  '*.privateKey',
  '*.private_key',
];

const MAX_DEPTH = 64;

/**
 * A deep copy of a JSON-like value fit for an API response: values of secret-named fields become `********` (an
 * empty or null value stays as it is, so a UI can tell "set" from "not set"), and so do secret-looking strings
 * anywhere (`mgw_` tokens, `v1:` secret-box envelopes, `Bearer …`/`Basic …` values, JWTs); passwords inside URLs
 * (`https://user:pw@host`) are masked in place.
 */
export function maskSecrets<T>(value: T): T {
  return copy(value, 0, new Set()) as T;
}

function isSecretField(key: string): boolean {
  return SECRET_FIELD_PATTERN.test(key) && !DESCRIPTIVE_SUFFIX.test(key);
}

function copy(value: unknown, depth: number, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return maskString(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Truncated]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item: unknown) => copy(item, depth + 1, ancestors));
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      result[key] =
        isSecretField(key) && item !== null && item !== undefined && item !== ''
          ? SECRET_MASK
          : copy(item, depth + 1, ancestors);
    }
    return result;
  } finally {
    ancestors.delete(value);
  }
}

const WHOLE_SECRET = [
  /^mgw_[A-Za-z0-9_-]{20,}$/, // our API tokens
  /^v1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]*$/, // secret-box envelopes
  /^(bearer|basic|token)\s+\S+$/i, // Authorization values
  /^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/, // JWTs
];

function maskString(text: string): string {
  if (WHOLE_SECRET.some((pattern) => pattern.test(text.trim()))) return SECRET_MASK;
  // user:password@ in URLs.
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):[^\s/@]+@/gi, `$1:${SECRET_MASK}@`);
}
