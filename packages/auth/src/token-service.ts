import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { describeError, GatewayError, silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import { LRUCache } from 'lru-cache';
import type { Principal } from './principal.ts';
import { createRevocationList } from './revocation-list.ts';
import type { RevocationList } from './revocation-list.ts';
import type { ApiTokenRecord, TokenStore } from './token-store.ts';

/** Every API token starts with this, so it is recognisable (and secret scanners can find leaked ones). */
export const API_TOKEN_PREFIX = 'mgw_';

const TOKEN_PATTERN = /^mgw_[A-Za-z0-9_-]{43}$/;
const DISPLAY_PREFIX_LENGTH = 8;
const UNKNOWN_TOKEN_TTL_MS = 5_000;

/** Options of {@link createTokenService}. */
export interface TokenServiceOptions {
  store: TokenStore;
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Random bytes for new tokens. Default `crypto.randomBytes`. */
  random?: (size: number) => Uint8Array;
  /** Ids for new tokens. Default `crypto.randomUUID`. */
  ids?: () => string;
  /** Revoked token ids, refreshed from the store by the owner (`store.listRevokedIds`). Default: a new list. */
  revoked?: RevocationList;
  /** Current roles and teams of a token's owner, from an in-memory user snapshot; else the ones stored. */
  resolveOwner?: (ownerId: string) => { roles: readonly string[]; teams: readonly string[] } | undefined;
  /** Verified tokens kept in memory. Default 10 000. */
  cacheSize?: number;
  /** How long a verified token is trusted from memory before the store is read again. Default 60 000 ms. */
  cacheTtlMs?: number;
  /** How often last-used times are written, in one batch. Default 30 000 ms; 0 writes only on `flush()`. */
  lastUsedFlushMs?: number;
  logger?: Logger;
}

/** What `create` takes. */
export interface CreateApiTokenInput {
  name: string;
  ownerId: string;
  roles?: readonly string[];
  teams?: readonly string[];
  /** Default `['*']`: everything the owner may do. */
  scopes?: readonly string[];
  /** Default: any virtual server. */
  virtualServers?: readonly string[] | null;
  expiresAt?: Date | null;
}

/** A token as listed: everything but its hash. */
export type ApiTokenInfo = Omit<ApiTokenRecord, 'hash'>;

/** The outcome of verifying one presented token. */
export type TokenVerifyResult = { principal: Principal } | { error: string };

/** API tokens: created (shown once), listed, revoked, and verified from memory on the call path. */
export interface TokenService {
  /** Returns the token text (show it once; it cannot be recovered) and what is stored about it. */
  create(input: CreateApiTokenInput): Promise<{ token: string; info: ApiTokenInfo }>;
  list(filter?: { ownerId?: string }): Promise<ApiTokenInfo[]>;
  /** Revokes at once on this replica; other replicas learn it from their revocation list. */
  revoke(id: string): Promise<boolean>;
  verify(token: string): Promise<TokenVerifyResult>;
  /** Writes pending last-used times now. */
  flush(): Promise<void>;
  /** Stops the flush timer and writes what is pending. */
  close(): Promise<void>;
}

/** A verified (or unknown) token in memory, trusted until `until` on the injected clock. */
interface CacheEntry {
  readonly record: ApiTokenRecord | undefined;
  readonly until: number;
}

/** True when `value` looks like one of our API tokens (it may still be unknown). */
export function isApiToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

/** SHA-256 (hex) of a token: what the store keeps. A fast hash is enough for 256 random bits. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Creates a {@link TokenService}. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const random = options.random ?? ((size: number) => randomBytes(size));
  const ids = options.ids ?? randomUUID;
  const revoked = options.revoked ?? createRevocationList();
  const logger = options.logger ?? silentLogger;
  const ttl = options.cacheTtlMs ?? 60_000;
  const flushMs = options.lastUsedFlushMs ?? 30_000;
  if (!(ttl > 0)) throw new GatewayError('config-invalid', 'cacheTtlMs must be positive');
  // Entries carry their own deadline on the injected clock (lru-cache's TTLs run on the real one).
  const cache = new LRUCache<string, CacheEntry>({ max: options.cacheSize ?? 10_000 });
  const pendingUses = new Map<string, number>();
  let flushing: Promise<void> | undefined;
  const timer = flushMs > 0 ? setInterval(() => void flush(), flushMs) : undefined;
  timer?.unref();

  const toInfo = (record: ApiTokenRecord): ApiTokenInfo => {
    const { hash: _hash, ...info } = record;
    return info;
  };

  const lookup = async (hash: string): Promise<ApiTokenRecord | undefined> => {
    const cached = cache.get(hash);
    if (cached && clock() < cached.until) return cached.record;
    const record = await store.findByHash(hash);
    // Unknown tokens are remembered briefly too, so a flood of made-up tokens does not become a flood of queries.
    cache.set(hash, { record, until: clock() + (record ? ttl : Math.min(ttl, UNKNOWN_TOKEN_TTL_MS)) });
    return record;
  };

  async function flush(): Promise<void> {
    if (flushing) return flushing;
    if (pendingUses.size === 0) return;
    const batch = [...pendingUses].map(([id, at]) => ({ id, at: new Date(at) }));
    pendingUses.clear();
    flushing = store
      .recordLastUsed(batch)
      .catch((error: unknown) => {
        logger.warn({ err: describeError(error), count: batch.length }, 'could not record token last use');
        for (const use of batch) if (!pendingUses.has(use.id)) pendingUses.set(use.id, use.at.getTime());
      })
      .finally(() => (flushing = undefined));
    return flushing;
  }

  return {
    async create(input) {
      if (input.name.trim() === '') throw new GatewayError('invalid-input', 'a token needs a name');
      if (input.ownerId === '') throw new GatewayError('invalid-input', 'a token needs an owner');
      const now = clock();
      if (input.expiresAt && input.expiresAt.getTime() <= now) {
        throw new GatewayError('invalid-input', 'the token expiry must be in the future');
      }
      const bytes = random(32);
      if (bytes.byteLength !== 32)
        throw new GatewayError('internal', 'the random source returned too few bytes');
      const token = `${API_TOKEN_PREFIX}${Buffer.from(bytes).toString('base64url')}`;
      const hash = hashApiToken(token);
      const record: ApiTokenRecord = {
        id: ids(),
        name: input.name.trim(),
        hash,
        prefix: token.slice(0, DISPLAY_PREFIX_LENGTH),
        ownerId: input.ownerId,
        roles: [...(input.roles ?? [])],
        teams: [...(input.teams ?? [])],
        scopes: [...(input.scopes ?? ['*'])],
        virtualServers: input.virtualServers ? [...input.virtualServers] : null,
        expiresAt: input.expiresAt ?? null,
        createdAt: new Date(now),
        lastUsedAt: null,
        revokedAt: null,
      };
      await store.insert(record);
      cache.delete(hash);
      return { token, info: toInfo(record) };
    },

    async list(filter) {
      return (await store.list(filter)).map(toInfo);
    },

    async revoke(id) {
      const record = await store.revoke(id, new Date(clock()));
      if (!record) return false;
      revoked.add(id);
      cache.delete(record.hash);
      return true;
    },

    async verify(token) {
      if (!isApiToken(token)) return { error: 'malformed API token' };
      const hash = hashApiToken(token);
      const record = await lookup(hash);
      // The store found the row by its hash; compare again in constant time so no code path leaks timing.
      if (!record || !timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))) {
        return { error: 'unknown API token' };
      }
      const now = clock();
      if (record.revokedAt !== null || revoked.has(record.id)) return { error: 'token has been revoked' };
      if (record.expiresAt !== null && record.expiresAt.getTime() <= now) return { error: 'token expired' };
      pendingUses.set(record.id, now);
      const owner = options.resolveOwner?.(record.ownerId);
      return {
        principal: {
          id: record.ownerId,
          kind: 'token',
          roles: [...(owner?.roles ?? record.roles)],
          teams: [...(owner?.teams ?? record.teams)],
          scopes: [...record.scopes],
          ...(record.virtualServers === null ? {} : { virtualServers: [...record.virtualServers] }),
          claims: { tokenId: record.id, tokenName: record.name },
        },
      };
    },

    flush,

    async close() {
      if (timer) clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}
