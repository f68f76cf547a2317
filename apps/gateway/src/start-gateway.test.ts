import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { createQueryCounter } from '@mcp-gateway/registry';
import {
  startHttpFixture,
  startSseFixture,
  stdioFixtureCommand,
  type HttpFixture,
} from '@mcp-gateway/testing';
import type { GatewayInput } from './config/index.ts';
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { capturedLogger, connectClient, testConfig, waitFor, waitForReadyUpstreams } from './test-support.ts';

type ToolResult = {
  content: Array<{ type: string; text?: string }>;
  isError?: boolean;
  structuredContent?: unknown;
};

function text(result: unknown): string {
  return (result as ToolResult).content.map((c) => c.text ?? '').join('');
}

function stdioGateway(name: string, extra: Partial<GatewayInput> = {}): GatewayInput {
  const { command, args } = stdioFixtureCommand(name);
  return { name, transport: 'stdio', command, args, env: {}, headers: {}, enabled: true, tags: [], ...extra };
}

function httpGateway(name: string, url: string, extra: Partial<GatewayInput> = {}): GatewayInput {
  return {
    name,
    transport: 'streamable-http',
    url,
    args: [],
    env: {},
    headers: {},
    enabled: true,
    tags: [],
    ...extra,
  };
}

describe('gateway federating a stdio and a streamable-HTTP upstream', () => {
  let http: HttpFixture;
  let sse: HttpFixture;
  let gateway: RunningGateway;
  let client: Client;
  let config: Awaited<ReturnType<typeof testConfig>>;
  const counter = createQueryCounter();
  const captured = capturedLogger();

  beforeAll(async () => {
    http = await startHttpFixture({ name: 'alpha-http' });
    sse = await startSseFixture({ name: 'gamma-sse' });
    config = await testConfig();
    gateway = await startGateway({
      config,
      logger: captured.logger,
      databasePlugins: [counter],
      pageSize: 7,
      gateways: [
        httpGateway('alpha-http', http.url),
        stdioGateway('beta-stdio'),
        { ...httpGateway('gamma-sse', sse.url), transport: 'sse' },
      ],
    });
    await waitForReadyUpstreams(gateway, 3);
    client = await connectClient(gateway);
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.close();
    await http?.close();
    await sse?.close();
    await config?.[Symbol.asyncDispose]();
  });

  it('lists the merged catalog across every page, with namespaced names', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const upstream of ['alpha-http', 'beta-stdio', 'gamma-sse']) {
      expect(names).toContain(`${upstream}__echo`);
      expect(names).toContain(`${upstream}__bulk_29`);
    }
    expect(new Set(names).size).toBe(names.length);
    // pageSize 7 forces pagination of the merged list: the SDK walked every page.
    const firstPage = (await client.request({ method: 'tools/list', params: {} })) as {
      tools: unknown[];
      nextCursor?: string;
    };
    expect(firstPage.tools).toHaveLength(7);
    expect(firstPage.nextCursor).toEqual(expect.any(String));
  });

  it('calls the same tool name on two upstreams and reaches each', async () => {
    expect(text(await client.callTool({ name: 'alpha-http__whoami', arguments: {} }))).toBe('alpha-http');
    expect(text(await client.callTool({ name: 'beta-stdio__whoami', arguments: {} }))).toBe('beta-stdio');
    expect(text(await client.callTool({ name: 'gamma-sse__whoami', arguments: {} }))).toBe('gamma-sse');
    const sum = await client.callTool({ name: 'beta-stdio__add', arguments: { a: 2, b: 3 } });
    expect((sum as ToolResult).structuredContent).toEqual({ sum: 5 });
  });

  it('reads resources by namespaced URI, renders prompts and completes arguments', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain('mcpgw://alpha-http/fixture://info');
    expect(uris).toContain('mcpgw://beta-stdio/fixture://info');

    const info = await client.readResource({ uri: 'mcpgw://beta-stdio/fixture://info' });
    expect(info.contents[0]).toMatchObject({
      uri: 'mcpgw://beta-stdio/fixture://info',
      text: 'fixture beta-stdio',
    });

    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('mcpgw://alpha-http/fixture://items/{id}');
    const item = await client.readResource({ uri: 'mcpgw://alpha-http/fixture://items/2' });
    expect(item.contents[0]).toMatchObject({ text: 'item 2 from alpha-http' });

    const prompt = await client.getPrompt({ name: 'beta-stdio__greeting', arguments: { name: 'Ada' } });
    expect(prompt.messages[0]?.content).toMatchObject({ type: 'text', text: 'Hello, Ada!' });

    const completion = await client.complete({
      ref: { type: 'ref/prompt', name: 'alpha-http__greeting' },
      argument: { name: 'name', value: 'Al' },
    });
    expect(completion.completion.values).toEqual(['Alice', 'Albert']);
    const templateCompletion = await client.complete({
      ref: { type: 'ref/resource', uri: 'mcpgw://beta-stdio/fixture://items/{id}' },
      argument: { name: 'id', value: '' },
    });
    expect(templateCompletion.completion.values).toEqual(['1', '2', '3']);
  });

  it('answers unknown names with clear JSON-RPC errors', async () => {
    await expect(client.callTool({ name: 'nope__echo', arguments: {} })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('Unknown tool: nope__echo'),
    });
    await expect(client.readResource({ uri: 'mcpgw://nope/fixture://info' })).rejects.toMatchObject({
      code: -32602,
      message: expect.stringContaining('Resource not found'),
    });
    await expect(client.getPrompt({ name: 'missing' })).rejects.toMatchObject({ code: -32602 });
  });

  it('issues no database query for tools/list, tools/call, prompts/get and resources/read', async () => {
    counter.reset();
    await client.listTools();
    await client.callTool({ name: 'alpha-http__echo', arguments: { message: 'hi' } });
    await client.callTool({ name: 'beta-stdio__echo', arguments: { message: 'hi' } });
    await client.getPrompt({ name: 'alpha-http__greeting', arguments: { name: 'Bob' } });
    await client.readResource({ uri: 'mcpgw://beta-stdio/fixture://info' });
    expect(counter.count()).toBe(0);
    // The counter is live: a REST read does query.
    await fetch(`${gateway.url}/v1/gateways`);
    expect(counter.count()).toBeGreaterThan(0);
  });

  it("relays progress notifications with the caller's token", async () => {
    const updates: number[] = [];
    const result = await client.callTool(
      { name: 'alpha-http__slow', arguments: { ms: 300 } },
      {
        onprogress: (progress) => updates.push(progress.progress),
      },
    );
    expect(text(result)).toBe('slept 300');
    expect(updates.length).toBeGreaterThan(0);
  });

  it('re-lists after an upstream list_changed and tells the client', async () => {
    let notified = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      notified += 1;
    });
    await client.callTool({ name: 'beta-stdio__add_tool', arguments: { name: 'fresh' } });
    await waitFor('tools/list_changed at the client', () => (notified > 0 ? true : undefined));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('beta-stdio__fresh');
  });

  it("logs the stdio upstream's stderr", async () => {
    await waitFor('the stdio fixture start line in the logs', () =>
      captured.lines().some((line) => String(line.msg).includes('fixture beta-stdio started'))
        ? true
        : undefined,
    );
  });
});

