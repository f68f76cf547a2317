import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '@mcp-gateway/core';
import { Client, SdkError, SdkErrorCode } from '@modelcontextprotocol/client';
import type { JSONRPCMessage } from '@modelcontextprotocol/client';
import { afterEach, describe, expect, it } from 'vitest';
import { createStdioClientTransport } from './index.ts';
import type { StdioClientTransport, StdioClientTransportOptions } from './index.ts';
import {
  createRecordingLogger,
  fixturePath,
  isProcessAlive,
  killQuietly,
  waitFor,
  within,
} from './test-helpers.ts';

const node = process.execPath;
const opened: StdioClientTransport[] = [];
const strayPids: number[] = [];

afterEach(async () => {
  await within('cleanup', Promise.all(opened.splice(0).map((transport) => transport.close())), 10_000);
  for (const pid of strayPids.splice(0)) killQuietly(pid);
});

function open(options: StdioClientTransportOptions): StdioClientTransport {
  const transport = createStdioClientTransport(options);
  opened.push(transport);
  return transport;
}

/** A transport with its messages, errors and close events recorded. */
function openRecorded(options: StdioClientTransportOptions) {
  const transport = open(options);
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closes = 0;
  transport.onmessage = (message) => messages.push(message);
  transport.onerror = (error) => errors.push(error);
  transport.onclose = () => {
    closes += 1;
  };
  return { transport, messages, errors, closes: () => closes };
}

function newClient(): Client {
  return new Client({ name: 'transport-stdio-test', version: '1.0.0' });
}

function grandchildPidFrom(logger: ReturnType<typeof createRecordingLogger>): Promise<number> {
  return waitFor('the grandchild pid on stderr', () => {
    const line = logger.records.find((record) => record.message?.startsWith('grandchild-pid='));
    return line === undefined ? undefined : Number(line.message?.slice('grandchild-pid='.length));
  });
}

/** The `params` of a notification the fixtures wrote. */
function paramsOf<T>(message: JSONRPCMessage | undefined): T {
  return (message as { params?: unknown } | undefined)?.params as T;
}

function reasonOf(error: unknown): unknown {
  return error instanceof GatewayError ? (error.details as { reason?: unknown }).reason : undefined;
}

