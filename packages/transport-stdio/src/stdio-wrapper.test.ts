import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { startConformanceHttpFixture, startHttpFixture } from '@mcp-gateway/testing';
import type { HttpFixture } from '@mcp-gateway/testing';
import { Client, ProtocolError } from '@modelcontextprotocol/client';
import type { CallToolResult, ClientOptions } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterEach, describe, expect, it } from 'vitest';
import { createStdioWrapper, runWrapperCli, WRAPPER_USAGE } from './index.ts';
import {
  FAST_RECONNECT_ARGS,
  initializeRequest,
  spawnWrapper,
  startRecordingProxy,
  wrapperNodeArgs,
} from './stdio-wrapper.test-support.ts';
import type { WrapperProcess } from './stdio-wrapper.test-support.ts';
import { isProcessAlive, killQuietly, waitFor, within } from './test-helpers.ts';

interface WrappedClient {
  client: Client;
  transport: StdioClientTransport;
  stderr(): string;
}

const clients: WrappedClient[] = [];
const rawWrappers: WrapperProcess[] = [];
const resources: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const { client, transport } of clients.splice(0)) {
    const pid = transport.pid ?? undefined;
    await within('client close', client.close(), 5000).catch(() => undefined);
    killQuietly(pid);
  }
  for (const wrapper of rawWrappers.splice(0)) killQuietly(wrapper.child.pid);
  await within('fixtures close', Promise.allSettled(resources.splice(0).map((r) => r.close())), 10_000);
});

async function fixture(options: { name: string; port?: number }): Promise<HttpFixture> {
  const started = await startHttpFixture(options);
  resources.push(started);
  return started;
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** The official SDK client, talking to the wrapper bin over stdio the way Claude Desktop does. */
async function connectThroughWrapper(
  url: string,
  extraArgs: string[] = [],
  options?: ClientOptions,
): Promise<WrappedClient> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: wrapperNodeArgs(['--url', url, ...extraArgs]),
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'wrapper-test', version: '1.0.0' }, options);
  const wrapped = { client, transport, stderr: () => stderr };
  clients.push(wrapped);
  await within('connect through the wrapper', client.connect(transport), 15_000);
  return wrapped;
}

function raw(args: string[]): WrapperProcess {
  const wrapper = spawnWrapper(args);
  rawWrappers.push(wrapper);
  return wrapper;
}

function textOf(result: CallToolResult): string {
  const first = result.content[0];
  return first?.type === 'text' ? first.text : '';
}

async function callError(
  promise: Promise<unknown>,
  what: string,
  timeoutMs = 10_000,
): Promise<ProtocolError> {
  const outcome = await within(
    what,
    promise.then(
      () => undefined,
      (error: unknown) => error,
    ),
    timeoutMs,
  );
  expect(outcome).toBeInstanceOf(ProtocolError);
  return outcome as ProtocolError;
}

