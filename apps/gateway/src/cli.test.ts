import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { isProcessAlive, stdioFixtureCommand } from '@mcp-gateway/testing';
import { waitFor } from './test-support.ts';

const cliPath = fileURLToPath(new URL('./cli.ts', import.meta.url));
const tsxLoader = createRequire(import.meta.url).resolve('tsx/esm');

interface CliRun {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const started: CliRun[] = [];
const tempDirs: string[] = [];

afterEach(async () => {
  for (const run of started.splice(0)) if (run.child.exitCode === null) run.child.kill('SIGKILL');
  for (const dir of tempDirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** Runs the real CLI as a child process (through tsx, so no build is needed). */
function runCli(args: string[], env: Record<string, string> = {}): CliRun {
  const child = spawn(process.execPath, ['--import', tsxLoader, cliPath, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const run = { child, stdout: () => out, stderr: () => err, exited };
  started.push(run);
  return run;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-cli-'));
  tempDirs.push(dir);
  return dir;
}

describe('mcp-gateway CLI', () => {
  it('stops start-up with a message naming a bad setting', async () => {
    const run = runCli(['start'], { MCP_GATEWAY_PORT: 'abc' });
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toContain('MCP_GATEWAY_PORT');
    expect(run.stderr()).toContain('"abc"');
  });

  it('stops start-up naming the field of a bad config file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'gateways.yaml');
    await writeFile(file, 'gateways:\n  - name: broken\n    transport: streamable-http\n');
    const run = runCli(['start', '--config', file, '--data-dir', join(dir, 'data'), '--port', '0']);
    expect((await run.exited).code).toBe(1);
    expect(run.stderr()).toContain('gateways.0.url');
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal} reaps every stdio child and grandchild and exits 0`, async () => {
      const dir = await tempDir();
      const file = join(dir, 'gateways.json');
      const fixture = stdioFixtureCommand('tree');
      await writeFile(
        file,
        JSON.stringify({
          mcpServers: {
            tree: { command: fixture.command, args: fixture.args, env: { FIXTURE_SPAWN_GRANDCHILD: '1' } },
          },
        }),
      );
      const run = runCli(['start', '--config', file, '--data-dir', join(dir, 'data'), '--port', '0']);
      const url = await waitFor(
        'the listening URL',
        () => /http:\/\/127\.0\.0\.1:\d+\/mcp/.exec(run.stdout())?.[0],
        30_000,
      );
      const pids = await waitFor(
        'the child and grandchild pids in the logs',
        () => {
          const child = /fixture tree started pid=(\d+)/.exec(run.stdout())?.[1];
          const grandchild = /grandchild pid=(\d+)/.exec(run.stdout())?.[1];
          return child && grandchild ? [Number(child), Number(grandchild)] : undefined;
        },
        30_000,
      );
      expect(pids.every(isProcessAlive)).toBe(true);
      const health = await fetch(url.replace('/mcp', '/health'));
      expect(health.status).toBe(200);

      run.child.kill(signal);
      expect((await run.exited).code).toBe(0);
      await waitFor(
        'no orphans',
        () => (pids.every((pid) => !isProcessAlive(pid)) ? true : undefined),
        10_000,
      );
    });
  }
});

describe('mcp-gateway export, import and --watch', () => {
  it('imports a registry document, exports it back, and refuses a second process on the same data dir', async () => {
    const dir = await tempDir();
    const data = join(dir, 'data');
    const document = join(dir, 'registry.yaml');
    await writeFile(
      document,
      [
        'version: 1',
        'gateways:',
        '  - { name: remote, transport: streamable-http, url: "http://127.0.0.1:9/mcp" }',
        'tools: []',
        'resources: []',
        'prompts:',
        '  - name: welcome',
        '    template:',
        '      messages: [{ role: user, text: "Welcome, {{who}}!" }]',
        '      arguments: [{ name: who, required: true }]',
        'virtualServers: []',
        '',
      ].join('\n'),
    );
    const imported = runCli(['import', document, '--data-dir', data]);
    expect((await imported.exited).code).toBe(0);
    expect(JSON.parse(imported.stdout())).toMatchObject({ created: 2 });

    const exported = runCli(['export', '--data-dir', data]);
    expect((await exported.exited).code).toBe(0);
    const out = JSON.parse(exported.stdout()) as {
      gateways: Array<{ name: string }>;
      prompts: Array<{ name: string }>;
    };
    expect(out.gateways.map((g) => g.name)).toEqual(['remote']);
    expect(out.prompts.map((p) => p.name)).toEqual(['welcome']);

    const first = runCli(['start', '--port', '0', '--data-dir', data]);
    await waitFor(
      'the first gateway',
      () => /http:\/\/127\.0\.0\.1:\d+\/mcp/.exec(first.stdout())?.[0],
      30_000,
    );
    const second = runCli(['start', '--port', '0', '--data-dir', data]);
    expect((await second.exited).code).toBe(1);
    expect(second.stderr()).toContain('is in use by another process');
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });

  it('export masks secrets, import keeps a masked one, and secrets rotate re-encrypts them', async () => {
    const dir = await tempDir();
    const data = join(dir, 'data');
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const document = join(dir, 'registry.json');
    await writeFile(
      document,
      JSON.stringify({
        version: 1,
        gateways: [
          {
            name: 'remote',
            transport: 'streamable-http',
            url: 'http://127.0.0.1:9/mcp',
            headers: { authorization: 'Bearer cli-upstream-secret' },
          },
        ],
      }),
    );
    const withOldKey = { MCP_GATEWAY_SECRET_KEY: oldKey };
    const imported = runCli(['import', document, '--data-dir', data], withOldKey);
    expect((await imported.exited).code).toBe(0);

    const exported = runCli(['export', '--data-dir', data], withOldKey);
    expect((await exported.exited).code).toBe(0);
    expect(exported.stdout()).not.toContain('cli-upstream-secret');
    expect(exported.stdout()).not.toMatch(/v1:k/);
    const out = JSON.parse(exported.stdout()) as { gateways: Array<{ headers: Record<string, string> }> };
    expect(out.gateways[0]?.headers).toEqual({ authorization: '********' });

    // The masked export imported back keeps the stored secret.
    await writeFile(document, exported.stdout());
    const again = runCli(['import', document, '--data-dir', data], withOldKey);
    expect((await again.exited).code).toBe(0);
    expect(JSON.parse(again.stdout())).toMatchObject({ unchanged: 1 });

    const rotated = runCli(['secrets', 'rotate', '--data-dir', data], {
      MCP_GATEWAY_SECRET_KEY: newKey,
      MCP_GATEWAY_SECRET_KEY_PREVIOUS: oldKey,
    });
    expect((await rotated.exited).code).toBe(0);
    expect(rotated.stdout()).toMatch(
      /^re-encrypted 1 secret value with key "k[\w-]{16}" \(1 from an older key/,
    );
    const stale = runCli(['export', '--data-dir', data], withOldKey);
    expect((await stale.exited).code).toBe(1);
    expect(stale.stderr()).toMatch(/which is not configured: set MCP_GATEWAY_SECRET_KEY to that key/);
  }, 120_000);

  it('--watch applies a changed config file without a restart', async () => {
    const dir = await tempDir();
    const file = join(dir, 'gateways.json');
    await writeFile(file, JSON.stringify({ gateways: [] }));
    const run = runCli([
      'start',
      '--port',
      '0',
      '--data-dir',
      join(dir, 'data'),
      '--config',
      file,
      '--watch',
    ]);
    const url = await waitFor('the URL', () => /http:\/\/127\.0\.0\.1:\d+/.exec(run.stdout())?.[0], 30_000);
    await writeFile(
      file,
      JSON.stringify({
        gateways: [{ name: 'late', transport: 'streamable-http', url: 'http://127.0.0.1:9/mcp' }],
      }),
    );
    await waitFor(
      'the new gateway in the API',
      async () => {
        const body = (await (await fetch(`${url}/v1/gateways`)).json()) as { items: Array<{ name: string }> };
        return body.items.some((g) => g.name === 'late') ? true : undefined;
      },
      15_000,
    );
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });
});
