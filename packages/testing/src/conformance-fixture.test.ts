import { request as httpRequest } from 'node:http';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { conformanceStdioCommand, startConformanceHttpFixture } from './conformance-fixture.ts';
import { runConformanceSuite } from './conformance-runner.ts';
import { CONFORMANCE_TOOL_NAMES } from './conformance-server.ts';

const REQUEST = { timeout: 10_000 };
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/**
 * Every server scenario of @modelcontextprotocol/conformance@0.1.16 `--suite all`: the 30 active ones plus
 * the pending `json-schema-2020-12` and `server-sse-polling`. All pass against the fixture.
 */
const ALL_SCENARIOS = [
  'server-initialize',
  'logging-set-level',
  'ping',
  'completion-complete',
  'tools-list',
  'tools-call-simple-text',
  'tools-call-image',
  'tools-call-audio',
  'tools-call-embedded-resource',
  'tools-call-mixed-content',
  'tools-call-with-logging',
  'tools-call-error',
  'tools-call-with-progress',
  'tools-call-sampling',
  'tools-call-elicitation',
  'json-schema-2020-12',
  'elicitation-sep1034-defaults',
  'server-sse-polling',
  'server-sse-multiple-streams',
  'elicitation-sep1330-enums',
  'resources-list',
  'resources-read-text',
  'resources-read-binary',
  'resources-templates-read',
  'resources-subscribe',
  'resources-unsubscribe',
  'prompts-list',
  'prompts-get-simple',
  'prompts-get-with-args',
  'prompts-get-embedded-resource',
  'prompts-get-with-image',
  'dns-rebinding-protection',
];

/** A POST to the MCP endpoint with `Host` set explicitly (fetch does not let us choose it). */
function postWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' });
    const req = httpRequest(url, { method: 'POST', headers: { ...MCP_HEADERS, host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
}

/** `{ id, retry, data }` of each SSE event in `text`. */
function sseEvents(text: string): Array<{ id?: string; retry?: string; data: string }> {
  return text
    .split('\n\n')
    .filter((block) => block.trim() !== '' && !block.startsWith(':'))
    .map((block) => {
      const fields = new Map<string, string>();
      for (const line of block.split('\n')) {
        const colon = line.indexOf(':');
        if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
      }
      return { id: fields.get('id'), retry: fields.get('retry'), data: fields.get('data') ?? '' };
    });
}

describe('startConformanceHttpFixture', () => {
  it('passes every scenario of the official conformance suite 0.1.16 (--suite all)', async () => {
    await using fixture = await startConformanceHttpFixture();
    const result = await runConformanceSuite({ url: fixture.url, version: '0.1.16', suite: 'all' });

    expect(result.scenarios.map((scenario) => scenario.name)).toEqual(ALL_SCENARIOS);
    expect(result.scenarios.filter((scenario) => !scenario.passed)).toEqual([]);
    expect({ passed: result.passed, failed: result.failed }).toEqual({ passed: 32, failed: 0 });
    expect(result.totals).toEqual({ passed: 44, failed: 0 });
    // SHOULD-level only: the scenario's raw POST declares protocol version 2025-03-26, and SDK v2 sends SSE
    // priming events (with `retry`) only to 2025-11-25 clients, which can parse their empty data.
    expect(result.scenarios.find((scenario) => scenario.name === 'server-sse-polling')?.warnings).toEqual([
      expect.stringMatching(/^server-sse-priming-event: /),
      expect.stringMatching(/^server-sse-retry-field: /),
    ]);
  }, 240_000);

  it('rejects a foreign Host or Origin with 403 and accepts localhost ones', async () => {
    await using fixture = await startConformanceHttpFixture();
    const port = new URL(fixture.url).port;

    expect(await postWithHost(fixture.url, 'evil.example.com')).toBe(403);
    expect(await postWithHost(fixture.url, `evil.example.com:${port}`)).toBe(403);
    const foreignOrigin = await fetch(fixture.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, origin: 'http://evil.example.com' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(foreignOrigin.status).toBe(403);
    expect(await foreignOrigin.json()).toMatchObject({
      error: { message: 'Invalid Origin: evil.example.com' },
    });

    // Allowed hosts get past the check; without a session the request is then refused as uninitialized.
    expect(await postWithHost(fixture.url, `localhost:${port}`)).toBe(400);
    expect(await postWithHost(fixture.url, `[::1]:${port}`)).toBe(400);
  });

  it('closes a 2025-11-25 client’s stream mid-call and replays the result on GET with Last-Event-ID', async () => {
    await using fixture = await startConformanceHttpFixture();
    const post = (body: unknown, sessionId?: string): Promise<Response> =>
      fetch(fixture.url, {
        method: 'POST',
        headers: {
          ...MCP_HEADERS,
          'mcp-protocol-version': '2025-11-25',
          ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
        },
        body: JSON.stringify(body),
      });

    const initialized = await post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const sessionId = initialized.headers.get('mcp-session-id') ?? '';
    await initialized.text();
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, sessionId)).status).toBe(202);

    const call = await post(
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } },
      sessionId,
    );
    const firstLeg = sseEvents(await call.text()); // ends when the server closes the stream
    expect(firstLeg[0]).toMatchObject({ data: '', retry: '500', id: expect.any(String) });
    expect(firstLeg.some((event) => event.data.includes('"id":7'))).toBe(false);
    const lastEventId = firstLeg.at(-1)?.id ?? '';

    const resumed = await fetch(fixture.url, {
      headers: {
        accept: 'text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': '2025-11-25',
        'last-event-id': lastEventId,
      },
    });
    expect(resumed.status).toBe(200);
    const secondLeg = sseEvents(await resumed.text());
    expect(secondLeg.map((event) => JSON.parse(event.data) as unknown)).toEqual([
      {
        jsonrpc: '2.0',
        id: 7,
        result: { content: [{ type: 'text', text: 'Reconnection test completed successfully' }] },
      },
    ]);
  });
});

describe('conformanceStdioCommand', () => {
  it('serves the conformance fixture over stdio', async () => {
    const client = new Client({ name: 'conformance-stdio-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ ...conformanceStdioCommand(), stderr: 'pipe' }), REQUEST);
    try {
      const { tools } = await client.listTools(undefined, REQUEST);
      expect(tools.map((tool) => tool.name)).toEqual([...CONFORMANCE_TOOL_NAMES]);
      expect(await client.callTool({ name: 'test_simple_text' }, REQUEST)).toEqual({
        content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
      });
    } finally {
      await client.close();
    }
  });
});
