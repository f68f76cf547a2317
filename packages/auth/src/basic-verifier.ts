import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { hashPassword, verifyPassword } from './password-hash.ts';
import type { Principal } from './principal.ts';
import type { UserStore } from './user-store.ts';

/** Options of {@link createBasicVerifier}. */
export interface BasicVerifierOptions {
  users: UserStore;
  /** Epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /**
   * How long a successful sign-in is remembered, so a client sending Basic on every request costs one scrypt, not
   * one per request. Default 60 000 ms; 0 turns the cache off.
   */
  cacheTtlMs?: number;
}

/** The outcome of checking one username and password. */
export type BasicVerifyResult = { principal: Principal } | { error: string };

/** Checks usernames and passwords against the user store. */
export interface BasicVerifier {
  verify(username: string, password: string): Promise<BasicVerifyResult>;
}

/** Creates a {@link BasicVerifier}. */
export function createBasicVerifier(options: BasicVerifierOptions): BasicVerifier {
  const clock = options.clock ?? Date.now;
  const ttl = options.cacheTtlMs ?? 60_000;
  const cache = new LRUCache<string, { principal: Principal; until: number }>({ max: 1_000 });
  // Unknown users still cost one scrypt, so timing does not tell which usernames exist.
  let decoy: Promise<string> | undefined;

  return {
    async verify(username, password) {
      const key = createHash('sha256').update(username).update('\u0000').update(password).digest('hex');
      const cached = cache.get(key);
      if (cached && clock() < cached.until) return { principal: cached.principal };
      const user = await options.users.findByUsername(username);
      if (!user || user.passwordHash === null) {
        decoy ??= hashPassword('decoy password');
        await verifyPassword(password, await decoy);
        return { error: 'invalid username or password' };
      }
      if (!(await verifyPassword(password, user.passwordHash)))
        return { error: 'invalid username or password' };
      if (user.disabled) return { error: 'this user is disabled' };
      const principal: Principal = {
        id: user.id,
        kind: 'user',
        roles: [...user.roles],
        teams: [...user.teams],
        scopes: ['*'],
        claims: { username: user.username },
      };
      if (ttl > 0) cache.set(key, { principal, until: clock() + ttl });
      return { principal };
    },
  };
}