describe('stdio wrapper: relaying', () => {
  it('relays initialize, tools/list and tools/call between a stdio client and the gateway', async () => {
    const gateway = await fixture({ name: 'wrapped' });
    const { client } = await connectThroughWrapper(gateway.url);

    expect(client.getServerVersion()?.name).toBe('wrapped');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'slow', 'add_tool']));
    expect(textOf(await client.callTool({ name: 'echo', arguments: { message: 'hi' } }))).toBe('Echo: hi');
    const failed = await client.callTool({ name: 'fail', arguments: {} });
    expect(failed.isError).toBe(true);
    expect(gateway.sessionCount()).toBe(1);
  });

  it('relays progress notifications of a call in flight', async () => {
    const gateway = await fixture({ name: 'progress' });
    const { client } = await connectThroughWrapper(gateway.url);
    const progress: number[] = [];

    const result = await client.callTool(
      { name: 'slow', arguments: { ms: 400 } },
      { onprogress: ({ progress: value }) => progress.push(value) },
    );

    expect(textOf(result)).toBe('slept 400');
    expect(progress.length).toBeGreaterThan(0);
  });

  it('relays list_changed, which the gateway sends on the GET event stream the wrapper keeps open', async () => {
    const gateway = await fixture({ name: 'changes' });
    const { client } = await connectThroughWrapper(gateway.url);
    let changes = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      changes += 1;
    });

    await client.callTool({ name: 'add_tool', arguments: { name: 'late_tool' } });

    await waitFor('tools/list_changed', () => changes > 0);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('late_tool');
  });

  it('relays server→client requests (sampling, elicitation) and the client answers', async () => {
    const gateway = await startConformanceHttpFixture();
    resources.push(gateway);
    const { client } = await connectThroughWrapper(gateway.url, [], {
      capabilities: { sampling: {}, elicitation: { form: {} } },
    });
    client.setRequestHandler('sampling/createMessage', (request) => ({
      role: 'assistant',
      model: 'test-model',
      content: { type: 'text', text: `sampled ${request.params.messages.length} message(s)` },
    }));
    client.setRequestHandler('elicitation/create', () => ({
      action: 'accept',
      content: { username: 'ada', email: 'ada@example.com' },
    }));

    const sampled = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hello' } });
    expect(textOf(sampled)).toBe('LLM response: sampled 1 message(s)');
    const elicited = await client.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } });
    expect(textOf(elicited)).toBe(
      'User response: action=accept, content={"username":"ada","email":"ada@example.com"}',
    );
  });

  it('gets the answer of a call whose response stream the gateway closed (SSE resumption, SEP-1699)', async () => {
    const gateway = await startConformanceHttpFixture();
    resources.push(gateway);
    const { client } = await connectThroughWrapper(gateway.url);

    const result = await client.callTool({ name: 'test_reconnection', arguments: {} });

    expect(textOf(result)).toBe('Reconnection test completed successfully');
  });

  it('sends the --header values with every request and never logs them', async () => {
    const gateway = await fixture({ name: 'headers' });
    const proxy = await startRecordingProxy(gateway.url);
    resources.push(proxy);
    const wrapped = await connectThroughWrapper(proxy.url, [
      '--header',
      'Authorization: Bearer s3cret-token',
      '--header',
      'X-Team:blue',
      '--log-level',
      'debug',
    ]);
    await wrapped.client.callTool({ name: 'echo', arguments: { message: 'with headers' } });
    await wrapped.client.close();

    await waitFor('the DELETE that ends the session', () =>
      proxy.requests.some((r) => r.method === 'DELETE'),
    );
    expect(new Set(proxy.requests.map((r) => r.method))).toEqual(new Set(['POST', 'GET', 'DELETE']));
    for (const request of proxy.requests) {
      expect(request.headers.authorization).toBe('Bearer s3cret-token');
      expect(request.headers['x-team']).toBe('blue');
    }
    expect(wrapped.stderr()).toContain('"headers":["Authorization","X-Team"]');
    expect(wrapped.stderr()).not.toContain('s3cret-token');
  });
});

