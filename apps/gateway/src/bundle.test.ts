import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { waitFor } from './test-support.ts';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const tsupCli = join(
  dirname(createRequire(import.meta.url).resolve('tsup/package.json')),
  'dist/cli-default.js',
);

/** The Quick start runs the bundled CLI (`node dist/cli.js`), not the sources: build it and start it for real. */
describe('the bundled gateway', () => {
  it('builds, starts with the sample upstream, serves a call, and stops on SIGTERM', async () => {
    const build = spawnSync(process.execPath, [tsupCli], {
      cwd: appDir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(build.status, build.stderr).toBe(0);
    const dataDir = await mkdtemp(join(tmpdir(), 'mcp-gateway-bundle-'));
    const child = spawn(
      process.execPath,
      [join(appDir, 'dist/cli.js'), 'start', '--sample', '--port', '0', '--data-dir', dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LOG_LEVEL: 'warn' },
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await waitFor(
        'the printed URL',
        () => /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0],
        30_000,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\nstderr: ${err}`);
      });
      await waitFor(
        'ready',
        async () => ((await fetch(`${url}/ready`)).status === 200 ? true : undefined),
        30_000,
      );
      const response = await fetch(`${url}/rpc`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'sample__add', arguments: { a: 2, b: 40 } },
        }),
      });
      expect(await response.json()).toMatchObject({ result: { structuredContent: { sum: 42 } } });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
