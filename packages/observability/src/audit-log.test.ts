import { createRouter, RpcError, RpcErrorCode, type CallInfo, type Logger } from '@mcp-gateway/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditEntry, type AuditLog } from './audit-log.ts';
import { canonicalJson, canonicalJsonSha256 } from './canonical-json.ts';
import { createTestUpstream } from './in-memory-upstream.test-support.ts';
import { REDACTED } from './redact-secrets.ts';

const logs: AuditLog[] = [];
afterEach(async () => {
  for (const log of logs.splice(0)) await log.close();
});

/** A writer that keeps every batch it was given, and can be told to fail its next calls. */
function recordingWriter() {
  const batches: AuditEntry[][] = [];
  let failuresLeft = 0;
  let calls = 0;
  return {
    batches,
    get calls() {
      return calls;
    },
    failNext(times: number) {
      failuresLeft = times;
    },
    write: async (entries: AuditEntry[]) => {
      calls += 1;
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('database unavailable');
      }
      batches.push(entries);
    },
  };
}

function recordingLogger(): Logger & { lines: Array<{ level: string; message?: string }> } {
  const lines: Array<{ level: string; message?: string }> = [];
  const logger = {
    lines,
    debug: (_fields: Record<string, unknown>, message?: string) => lines.push({ level: 'debug', message }),
    info: (_fields: Record<string, unknown>, message?: string) => lines.push({ level: 'info', message }),
    warn: (_fields: Record<string, unknown>, message?: string) => lines.push({ level: 'warn', message }),
    error: (_fields: Record<string, unknown>, message?: string) => lines.push({ level: 'error', message }),
    child: () => logger,
  };
  return logger;
}

