import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, startPostgres } from './postgres-server.ts';

const savedEnv = { PG_BIN: process.env.PG_BIN, TEST_DATABASE_URL: process.env.TEST_DATABASE_URL };

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe('startPostgres', () => {
  afterEach(() => {
    for (const [key, value] of Object.entries(savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('starts a server on loopback, and stop() shuts it down and deletes its files', async () => {
    delete process.env.TEST_DATABASE_URL;
    const server = await startPostgres();
    expect(server.url).toMatch(/^postgresql:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    const [settings] = await query(
      server.url,
      "select current_setting('fsync') as fsync, current_setting('data_directory') as dir",
    );
    expect(settings?.fsync).toBe('off');
    const dataDir = String(settings?.dir);
    expect(existsSync(dataDir)).toBe(true);

    await server.stop();
    await server.stop(); // idempotent
    expect(existsSync(dataDir)).toBe(false);
    await expect(query(server.url, 'select 1')).rejects.toThrow();
  });

  it('creates a fresh database in TEST_DATABASE_URL instead of starting a server, and drops it on stop', async () => {
    delete process.env.TEST_DATABASE_URL;
    await using outer = await startPostgres();
    process.env.TEST_DATABASE_URL = outer.url;

    const inner = await startPostgres();
    const name = new URL(inner.url).pathname.slice(1);
    expect(new URL(inner.url).port).toBe(new URL(outer.url).port);
    expect(await query(inner.url, 'select current_database() as name')).toEqual([{ name }]);

    const other = await createTestDatabase(outer.url);
    expect(other).not.toBe(inner.url);

    await inner.stop();
    expect(await query(outer.url, `select 1 from pg_database where datname = '${name}'`)).toEqual([]);
  });

  it('says what to install when the server binaries are missing', async () => {
    delete process.env.TEST_DATABASE_URL;
    process.env.PG_BIN = '/nonexistent/postgresql/bin';
    await expect(startPostgres()).rejects.toThrow(
      'PostgreSQL server binaries not found (initdb, postgres). Install them (Debian/Ubuntu: apt-get install -y ' +
        'postgresql) or set PG_BIN to their folder.',
    );
  });
});
