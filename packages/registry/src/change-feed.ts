import { randomUUID } from 'node:crypto';
import type { Logger } from '@mcp-gateway/core';
import { silentLogger } from '@mcp-gateway/core';
import { sql } from 'kysely';
import pg from 'pg';
import { connectionOf } from './database.ts';
import type { Database } from './database.ts';
import { RegistryError } from './registry-error.ts';

/** The Postgres channel every replica listens on. */
export const CHANGE_CHANNEL = 'mcp_gateway_changes';

/** What changed: one entity, or `'config'` for something wide such as an import (reload everything). */
export type ChangeKind = 'gateway' | 'tool' | 'resource' | 'prompt' | 'virtual-server' | 'config';

/** A change to announce after it committed: the entity and its version after the change (any number for deletes). */
export interface Change {
  kind: ChangeKind;
  id: string;
  version: number;
}

/** A change as delivered: who published it, and whether that was this feed. */
export interface ReceivedChange extends Change {
  /** The publishing feed's `origin`. */
  origin: string;
  /** `true` for this feed's own changes, delivered too so every replica follows one code path. */
  local: boolean;
}

/**
 * Changes may have been missed: after the listen connection came back (`'reconnect'`), or when the slow poll saw the
 * registry differ from its last look (`'poll'`). Re-read everything.
 */
export interface ResyncEvent {
  kind: 'resync';
  reason: 'reconnect' | 'poll';
}

/** What a subscriber receives. */
export type ChangeEvent = ReceivedChange | ResyncEvent;

/** Options for {@link createChangeFeed}. */
export interface ChangeFeedOptions {
  /** From {@link createDatabase}: the feed opens its own connection to the same database. */
  database: Database;
  /** Default: silent. */
  logger?: Logger;
  /**
   * How often to compare a fingerprint of the registry (ids and versions of every catalog row) with the last one, and
   * emit a `'poll'` resync when it moved: the fallback for a lost notification or a write nobody published.
   * Default 30000; `0` turns it off. Expect one such resync after ordinary changes too, so keep resync cheap.
   */
  pollIntervalMs?: number;
  /** Identifies this feed in payloads and in `pg_stat_activity` (`application_name`). Default: a random UUID. */
  origin?: string;
  /** First delay before reconnecting the listen connection, doubled per failure up to the maximum. Default 100. */
  minReconnectDelayMs?: number;
  /** Default 30000. */
  maxReconnectDelayMs?: number;
}

/** Change propagation between the processes sharing one registry. */
export interface ChangeFeed {
  readonly origin: string;
  /** Announces a committed change to every feed on the database (this one included). */
  publish(change: Change): Promise<void>;
  /** Calls `listener` for every change and resync until the returned function is called. */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
  /** Stops listening and polling; safe to call more than once. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const KINDS: readonly string[] = ['gateway', 'tool', 'resource', 'prompt', 'virtual-server', 'config'];
const DEFAULT_POLL_INTERVAL_MS = 30_000;
const DEFAULT_MIN_RECONNECT_DELAY_MS = 100;
const DEFAULT_MAX_RECONNECT_DELAY_MS = 30_000;

/**
 * Starts a change feed. On Postgres it LISTENs on {@link CHANGE_CHANNEL} over a dedicated connection (not the pool)
 * that reconnects with exponential backoff and then emits a `'reconnect'` resync; it publishes with `pg_notify` through
 * the pool. On PGlite, which lives in this process, it uses PGlite's own listen. Resolves once listening, so a
 * change published after that is not missed: create the feed, subscribe, then load the registry. Throws a
 * {@link RegistryError} `'database-unreachable'` when the first connection fails.
 */
export async function createChangeFeed(options: ChangeFeedOptions): Promise<ChangeFeed> {
  const connection = options?.database === undefined ? undefined : connectionOf(options.database);
  if (connection === undefined) {
    throw new TypeError('createChangeFeed: `database` must be a database opened by createDatabase');
  }
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const minDelay = options.minReconnectDelayMs ?? DEFAULT_MIN_RECONNECT_DELAY_MS;
  const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
  for (const [name, value] of Object.entries({ pollIntervalMs, minDelay, maxDelay })) {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(`createChangeFeed: ${name} must be a whole number of milliseconds, at least 0`);
    }
  }
  const origin = options.origin ?? randomUUID();
  const logger = (options.logger ?? silentLogger).child({ component: 'change-feed', origin });
  const { db } = options.database;
  const listeners = new Set<(event: ChangeEvent) => void>();