describe('stdio wrapper: stdin', () => {
  it('answers a line that is not JSON with -32700 and keeps relaying', async () => {
    const gateway = await fixture({ name: 'parse-error' });
    const wrapper = raw(['--url', gateway.url]);

    wrapper.send('this is {not json');
    const parseError = await wrapper.next('the -32700 error', (m) => m.id === null);
    expect(parseError).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    expect(wrapper.stderr()).toContain('not JSON');

    wrapper.send({ jsonrpc: '2.0', id: 7, hello: 'no method' });
    const invalid = await wrapper.next('the -32600 error', (m) => m.id === 7);
    expect(invalid).toMatchObject({ error: { code: -32600 } });

    wrapper.send(initializeRequest(1));
    const initialized = await wrapper.next('the initialize result', (m) => m.id === 1);
    expect(initialized).toMatchObject({ result: { serverInfo: { name: 'parse-error' } } });
    wrapper.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    wrapper.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'ok' } },
    });
    const echoed = await wrapper.next('the echo result', (m) => m.id === 2);
    expect(echoed).toMatchObject({ result: { content: [{ type: 'text', text: 'Echo: ok' }] } });
  });

  it('exits 0 when stdin ends, after writing the answers still in flight and ending the session', async () => {
    const gateway = await fixture({ name: 'eof' });
    const wrapper = raw(['--url', gateway.url]);

    wrapper.send(initializeRequest(1));
    await wrapper.next('the initialize result', (m) => m.id === 1);
    wrapper.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    wrapper.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 300 } },
    });
    wrapper.child.stdin.end();

    const exit = await within('the wrapper to exit', wrapper.exited, 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(wrapper.messages).toContainEqual(
      expect.objectContaining({ id: 2, result: { content: [{ type: 'text', text: 'slept 300' }] } }),
    );
    expect(gateway.sessionCount()).toBe(0);
  });

  it('forwards a cancellation and stops waiting for the cancelled call', async () => {
    const gateway = await fixture({ name: 'cancel' });
    const wrapper = raw(['--url', gateway.url]);
    wrapper.send(initializeRequest(1));
    await wrapper.next('the initialize result', (m) => m.id === 1);
    wrapper.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    wrapper.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'slow', arguments: { ms: 20_000 } },
    });
    await sleep(300);

    const started = Date.now();
    wrapper.send({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 2, reason: 'user' },
    });
    wrapper.child.stdin.end();

    expect(await within('the wrapper to exit', wrapper.exited, 10_000)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(wrapper.messages.filter((m) => (m as { id?: unknown }).id === 2)).toEqual([]);
  });

  it('runs in process on injected streams and fetch', async () => {
    const gateway = await fixture({ name: 'in-process' });
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    let buffered = '';
    output.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) lines.push(JSON.parse(part) as Record<string, unknown>);
    });
    const methods: string[] = [];
    const wrapper = createStdioWrapper({
      url: gateway.url,
      input,
      output,
      fetch: (url, init) => {
        methods.push(init?.method ?? 'GET');
        return fetch(url, init);
      },
    });
    const running = wrapper.run();

    input.write(`${JSON.stringify(initializeRequest('init'))}\n`);
    await waitFor('the initialize result', () => lines.some((line) => line.id === 'init'));
    input.end(`${JSON.stringify({ jsonrpc: '2.0', id: 'ping', method: 'ping' })}`); // no final newline
    await within('run() to resolve', running);

    expect(lines).toContainEqual({ jsonrpc: '2.0', id: 'ping', result: {} });
    expect(methods).toEqual(['POST', 'POST', 'DELETE']);
    expect(gateway.sessionCount()).toBe(0);
  });
});

describe('stdio wrapper: outages', () => {
  it('re-initializes transparently when the gateway restarts, and the next call succeeds', async () => {
    const first = await fixture({ name: 'before' });
    const port = portOf(first.url);
    const wrapped = await connectThroughWrapper(first.url, FAST_RECONNECT_ARGS);
    const { client } = wrapped;
    let toolChanges = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      toolChanges += 1;
    });
    expect(textOf(await client.callTool({ name: 'whoami', arguments: {} }))).toBe('before');

    await first.close();
    const second = await fixture({ name: 'after', port });

    const result = await within(
      'a call after the restart',
      client.callTool({ name: 'whoami', arguments: {} }),
    );
    expect(textOf(result)).toBe('after');
    expect(second.sessionCount()).toBe(1);
    await waitFor('the reconnect on stderr', () =>
      wrapped.stderr().includes('reconnected to the gateway with a new session (initialize replayed)'),
    );

    // The wrapper tells the client its lists may have changed; then the new session's GET stream works too.
    await waitFor('the list_changed sent after the new session', () => toolChanges === 1);
    await client.callTool({ name: 'add_tool', arguments: { name: 'after_restart' } });
    await waitFor('list_changed on the new session', () => toolChanges === 2);
  });

  it('retries the first connection until the gateway comes up', async () => {
    const probe = await fixture({ name: 'port-probe' });
    const port = portOf(probe.url);
    await probe.close();

    const starting = connectThroughWrapper(probe.url, FAST_RECONNECT_ARGS);
    await sleep(150);
    await fixture({ name: 'late', port });
    const { client } = await starting;

    expect(client.getServerVersion()?.name).toBe('late');
  });

  it('answers a call with a JSON-RPC error, not silence, when the gateway is gone for good', async () => {
    const gateway = await fixture({ name: 'doomed' });
    const wrapped = await connectThroughWrapper(gateway.url, FAST_RECONNECT_ARGS);
    await gateway.close();

    const started = Date.now();
    const error = await callError(
      wrapped.client.callTool({ name: 'echo', arguments: { message: 'anyone?' } }),
      'the error for a call to a dead gateway',
    );

    expect(Date.now() - started).toBeLessThan(5000);
    expect(error.code).toBe(-32603);
    expect(error.message).toContain(`The gateway at ${gateway.url} is unreachable after 5 attempts`);
    await waitFor('the give-up on stderr', () =>
      wrapped.stderr().includes('"event":"gateway-reconnect-fail"'),
    );

    // The wrapper is still alive and tries again for the next message.
    await fixture({ name: 'back', port: portOf(gateway.url) });
    const result = await within(
      'a call once the gateway is back',
      wrapped.client.callTool({ name: 'whoami' }),
    );
    expect(textOf(result)).toBe('back');
  });

  it('fails a tools/call in flight when the gateway dies, instead of running it twice', async () => {
    const gateway = await fixture({ name: 'mid-call' });
    const wrapped = await connectThroughWrapper(gateway.url, FAST_RECONNECT_ARGS);
    const call = wrapped.client.callTool({ name: 'slow', arguments: { ms: 5000 } });
    await sleep(300);

    await gateway.close();

    const error = await callError(call, 'the error for the call in flight');
    expect(error.code).toBe(-32603);
    expect(error.message).toContain('"tools/call" was in flight');
  });
});

