/** One API token as stored: never the token itself, only its SHA-256. */
export interface ApiTokenRecord {
  readonly id: string;
  readonly name: string;
  /** SHA-256 of the whole token (`mgw_…`), lowercase hex. */
  readonly hash: string;
  /** The first characters of the token, for people to recognise it in listings (`mgw_Ab12`). */
  readonly prefix: string;
  /** The user the token acts for. */
  readonly ownerId: string;
  /** The owner's roles and teams when the token was created (used unless the service resolves current ones). */
  readonly roles: readonly string[];
  readonly teams: readonly string[];
  /** What the token may do; `*` is everything its owner may do. */
  readonly scopes: readonly string[];
  /** The only virtual servers it may be used on; `null` for any. */
  readonly virtualServers: readonly string[] | null;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** Persistence of API tokens. Only `findByHash` is on the request path, and only on a cache miss. */
export interface TokenStore {
  insert(record: ApiTokenRecord): Promise<void>;
  findByHash(hash: string): Promise<ApiTokenRecord | undefined>;
  list(filter?: { ownerId?: string }): Promise<ApiTokenRecord[]>;
  /** Marks the token revoked; returns it, or `undefined` when no such token exists. */
  revoke(id: string, at: Date): Promise<ApiTokenRecord | undefined>;
  /** Writes a batch of last-used times (never earlier than what is stored). */
  recordLastUsed(uses: ReadonlyArray<{ id: string; at: Date }>): Promise<void>;
  /** Ids of revoked tokens that have not expired yet, to refresh a {@link RevocationList} on every replica. */
  listRevokedIds(now: Date): Promise<string[]>;
}

/** A {@link TokenStore} in memory, for tests and single-process embedding. */
export function createInMemoryTokenStore(): TokenStore {
  const byId = new Map<string, ApiTokenRecord>();
  return {
    async insert(record) {
      if (byId.has(record.id)) throw new Error(`token ${record.id} already exists`);
      byId.set(record.id, record);
    },
    async findByHash(hash) {
      for (const record of byId.values()) if (record.hash === hash) return record;
      return undefined;
    },
    async list(filter) {
      return [...byId.values()]
        .filter((r) => filter?.ownerId === undefined || r.ownerId === filter.ownerId)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    },
    async revoke(id, at) {
      const record = byId.get(id);
      if (!record) return undefined;
      const revoked = { ...record, revokedAt: record.revokedAt ?? at };
      byId.set(id, revoked);
      return revoked;
    },
    async recordLastUsed(uses) {
      for (const use of uses) {
        const record = byId.get(use.id);
        if (!record) continue;
        if (record.lastUsedAt && record.lastUsedAt >= use.at) continue;
        byId.set(use.id, { ...record, lastUsedAt: use.at });
      }
    },
    async listRevokedIds(now) {
      return [...byId.values()]
        .filter((r) => r.revokedAt !== null && (r.expiresAt === null || r.expiresAt > now))
        .map((r) => r.id);
    },
  };
}
