import { createRouter, RpcError, RpcErrorCode, type Router } from '@mcp-gateway/core';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestUpstream } from './in-memory-upstream.test-support.ts';
import { startLoopbackServer, type LoopbackServer } from './loopback-server.test-support.ts';
import { traceExportersFromEnv } from './tracing-config.ts';
import { createTracing, type Tracing } from './tracing.ts';

const INCOMING_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const INCOMING_PARENT_ID = '00f067aa0ba902b7';
const INCOMING = `00-${INCOMING_TRACE_ID}-${INCOMING_PARENT_ID}-01`;

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Tracing into memory, and a router whose `search` upstream fetches the loopback server through injectFetch. */
function tracedRouter(server: LoopbackServer): {
  tracing: Tracing;
  exporter: InMemorySpanExporter;
  router: Router;
} {
  const exporter = new InMemorySpanExporter();
  const tracing = createTracing({ env: {}, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const fetch = tracing.injectFetch(globalThis.fetch);
  const upstream = createTestUpstream({
    id: 'up-search',
    name: 'search',
    tools: ['query', 'broken'],
    callTool: async (name, args) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const response = await fetch(
        `${server.url}/${name}?call=${(args?.call as string | number | undefined) ?? ''}`,
      );
      await response.text();
      if (name === 'broken') throw new RpcError(RpcErrorCode.InvalidParams, 'broken tool');
      return { content: [] };
    },
  });
  const router = createRouter({ hooks: [tracing.hooks] });
  router.setMembers([{ upstream, namespace: 'search' }]);
  cleanups.push(
    () => router.close(),
    () => tracing.shutdown(),
  );
  return { tracing, exporter, router };
}

const spanId = (span: ReadableSpan) => span.spanContext().spanId;
const traceId = (span: ReadableSpan) => span.spanContext().traceId;
const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('createTracing', () => {
  it('is off by default and then a no-op that leaves fetch untouched', async () => {
    const tracing = createTracing({ env: {} });
    expect(tracing.enabled).toBe(false);
    expect(tracing.hooks).toEqual({});
    expect(tracing.injectFetch(globalThis.fetch)).toBe(globalThis.fetch);
    const span = tracing.startRequestSpan({
      transport: 'streamable-http',
      method: 'tools/call',
      traceparent: INCOMING,
    });
    expect(span.run(() => 7)).toBe(7);
    expect(span.traceparent()).toBeUndefined();
    span.end({ ok: true });
    await tracing.shutdown();
  });

  it('is turned on only by the standard OTEL_* variables', () => {
    expect(traceExportersFromEnv({})).toEqual([]);
    expect(traceExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' })).toEqual(['otlp']);
    expect(traceExportersFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual(['otlp']);
    expect(traceExportersFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' })).toEqual([
      'otlp',
    ]);
    expect(traceExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' })).toEqual([]);
    expect(
      traceExportersFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
    ).toEqual([]);
    expect(traceExportersFromEnv({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toEqual(['otlp', 'console']);
    const disabled = createTracing({
      env: { OTEL_SDK_DISABLED: 'TRUE' },
      spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    });
    expect(disabled.enabled).toBe(false);
  });

  it('opens a request span with a child span per upstream call and sends the child as traceparent upstream', async () => {
    await using server = await startLoopbackServer();
    const { tracing, exporter, router } = tracedRouter(server);
    const fetch = tracing.injectFetch(globalThis.fetch);

    const request = tracing.startRequestSpan({
      transport: 'streamable-http',
      method: 'tools/call',
      name: 'search__query',
      sessionId: 'session-1',
      requestId: 7,
      traceparent: INCOMING,
      tracestate: 'vendor=value',
    });
    await request.run(async () => {
      await router.handle('tools/call', { name: 'search__query', arguments: { call: 1 } });
      await expect(
        router.handle('tools/call', { name: 'search__broken', arguments: { call: 2 } }),
      ).rejects.toThrow('broken tool');
      // A REST call the request makes itself carries the request's own span.
      await (await fetch(`${server.url}/rest-tool`)).text();
    });
    request.end({ ok: true });

    const spans = exporter.getFinishedSpans();
    const server_ = spans.find((span) => span.kind === SpanKind.SERVER);
    const clients = spans.filter((span) => span.kind === SpanKind.CLIENT);
    expect(server_?.name).toBe('tools/call search__query');
    expect(server_?.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'search__query',
      'mcp_gateway.transport': 'streamable-http',
      'mcp.session.id': 'session-1',
      'jsonrpc.request.id': '7',
    });
    expect(traceId(server_!)).toBe(INCOMING_TRACE_ID);
    expect(parentId(server_!)).toBe(INCOMING_PARENT_ID);
    expect(request.traceparent()).toBe(`00-${INCOMING_TRACE_ID}-${spanId(server_!)}-01`);

    expect(clients.map((span) => span.name)).toEqual([
      'tools/call search__query',
      'tools/call search__broken',
    ]);
    for (const client of clients) {
      expect(traceId(client)).toBe(INCOMING_TRACE_ID);
      expect(parentId(client)).toBe(spanId(server_!));
      expect(client.attributes).toMatchObject({
        'mcp_gateway.upstream.id': 'up-search',
        'mcp_gateway.upstream.name': 'search',
      });
    }
    const [okCall, failedCall] = clients;
    expect(okCall?.status.code).toBe(SpanStatusCode.UNSET);
    expect(failedCall?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failedCall?.attributes).toMatchObject({
      'error.type': '-32602',
      'rpc.response.status_code': '-32602',
    });

    const headersOf = (path: string) =>
      server.requests.find((received) => received.path.startsWith(path))?.headers;
    expect(headersOf('/query')?.traceparent).toBe(`00-${INCOMING_TRACE_ID}-${spanId(okCall!)}-01`);
    expect(headersOf('/query')?.tracestate).toBe('vendor=value');
    expect(headersOf('/broken')?.traceparent).toBe(`00-${INCOMING_TRACE_ID}-${spanId(failedCall!)}-01`);
    expect(headersOf('/rest-tool')?.traceparent).toBe(`00-${INCOMING_TRACE_ID}-${spanId(server_!)}-01`);
  });

  it('starts a new trace without traceparent and keeps concurrent requests apart', async () => {
    await using server = await startLoopbackServer();
    const { tracing, exporter, router } = tracedRouter(server);
    const one = tracing.startRequestSpan({
      transport: 'websocket',
      method: 'tools/call',
      name: 'search__query',
    });
    const two = tracing.startRequestSpan({ transport: 'sse', method: 'tools/call', name: 'search__query' });
    await Promise.all([
      one.run(() => router.handle('tools/call', { name: 'search__query', arguments: { call: 'one' } })),
      two.run(() => router.handle('tools/call', { name: 'search__query', arguments: { call: 'two' } })),
    ]);
    one.end({ ok: true });
    two.end({ ok: false, errorCode: -32603 });
    one.end({ ok: false }); // ignored: already ended

    const spans = exporter.getFinishedSpans();
    const servers = spans.filter((span) => span.kind === SpanKind.SERVER);
    expect(servers).toHaveLength(2);
    const [first, second] = servers as [ReadableSpan, ReadableSpan];
    expect(traceId(first)).not.toBe(traceId(second));
    expect(first.parentSpanContext).toBeUndefined();
    expect(first.status.code).toBe(SpanStatusCode.UNSET);
    expect(second.status.code).toBe(SpanStatusCode.ERROR);
    expect(second.attributes['error.type']).toBe('-32603');
    for (const call of ['one', 'two']) {
      const received = server.requests.find((request) => request.path.endsWith(`call=${call}`));
      const server_ = call === 'one' ? first : second;
      const child = spans.find(
        (span) => span.kind === SpanKind.CLIENT && span.parentSpanContext?.spanId === spanId(server_),
      );
      expect(received?.headers.traceparent).toBe(`00-${traceId(server_)}-${spanId(child!)}-01`);
    }
  });

  it('parents the fetches of parallel calls in one request to the request span, never to a sibling call', async () => {
    await using server = await startLoopbackServer();
    const { tracing, exporter, router } = tracedRouter(server);
    const request = tracing.startRequestSpan({ transport: 'rpc', method: 'batch' });
    await request.run(() =>
      Promise.all([
        router.handle('tools/call', { name: 'search__query', arguments: { call: 'a' } }),
        router.handle('tools/call', { name: 'search__query', arguments: { call: 'b' } }),
      ]),
    );
    request.end({ ok: true });
    const server_ = exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER)!;
    const clients = exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CLIENT);
    expect(clients.map(parentId)).toEqual([spanId(server_), spanId(server_)]);
    expect(server.requests.map((received) => received.headers.traceparent)).toEqual([
      `00-${traceId(server_)}-${spanId(server_)}-01`,
      `00-${traceId(server_)}-${spanId(server_)}-01`,
    ]);
  });

  it('keeps a traceparent the caller set itself', async () => {
    await using server = await startLoopbackServer();
    const { tracing } = tracedRouter(server);
    const fetch = tracing.injectFetch(globalThis.fetch);
    const request = tracing.startRequestSpan({ transport: 'rest', method: 'POST' });
    await request.run(async () => {
      await (await fetch(server.url, { headers: { traceparent: INCOMING } })).text();
      await (await fetch(new Request(`${server.url}/as-request`, { method: 'POST', body: 'x' }))).text();
    });
    request.end({ ok: true });
    expect(server.requests[0]?.headers.traceparent).toBe(INCOMING);
    expect(server.requests[1]?.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(server.requests[1]?.body).toBe('x');
  });

  it('exports spans over OTLP/HTTP to the endpoint and with the headers the environment names', async () => {
    await using collector = await startLoopbackServer();
    const tracing = createTracing({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=abc%20def',
        OTEL_SERVICE_NAME: 'gateway-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '60000',
      },
    });
    expect(tracing.enabled).toBe(true);
    const span = tracing.startRequestSpan({ transport: 'stdio', method: 'prompts/get', name: 'greet' });
    span.end({ ok: true });
    await tracing.shutdown();

    expect(collector.requests).toHaveLength(1);
    const [export_] = collector.requests;
    expect(export_?.method).toBe('POST');
    expect(export_?.path).toBe('/v1/traces');
    expect(export_?.headers['content-type']).toBe('application/json');
    expect(export_?.headers['x-collector-key']).toBe('abc def');
    expect(export_?.body).toContain('"prompts/get greet"');
    expect(export_?.body).toContain('"gateway-under-test"');
  });
});
