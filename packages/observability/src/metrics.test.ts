import { createRouter, RpcError, RpcErrorCode, type Router } from '@mcp-gateway/core';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestUpstream } from './in-memory-upstream.test-support.ts';
import { createMetrics, type Metrics } from './metrics.ts';

const routers: Router[] = [];
afterEach(() => {
  for (const router of routers.splice(0)) router.close();
});

/** A router over two in-memory upstreams: `search` (one tool that can fail) and `files`. */
function routerWith(metrics: Metrics): Router {
  const search = createTestUpstream({
    id: 'up-search',
    name: 'search',
    tools: ['query'],
    callTool: (_name, args) => {
      if (args?.fail === 'rpc') throw new RpcError(RpcErrorCode.InvalidParams, 'bad query');
      if (args?.fail === 'tool') return { content: [{ type: 'text', text: 'no results' }], isError: true };
      return { content: [{ type: 'text', text: 'found' }] };
    },
  });
  const files = createTestUpstream({ id: 'up-files', name: 'files', tools: ['read'] });
  const router = createRouter({ hooks: [metrics.hooks] });
  router.setMembers([
    { upstream: search, namespace: 'search' },
    { upstream: files, namespace: 'files' },
  ]);
  routers.push(router);
  return router;
}

async function scrape(metrics: Metrics): Promise<{ status: number; type: string | null; text: string }> {
  const response = await metrics.handler(new Request('http://gateway.test/metrics'));
  return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
}

