import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKyselyUserStore, migrateAuth, verifyPassword, type UserRecord } from '@mcp-gateway/auth';
import { createDatabase } from '@mcp-gateway/registry';
import { runUserCommand, USER_PASSWORD_ENV } from './user-command.ts';

// Every command opens (and migrates) the embedded database on disk: seconds each on a busy machine.
describe('mcp-gateway user', { timeout: 120_000 }, () => {
  let dir: string;
  let dataDir: string;

  async function user(argv: string[], password?: string) {
    let stdout = '';
    let stderr = '';
    const code = await runUserCommand(
      [...argv, '--data-dir', dataDir],
      password === undefined ? {} : { [USER_PASSWORD_ENV]: password },
      {
        stdout: { write: (text: string) => (stdout += text) },
        stderr: { write: (text: string) => (stderr += text) },
      },
    );
    return { code, stdout, stderr };
  }

  async function stored(username: string): Promise<UserRecord | undefined> {
    await using database = await createDatabase({ dataDir });
    await migrateAuth(database.db);
    return await createKyselyUserStore(database.db).findByUsername(username);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-user-'));
    dataDir = join(dir, 'data');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a user with the password from the environment, lists, changes the password and disables', async () => {
    const password = 'correct horse battery staple';
    const created = await user(
      ['create', '--username', 'alice', '--role', 'admin', '--team', 'ops'],
      password,
    );
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^created user alice \(id [0-9a-f-]{36}\)\n$/);
    const alice = await stored('alice');
    expect(alice).toMatchObject({ roles: ['admin'], teams: ['ops'], disabled: false });
    expect(await verifyPassword(password, alice?.passwordHash ?? '')).toBe(true);

    const duplicate = await user(['create', '--username', 'alice'], password);
    expect(duplicate).toMatchObject({
      code: 1,
      stderr: 'mcp-gateway: the username "alice" is already taken\n',
    });

    const listed = await user(['list']);
    expect(listed.stdout).toMatch(/^USERNAME\s+ID\s+ROLES\s+TEAMS\s+STATUS\n/);
    expect(listed.stdout).toMatch(/alice\s+[0-9a-f-]{36}\s+admin\s+ops\s+active/);
    expect(listed.stdout).not.toContain('scrypt');
    const json = JSON.parse((await user(['list', '--json'])).stdout) as Array<Record<string, unknown>>;
    expect(json).toEqual([expect.objectContaining({ username: 'alice', hasPassword: true })]);
    expect(JSON.stringify(json)).not.toContain('scrypt');

    const changed = await user(['set-password', 'alice'], 'a different passphrase');
    expect(changed).toMatchObject({ code: 0, stdout: 'set a new password for user alice\n' });
    const afterChange = await stored('alice');
    expect(await verifyPassword('a different passphrase', afterChange?.passwordHash ?? '')).toBe(true);
    expect(await verifyPassword(password, afterChange?.passwordHash ?? '')).toBe(false);

    expect(await user(['disable', 'alice'])).toMatchObject({ code: 0, stdout: 'disabled user alice\n' });
    expect((await stored('alice'))?.disabled).toBe(true);
    expect((await user(['list'])).stdout).toMatch(/alice.*disabled/);
    expect(await user(['disable', 'nobody'])).toMatchObject({
      code: 1,
      stderr: 'mcp-gateway: no user "nobody"\n',
    });
  });

  it('never takes a password from a flag, and refuses a short one or none', async () => {
    await expect(user(['create', '--username', 'bob', '--password', 'x'])).rejects.toThrow(
      "user: Unknown option '--password'",
    );
    await expect(user(['create', '--username', 'bob'], 'too short')).rejects.toThrow(
      'user create: password must be at least 12 characters',
    );
    // No environment variable and no terminal to ask on.
    await expect(user(['create', '--username', 'bob'])).rejects.toThrow(
      `user create needs a password: set ${USER_PASSWORD_ENV}, or run it on a terminal to be asked`,
    );
    await expect(user(['create', '--username', 'b:ob'], 'long enough password')).rejects.toThrow(
      'user create: username: username must not contain spaces or ":"',
    );
    await expect(user(['create'], 'long enough password')).rejects.toThrow(
      'user create needs --username NAME',
    );
    await expect(user(['set-password'])).rejects.toThrow('user set-password needs one USERNAME');
    expect(await stored('bob')).toBeUndefined();
  });
});
