import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyTokenStore, createTokenService, type TokenVerifyResult } from '@mcp-gateway/auth';
import { createDatabase } from '@mcp-gateway/registry';
import { runTokenCommand } from './token-command.ts';
import { runUserCommand } from './user-command.ts';

/** Runs a command in process, as cli.ts does, capturing what it writes. */
async function run(
  command: typeof runTokenCommand,
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await command(argv, env, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

// Every command opens (and migrates) the embedded database on disk: seconds each on a busy machine.
describe('mcp-gateway token', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;
  const token = (...argv: string[]) => run(runTokenCommand, [...argv, '--data-dir', dataDir]);

  /** Verifies with a fresh service on the same database, as a gateway started later would. */
  async function verify(text: string): Promise<TokenVerifyResult> {
    await using database = await createDatabase({ dataDir });
    const service = createTokenService({ store: createKyselyTokenStore(database.db), lastUsedFlushMs: 0 });
    try {
      return await service.verify(text);
    } finally {
      await service.close();
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-token-'));
    dataDir = join(dir, 'data');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a token shown once, lists it without the text, and revoke makes it fail verification', async () => {
    const created = await token('create', '--name', 'ci');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^mgw_[A-Za-z0-9_-]{43}\n$/);
    const text = created.stdout.trim();
    expect(created.stderr).toContain('Created API token "ci"');
    expect(created.stderr).toContain('it will not be shown again');
    expect(created.stderr).not.toContain(text);

    const verified = await verify(text);
    expect(verified).toMatchObject({
      principal: { id: 'admin', kind: 'token', roles: ['admin'], scopes: ['*'] },
    });
    const id = 'principal' in verified ? String(verified.principal.claims?.tokenId) : '';

    const listed = await token('list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+PREFIX\s+OWNER/);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain(`${text.slice(0, 8)}…`);
    expect(listed.stdout).not.toContain(text);
    const json = JSON.parse((await token('list', '--json')).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ id, name: 'ci', ownerId: 'admin', revokedAt: null })]);
    expect(JSON.stringify(json)).not.toContain(text);

    const revoked = await token('revoke', id);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked ${id}\n` });
    expect(await verify(text)).toEqual({ error: 'token has been revoked' });
    expect((await token('list')).stdout).toMatch(/revoked/);

    const unknown = await token('revoke', 'no-such-id');
    expect(unknown).toMatchObject({ code: 1, stderr: 'mcp-gateway: no token with id "no-such-id"\n' });
  });

  it('gives a token the roles and teams of the user --owner names, unless --role/--team say otherwise', async () => {
    const user = await run(
      runUserCommand,
      ['create', '--username', 'alice', '--role', 'developer', '--team', 'red', '--data-dir', dataDir],
      { MCP_GATEWAY_USER_PASSWORD: 'a long enough password' },
    );
    expect(user.code).toBe(0);
    const aliceId = /id ([0-9a-f-]{36})/.exec(user.stdout)?.[1];

    const created = await token(
      'create',
      '--name',
      'alice-ci',
      '--owner',
      'alice',
      '--scope',
      'mcp:call',
      '--server',
      'vs-1',
      '--expires-in-days',
      '30',
      '--json',
    );
    expect(created.code).toBe(0);
    const body = JSON.parse(created.stdout) as Record<string, unknown> & { token: string; expiresAt: string };
    expect(body).toMatchObject({
      name: 'alice-ci',
      ownerId: aliceId,
      roles: ['developer'],
      teams: ['red'],
      scopes: ['mcp:call'],
      virtualServers: ['vs-1'],
    });
    expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(await verify(body.token)).toMatchObject({
      principal: { id: aliceId, roles: ['developer'], virtualServers: ['vs-1'] },
    });

    const viewer = await token('create', '--name', 'ro', '--owner', 'alice', '--role', 'viewer', '--json');
    expect(JSON.parse(viewer.stdout)).toMatchObject({ ownerId: aliceId, roles: ['viewer'], teams: ['red'] });

    const onlyAlice = JSON.parse((await token('list', '--owner', 'alice', '--json')).stdout) as Array<{
      name: string;
    }>;
    expect(onlyAlice.map((t) => t.name)).toEqual(['alice-ci', 'ro']);

    const stranger = await token('create', '--name', 'x', '--owner', 'bob');
    expect(stranger.stderr).toContain('note: no user "bob"');
    expect(await verify(stranger.stdout.trim())).toMatchObject({ principal: { id: 'bob', roles: [] } });
  });

  it('refuses bad invocations with a message naming the problem', async () => {
    await expect(token('create')).rejects.toThrow('token create needs --name NAME');
    await expect(token('create', '--name', 'x', '--expires-in-days', '0')).rejects.toThrow(
      '--expires-in-days: expected a whole number from 1 to 3650, got "0"',
    );
    await expect(token('create', '--name', 'x', '--colour', 'red')).rejects.toThrow(
      "token: Unknown option '--colour'",
    );
    await expect(token('list', '--name', 'x')).rejects.toThrow('token list: unknown flag --name');
    await expect(token('revoke')).rejects.toThrow('token revoke needs one token ID');
    await expect(token('rotate')).rejects.toThrow('token: unknown subcommand "rotate"');
  });

  it('is wired into the real CLI', async () => {
    const cliPath = fileURLToPath(new URL('../cli.ts', import.meta.url));
    const tsxLoader = createRequire(import.meta.url).resolve('tsx/esm');
    const child = spawn(
      process.execPath,
      ['--import', tsxLoader, cliPath, 'token', 'create', '--name', 'from-cli', '--data-dir', dataDir],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^mgw_[A-Za-z0-9_-]{43}\n$/);
    expect(stderr).toContain('it will not be shown again');
    expect(await verify(stdout.trim())).toMatchObject({ principal: { id: 'admin' } });
  });
});