/** The value of one exposition line, or undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('createMetrics', () => {
  it('exposes per-tool and per-upstream calls, errors and durations after calls through a real router', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const router = routerWith(metrics);
    await router.handle('tools/call', { name: 'search__query', arguments: {} });
    await router.handle('tools/call', { name: 'search__query', arguments: {} });
    await router.handle('tools/call', { name: 'search__query', arguments: { fail: 'tool' } });
    await expect(
      router.handle('tools/call', { name: 'search__query', arguments: { fail: 'rpc' } }),
    ).rejects.toThrow('bad query');
    await router.handle('tools/call', { name: 'files__read', arguments: {} });

    const { status, type, text } = await scrape(metrics);
    expect(status).toBe(200);
    expect(type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const tool = 'tool="search__query",upstream="search"';
    expect(sample(text, `mcp_gateway_tool_calls_total{${tool},outcome="ok"}`)).toBe(2);
    expect(sample(text, `mcp_gateway_tool_calls_total{${tool},outcome="tool_error"}`)).toBe(1);
    expect(sample(text, `mcp_gateway_tool_calls_total{${tool},outcome="error"}`)).toBe(1);
    expect(sample(text, `mcp_gateway_tool_call_errors_total{${tool},code="-32602"}`)).toBe(1);
    expect(sample(text, `mcp_gateway_tool_call_errors_total{${tool},code="tool_error"}`)).toBe(1);
    expect(sample(text, `mcp_gateway_tool_call_duration_seconds_count{${tool}}`)).toBe(4);
    expect(sample(text, `mcp_gateway_tool_call_duration_seconds_bucket{le="60",${tool}}`)).toBe(4);
    expect(sample(text, `mcp_gateway_tool_call_duration_seconds_bucket{le="0.0005",${tool}}`)).toBeDefined();
    expect(
      sample(text, 'mcp_gateway_tool_calls_total{tool="files__read",upstream="files",outcome="ok"}'),
    ).toBe(1);
    expect(
      sample(text, 'mcp_gateway_upstream_calls_total{upstream="search",method="tools/call",outcome="ok"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        'mcp_gateway_upstream_call_errors_total{upstream="search",method="tools/call",code="-32602"}',
      ),
    ).toBe(1);
    expect(
      sample(text, 'mcp_gateway_upstream_call_duration_seconds_count{upstream="files",method="tools/call"}'),
    ).toBe(1);
    expect(text).toContain('# TYPE mcp_gateway_tool_call_duration_seconds histogram');
  });

  it('counts downstream requests per transport, method and status', async () => {
    const metrics = createMetrics({ collectDefault: false, prefix: 'gw_' });
    metrics.observeHttpRequest({
      transport: 'streamable-http',
      method: 'tools/call',
      status: 200,
      durationMs: 12,
    });
    metrics.observeHttpRequest({
      transport: 'streamable-http',
      method: 'tools/call',
      status: 200,
      durationMs: 3,
    });
    metrics.observeHttpRequest({ transport: 'rest', method: 'GET', status: 404, durationMs: 1 });
    const { text } = await scrape(metrics);
    expect(
      sample(text, 'gw_requests_total{transport="streamable-http",method="tools/call",status="200"}'),
    ).toBe(2);
    expect(sample(text, 'gw_requests_total{transport="rest",method="GET",status="404"}')).toBe(1);
    expect(
      sample(text, 'gw_request_duration_seconds_sum{transport="streamable-http",method="tools/call"}'),
    ).toBe(0.015);
    expect(
      sample(
        text,
        'gw_request_duration_seconds_bucket{le="0.01",transport="streamable-http",method="tools/call"}',
      ),
    ).toBe(1);
  });

  it('caps distinct tool label values and counts the rest as _other', async () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    const metrics = createMetrics({ collectDefault: false, maxToolLabels: 3 });
    const upstream = createTestUpstream({ id: 'u', tools: names });
    const router = createRouter({ hooks: [metrics.hooks] });
    routers.push(router);
    router.setMembers([{ upstream, namespace: '' }]);
    for (const name of [...names, 'a', 'e']) await router.handle('tools/call', { name, arguments: {} });

    const { text } = await scrape(metrics);
    const tools = new Set(
      [...text.matchAll(/^mcp_gateway_tool_calls_total\{tool="([^"]+)"/gm)].map((match) => match[1]),
    );
    expect([...tools].sort()).toEqual(['_other', 'a', 'b', 'c']);
    expect(sample(text, 'mcp_gateway_tool_calls_total{tool="a",upstream="u",outcome="ok"}')).toBe(2);
    expect(sample(text, 'mcp_gateway_tool_calls_total{tool="_other",upstream="u",outcome="ok"}')).toBe(3);
  });

  it('reads tracked gauges at scrape time and sums several sources', async () => {
    const metrics = createMetrics({ collectDefault: false });
    let sessions = 2;
    let status = 'ready';
    metrics.track({
      sessions: () => sessions,
      openStreams: () => 3,
      stdioProcesses: () => 1,
      catalogSize: () => ({ tools: 40, prompts: 5, resources: 7 }),
      upstreams: () => [
        { name: 'search', status, reconnects: 4 },
        { name: 'files', status: 'ready', reconnects: 0 },
      ],
    });
    const untrack = metrics.track({ sessions: () => 10 });

    let { text } = await scrape(metrics);
    expect(sample(text, 'mcp_gateway_sessions')).toBe(12);
    expect(sample(text, 'mcp_gateway_open_streams')).toBe(3);
    expect(sample(text, 'mcp_gateway_stdio_processes')).toBe(1);
    expect(sample(text, 'mcp_gateway_catalog_items{kind="tools"}')).toBe(40);
    expect(sample(text, 'mcp_gateway_catalog_items{kind="resources"}')).toBe(7);
    expect(sample(text, 'mcp_gateway_upstream_status{upstream="search",status="ready"}')).toBe(1);
    expect(sample(text, 'mcp_gateway_upstream_status{upstream="search",status="reconnecting"}')).toBe(0);
    expect(sample(text, 'mcp_gateway_upstream_reconnects_total{upstream="search"}')).toBe(4);
    expect(text).toContain('# TYPE mcp_gateway_upstream_reconnects_total counter');

    sessions = 5;
    status = 'reconnecting';
    untrack();
    ({ text } = await scrape(metrics));
    expect(sample(text, 'mcp_gateway_sessions')).toBe(5);
    expect(sample(text, 'mcp_gateway_upstream_status{upstream="search",status="ready"}')).toBe(0);
    expect(sample(text, 'mcp_gateway_upstream_status{upstream="search",status="reconnecting"}')).toBe(1);
  });

  it('keeps serving when a tracked source throws', async () => {
    const metrics = createMetrics({ collectDefault: false });
    metrics.track({
      sessions: () => {
        throw new Error('gone');
      },
    });
    metrics.track({ sessions: () => 1 });
    const { status, text } = await scrape(metrics);
    expect(status).toBe(200);
    expect(sample(text, 'mcp_gateway_sessions')).toBe(1);
  });

  it('includes process memory and event-loop lag by default, in a registry passed in', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry });
    expect(metrics.registry).toBe(registry);
    const { text } = await scrape(metrics);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [\d.e-]+/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const metrics = createMetrics({ collectDefault: false });
    const head = await metrics.handler(new Request('http://gateway.test/metrics', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await metrics.handler(new Request('http://gateway.test/metrics', { method: 'POST' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('rejects an invalid prefix or tool label limit at creation', () => {
    expect(() => createMetrics({ collectDefault: false, prefix: 'mcp-gateway-' })).toThrow(/prefix/);
    expect(() => createMetrics({ collectDefault: false, maxToolLabels: 0 })).toThrow(/limit/);
  });
});