describe('stdio wrapper: CLI and options', () => {
  async function cli(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
    const stderr = new PassThrough();
    const stdout = new PassThrough();
    let errText = '';
    let outText = '';
    stderr.on('data', (chunk: Buffer) => (errText += chunk.toString('utf8')));
    stdout.on('data', (chunk: Buffer) => (outText += chunk.toString('utf8')));
    const code = await runWrapperCli(argv, { errorOutput: stderr, output: stdout, input: new PassThrough() });
    return { code, stderr: errText, stdout: outText };
  }

  it.each([
    [[], '--url is required'],
    [['--url'], '--url needs a value'],
    [['--url', 'ftp://example.com/mcp'], 'url must use http or https'],
    [['--url', 'http://127.0.0.1:1/mcp', '--header', 'no-colon'], '--header needs "NAME: VALUE"'],
    [['--url', 'http://127.0.0.1:1/mcp', '--header', 'Mcp-Session-Id: x'], 'is set by the wrapper itself'],
    [['--url', 'http://127.0.0.1:1/mcp', '--log-level', 'loud'], '--log-level must be one of'],
    [['--url', 'http://127.0.0.1:1/mcp', '--reconnect-attempts', '0'], 'needs a positive integer'],
    [['--url', 'http://127.0.0.1:1/mcp', '--bogus'], 'unknown argument "--bogus"'],
  ])('exits 2 with the usage for %j', async (argv, message) => {
    const { code, stderr, stdout } = await cli(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
    expect(stderr).toContain(WRAPPER_USAGE);
    expect(stdout).toBe('');
  });

  it('prints the usage on stdout for --help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toBe(WRAPPER_USAGE);
  });

  it('the bin exits 2 on bad arguments', async () => {
    const wrapper = raw(['--url', 'not a url']);
    const exit = await within('the bin to exit', wrapper.exited, 10_000);
    expect(exit.code).toBe(2);
    expect(wrapper.stderr()).toContain('url must be an absolute http(s) URL');
    expect(wrapper.messages).toEqual([]);
  });

  it('createStdioWrapper validates its options at creation', () => {
    expect(() =>
      createStdioWrapper({ url: 'http://127.0.0.1:1/mcp', reconnect: { initialMs: 500, maxMs: 100 } }),
    ).toThrow('reconnect.maxMs (100) is below reconnect.initialMs (500)');
    expect(() => createStdioWrapper({ url: 'http://127.0.0.1:1/mcp', headers: { 'Bad Name': 'x' } })).toThrow(
      'header "Bad Name" has an invalid name or value',
    );
  });

  it('stops on SIGTERM and exits 0', async () => {
    const gateway = await fixture({ name: 'signal' });
    const wrapper = raw(['--url', gateway.url]);
    wrapper.send(initializeRequest(1));
    await wrapper.next('the initialize result', (m) => m.id === 1);

    wrapper.child.kill('SIGTERM');

    const exit = await within('the wrapper to exit', wrapper.exited, 10_000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(isProcessAlive(wrapper.child.pid ?? 0)).toBe(false);
    expect(gateway.sessionCount()).toBe(0);
  });
});
