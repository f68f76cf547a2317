/** A person who can sign in with a password (Basic auth) and own entities. */
export interface UserRecord {
  readonly id: string;
  /** Unique, compared exactly. */
  readonly username: string;
  /** A {@link hashPassword} hash; `null` for users who cannot sign in with a password. */
  readonly passwordHash: string | null;
  readonly roles: readonly string[];
  readonly teams: readonly string[];
  readonly disabled: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Persistence of users. Only `findByUsername` is on the request path, and only on a cache miss. */
export interface UserStore {
  findByUsername(username: string): Promise<UserRecord | undefined>;
  get(id: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** Creates the user, or replaces the one with the same id. */
  upsert(user: UserRecord): Promise<void>;
  delete(id: string): Promise<boolean>;
}

/** A {@link UserStore} in memory, for tests and single-process embedding. */
export function createInMemoryUserStore(users: readonly UserRecord[] = []): UserStore {
  const byId = new Map(users.map((u) => [u.id, u]));
  return {
    async findByUsername(username) {
      for (const user of byId.values()) if (user.username === username) return user;
      return undefined;
    },
    get: async (id) => byId.get(id),
    list: async () => [...byId.values()].sort((a, b) => a.username.localeCompare(b.username)),
    async upsert(user) {
      for (const other of byId.values()) {
        if (other.username === user.username && other.id !== user.id) {
          throw new Error(`username ${user.username} is taken`);
        }
      }
      byId.set(user.id, user);
    },
    delete: async (id) => byId.delete(id),
  };
}
