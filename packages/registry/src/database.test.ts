import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '@mcp-gateway/testing';
import { sql } from 'kysely';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDatabase } from './database.ts';
import type { Database, DatabaseDialect } from './database.ts';
import { createGatewayStore } from './gateway-store.ts';
import { migrateToLatest } from './migrations.ts';
import { createQueryCounter } from './query-counter.ts';
import { RegistryError } from './registry-error.ts';

const dialects: DatabaseDialect[] = ['pglite', 'postgres'];

for (const dialect of dialects) {
  describe(`database on ${dialect}`, () => {
    const opened: Database[] = [];
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((database) => database.close()));
    });
    const track = (database: Database) => {
      opened.push(database);
      return database;
    };

    it('migrates on demand: once, then finds nothing left to do; every query goes through the plugins', async () => {
      const counter = createQueryCounter();
      const databaseUrl =
        dialect === 'postgres' ? await createTestDatabase(inject('postgresUrl')) : undefined;
      const { db } = track(await createDatabase({ databaseUrl, migrate: false, plugins: [counter] }));
      expect(counter.count()).toBe(0); // opening (including the reachability check) issues no Kysely query

      expect(await migrateToLatest(db)).toEqual({
        applied: [
          '0001_gateways',
          '0002_catalog',
          '0003_audit',
          '0004_protocol_era',
          '0005_ownership',
          '0006_passthrough_headers',
        ],
      });
      expect(counter.count()).toBeGreaterThan(0);
      await createGatewayStore({ db }).create({ name: 'kept', transport: 'stdio', command: 'a' });
      expect(await migrateToLatest(db)).toEqual({ applied: [] });

      counter.reset();
      expect((await createGatewayStore({ db }).list()).map((gateway) => gateway.name)).toEqual(['kept']);
      await sql`select 1`.execute(db);
      expect(counter.count()).toBe(2);
    });

    it('runs migrations by default, creating the gateways table with its columns', async () => {
      const databaseUrl =
        dialect === 'postgres' ? await createTestDatabase(inject('postgresUrl')) : undefined;
      const database = track(await createDatabase({ databaseUrl }));
      const { rows } = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
        select column_name, data_type, is_nullable from information_schema.columns
        where table_name = 'gateways' order by ordinal_position
      `.execute(database.db);
      expect(rows.map((row) => `${row.column_name} ${row.data_type} ${row.is_nullable}`)).toEqual([
        'id text NO',
        'name text NO',
        'transport text NO',
        'command text YES',
        'args jsonb NO',
        'env jsonb NO',
        'cwd text YES',
        'url text YES',
        'headers jsonb NO',
        'namespace text YES',
        'enabled boolean NO',
        'timeout_ms integer YES',
        'tags jsonb NO',
        'version integer NO',
        'created_at timestamp with time zone NO',
        'updated_at timestamp with time zone NO',
        'created_by text YES',
        'updated_by text YES',
        'protocol_era text YES',
        'owner_id text YES',
        'team_id text YES',
        'visibility text NO',
        'passthrough_headers jsonb NO',
      ]);
      await database.close();
      await database.close(); // closing twice is harmless
    });
  });
}

describe('database on postgres only', () => {
  it('lets several processes migrate the same database at once', async () => {
    const databaseUrl = await createTestDatabase(inject('postgresUrl'));
    const databases = await Promise.all([1, 2, 3].map(() => createDatabase({ databaseUrl })));
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        databases[0]!.db,
      );
      expect(rows).toEqual([
        { name: '0001_gateways' },
        { name: '0002_catalog' },
        { name: '0003_audit' },
        { name: '0004_protocol_era' },
        { name: '0005_ownership' },
        { name: '0006_passthrough_headers' },
      ]);
    } finally {
      await Promise.all(databases.map((database) => database.close()));
    }
  });

  it('reports an unreachable server promptly, naming host and port but not the password', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await createDatabase({
      databaseUrl: `postgres://app:s3cret-pw@127.0.0.1:${port}/registry`,
    }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.code).toBe('database-unreachable');
    expect(error.message).toContain(`cannot reach Postgres at 127.0.0.1:${port}/registry`);
    expect(error.message).not.toContain('s3cret-pw');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('gives up on a server that never answers after connectTimeoutMs', async () => {
    await using silent = await startSilentServer();
    const started = Date.now();
    const error = await createDatabase({
      databaseUrl: `postgres://app:s3cret-pw@127.0.0.1:${silent.port}/registry`,
      connectTimeoutMs: 300,
    }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(error).toMatchObject({ code: 'database-unreachable' });
    expect(error.message).toContain(`127.0.0.1:${silent.port}`);
    expect(error.message).not.toContain('s3cret-pw');
  });

  it('rejects a malformed URL without echoing it', async () => {
    const error = await createDatabase({ databaseUrl: 'not a url with s3cret-pw' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'database-unreachable' });
    expect(error.message).not.toContain('s3cret-pw');
    expect(error.cause).toBeUndefined();
  });
});

