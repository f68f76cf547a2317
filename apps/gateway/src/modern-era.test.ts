import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  runConformanceSuite,
  startConformanceHttpFixture,
  startHttpFixture,
  type ConformanceHttpFixture,
  type HttpFixture,
} from '@mcp-gateway/testing';
import { startGateway, type RunningGateway } from './start-gateway.ts';
import { testConfig, waitForReadyUpstreams } from './test-support.ts';

/**
 * The 2026-07-28 era on the same /mcp endpoint as the 2025 era: stateless requests (server/discover, _meta per
 * request, Mcp-Method/Mcp-Name headers) served by the SDK's per-request handler with the gateway's router behind it,
 * in front of a legacy upstream (era bridging).
 */
describe('2026-07-28 clients on /mcp', () => {
  let web: HttpFixture;
  let gateway: RunningGateway;
  let config: Awaited<ReturnType<typeof testConfig>>;

  beforeAll(async () => {
    web = await startHttpFixture({ name: 'web' });
    config = await testConfig();
    gateway = await startGateway({
      config,
      gateways: [
        {
          name: 'web',
          transport: 'streamable-http',
          url: web.url,
          args: [],
          env: {},
          headers: {},
          enabled: true,
          tags: [],
        },
      ],
    });
    await waitForReadyUpstreams(gateway, 1);
  });

  afterAll(async () => {
    await gateway?.close();
    await web?.close();
    await config?.[Symbol.asyncDispose]();
  });

  it('negotiates the modern era and lists, calls and relays progress through a legacy upstream', async () => {
    const client = new Client(
      { name: 'modern', version: '1' },
      { capabilities: {}, versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('web__echo');
      const echo = await client.callTool({ name: 'web__echo', arguments: { message: 'hi' } });
      expect(echo.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
      const progress: number[] = [];
      await client.callTool(
        { name: 'web__slow', arguments: { ms: 100 } },
        { onprogress: (p) => progress.push(p.progress) },
      );
      expect(progress).toEqual([0, 1, 2, 3]);
    } finally {
      await client.close();
    }
  });

  it("bridges a legacy upstream's elicitation and sampling into input_required rounds for a modern client", async () => {
    const client = new Client(
      { name: 'modern-interactive', version: '1' },
      {
        capabilities: { elicitation: { form: {} }, sampling: {} },
        versionNegotiation: { mode: { pin: '2026-07-28' } },
      },
    );
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', async (request) => {
      asked.push(`elicit:${String(request.params.message)}`);
      return { action: 'accept', content: { answer: 'forty-two' } };
    });
    client.setRequestHandler('sampling/createMessage', async () => {
      asked.push('sample');
      return { role: 'assistant', content: { type: 'text', text: 'a modern model' }, model: 'm' };
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
    try {
      expect(client.getProtocolEra()).toBe('modern');
      const answer = await client.callTool({ name: 'web__ask_user', arguments: { question: 'meaning?' } });
      expect(JSON.parse((answer.content as Array<{ text: string }>)[0]!.text)).toEqual({
        action: 'accept',
        content: { answer: 'forty-two' },
      });
      const sampled = await client.callTool({ name: 'web__ask_model', arguments: { prompt: 'hi' } });
      expect((sampled.content as Array<{ text: string }>)[0]!.text).toContain('a modern model');
      expect(asked).toEqual(['elicit:meaning?', 'sample']);
    } finally {
      await client.close();
    }
  });

  it('refuses a tampered or replayed requestState', async () => {
    const post = (body: unknown) =>
      fetch(gateway.mcpUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'web__ask_user',
        },
        body: JSON.stringify(body),
      });
    const meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
      'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    };
    const first = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'web__ask_user', arguments: { question: 'q' }, _meta: meta },
    });
    const round = (await first.json()) as {
      result: { resultType: string; requestState: string; inputRequests: Record<string, unknown> };
    };
    expect(round.result.resultType).toBe('input_required');
    const key = Object.keys(round.result.inputRequests)[0]!;
    const retry = (requestState: string) =>
      post({
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: {
          name: 'web__ask_user',
          arguments: { question: 'q' },
          _meta: meta,
          requestState,
          inputResponses: { [key]: { action: 'accept', content: { answer: 'x' } } },
        },
      });
    const tampered = (await (await retry(`${round.result.requestState.slice(0, -2)}xx`)).json()) as {
      error: { code: number };
    };
    expect(tampered.error.code).toBe(-32602);
    const good = (await (await retry(round.result.requestState)).json()) as {
      result: { content: unknown[] };
    };
    expect(good.result.content).toEqual([
      { type: 'text', text: JSON.stringify({ action: 'accept', content: { answer: 'x' } }) },
    ]);
    const replayed = (await (await retry(round.result.requestState)).json()) as {
      error: { code: number; message: string };
    };
    expect(replayed.error.code).toBe(-32602);
  });

  it('answers GET and DELETE from modern clients with 405, and a legacy client on the same URL still gets a session', async () => {
    const get = await fetch(gateway.mcpUrl, {
      headers: { 'mcp-protocol-version': '2026-07-28', accept: 'text/event-stream' },
    });
    expect(get.status).toBe(405);
    const del = await fetch(gateway.mcpUrl, {
      method: 'DELETE',
      headers: { 'mcp-protocol-version': '2026-07-28' },
    });
    expect(del.status).toBe(405);
    const legacy = new Client({ name: 'legacy', version: '1' }, { capabilities: {} });
    const transport = new StreamableHTTPClientTransport(new URL(gateway.mcpUrl));
    await legacy.connect(transport);
    expect(legacy.getProtocolEra()).toBe('legacy');
    expect(transport.sessionId).toEqual(expect.any(String));
    await legacy.close();
  });

  it('refuses a header that disagrees with the body with 400 and -32020', async () => {
    const response = await fetch(gateway.mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'web__whoami',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: {
          name: 'web__echo',
          arguments: { message: 'x' },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
            'io.modelcontextprotocol/clientInfo': { name: 'curl', version: '1' },
          },
        },
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { id: unknown; error: { code: number } };
    expect(body.error.code).toBe(-32020);
  });
});