describe('observability', () => {
  it('serves Prometheus metrics and per-upstream call stats, and logs one line per MCP request', async () => {
    await using config = await testConfig();
    const captured = capturedLogger();
    const gateway = await startGateway({ config, logger: captured.logger, gateways: [stdioGateway('obs')] });
    try {
      await waitForReadyUpstreams(gateway, 1);
      await using client = await connectClient(gateway);
      await client.callTool({ name: 'obs__echo', arguments: { message: 'x' } });
      await client.callTool({ name: 'obs__fail', arguments: {} });
      await expect(client.callTool({ name: 'obs__nope', arguments: {} })).rejects.toThrow();

      const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
      expect(metrics).toMatch(/mcp_gateway_[a-z_]*calls_total\{[^}]*tool="obs__echo"[^}]*\} 1/);
      expect(metrics).toContain('process_resident_memory_bytes');

      const record = (await gateway.store.list())[0]!;
      const body = (await (await fetch(`${gateway.url}/v1/gateways/${record.id}`)).json()) as {
        stats: { count: number; errors: number; p50Ms: number };
      };
      expect(body.stats.count).toBe(2);
      expect(body.stats.p50Ms).toBeGreaterThan(0);

      const lines = captured
        .lines()
        .filter((line) => line.msg === 'mcp request' || line.msg === 'mcp request failed');
      expect(lines).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            method: 'tools/call',
            target: 'obs__echo',
            upstream: 'obs',
            outcome: 'ok',
            transport: 'streamable-http',
          }),
          expect.objectContaining({ method: 'tools/call', target: 'obs__fail', outcome: 'tool-error' }),
          expect.objectContaining({
            method: 'tools/call',
            target: 'obs__nope',
            outcome: 'error',
            errorCode: -32602,
          }),
        ]),
      );
    } finally {
      await gateway.close();
    }
  });
});
