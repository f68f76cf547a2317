import { createRouter, RpcError, RpcErrorCode, type CallInfo, type CallOutcome } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { createCallStats } from './call-stats.ts';
import { createTestUpstream } from './in-memory-upstream.test-support.ts';

const toolCall = (name: string, upstreamId = 'up-1'): CallInfo => ({
  method: 'tools/call',
  name,
  upstreamId,
  upstreamName: upstreamId,
});
const ok = (durationMs: number): CallOutcome => ({ durationMs, ok: true });

describe('createCallStats', () => {
  it('gives percentiles within 5 % on known inputs', () => {
    const stats = createCallStats();
    // 1 … 1000 ms, shuffled deterministically: p50 = 500, p95 = 950, p99 = 990.
    for (let i = 0; i < 1000; i++) stats.hooks.afterCall?.(toolCall('slow'), ok(((i * 7919) % 1000) + 1));
    const figures = stats.tool('slow');
    expect(figures?.count).toBe(1000);
    expect(figures?.p50Ms).toBeGreaterThan(500 * 0.95);
    expect(figures?.p50Ms).toBeLessThan(500 * 1.05);
    expect(figures?.p95Ms).toBeGreaterThan(950 * 0.95);
    expect(figures?.p95Ms).toBeLessThan(950 * 1.05);
    expect(figures?.p99Ms).toBeGreaterThan(990 * 0.95);
    expect(figures?.p99Ms).toBeLessThanOrEqual(1000);
  });

  it('reports a single value exactly and sub-millisecond calls without rounding them to zero', () => {
    const stats = createCallStats();
    stats.hooks.afterCall?.(toolCall('once'), ok(42.5));
    expect(stats.tool('once')).toMatchObject({ p50Ms: 42.5, p95Ms: 42.5, p99Ms: 42.5 });
    for (let i = 0; i < 10; i++) stats.hooks.afterCall?.(toolCall('fast'), ok(0.2));
    expect(stats.tool('fast')?.p99Ms).toBe(0.2);
  });

  it('counts failures (errors and isError results) and remembers the last call and error', async () => {
    let now = Date.parse('2030-01-02T03:04:05.000Z');
    const stats = createCallStats({ clock: () => now });
    const upstream = createTestUpstream({
      id: 'up-search',
      name: 'search',
      tools: ['query'],
      callTool: (_name, args) => {
        if (args?.fail === 'rpc') throw new RpcError(RpcErrorCode.InvalidParams, 'bad query');
        return { content: [], isError: args?.fail === 'tool' };
      },
    });
    const router = createRouter({ hooks: [stats.hooks] });
    router.setMembers([{ upstream, namespace: 'search' }]);
    await router.handle('tools/call', { name: 'search__query', arguments: {} });
    await router.handle('tools/call', { name: 'search__query', arguments: { fail: 'tool' } });
    now += 1000;
    await expect(
      router.handle('tools/call', { name: 'search__query', arguments: { fail: 'rpc' } }),
    ).rejects.toThrow();
    await router.handle('tools/call', { name: 'search__query', arguments: {} });
    router.close();

    const figures = stats.tool('search__query');
    expect(figures).toMatchObject({
      count: 4,
      errors: 2,
      failureRate: 0.5,
      lastCallAt: '2030-01-02T03:04:06.000Z',
      lastErrorAt: '2030-01-02T03:04:06.000Z',
    });
    expect(figures?.lastError).toContain('bad query');
    expect(stats.upstream('up-search')).toMatchObject({ count: 4, errors: 2 });
    expect(stats.tool('search__other')).toBeUndefined();
    expect(stats.upstream('up-unknown')).toBeUndefined();
    expect(Object.keys(stats.all().tools)).toEqual(['search__query']);
    expect(Object.keys(stats.all().upstreams)).toEqual(['up-search']);
  });

  it('counts every forwarded method per upstream but only tools/call per tool', () => {
    const stats = createCallStats();
    stats.hooks.afterCall?.(
      { method: 'resources/read', name: 'mcpgw://files/a', upstreamId: 'files', upstreamName: 'files' },
      ok(3),
    );
    expect(stats.upstream('files')?.count).toBe(1);
    expect(stats.all().tools).toEqual({});
  });

  it('forgets the least recently called key beyond maxKeys', () => {
    const stats = createCallStats({ maxKeys: 2 });
    stats.hooks.afterCall?.(toolCall('a'), ok(1));
    stats.hooks.afterCall?.(toolCall('b'), ok(1));
    stats.hooks.afterCall?.(toolCall('a'), ok(1));
    stats.hooks.afterCall?.(toolCall('c'), ok(1));
    expect(Object.keys(stats.all().tools).sort()).toEqual(['a', 'c']);
    expect(stats.tool('a')?.count).toBe(2);
    expect(() => createCallStats({ maxKeys: 0 })).toThrow(/maxKeys/);
  });
});