describe('createStdioClientTransport with the SDK Client', () => {
  it('connects, lists tools and calls one', async () => {
    const transport = open({ command: node, args: [fixturePath('mcp-server.mjs')] });
    const client = newClient();
    await within('connect', client.connect(transport));

    expect(transport.pid).toBeTypeOf('number');
    expect(client.getServerVersion()).toEqual({ name: 'stdio-fixture', version: '1.0.0' });
    const { tools } = await within('tools/list', client.listTools());
    expect(tools.map((tool) => tool.name).sort()).toEqual(['echo', 'hang']);
    const result = await within(
      'tools/call',
      client.callTool({ name: 'echo', arguments: { text: 'héllo 🌍' } }),
    );
    expect(result.content).toEqual([{ type: 'text', text: 'héllo 🌍' }]);

    await client.close();
    expect(await within('exit', transport.exited)).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('negotiates the 2026 era through the probe window when asked to', async () => {
    const transport = open({ command: node, args: [fixturePath('mcp-server.mjs')] });
    const client = new Client(
      { name: 'transport-stdio-test', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await within('connect', client.connect(transport));

    expect(client.getProtocolEra()).toBe('modern');
    const result = await within(
      'tools/call',
      client.callTool({ name: 'echo', arguments: { text: 'modern' } }),
    );
    expect(result.content).toEqual([{ type: 'text', text: 'modern' }]);
    await client.close();
  });

  it('logs each stderr line with the upstream name, stream and pid', async () => {
    const logger = createRecordingLogger();
    const transport = open({ command: node, args: [fixturePath('mcp-server.mjs')], logger, name: 'fixture' });
    await within('connect', newClient().connect(transport));

    const stderr = await waitFor('two stderr lines', () => {
      const lines = logger.records.filter((record) => record.fields.stream === 'stderr');
      return lines.length >= 2 ? lines : undefined;
    });
    expect(stderr.slice(0, 2)).toEqual([
      {
        level: 'info',
        fields: { upstream: 'fixture', stream: 'stderr', pid: transport.pid },
        message: 'fixture server ready',
      },
      {
        level: 'info',
        fields: { upstream: 'fixture', stream: 'stderr', pid: transport.pid },
        message: 'second stderr line',
      },
    ]);
  });

  it('fails the pending request and fires onclose once when the child is killed', async () => {
    const logger = createRecordingLogger();
    const transport = open({ command: node, args: [fixturePath('mcp-server.mjs')], logger, name: 'crashy' });
    const client = newClient();
    let closes = 0;
    client.onclose = () => {
      closes += 1;
    };
    await within('connect', client.connect(transport));

    const pending = client.callTool({ name: 'hang', arguments: {} });
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the request reach the child
    process.kill(transport.pid!, 'SIGKILL');

    const failure = await within(
      'the pending call to fail',
      pending.then(
        () => undefined,
        (error: unknown) => error,
      ),
    );
    expect(failure).toBeInstanceOf(SdkError);
    expect((failure as SdkError).code).toBe(SdkErrorCode.ConnectionClosed);
    expect(await transport.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(closes).toBe(1);
    expect(logger.records).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({
          upstream: 'crashy',
          event: 'process-exit',
          signal: 'SIGKILL',
          expected: false,
        }),
      }),
    );
    const sendAfterCrash = await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(reasonOf(sendAfterCrash)).toBe('not-connected');
    expect((sendAfterCrash as Error).message).toMatch(/is not running \(it was killed by SIGKILL\)/);
  });
});

describe('starting', () => {
  it('rejects start() with ENOENT when the command does not exist, and reports it', async () => {
    const { transport, errors, closes } = openRecorded({ command: 'mcp-gateway-no-such-command' });

    const error = await within(
      'start to fail',
      transport.start().then(
        () => undefined,
        (failure: unknown) => failure,
      ),
    );
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('upstream-connect-failed');
    expect(reasonOf(error)).toBe('spawn-failed');
    expect((error as Error).message).toBe(
      'failed to start "mcp-gateway-no-such-command": spawn mcp-gateway-no-such-command ENOENT',
    );
    expect(errors).toEqual([error]);
    expect(closes()).toBe(1);
    expect(transport.pid).toBeUndefined();
    expect(await transport.exited).toEqual({ code: null, signal: null });
  });

  it('makes the SDK Client connect fail with the same error', async () => {
    const transport = open({ command: 'mcp-gateway-no-such-command' });
    await expect(within('connect', newClient().connect(transport))).rejects.toThrow(
      /failed to start "mcp-gateway-no-such-command": spawn mcp-gateway-no-such-command ENOENT/,
    );
  });

  it('says so when the working directory is what is missing', async () => {
    const transport = open({ command: node, args: ['-e', ''], cwd: '/nonexistent/mcp-gateway-test' });
    await expect(within('start', transport.start())).rejects.toThrow(
      /the working directory "\/nonexistent\/mcp-gateway-test" does not exist/,
    );
  });

  it('rejects options it cannot use when it is created, not on first use', () => {
    const attempt = (options: unknown) => () =>
      createStdioClientTransport(options as StdioClientTransportOptions);
    expect(attempt({ command: '' })).toThrow(/command must be a non-empty string/);
    expect(attempt({ command: 'x', args: ['a', 1] })).toThrow(/args must be an array of strings/);
    expect(attempt({ command: 'x', env: { A: 1 } })).toThrow(/env must map names to string values/);
    expect(attempt({ command: 'x', maxMessageBytes: 0 })).toThrow(
      /maxMessageBytes must be a positive integer/,
    );
    expect(attempt({ command: 'x', killGraceMs: -1 })).toThrow(/killGraceMs must be a non-negative number/);
    try {
      attempt({ command: '' })();
    } catch (error) {
      expect((error as GatewayError).code).toBe('config-invalid');
    }
  });

  it('closes cleanly before it was ever started, and refuses to start afterwards', async () => {
    const { transport, closes } = openRecorded({ command: node });
    await transport.close();
    await transport.close();
    expect(closes()).toBe(1);
    expect(await transport.exited).toEqual({ code: null, signal: null });
    await expect(transport.start()).rejects.toThrow(/was already closed/);
  });

  it('refuses a second start()', async () => {
    const { transport } = openRecorded({ command: node, args: [fixturePath('print-argv.mjs')] });
    await within('start', transport.start());
    await expect(transport.start()).rejects.toThrow(/was already started/);
  });
});

describe('arguments and environment', () => {
  it('passes shell metacharacters verbatim and never runs a shell', async () => {
    const sandbox = mkdtempSync(join(tmpdir(), 'transport-stdio-'));
    try {
      const marker = (name: string) => join(sandbox, name);
      const args = [
        `$(touch ${marker('dollar')})`,
        `; touch ${marker('semicolon')}`,
        `| touch ${marker('pipe')}`,
        `\`touch ${marker('backtick')}\``,
        `&& touch ${marker('and')}`,
        `> ${marker('redirect')}`,
        `'single' "double" \\backslash`,
        '*',
        '',
      ];
      const { transport, messages } = openRecorded({
        command: node,
        args: [fixturePath('print-argv.mjs'), ...args],
      });
      await within('start', transport.start());
      const message = await waitFor('the argv message', () => messages[0]);

      expect(message).toMatchObject({ method: 'fixture/argv', params: { argv: args } });
      await transport.close();
      expect(readdirSync(sandbox)).toEqual([]);
    } finally {
      rmSync(sandbox, { recursive: true, force: true });
    }
  });

  it('passes only the safe inherited variables plus the explicit ones', async () => {
    process.env.MCP_GATEWAY_TEST_SECRET = 'do-not-leak';
    try {
      const { transport, messages } = openRecorded({
        command: node,
        args: [fixturePath('print-argv.mjs')],
        env: { UPSTREAM_TOKEN: 'for-the-child', PATH: '/usr/bin:/bin' },
        cwd: tmpdir(),
      });
      await within('start', transport.start());
      const message = await waitFor('the argv message', () => messages[0]);
      const params = paramsOf<{ env: Record<string, string>; cwd: string }>(message);

      expect(params.env.MCP_GATEWAY_TEST_SECRET).toBeUndefined();
      expect(params.env.UPSTREAM_TOKEN).toBe('for-the-child');
      expect(params.env.PATH).toBe('/usr/bin:/bin');
      if (process.env.HOME !== undefined) expect(params.env.HOME).toBe(process.env.HOME);
      expect(params.cwd).toBe(tmpdir());
    } finally {
      delete process.env.MCP_GATEWAY_TEST_SECRET;
    }
  });

  it('inherits exactly the variables listed in inheritEnv', async () => {
    process.env.MCP_GATEWAY_TEST_SHARED = 'shared';
    try {
      const { transport, messages } = openRecorded({
        command: node,
        args: [fixturePath('print-argv.mjs')],
        inheritEnv: ['MCP_GATEWAY_TEST_SHARED'],
      });
      await within('start', transport.start());
      const message = await waitFor('the argv message', () => messages[0]);
      const { env } = paramsOf<{ env: Record<string, string> }>(message);
      // Node may add variables of its own; none of the parent's besides the listed one.
      expect(env.MCP_GATEWAY_TEST_SHARED).toBe('shared');
      expect(env.PATH).toBeUndefined();
      expect(env.HOME).toBeUndefined();
    } finally {
      delete process.env.MCP_GATEWAY_TEST_SHARED;
    }
  });
});

describe('reading stdout', () => {
  const notification = (n: number) =>
    JSON.stringify({ jsonrpc: '2.0', method: 'fixture/line', params: { n } });

  it('reports lines that are not JSON-RPC and keeps delivering the valid ones', async () => {
    const logger = createRecordingLogger();
    const lines = [
      'this is not json',
      notification(1),
      '{"jsonrpc":"1.0","method":"wrong/version"}',
      '',
      `${notification(2)}\r`,
      '[1, 2',
      notification(3),
    ];
    const { transport, messages, errors } = openRecorded({
      command: node,
      args: [fixturePath('emit-lines.mjs'), JSON.stringify(lines)],
      logger,
    });
    await within('start', transport.start());
    await waitFor('three messages', () => messages.length === 3);

    expect(messages.map((message) => paramsOf<{ n: number }>(message).n)).toEqual([1, 2, 3]);
    expect(errors.map((error) => [reasonOf(error), error.message])).toEqual([
      [
        'invalid-message',
        `stdio upstream "node" (pid ${transport.pid}) wrote a line that is not valid JSON: "this is not json"`,
      ],
      [
        'invalid-message',
        `stdio upstream "node" (pid ${transport.pid}) wrote a line that is not a JSON-RPC message: "{\\"jsonrpc\\":\\"1.0\\",\\"method\\":\\"wrong/version\\"}"`,
      ],
      [
        'invalid-message',
        `stdio upstream "node" (pid ${transport.pid}) wrote a line that is not valid JSON: "[1, 2"`,
      ],
    ]);
    expect(logger.records.filter((record) => record.fields.event === 'message-reject')).toHaveLength(3);
  });

  it('drops a line longer than maxMessageBytes and goes on with the next one', async () => {
    const logger = createRecordingLogger();
    const lines = [
      notification(1),
      { fill: 'x', bytes: 5_000 },
      notification(2),
      { fill: 'y', bytes: 300_000 }, // spans several pipe chunks
      notification(3),
      { fill: ' ', bytes: 1_024 }, // exactly at the cap: kept (and ignored as blank)
    ];
    const { transport, messages, errors } = openRecorded({
      command: node,
      args: [fixturePath('emit-lines.mjs'), JSON.stringify(lines)],
      logger,
      name: 'chatty',
      maxMessageBytes: 1_024,
    });
    await within('start', transport.start());
    await waitFor('three messages', () => messages.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(messages.map((message) => paramsOf<{ n: number }>(message).n)).toEqual([1, 2, 3]);
    expect(errors.map((error) => [reasonOf(error), error.message])).toEqual([
      [
        'message-too-large',
        `stdio upstream "chatty" (pid ${transport.pid}) wrote a line longer than maxMessageBytes (1024 bytes); it was dropped`,
      ],
      [
        'message-too-large',
        `stdio upstream "chatty" (pid ${transport.pid}) wrote a line longer than maxMessageBytes (1024 bytes); it was dropped`,
      ],
    ]);
    expect(logger.records).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        fields: expect.objectContaining({ upstream: 'chatty', event: 'message-drop', maxMessageBytes: 1024 }),
      }),
    );
  });
});

