import { rmSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Logger } from '@mcp-gateway/core';
import { silentLogger } from '@mcp-gateway/core';
import type { Dialect, KyselyPlugin } from 'kysely';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.ts';
import { RegistryError } from './registry-error.ts';
import type { RegistryDatabase } from './registry-database.ts';

/** Options for {@link createDatabase}. */
export interface CreateDatabaseOptions {
  /** A Postgres URL (`postgres://user:password@host:5432/db`). When absent, the registry uses embedded PGlite. */
  databaseUrl?: string;
  /** Where PGlite keeps its files (in `${dataDir}/pglite`, created if missing); in memory when absent. */
  dataDir?: string;
  /** Run pending migrations before returning. Default `true`. */
  migrate?: boolean;
  /** Kysely plugins to install, e.g. a {@link createQueryCounter} in tests. */
  plugins?: KyselyPlugin[];
  /** How long to wait for a Postgres connection before giving up, in milliseconds. Default 5000. */
  connectTimeoutMs?: number;
  /** Default: silent. */
  logger?: Logger;
}

/** Which engine a {@link Database} runs on; both run the same SQL and the same migrations. */
export type DatabaseDialect = 'postgres' | 'pglite';

/** An open registry database. Close it when done, or use `await using`. */
export interface Database {
  db: Kysely<RegistryDatabase>;
  dialect: DatabaseDialect;
  /** Closes the pool (Postgres) or the embedded engine (PGlite); safe to call more than once. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * How to reach the same database outside the pool: what the change feed needs for its dedicated LISTEN connection
 * (Postgres) or for PGlite's own listen. Internal: not exported from index.ts.
 */
export type DatabaseConnection =
  | { dialect: 'postgres'; databaseUrl: string; connectTimeoutMs: number }
  | { dialect: 'pglite'; pglite: PGlite };

const connections = new WeakMap<Database, DatabaseConnection>();

/** The connection details of a database opened by {@link createDatabase}, else `undefined`. */
export function connectionOf(database: Database): DatabaseConnection | undefined {
  return connections.get(database);
}

const POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens the registry database: Postgres when `databaseUrl` is given, else embedded PGlite (persisted under `dataDir`,
 * or in memory). It checks that Postgres is reachable (a {@link RegistryError} with code `'database-unreachable'`
 * naming host and port, never the password) and runs migrations unless `migrate` is `false`.
 */
export async function createDatabase(options: CreateDatabaseOptions = {}): Promise<Database> {
  const logger = options.logger ?? silentLogger;
  const opened =
    options.databaseUrl === undefined
      ? await openPglite(options.dataDir)
      : await openPostgres(
          options.databaseUrl,
          options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
          logger,
        );

  const db = new Kysely<RegistryDatabase>({ dialect: opened.dialect, plugins: options.plugins ?? [] });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await db.destroy();
      await opened.close();
    })();
    return closing;
  };

  if (options.migrate !== false) {
    try {
      const { applied } = await migrateToLatest(db);
      for (const migration of applied) logger.info({ migration }, 'migration applied');
    } catch (error) {
      await close();
      throw error;
    }
  }
  logger.info({ dialect: opened.name, target: opened.target }, 'registry database open');
  const database: Database = { db, dialect: opened.name, close, [Symbol.asyncDispose]: close };
  connections.set(database, opened.connection);
  return database;
}

interface OpenedDialect {
  name: DatabaseDialect;
  dialect: Dialect;
  /** Where the data lives, safe to log. */
  target: string;
  /** Releases what Kysely's `destroy()` may not have (it skips a PGlite it never used). */
  close(): Promise<void>;
  connection: DatabaseConnection;
}

async function openPglite(dataDir: string | undefined): Promise<OpenedDialect> {
  const path = dataDir === undefined ? undefined : join(dataDir, 'pglite');
  if (path !== undefined) await mkdir(path, { recursive: true });
  const unlock = path === undefined ? () => undefined : await lockDataDir(path);
  const pglite = new PGlite(path);
  try {
    await pglite.waitReady;
  } catch (error) {
    unlock();
    throw new RegistryError('database-unreachable', `cannot open PGlite data in ${path ?? 'memory'}`, {
      cause: error,
    });
  }
  return {
    name: 'pglite',
    // Kysely's own PGlite dialect serializes access to the single connection and uses PGlite's exclusive
    // transactions, so concurrent callers cannot interleave inside a transaction.
    dialect: new PGliteDialect({ pglite }),
    target: path ?? 'memory',
    connection: { dialect: 'pglite', pglite },
    async close() {
      if (!pglite.closed) await pglite.close();
      unlock();
    },
  };
}

/**
 * PGlite is one process's database: a second process opening the same folder would silently lose writes. A lock
 * file holding the owner's pid refuses that with a clear error; a lock left by a process that died is taken over.
 */
const lockedHere = new Set<string>();

async function lockDataDir(path: string): Promise<() => void> {
  const lockPath = join(path, '.mcp-gateway.lock');
  if (lockedHere.has(lockPath)) {
    throw new RegistryError(
      'database-unreachable',
      `the data dir ${path} is already open in this process; close it first (PGlite allows one owner)`,
    );
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      lockedHere.add(lockPath);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        lockedHere.delete(lockPath);
        rmSync(lockPath, { force: true });
        process.off('exit', release);
      };
      process.once('exit', release);
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new RegistryError(
          'database-unreachable',
          `the data dir ${path} is in use by another process (pid ${owner}); stop it first, or use DATABASE_URL ` +
            '(Postgres) to run several gateway processes',
        );
      }
      await rm(lockPath, { force: true });
    }
  }
  throw new RegistryError('database-unreachable', `cannot lock the data dir ${path}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function openPostgres(
  databaseUrl: string,
  connectTimeoutMs: number,
  logger: Logger,
): Promise<OpenedDialect> {
  const target = describePostgresUrl(databaseUrl);
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: POOL_SIZE,
    connectionTimeoutMillis: connectTimeoutMs,
  });
  // An idle client losing its connection (server restart, network) emits 'error' on the pool; unhandled, it would
  // crash the process. The next query gets a fresh connection or a clear error.
  pool.on('error', (error) =>
    logger.warn({ target, error: error.message }, 'idle postgres connection failed'),
  );
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => {});
    const reason = error instanceof Error ? error.message : String(error);
    throw new RegistryError('database-unreachable', `cannot reach Postgres at ${target}: ${reason}`, {
      cause: error,
      details: { target },
    });
  }
  return {
    name: 'postgres',
    dialect: new PostgresDialect({ pool }),
    target,
    connection: { dialect: 'postgres', databaseUrl, connectTimeoutMs },
    async close() {
      if (!pool.ending && !pool.ended) await pool.end();
    },
  };
}

/** `host:port/database` from a Postgres URL, for messages and logs: never the user or password. */
function describePostgresUrl(databaseUrl: string): string {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    // No cause: the parse error would carry the whole URL, password included.
    throw new RegistryError(
      'database-unreachable',
      'the database URL is not a valid URL (expected postgres://user:password@host:5432/database)',
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new RegistryError(
      'database-unreachable',
      `the database URL must start with postgres:// or postgresql://, not ${url.protocol}//`,
    );
  }
  const host = url.hostname === '' ? (url.searchParams.get('host') ?? 'localhost') : url.hostname;
  const port = url.port === '' ? (url.searchParams.get('port') ?? '5432') : url.port;
  const database = decodeURIComponent(url.pathname.slice(1));
  return database === '' ? `${host}:${port}` : `${host}:${port}/${database}`;
}
