/**
 * An in-memory set of revoked ids (JWT `jti`s or API token ids), consulted on every request without a database
 * query. The owner refreshes it from the database (on a change notification and on a slow poll) with `replace`.
 */
export interface RevocationList {
  has(id: string): boolean;
  add(id: string): void;
  /** Swaps the whole set at once, so a refresh never leaves a moment with a partial list. */
  replace(ids: Iterable<string>): void;
  readonly size: number;
}

/** Creates an empty {@link RevocationList}, or one holding `ids`. */
export function createRevocationList(ids: Iterable<string> = []): RevocationList {
  let current = new Set(ids);
  return {
    has: (id) => current.has(id),
    add(id) {
      current.add(id);
    },
    replace(next) {
      current = new Set(next);
    },
    get size() {
      return current.size;
    },
  };
}