describe('when the child exits on its own', () => {
  it('delivers what it wrote just before exiting, then fires onclose once', async () => {
    const logger = createRecordingLogger();
    const script =
      "process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'fixture/last-words' }) + '\\n'); process.exit(3);";
    const { transport, messages, closes } = openRecorded({ command: node, args: ['-e', script], logger });
    const closed = new Promise<number>((resolve) => {
      const recordClose = transport.onclose;
      transport.onclose = () => {
        recordClose?.();
        resolve(messages.length);
      };
    });
    await within('start', transport.start());

    expect(await within('onclose', closed)).toBe(1);
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'fixture/last-words' }]);
    expect(await transport.exited).toEqual({ code: 3, signal: null });
    expect(closes()).toBe(1);
    expect(logger.records).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: `stdio upstream "node" (pid ${transport.pid}) exited with code 3 unexpectedly`,
      }),
    );
  });

  it('logs an over-long stderr line truncated to 8 KiB', async () => {
    const logger = createRecordingLogger();
    const script = "process.stderr.write('e'.repeat(20000) + '\\nafter\\nno newline at the end');";
    const { transport, closes } = openRecorded({ command: node, args: ['-e', script], logger });
    await within('start', transport.start());
    await waitFor('onclose', () => closes() === 1);

    const stderr = logger.records.filter((record) => record.fields.stream === 'stderr');
    expect(stderr.map((record) => [record.message, record.fields.truncated])).toEqual([
      ['e'.repeat(8192), true],
      ['after', undefined],
      ['no newline at the end', undefined],
    ]);
  });
});