/** The pre-release suite's 2026-07-28 scenarios, through the gateway in front of our (2025-era) fixture. */
describe('conformance 0.2.0-alpha.12 --spec-version 2026-07-28 through the gateway', () => {
  let fixture: ConformanceHttpFixture;
  afterAll(async () => {
    await fixture?.close();
  });

  it('passes every scenario the fixture can exercise', async () => {
    fixture = await startConformanceHttpFixture();
    await using config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [
        {
          name: 'c',
          transport: 'streamable-http',
          url: fixture.url,
          namespace: '',
          args: [],
          env: {},
          headers: {},
          enabled: true,
          tags: [],
        },
      ],
    });
    try {
      await waitForReadyUpstreams(gateway, 1);
      const result = await runConformanceSuite({
        url: gateway.mcpUrl,
        version: '0.2.0-alpha.12',
        specVersion: '2026-07-28',
        suite: 'all',
        timeoutMs: 240_000,
      });
      const passed = result.scenarios.filter((s) => s.passed).map((s) => s.name);
      // Scenarios the 0.1.16-era fixture cannot exercise (tools it does not have: input-required results,
      // x-mcp-header tools, the 2020-12 composition keywords) are left out of this list.
      expect(passed).toEqual(
        expect.arrayContaining([
          'completion-complete',
          'tools-list',
          'tools-call-simple-text',
          'tools-call-image',
          'tools-call-audio',
          'tools-call-embedded-resource',
          'tools-call-mixed-content',
          'tools-call-error',
          'tools-call-with-progress',
          'server-sse-multiple-streams',
          'resources-list',
          'resources-read-text',
          'resources-read-binary',
          'resources-templates-read',
          'sep-2164-resource-not-found',
          'prompts-list',
          'prompts-get-simple',
          'prompts-get-with-args',
          'prompts-get-embedded-resource',
          'prompts-get-with-image',
          'dns-rebinding-protection',
          'caching',
          'http-header-validation',
          'input-required-result-missing-input-response',
          'input-required-result-unsupported-methods',
          'input-required-result-ignore-extra-params',
          'input-required-result-validate-input',
        ]),
      );
    } finally {
      await gateway.close();
    }
  }, 300_000);
});

describe('a 2025-era client in front of a 2026-07-28 upstream', () => {
  it('negotiates the modern era upstream and turns its input_required rounds into elicitation requests to the client', async () => {
    const modernUpstream = await startHttpFixture({ name: 'modern-up', era: 'modern' });
    await using config = await testConfig();
    const gateway = await startGateway({
      config,
      gateways: [
        {
          name: 'modern-up',
          transport: 'streamable-http',
          url: modernUpstream.url,
          protocolEra: 'auto',
          args: [],
          env: {},
          headers: {},
          enabled: true,
          tags: [],
        },
      ],
    });
    try {
      await waitForReadyUpstreams(gateway, 1);
      const record = (await gateway.store.list())[0]!;
      expect(gateway.manager.status(record.id)?.protocolVersion).toBe('2026-07-28');
      const client = new Client(
        { name: 'legacy', version: '1' },
        { capabilities: { elicitation: { form: {} } } },
      );
      const questions: string[] = [];
      client.setRequestHandler('elicitation/create', async (request) => {
        questions.push(String(request.params.message));
        return { action: 'accept', content: { ok: true } };
      });
      await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
      try {
        expect(client.getProtocolEra()).toBe('legacy');
        const echo = await client.callTool({ name: 'modern-up__echo', arguments: { message: 'hi' } });
        expect(echo.content).toEqual([{ type: 'text', text: 'Echo: hi' }]);
        const confirmed = await client.callTool({
          name: 'modern-up__confirm',
          arguments: { action: 'deploy' },
        });
        expect(confirmed.content).toEqual([{ type: 'text', text: 'confirmed deploy' }]);
        expect(questions).toEqual(['Really deploy?']);
      } finally {
        await client.close();
      }
    } finally {
      await gateway.close();
      await modernUpstream.close();
    }
  });
});