  const emit = (event: ChangeEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        logger.error(
          { error: error instanceof Error ? error.message : String(error) },
          'change listener threw',
        );
      }
    }
  };

  const receive = (payload: string) => {
    const change = parsePayload(payload);
    if (change === undefined) {
      logger.warn({ payload: payload.slice(0, 200) }, 'ignored a malformed change notification');
      return;
    }
    emit({ ...change, local: change.origin === origin });
  };

  const fingerprint = async (): Promise<string> => {
    const { rows } = await sql<{ fingerprint: string }>`
      select md5(coalesce(string_agg(part, ',' order by part collate "C"), '')) as fingerprint from (
        select 'g' || id || ':' || version as part from gateways
        union all select 't' || id || ':' || version from tools
        union all select 'r' || id || ':' || version from resources
        union all select 'p' || id || ':' || version from prompts
        union all select 'v' || id || ':' || version from virtual_servers
      ) as parts
    `.execute(db);
    return rows[0]?.fingerprint ?? '';
  };
  let lastFingerprint = pollIntervalMs > 0 ? await fingerprint() : '';

  const onReconnected = async () => {
    if (pollIntervalMs > 0) lastFingerprint = await fingerprint().catch(() => lastFingerprint);
    emit({ kind: 'resync', reason: 'reconnect' });
  };

  const listener =
    connection.dialect === 'postgres'
      ? await listenOnPostgres({
          databaseUrl: connection.databaseUrl,
          connectTimeoutMs: connection.connectTimeoutMs,
          applicationName: `mcp-gateway-changes ${origin}`.slice(0, 63),
          receive,
          onReconnected,
          logger,
          minDelay,
          maxDelay,
        })
      : await listenOnPglite(connection.pglite, receive);

  let polling = false;
  const poll = pollIntervalMs > 0 ? setInterval(() => void pollOnce(), pollIntervalMs) : undefined;
  async function pollOnce(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      const current = await fingerprint();
      if (current !== lastFingerprint) {
        lastFingerprint = current;
        emit({ kind: 'resync', reason: 'poll' });
      }
    } catch (error) {
      logger.warn(
        { error: error instanceof Error ? error.message : String(error) },
        'change feed poll failed',
      );
    } finally {
      polling = false;
    }
  }

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (poll !== undefined) clearInterval(poll);
      listeners.clear();
      await listener.close();
    })();
    return closing;
  };

  return {
    origin,
    async publish(change) {
      checkChange(change);
      const payload = JSON.stringify({ kind: change.kind, id: change.id, version: change.version, origin });
      await sql`select pg_notify(${CHANGE_CHANNEL}, ${payload})`.execute(db);
    },
    subscribe(listenerFunction) {
      if (closing !== undefined) throw new Error('subscribe: the change feed is closed');
      const entry = (event: ChangeEvent) => listenerFunction(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function checkChange(change: Change): void {
  const problems: Array<{ path: string; message: string }> = [];
  if (!KINDS.includes(change?.kind)) {
    problems.push({ path: 'kind', message: `must be one of ${KINDS.map((kind) => `"${kind}"`).join(', ')}` });
  }
  if (typeof change?.id !== 'string' || change.id === '' || change.id.length > 200) {
    problems.push({ path: 'id', message: 'must be a string of 1 to 200 characters' });
  }
  if (!Number.isSafeInteger(change?.version))
    problems.push({ path: 'version', message: 'must be a whole number' });
  if (problems.length > 0) {
    throw new RegistryError(
      'invalid-input',
      `invalid change: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      {
        details: problems,
      },
    );
  }
}

function parsePayload(payload: string): (Change & { origin: string }) | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { kind, id, version, origin } = value as Record<string, unknown>;
  if (typeof kind !== 'string' || !KINDS.includes(kind)) return undefined;
  if (typeof id !== 'string' || typeof origin !== 'string' || !Number.isSafeInteger(version))
    return undefined;
  return { kind: kind as ChangeKind, id, version: version as number, origin };
}

interface Listener {
  close(): Promise<void>;
}

async function listenOnPglite(
  pglite: {
    listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>>;
    closed: boolean;
  },
  receive: (payload: string) => void,
): Promise<Listener> {
  const unlisten = await pglite.listen(CHANGE_CHANNEL, receive);
  return {
    async close() {
      // The database may already be closed, which ends every listen with it.
      if (!pglite.closed) await unlisten().catch(() => {});
    },
  };
}

interface PostgresListenOptions {
  databaseUrl: string;
  connectTimeoutMs: number;
  applicationName: string;
  receive: (payload: string) => void;
  onReconnected: () => Promise<void>;
  logger: Logger;
  minDelay: number;
  maxDelay: number;
}

/** A dedicated LISTEN connection that comes back after it drops (server restart, failover, terminated backend). */
async function listenOnPostgres(options: PostgresListenOptions): Promise<Listener> {
  const { logger } = options;
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const connect = async (): Promise<pg.Client> => {
    const next = new pg.Client({
      connectionString: options.databaseUrl,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: options.applicationName,
      keepAlive: true,
    });
    next.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL && message.payload !== undefined)
        options.receive(message.payload);
    });
    next.on('error', (error) => {
      if (!closed) logger.warn({ error: error.message }, 'change feed connection failed');
      lost(next);
    });
    next.on('end', () => lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (error) {
      await next.end().catch(() => {});
      throw error;
    }
    return next;
  };

  const lost = (which: pg.Client) => {
    if (closed || which !== client) return;
    client = undefined;
    which.end().catch(() => {});
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    // Exponential backoff with jitter, so replicas do not reconnect in lockstep after a restart.
    const ceiling = Math.min(options.maxDelay, options.minDelay * 2 ** Math.min(failures, 20));
    const delay = Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
    failures += 1;
    retry = setTimeout(() => {
      retry = undefined;
      void reconnect();
    }, delay);
  };

  const reconnect = async () => {
    try {
      const next = await connect();
      if (closed) {
        await next.end().catch(() => {});
        return;
      }
      client = next;
      failures = 0;
      logger.info({}, 'change feed reconnected; resyncing');
      await options.onReconnected();
    } catch (error) {
      if (closed) return;
      logger.warn(
        { error: error instanceof Error ? error.message : String(error), failures },
        'change feed reconnect failed',
      );
      scheduleReconnect();
    }
  };

  try {
    client = await connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RegistryError('database-unreachable', `the change feed cannot listen on Postgres: ${reason}`, {
      cause: error,
    });
  }

  return {
    async close() {
      closed = true;
      if (retry !== undefined) clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