const until = async (condition: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

const toolCall = (args: unknown): CallInfo => ({
  method: 'tools/call',
  name: 'search__query',
  upstreamId: 'up-search',
  upstreamName: 'search',
  sessionId: 'session-1',
  params: { name: 'query', arguments: args as Record<string, unknown> },
});

function newLog(options: Parameters<typeof createAuditLog>[0]): AuditLog {
  const log = createAuditLog(options);
  logs.push(log);
  return log;
}

describe('createAuditLog', () => {
  it('records tool calls made through a real router, in batches, off the call path', async () => {
    const writer = recordingWriter();
    const log = newLog({
      write: writer.write,
      flushIntervalMs: 20,
      clock: () => Date.parse('2030-05-06T07:08:09Z'),
    });
    const upstream = createTestUpstream({
      id: 'up-search',
      name: 'search',
      tools: ['query'],
      callTool: (_name, args) => {
        if (args?.fail === true) throw new RpcError(RpcErrorCode.InvalidParams, 'bad query');
        return { content: [], isError: args?.empty === true };
      },
    });
    const router = createRouter({ hooks: [log.hooks] });
    router.setMembers([{ upstream, namespace: 'search' }]);
    await router.handle('tools/call', { name: 'search__query', arguments: { q: 'cats', limit: 3 } });
    await router.handle('tools/call', { name: 'search__query', arguments: { empty: true } });
    await expect(
      router.handle('tools/call', { name: 'search__query', arguments: { fail: true } }),
    ).rejects.toThrow();
    router.close();
    // Nothing is written on the call path: the entries wait for the timer.
    expect(writer.calls).toBe(0);
    expect(log.stats().queued).toBe(3);

    await until(() => writer.batches.length > 0);
    expect(writer.batches).toHaveLength(1);
    const [ok, toolError, error] = writer.batches[0] ?? [];
    expect(ok).toMatchObject({
      kind: 'tool-call',
      at: new Date('2030-05-06T07:08:09Z'),
      tool: 'search__query',
      upstream: 'search',
      upstreamId: 'up-search',
      outcome: 'ok',
      argumentsHash: canonicalJsonSha256({ limit: 3, q: 'cats' }),
    });
    expect(ok?.actor).toBeUndefined();
    expect(ok?.arguments).toBeUndefined();
    expect(typeof ok?.durationMs).toBe('number');
    expect(toolError?.outcome).toBe('tool-error');
    expect(error).toMatchObject({ outcome: 'error', errorCode: RpcErrorCode.InvalidParams });
    expect(log.stats()).toEqual({ queued: 0, written: 3, dropped: 0, failedBatches: 0, failedWrites: 0 });
  });

  it('records only tools/call', () => {
    const log = newLog({ write: recordingWriter().write });
    log.hooks.afterCall?.(
      { method: 'resources/read', upstreamId: 'u', upstreamName: 'u' },
      { durationMs: 1, ok: true },
    );
    expect(log.stats().queued).toBe(0);
  });

  it('hashes arguments stably under key order and stores them redacted when hashing is off', async () => {
    const writer = recordingWriter();
    const log = newLog({ write: writer.write, flushIntervalMs: 60_000 });
    log.hooks.afterCall?.(toolCall({ b: 1, a: { y: [1, { d: 2, c: 3 }], x: 'z' } }), {
      durationMs: 1,
      ok: true,
    });
    log.hooks.afterCall?.(toolCall({ a: { x: 'z', y: [1, { c: 3, d: 2 }] }, b: 1 }), {
      durationMs: 1,
      ok: true,
    });
    log.hooks.afterCall?.(toolCall({ a: { x: 'z', y: [{ c: 3, d: 2 }, 1] }, b: 1 }), {
      durationMs: 1,
      ok: true,
    });
    await log.flush();
    const [first, second, reordered] = writer.batches[0] ?? [];
    expect(first?.sessionId).toBe('session-1');
    expect(first?.argumentsHash).toMatch(/^[0-9a-f]{64}$/);
    expect(second?.argumentsHash).toBe(first?.argumentsHash);
    expect(reordered?.argumentsHash).not.toBe(first?.argumentsHash);
    expect(canonicalJson({ b: 1, a: { d: undefined, c: [2, undefined] } })).toBe(
      '{"a":{"c":[2,null]},"b":1}',
    );

    const plainWriter = recordingWriter();
    const plain = newLog({ write: plainWriter.write, hashArguments: false });
    plain.hooks.afterCall?.(toolCall({ q: 'cats', apiKey: 'k-123', nested: { Authorization: 'Bearer x' } }), {
      durationMs: 1,
      ok: true,
    });
    await plain.flush();
    expect(plainWriter.batches[0]?.[0]?.arguments).toEqual({
      q: 'cats',
      apiKey: REDACTED,
      nested: { Authorization: REDACTED },
    });
    expect(plainWriter.batches[0]?.[0]?.argumentsHash).toBeUndefined();
  });

  it('strips secrets from before/after of changes, whatever the case or depth', async () => {
    const writer = recordingWriter();
    const log = newLog({ write: writer.write });
    const before = {
      name: 'search',
      url: 'https://search.example',
      auth: {
        type: 'bearer',
        token: 's3cret',
        headers: { AUTHORIZATION: 'Basic x', 'X-Api-Key': 'k', Accept: '*/*' },
      },
      env: [
        { name: 'DB_PASSWORD', value: 'v' },
        { client_secret: 'c', api_key: 'a', apikey: 'b' },
      ],
    };
    log.recordChange({
      actor: 'admin@example.com',
      entityType: 'gateway',
      entityId: 'g-1',
      action: 'update',
      before,
      after: { ...before, name: 'search-2' },
    });
    before.name = 'mutated after recording';
    await log.close();

    const [entry] = writer.batches[0] ?? [];
    expect(entry).toMatchObject({
      kind: 'change',
      actor: 'admin@example.com',
      entityType: 'gateway',
      entityId: 'g-1',
      action: 'update',
    });
    expect(entry?.before).toEqual({
      name: 'search',
      url: 'https://search.example',
      auth: {
        type: 'bearer',
        token: REDACTED,
        headers: { AUTHORIZATION: REDACTED, 'X-Api-Key': REDACTED, Accept: '*/*' },
      },
      env: [
        { name: 'DB_PASSWORD', value: 'v' },
        { client_secret: REDACTED, api_key: REDACTED, apikey: REDACTED },
      ],
    });
    expect((entry?.after as { name: string }).name).toBe('search-2');
    expect(JSON.stringify(entry)).not.toMatch(/s3cret|Basic x/);
  });

  it('writes at most maxBatch entries per batch and does not wait for the timer once a batch is full', async () => {
    const writer = recordingWriter();
    const log = newLog({ write: writer.write, maxBatch: 4, flushIntervalMs: 60_000 });
    for (let i = 0; i < 10; i++)
      log.recordChange({ entityType: 'tool', entityId: `t-${i}`, action: 'create' });
    await until(() => writer.batches.length >= 3);
    expect(writer.batches.map((batch) => batch.length)).toEqual([4, 4, 2]);
    expect(writer.batches.flat().map((entry) => entry.entityId)).toEqual(
      Array.from({ length: 10 }, (_, i) => `t-${i}`),
    );
    // Less than a batch waits for the timer, or for close().
    log.recordChange({ entityType: 'tool', entityId: 't-10', action: 'create' });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(writer.batches).toHaveLength(3);
    await log.close();
    expect(writer.batches.map((batch) => batch.length)).toEqual([4, 4, 2, 1]);
  });

  it('retries a failing write with backoff, logs it, and never throws into the call', async () => {
    const writer = recordingWriter();
    const logger = recordingLogger();
    writer.failNext(2);
    const log = newLog({ write: writer.write, logger, flushIntervalMs: 5, retry: { baseDelayMs: 5 } });
    expect(() => log.hooks.afterCall?.(toolCall({ q: 1 }), { durationMs: 1, ok: true })).not.toThrow();
    await until(() => writer.batches.length === 1);
    expect(writer.calls).toBe(3);
    expect(log.stats()).toMatchObject({ written: 1, failedWrites: 2, failedBatches: 0, dropped: 0 });
    expect(logger.lines.filter((line) => line.message === 'audit batch not written; retrying')).toHaveLength(
      2,
    );
  });

  it('gives a batch up after its attempts, counts it, and closes without hanging on a dead store', async () => {
    const writer = recordingWriter();
    writer.failNext(1000);
    const log = newLog({ write: writer.write, maxBatch: 2, retry: { attempts: 2, baseDelayMs: 1 } });
    for (let i = 0; i < 5; i++)
      log.recordChange({ entityType: 'tool', entityId: `t-${i}`, action: 'delete' });
    await log.close();
    expect(writer.calls).toBe(2);
    expect(log.stats()).toEqual({ queued: 0, written: 0, dropped: 5, failedBatches: 1, failedWrites: 2 });
    log.recordChange({ entityType: 'tool', entityId: 'late', action: 'create' });
    expect(log.stats().dropped).toBe(6);
  });

  it('drops the oldest entries beyond maxQueue and counts them', async () => {
    const writer = recordingWriter();
    const log = newLog({ write: writer.write, maxQueue: 3, maxBatch: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 5; i++)
      log.recordChange({ entityType: 'tool', entityId: `t-${i}`, action: 'import' });
    expect(log.stats()).toMatchObject({ queued: 3, dropped: 2 });
    await log.flush();
    expect(writer.batches.flat().map((entry) => entry.entityId)).toEqual(['t-2', 't-3', 't-4']);
    expect(log.stats()).toMatchObject({ queued: 0, written: 3, dropped: 2 });
  });

  it('rejects invalid options at creation', () => {
    const write = async () => undefined;
    expect(() => createAuditLog({ write, maxBatch: 0 })).toThrow(/maxBatch/);
    expect(() => createAuditLog({ write, maxQueue: 1.5 })).toThrow(/maxQueue/);
    expect(() => createAuditLog({ write, retry: { attempts: 0 } })).toThrow(/retry.attempts/);
  });
});
