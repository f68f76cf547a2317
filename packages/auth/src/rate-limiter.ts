import { describeError, GatewayError, RpcError, silentLogger } from '@mcp-gateway/core';
import type { CallInfo, Logger, RouterHooks } from '@mcp-gateway/core';
import { LRUCache } from 'lru-cache';
import { currentAuthContext } from './principal.ts';

/**
 * The JSON-RPC code of a call refused by a rate limit. JSON-RPC leaves -32000…-32099 to servers; MCP and its SDK use
 * -32001/-32002/-32020/-32042, so -32029 (a nod to HTTP 429) is free. The error's `data` is `{ retryAfterMs }`.
 */
export const RATE_LIMITED_RPC_CODE = -32029;

/** What a bucket counts: calls per principal, per tool (all callers together), or per virtual server. */
export type RateLimitScope = 'principal' | 'tool' | 'virtual-server';

/** A token bucket: `capacity` calls at once, refilled at `refillPerSecond`. */
export interface RateLimitRule {
  readonly scope: RateLimitScope;
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** Who and what a call is about; a rule whose scope has no value here does not apply. */
export interface RateLimitSubject {
  readonly principal?: string;
  readonly tool?: string;
  readonly virtualServer?: string;
}

/** The answer of {@link RateLimiter.check}. */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** 0 when allowed; else how long until the refusing bucket holds a token again. */
  readonly retryAfterMs: number;
  /** The rule that refused. */
  readonly rule?: RateLimitRule;
}

/** Where buckets live: in this process, or shared by every replica (Postgres). */
export interface RateLimitStore {
  /** Refills the bucket for the time elapsed since its last use, then takes one token if it holds one. */
  take(key: string, rule: RateLimitRule, nowMs: number): Promise<{ allowed: boolean; tokens: number }>;
}

/** Options of {@link createRateLimiter}. */
export interface RateLimiterOptions {
  rules: readonly RateLimitRule[];
  /** Default: {@link createInMemoryRateLimitStore}. */
  store?: RateLimitStore;
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** What the hooks limit a call by. Default: the principal and virtual server of the current auth context and the called name. */
  subjectOf?: (call: CallInfo) => RateLimitSubject;
  /** When the store fails (a shared store whose database is down): let calls through (default) or refuse them. */
  onStoreError?: 'allow' | 'deny';
  logger?: Logger;
}

/** Token-bucket rate limits for calls. */
export interface RateLimiter {
  /** Takes one token from every bucket that applies; refused as soon as one is empty. */
  check(subject: RateLimitSubject): Promise<RateLimitDecision>;
  /** Router hooks: an over-limit call fails with {@link RATE_LIMITED_RPC_CODE} before it reaches the upstream. */
  readonly hooks: RouterHooks;
}

/** A {@link RateLimitStore} in this process: buckets in an LRU (the least recently used are forgotten first). */
export function createInMemoryRateLimitStore(options: { maxBuckets?: number } = {}): RateLimitStore {
  const buckets = new LRUCache<string, { tokens: number; updatedMs: number }>({
    max: options.maxBuckets ?? 100_000,
  });
  return {
    async take(key, rule, nowMs) {
      const bucket = buckets.get(key) ?? { tokens: rule.capacity, updatedMs: nowMs };
      const elapsed = Math.max(0, nowMs - bucket.updatedMs);
      let tokens = Math.min(rule.capacity, bucket.tokens + (elapsed * rule.refillPerSecond) / 1000);
      const allowed = tokens >= 1;
      if (allowed) tokens -= 1;
      buckets.set(key, { tokens, updatedMs: Math.max(bucket.updatedMs, nowMs) });
      return { allowed, tokens };
    },
  };
}

/** Creates a {@link RateLimiter}; throws `GatewayError('config-invalid')` on a rule that could never allow a call. */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  for (const rule of options.rules) {
    if (!(rule.capacity >= 1) || !(rule.refillPerSecond > 0) || !Number.isFinite(rule.capacity)) {
      throw new GatewayError(
        'config-invalid',
        `rate limit rule for ${rule.scope} needs capacity ≥ 1 and refillPerSecond > 0`,
      );
    }
  }
  const store = options.store ?? createInMemoryRateLimitStore();
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const subjectOf =
    options.subjectOf ??
    ((call: CallInfo): RateLimitSubject => {
      const context = currentAuthContext();
      return {
        principal: context?.principal.id ?? 'anonymous',
        tool: call.name ?? call.method,
        virtualServer: context?.virtualServerId,
      };
    });

  const check = async (subject: RateLimitSubject): Promise<RateLimitDecision> => {
    const now = clock();
    for (const rule of options.rules) {
      const value =
        rule.scope === 'principal'
          ? subject.principal
          : rule.scope === 'tool'
            ? subject.tool
            : subject.virtualServer;
      if (value === undefined) continue;
      const key = `${rule.scope}:${rule.capacity}:${rule.refillPerSecond}:${value}`;
      let taken: { allowed: boolean; tokens: number };
      try {
        taken = await store.take(key, rule, now);
      } catch (error) {
        logger.warn({ err: describeError(error) }, 'rate limit store failed');
        if (options.onStoreError === 'deny') return { allowed: false, retryAfterMs: 1_000, rule };
        continue;
      }
      if (!taken.allowed) {
        const retryAfterMs = Math.max(1, Math.ceil(((1 - taken.tokens) / rule.refillPerSecond) * 1000));
        return { allowed: false, retryAfterMs, rule };
      }
    }
    return { allowed: true, retryAfterMs: 0 };
  };

  return {
    check,
    hooks: {
      async beforeCall(call) {
        const decision = await check(subjectOf(call));
        if (!decision.allowed) {
          throw new RpcError(
            RATE_LIMITED_RPC_CODE,
            `rate limit exceeded; retry after ${decision.retryAfterMs} ms`,
            { retryAfterMs: decision.retryAfterMs },
          );
        }
      },
    },
  };
}

/** The HTTP answer for a refused request: 429 with `Retry-After` (whole seconds, at least 1) and the REST error body. */
export function rateLimitResponse(decision: Pick<RateLimitDecision, 'retryAfterMs'>): Response {
  const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
  return new Response(
    JSON.stringify({
      error: {
        code: 'rate-limited',
        message: `rate limit exceeded; retry after ${decision.retryAfterMs} ms`,
        details: { retryAfterMs: decision.retryAfterMs },
      },
    }),
    { status: 429, headers: { 'content-type': 'application/json', 'retry-after': String(seconds) } },
  );
}
