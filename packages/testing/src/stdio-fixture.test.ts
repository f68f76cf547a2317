import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterEach, describe, expect, it } from 'vitest';
import { stdioFixtureCommand } from './stdio-fixture.ts';

const REQUEST = { timeout: 10_000 };
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves with the first match of `pattern` in the text `stream` carries; rejects after `ms`. */
function waitForText(stream: Readable, pattern: RegExp, ms = 10_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const match = seen.match(pattern);
      if (match === null) return;
      finish();
      resolve(match);
    };
    const timer = setTimeout(() => {
      finish();
      reject(new Error(`${String(pattern)} did not appear within ${ms} ms; got: ${seen}`));
    }, ms);
    const finish = (): void => {
      clearTimeout(timer);
      stream.off('data', onData);
    };
    stream.on('data', onData);
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function spawnFixture(name: string, env: Record<string, string> = {}): ChildProcess {
  const { command, args } = stdioFixtureCommand(name);
  const child = spawn(command, args, { stdio: 'pipe', env: { ...process.env, ...env } });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return child;
}

describe('stdioFixtureCommand', () => {
  it('runs tsx through the current node, with absolute paths', () => {
    const { command, args } = stdioFixtureCommand('a');
    expect(command).toBe(process.execPath);
    expect(args).toHaveLength(4);
    expect(args[0]).toBe('--import');
    expect(args[1]).toMatch(/^\/.*tsx.*\.mjs$/);
    expect(args[2]).toMatch(/^\/.*\/src\/bin\/stdio-fixture\.ts$/);
    expect(args[3]).toBe('a');
  });
});

describe('stdio fixture process', () => {
  it('logs its start line to stderr, which reaches the client', async () => {
    const transport = new StdioClientTransport({ ...stdioFixtureCommand('logger'), stderr: 'pipe' });
    const startLine = waitForText(transport.stderr as Readable, /fixture logger started pid=(\d+)\n/);
    const client = new Client({ name: 'fixture-test', version: '1.0.0' });
    cleanups.push(() => client.close());
    await client.connect(transport, REQUEST);

    const [, loggedPid] = await startLine;
    expect(Number(loggedPid)).toBe(transport.pid);
    const pid = await client.callTool({ name: 'pid' }, REQUEST);
    expect(pid.content).toEqual([{ type: 'text', text: String(transport.pid) }]);
  });

  it('answers initialize quickly and exits when stdin closes', async () => {
    const started = performance.now();
    const child = spawnFixture('timed');
    const firstLine = waitForText(child.stdout!, /\n/);
    child.stdin!.write(
      `${JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      })}\n`,
    );
    const [line] = await firstLine;
    const elapsed = performance.now() - started;
    console.info(`stdio fixture: first response ${elapsed.toFixed(0)} ms after spawn`);
    expect(elapsed).toBeLessThan(5_000);
    expect(line).toBeDefined();

    const exited = once(child, 'exit');
    child.stdin!.end();
    expect(await exited).toEqual([0, null]);
  });

  it('spawns a grandchild on request, which outlives the fixture unless someone reaps it', async () => {
    const child = spawnFixture('parent', { FIXTURE_SPAWN_GRANDCHILD: '1' });
    const [, grandchildPid] = await waitForText(child.stderr!, /grandchild pid=(\d+)\n/);
    const pid = Number(grandchildPid);
    cleanups.push(() => isAlive(pid) && process.kill(pid, 'SIGKILL'));
    expect(isAlive(pid)).toBe(true);

    const exited = once(child, 'exit');
    child.stdin!.end();
    await exited;
    expect(isAlive(pid)).toBe(true);
  });
});
