import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, chown, mkdtemp, readdir, rm } from 'node:fs/promises';
import { constants as fsConstants, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '@mcp-gateway/core';
import { silentLogger } from '@mcp-gateway/core';
import pg from 'pg';

const execFileAsync = promisify(execFile);

const READY_TIMEOUT_MS = 20_000;
const READY_POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;
const START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 40;

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Receives debug lines about where the server runs; defaults to a silent logger. */
  logger?: Logger;
}

/** A throwaway PostgreSQL server (or a fresh database in `TEST_DATABASE_URL`), disposable with `await using`. */
export interface PostgresServer {
  /** A connection URL for the `postgres` superuser, e.g. `postgresql://postgres@127.0.0.1:54321/postgres`. */
  url: string;
  /** Stops the server and deletes its files; safe to call more than once. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL server for tests: a fresh cluster in a temp folder, trust auth, listening only on
 * 127.0.0.1 on a free port, with durability turned off for speed. When `TEST_DATABASE_URL` is set, no server is
 * started: a fresh database is created in that server instead and dropped by `stop()`.
 *
 * Server binaries come from `PG_BIN`, else the newest `/usr/lib/postgresql/<version>/bin`, else `pg_config
 * --bindir`. As root, initdb and postgres run as the `postgres` OS user (they refuse to run as root). The server is
 * killed when the Node process exits, even if `stop()` is never called.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const logger = options.logger ?? silentLogger;
  const externalUrl = process.env.TEST_DATABASE_URL;
  if (externalUrl !== undefined && externalUrl !== '') {
    return useExternalServer(externalUrl, logger);
  }

  const binDir = await findPostgresBinaries();
  const owner = await resolveServerOwner();
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-pg-'));
  try {
    if (owner) await chown(dir, owner.uid, owner.gid);
    const dataDir = join(dir, 'data');
    await runInitdb({ binDir, dir, dataDir, owner });
    for (let attempt = 1; ; attempt++) {
      const port = await findFreePort();
      try {
        return await runServer({ binDir, dir, dataDir, port, owner, logger });
      } catch (error) {
        // Another process may have taken the port between our probe and the server's bind; try a new one.
        if (attempt >= START_ATTEMPTS || !(error instanceof PortInUseError)) throw error;
        logger.debug({ port, attempt }, 'postgres port taken, retrying');
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Creates an empty database with a unique name in the server at `serverUrl` and returns its URL, so test files that
 * share one server do not see each other's rows. The database lives until the server stops.
 */
export async function createTestDatabase(serverUrl: string): Promise<string> {
  const name = `test_${randomUUID().replaceAll('-', '')}`;
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    // The name is generated above from hex digits only, so quoting it is enough.
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function useExternalServer(serverUrl: string, logger: Logger): Promise<PostgresServer> {
  const url = await createTestDatabase(serverUrl);
  const name = new URL(url).pathname.slice(1);
  logger.debug({ database: name }, 'using TEST_DATABASE_URL with a fresh database');
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    })();
    return stopping;
  };
  return { url, stop, [Symbol.asyncDispose]: stop };
}

const NOT_FOUND_MESSAGE =
  'PostgreSQL server binaries not found (initdb, postgres). Install them (Debian/Ubuntu: apt-get install -y ' +
  'postgresql) or set PG_BIN to their folder.';

async function findPostgresBinaries(): Promise<string> {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (await hasServerBinaries(fromEnv)) return fromEnv;
    throw new Error(`${NOT_FOUND_MESSAGE} (PG_BIN is ${fromEnv})`);
  }
  for (const candidate of await debianBinDirs()) {
    if (await hasServerBinaries(candidate)) return candidate;
  }
  const fromPgConfig = await pgConfigBinDir();
  if (fromPgConfig !== undefined && (await hasServerBinaries(fromPgConfig))) return fromPgConfig;
  throw new Error(NOT_FOUND_MESSAGE);
}

/** Debian/Ubuntu install each major version side by side; the newest comes first. */
async function debianBinDirs(): Promise<string[]> {
  const root = '/usr/lib/postgresql';
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a))
    .map((version) => join(root, version, 'bin'));
}

async function pgConfigBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync('pg_config', ['--bindir'], { timeout: 5_000 });
    const dir = stdout.trim();
    return dir === '' ? undefined : dir;
  } catch {
    return undefined;
  }
}

