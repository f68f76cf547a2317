import { describeError } from '@mcp-gateway/core';
import { abortReason } from './abortable-sleep.ts';
import type { RestFetch } from './guarded-fetch.ts';
import type { OutboundGuard } from './outbound-guard.ts';
import { readCappedBody } from './read-capped-body.ts';
import { RestAdapterError } from './rest-adapter-error.ts';
import type { RestAuth } from './tool-definition.ts';

const MAX_TOKEN_RESPONSE_BYTES = 65_536;

type ClientCredentials = Extract<RestAuth, { type: 'oauth2ClientCredentials' }>;

/** OAuth 2 client-credentials tokens, cached per (token URL, client, scopes, audience). */
export interface OAuthTokenCache {
  /** A valid access token: the cached one, or a fresh one when none is cached or it is about to expire. */
  token(auth: ClientCredentials, signal: AbortSignal): Promise<string>;
  /** Forgets `token` (the API answered 401 to it), so the next `token()` fetches a new one. */
  invalidate(auth: ClientCredentials, token: string): void;
}

interface CachedToken {
  value: string;
  /** Milliseconds since the epoch after which the token is refreshed rather than used. */
  refreshAt: number;
}

/** Options of {@link createOAuthTokenCache}. */
export interface OAuthTokenCacheOptions {
  fetch: RestFetch;
  guard: OutboundGuard;
  now: () => number;
}

/**
 * Creates an {@link OAuthTokenCache}. A token is refreshed once less than a fifth of its lifetime (at most 60 s)
 * remains; concurrent callers share one token request. The token endpoint goes through the same SSRF guard as the
 * API and its redirects are not followed.
 */
export function createOAuthTokenCache(options: OAuthTokenCacheOptions): OAuthTokenCache {
  const { fetch, guard, now } = options;
  const cache = new Map<string, CachedToken>();
  const pending = new Map<string, Promise<CachedToken>>();
  const keyOf = (auth: ClientCredentials) =>
    JSON.stringify([auth.tokenUrl, auth.clientId, auth.scopes ?? [], auth.audience ?? '']);

  const request = async (auth: ClientCredentials, signal: AbortSignal): Promise<CachedToken> => {
    const url = new URL(auth.tokenUrl);
    guard.checkUrl(url);
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (auth.scopes && auth.scopes.length > 0) form.set('scope', auth.scopes.join(' '));
    if (auth.audience) form.set('audience', auth.audience);
    const headers: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    };
    if (auth.clientAuthentication === 'body') {
      form.set('client_id', auth.clientId);
      form.set('client_secret', auth.clientSecret);
    } else {
      const encode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');
      headers.authorization = `Basic ${Buffer.from(`${encode(auth.clientId)}:${encode(auth.clientSecret)}`).toString('base64')}`;
    }
    const requestedAt = now();
    let response: Response;
    try {
      response = await fetch(url.href, {
        method: 'POST',
        headers,
        body: form.toString(),
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: unknown }).cause;
      if (cause instanceof RestAdapterError) throw cause;
      throw new RestAdapterError(
        'auth-failed',
        `OAuth token request to ${url.host} failed: ${describeError(cause ?? error)}`,
        { cause: error },
      );
    }
    const body = await readCappedBody(response, MAX_TOKEN_RESPONSE_BYTES);
    const text = new TextDecoder().decode(body.bytes);
    if (!response.ok) {
      throw new RestAdapterError(
        'auth-failed',
        `OAuth token request to ${url.host} answered HTTP ${response.status}: ${text.slice(0, 300)}`,
      );
    }
    let answer: { access_token?: unknown; expires_in?: unknown };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      throw new RestAdapterError('auth-failed', `OAuth token response from ${url.host} is not JSON`);
    }
    if (typeof answer.access_token !== 'string' || answer.access_token === '') {
      throw new RestAdapterError('auth-failed', `OAuth token response from ${url.host} has no access_token`);
    }
    const lifetimeMs = (Number(answer.expires_in) > 0 ? Number(answer.expires_in) : 3600) * 1000;
    return {
      value: answer.access_token,
      refreshAt: requestedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 5),
    };
  };

  return {
    async token(auth, signal) {
      const key = keyOf(auth);
      const cached = cache.get(key);
      if (cached && now() < cached.refreshAt) return cached.value;
      let inFlight = pending.get(key);
      if (!inFlight) {
        // Detached from any one caller's signal: a caller that gives up must not fail the others sharing it.
        inFlight = request(auth, AbortSignal.timeout(30_000)).finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      const fresh = await Promise.race([
        inFlight,
        new Promise<never>((_, reject) => {
          if (signal.aborted) reject(abortReason(signal));
          signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
        }),
      ]);
      cache.set(key, fresh);
      return fresh.value;
    },
    invalidate(auth, token) {
      const key = keyOf(auth);
      if (cache.get(key)?.value === token) cache.delete(key);
    },
  };
}