describe('database on pglite only', () => {
  it('keeps its data in ${dataDir}/pglite across close and reopen', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'registry-pglite-'));
    try {
      const first = await createDatabase({ dataDir });
      const created = await createGatewayStore({ db: first.db }).create({
        name: 'persisted',
        transport: 'stdio',
        command: 'mcp-files',
        args: ['--root', '/data'],
      });
      await first.close();
      expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);

      await using second = await createDatabase({ dataDir, migrate: false });
      expect(second.dialect).toBe('pglite');
      expect(await migrateToLatest(second.db)).toEqual({ applied: [] });
      expect(await createGatewayStore({ db: second.db }).get(created.id)).toEqual(created);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** A port nothing listens on: bind port 0, note the port, close. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** A TCP server that accepts connections and never says a word, like a black-holed database. */
async function startSilentServer(): Promise<{ port: number; [Symbol.asyncDispose](): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return {
    port: address.port,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('PGlite data dir lock', () => {
  it('refuses a second open of the same data dir while the first is open, and allows it after close', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'registry-lock-'));
    try {
      const first = await createDatabase({ dataDir: dir });
      await expect(createDatabase({ dataDir: dir })).rejects.toMatchObject({ code: 'database-unreachable' });
      // A lock left by a process that no longer exists is taken over.
      const { writeFile } = await import('node:fs/promises');
      await first.close();
      await writeFile(join(dir, 'pglite', '.mcp-gateway.lock'), '999999');
      const again = await createDatabase({ dataDir: dir });
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('audit store', () => {
  it('writes entries in a batch and reads them back newest first, filtered', async () => {
    const database = await createDatabase();
    try {
      const { createAuditStore } = await import('./audit-store.ts');
      const audit = createAuditStore({ db: database.db });
      await audit.insertMany([
        {
          at: new Date('2026-01-01T00:00:00Z'),
          kind: 'change',
          actor: 'ada',
          entityType: 'gateway',
          entityId: 'g1',
          action: 'create',
          after: { name: 'x' },
        },
        {
          at: new Date('2026-01-01T00:00:01Z'),
          kind: 'tool-call',
          tool: 'x__echo',
          upstream: 'x',
          outcome: 'ok',
          durationMs: 1.5,
          argumentsHash: 'abc',
        },
      ]);
      const all = await audit.query();
      expect(all.items.map((e) => e.kind)).toEqual(['tool-call', 'change']);
      const changes = await audit.query({ kind: 'change', actor: 'ada' });
      expect(changes.items).toEqual([expect.objectContaining({ entityId: 'g1', after: { name: 'x' } })]);
      const paged = await audit.query({ limit: 1 });
      expect(paged.items).toHaveLength(1);
      expect((await audit.query({ before: paged.nextBefore })).items.map((e) => e.kind)).toEqual(['change']);
    } finally {
      await database.close();
    }
  });
});
