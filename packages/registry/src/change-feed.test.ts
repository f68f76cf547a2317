import { createTestDatabase } from '@mcp-gateway/testing';
import { sql } from 'kysely';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createChangeFeed } from './change-feed.ts';
import type { ChangeEvent, ChangeFeed } from './change-feed.ts';
import { createDatabase } from './database.ts';
import type { Database } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import { RegistryError } from './registry-error.ts';
import { dialects, openTestDatabase } from './test-database.test-support.ts';

/** Collects a subscriber's events and waits for the one that matches. */
function recorder(feed: ChangeFeed) {
  const events: ChangeEvent[] = [];
  const waiters: Array<() => void> = [];
  feed.subscribe((event) => {
    events.push(event);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    events,
    async next(match: (event: ChangeEvent) => boolean, timeoutMs: number): Promise<ChangeEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found !== undefined) return found;
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const dispose of cleanup.splice(0).reverse()) await dispose();
});
function track<T extends { close(): Promise<void> }>(resource: T): T {
  cleanup.push(() => resource.close());
  return resource;
}

for (const dialect of dialects) {
  describe(`change feed on ${dialect}`, () => {
    it('delivers a published change to every feed on the database, flagging the publisher’s own', async () => {
      const database = track(await openTestDatabase(dialect));
      const a = track(await createChangeFeed({ database, pollIntervalMs: 0, origin: 'replica-a' }));
      const b = track(await createChangeFeed({ database, pollIntervalMs: 0 }));
      const atA = recorder(a);
      const atB = recorder(b);
      await a.publish({ kind: 'tool', id: 'tool-1', version: 3 });
      expect(await atB.next((event) => event.kind === 'tool', 1_000)).toEqual({
        kind: 'tool',
        id: 'tool-1',
        version: 3,
        origin: 'replica-a',
        local: false,
      });
      expect(await atA.next((event) => event.kind === 'tool', 1_000)).toMatchObject({ local: true });
    });

    it('emits a poll resync when the registry changed without a notification', async () => {
      const database = track(await openTestDatabase(dialect));
      const feed = track(await createChangeFeed({ database, pollIntervalMs: 50 }));
      const events = recorder(feed);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events.events).toEqual([]); // nothing changed, nothing to say
      await createGatewayStore({ db: database.db }).create({
        name: 'quiet',
        transport: 'stdio',
        command: 'x',
      });
      expect(await events.next((event) => event.kind === 'resync', 2_000)).toEqual({
        kind: 'resync',
        reason: 'poll',
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events.events).toHaveLength(1); // once per change, not on every poll
    });

    it('validates what it publishes and stops delivering after unsubscribe and close', async () => {
      const database = track(await openTestDatabase(dialect));
      const feed = await createChangeFeed({ database, pollIntervalMs: 0 });
      const error = await feed.publish({ kind: 'widget' as 'tool', id: '', version: 1.5 }).catch((e) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({
        code: 'invalid-input',
        details: [
          {
            path: 'kind',
            message: 'must be one of "gateway", "tool", "resource", "prompt", "virtual-server", "config"',
          },
          { path: 'id', message: 'must be a string of 1 to 200 characters' },
          { path: 'version', message: 'must be a whole number' },
        ],
      });
      const seen: ChangeEvent[] = [];
      const unsubscribe = feed.subscribe((event) => seen.push(event));
      feed.subscribe(() => {
        throw new Error('a broken listener does not stop the others');
      });
      const kept = recorder(feed);
      await feed.publish({ kind: 'config', id: 'import', version: 1 });
      await kept.next((event) => event.kind === 'config', 1_000);
      expect(seen).toHaveLength(1);
      unsubscribe();
      await feed.publish({ kind: 'config', id: 'import', version: 2 });
      await kept.next((event) => event.kind === 'config' && event.version === 2, 1_000);
      expect(seen).toHaveLength(1);
      await feed.close();
      await feed.close();
      expect(() => feed.subscribe(() => {})).toThrow('closed');
    });
  });
}

describe('change feed on postgres only', () => {
  it('carries changes between two connections, and resyncs after its listen connection is killed', async () => {
    const databaseUrl = await createTestDatabase(inject('postgresUrl'));
    const first: Database = track(await createDatabase({ databaseUrl }));
    const second: Database = track(await createDatabase({ databaseUrl, migrate: false }));
    const a = track(await createChangeFeed({ database: first, pollIntervalMs: 0 }));
    const b = track(await createChangeFeed({ database: second, pollIntervalMs: 0, minReconnectDelayMs: 50 }));
    const atB = recorder(b);

    const started = Date.now();
    await a.publish({ kind: 'gateway', id: 'g-1', version: 1 });
    expect(await atB.next((event) => event.kind === 'gateway', 1_000)).toEqual({
      kind: 'gateway',
      id: 'g-1',
      version: 1,
      origin: a.origin,
      local: false,
    });
    expect(Date.now() - started).toBeLessThan(1_000);

    // Kill B's dedicated listen connection from A's side, as a failover or an admin would.
    const { rows } = await sql<{ terminated: boolean }>`
      select pg_terminate_backend(pid) as terminated from pg_stat_activity
      where application_name = ${`mcp-gateway-changes ${b.origin}`}
    `.execute(first.db);
    expect(rows).toEqual([{ terminated: true }]);
    expect(await atB.next((event) => event.kind === 'resync', 5_000)).toEqual({
      kind: 'resync',
      reason: 'reconnect',
    });

    // Listening again: the next change arrives.
    await a.publish({ kind: 'virtual-server', id: 'vs-1', version: 2 });
    expect(await atB.next((event) => event.kind === 'virtual-server', 1_000)).toMatchObject({ id: 'vs-1' });
  });

  it('refuses a database it did not open, and bad options', async () => {
    await expect(createChangeFeed({ database: { db: undefined } as unknown as Database })).rejects.toThrow(
      '`database` must be a database opened by createDatabase',
    );
    const database = track(await openTestDatabase('postgres'));
    await expect(createChangeFeed({ database, pollIntervalMs: -1 })).rejects.toThrow('pollIntervalMs');
  });
});