async function hasServerBinaries(dir: string): Promise<boolean> {
  try {
    await access(join(dir, 'initdb'), fsConstants.X_OK);
    await access(join(dir, 'postgres'), fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface ServerOwner {
  uid: number;
  gid: number;
}

/** initdb and postgres refuse to run as root, so as root they run as the `postgres` OS user. */
async function resolveServerOwner(): Promise<ServerOwner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres'], { timeout: 5_000 }),
      execFileAsync('id', ['-g', 'postgres'], { timeout: 5_000 }),
    ]);
    return { uid: Number.parseInt(uid.stdout, 10), gid: Number.parseInt(gid.stdout, 10) };
  } catch (error) {
    throw new Error(
      'Running as root, the PostgreSQL test server must run as the "postgres" OS user, which does not exist. ' +
        'Create it (the Debian/Ubuntu postgresql package does) or run the tests as a normal user.',
      { cause: error },
    );
  }
}

async function runInitdb(options: {
  binDir: string;
  dir: string;
  dataDir: string;
  owner: ServerOwner | undefined;
}): Promise<void> {
  // prettier-ignore
  const args = [
    '-D', options.dataDir,
    '-U', 'postgres',
    '-A', 'trust',
    '-E', 'UTF8',
    '--locale=C', // the same collation as PGlite, so ORDER BY agrees across dialects
    '--no-sync',
  ];
  try {
    await execFileAsync(join(options.binDir, 'initdb'), args, {
      cwd: options.dir, // the postgres user may not be allowed into our working directory
      timeout: 60_000,
      ...(options.owner ?? {}),
    });
  } catch (error) {
    const output = error instanceof Error && 'stderr' in error ? String(error.stderr) : '';
    throw new Error(`initdb failed: ${tail(output)}`, { cause: error });
  }
}

class PortInUseError extends Error {}

async function runServer(options: {
  binDir: string;
  dir: string;
  dataDir: string;
  port: number;
  owner: ServerOwner | undefined;
  logger: Logger;
}): Promise<PostgresServer> {
  const { binDir, dir, dataDir, port, owner, logger } = options;
  // prettier-ignore
  const args = [
    '-D', dataDir,
    '-p', String(port),
    '-k', dir,
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
  ];
  const child = spawn(join(binDir, 'postgres'), args, {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(owner ?? {}),
  });
  const log: string[] = [];
  const collect = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (log.length > LOG_TAIL_LINES) log.splice(0, log.length - LOG_TAIL_LINES);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let spawnError: Error | undefined;
  child.on('error', (error) => (spawnError ??= error));
  // Never keep the test process alive for the server's sake; the exit hook below stops it.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) {
    if (stream && 'unref' in stream && typeof stream.unref === 'function') stream.unref();
  }

  // The exit hook is synchronous: SIGQUIT makes postgres shut down immediately and clean up its children.
  const killOnExit = () => {
    child.kill('SIGQUIT');
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // Best effort: the process is exiting.
    }
  };
  process.once('exit', killOnExit);

  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT'); // fast shutdown
        if (!(await settlesWithin(exited, STOP_TIMEOUT_MS))) {
          child.kill('SIGKILL');
          await settlesWithin(exited, STOP_TIMEOUT_MS);
        }
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      logger.debug({ port }, 'postgres stopped');
    })();
    return stopping;
  };

  try {
    await waitUntilReady({ url, exited, spawnError: () => spawnError, log });
  } catch (error) {
    process.removeListener('exit', killOnExit);
    child.kill('SIGKILL');
    await settlesWithin(exited, STOP_TIMEOUT_MS);
    if (log.some((line) => line.includes('could not bind') || line.includes('Address already in use'))) {
      throw new PortInUseError(`port ${port} is in use`, { cause: error });
    }
    throw error;
  }
  logger.debug({ port, binDir, dir }, 'postgres started');
  return { url, stop, [Symbol.asyncDispose]: stop };
}

async function waitUntilReady(options: {
  url: string;
  exited: Promise<void>;
  spawnError: () => Error | undefined;
  log: string[];
}): Promise<void> {
  const { url, log } = options;
  let hasExited = false;
  void options.exited.then(() => (hasExited = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const maxAttempts = Math.ceil(READY_TIMEOUT_MS / READY_POLL_INTERVAL_MS);
  let lastError: unknown;
  for (let attempt = 0; attempt < maxAttempts && Date.now() < deadline; attempt++) {
    const spawnError = options.spawnError();
    if (spawnError) throw new Error(`could not start postgres: ${spawnError.message}`, { cause: spawnError });
    if (hasExited) throw new Error(`postgres exited during startup:\n${log.join('\n')}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('select 1');
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => {});
    }
    await delay(READY_POLL_INTERVAL_MS);
  }
  throw new Error(`postgres did not accept connections within ${READY_TIMEOUT_MS} ms:\n${log.join('\n')}`, {
    cause: lastError,
  });
}

/** Asks the OS for a free port by binding port 0, then releases it for the server. */
async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-LOG_TAIL_LINES).join('\n');
}