describe('writing stdin', () => {
  it('rejects send() instead of throwing EPIPE when the child closed its stdin', async () => {
    const logger = createRecordingLogger();
    // Node never closes fds 0-2 itself, so close the read end of the pipe by hand.
    const script =
      "require('fs').closeSync(0); process.stderr.write('stdin closed\\n'); setInterval(() => {}, 1000);";
    const { transport } = openRecorded({ command: node, args: ['-e', script], logger });
    await within('start', transport.start());
    await waitFor('the child to close stdin', () =>
      logger.records.some((record) => record.message === 'stdin closed'),
    );

    const failure = await within(
      'send to fail',
      (async () => {
        // The first write may still land in the pipe buffer before the kernel notices; EPIPE follows at once.
        for (let attempt = 0; attempt < 50; attempt += 1) {
          await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        return undefined;
      })().catch((error: unknown) => error),
    );
    expect(reasonOf(failure)).toBe('write-failed');
    expect((failure as Error).message).toMatch(
      /writing to stdio upstream "node" \(pid \d+\) failed: .*EPIPE/,
    );
  });

  it('sends the messages of one turn in one write, each intact and in order', async () => {
    // The child counts the reads it takes to get 50 lines, then echoes the ids it got and that count.
    const script = `
      let buffered = '', reads = 0; const ids = [];
      process.stdin.on('data', (chunk) => {
        reads += 1; buffered += chunk;
        for (let end = buffered.indexOf('\\n'); end >= 0; end = buffered.indexOf('\\n')) {
          ids.push(JSON.parse(buffered.slice(0, end)).id); buffered = buffered.slice(end + 1);
        }
        if (ids.length === 50)
          process.stdout.write(JSON.stringify({ jsonrpc: '2.0', method: 'fixture/read', params: { ids, reads } }) + '\\n');
      });`;
    const { transport, messages } = openRecorded({ command: node, args: ['-e', script] });
    await within('start', transport.start());

    const ids = Array.from({ length: 50 }, (_, index) => index);
    await within(
      'sends',
      Promise.all(ids.map((id) => transport.send({ jsonrpc: '2.0', id, method: 'ping' }))),
    );
    await waitFor('the child to read every line', () => messages.length === 1);

    const read = paramsOf<{ ids: number[]; reads: number }>(messages[0]);
    expect(read.ids).toEqual(ids);
    expect(read.reads).toBeLessThan(50);
  });

  it('rejects send() before start() and after close()', async () => {
    const { transport } = openRecorded({ command: node, args: [fixturePath('print-argv.mjs')] });
    const message: JSONRPCMessage = { jsonrpc: '2.0', method: 'notifications/initialized' };
    await expect(transport.send(message)).rejects.toThrow(/is not started/);
    await within('start', transport.start());
    await within('close', transport.close());
    await expect(transport.send(message)).rejects.toThrow(/is not running/);
  });
});

describe('closing', () => {
  it('kills the whole process group, grandchildren included, and fires onclose once', async () => {
    const logger = createRecordingLogger();
    const { transport, closes } = openRecorded({
      command: node,
      args: [fixturePath('mcp-server.mjs')],
      env: { MCP_FIXTURE_GRANDCHILD: '1' },
      logger,
    });
    await within('start', transport.start());
    const grandchild = await grandchildPidFrom(logger);
    strayPids.push(grandchild);
    const child = transport.pid!;
    expect(isProcessAlive(grandchild)).toBe(true);

    await within('close', transport.close());

    expect(isProcessAlive(child)).toBe(false);
    await waitFor('the grandchild to be gone', () => !isProcessAlive(grandchild), 3000);
    expect(closes()).toBe(1);
    // Both went on SIGTERM; the SIGKILL escalation was not needed.
    expect(logger.records.map((record) => record.fields.event)).not.toContain('process-kill');
    await within('a second close', transport.close());
    expect(closes()).toBe(1);
  });

  it('reaps the helpers a crashed child leaves behind', async () => {
    const logger = createRecordingLogger();
    const { transport, closes } = openRecorded({
      command: node,
      args: [fixturePath('mcp-server.mjs')],
      env: { MCP_FIXTURE_GRANDCHILD: '1' },
      logger,
    });
    await within('start', transport.start());
    const grandchild = await grandchildPidFrom(logger);
    strayPids.push(grandchild);

    process.kill(transport.pid!, 'SIGKILL');

    await waitFor('onclose', () => closes() === 1);
    await waitFor('the orphaned grandchild to be reaped', () => !isProcessAlive(grandchild), 3000);
  });

  it('sends SIGKILL after killGraceMs to a child that ignores SIGTERM', async () => {
    const logger = createRecordingLogger();
    const script =
      "process.on('SIGTERM', () => process.stderr.write('ignoring SIGTERM\\n')); process.stderr.write('ready\\n'); setInterval(() => {}, 1000);";
    const { transport, closes } = openRecorded({
      command: node,
      args: ['-e', script],
      logger,
      killGraceMs: 300,
    });
    await within('start', transport.start());
    await waitFor('the child to be ready', () => logger.records.some((record) => record.message === 'ready'));

    const startedAt = Date.now();
    await within('close', transport.close());

    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(290);
    expect(await transport.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(closes()).toBe(1);
    expect(logger.records.map((record) => record.fields.event)).toContain('process-kill');
  });
});
