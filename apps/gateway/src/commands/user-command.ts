import { randomUUID } from 'node:crypto';
import { createKyselyUserStore, hashPassword, type UserRecord, type UserStore } from '@mcp-gateway/auth';
import { ConfigError, formatZodIssues } from '../config/index.ts';
import { passwordSchema, presentUser, userCreateSchema } from '../http/users-routes.ts';
import {
  databaseFlags,
  formatTable,
  listCell,
  openAuthDatabase,
  parseCommandArgs,
  type CommandEnv,
  type CommandIo,
} from './command-support.ts';

/** Where `user create` and `user set-password` read the password when no terminal can be asked. */
export const USER_PASSWORD_ENV = 'MCP_GATEWAY_USER_PASSWORD';

const options = {
  ...databaseFlags,
  username: { type: 'string' },
  role: { type: 'string', multiple: true },
  team: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

/**
 * `mcp-gateway user create|list|set-password|disable`, straight on the database. Passwords come from
 * `MCP_GATEWAY_USER_PASSWORD` or a prompt on a terminal, never from a flag (flags end up in shell history and `ps`).
 * Returns the exit code.
 */
export async function runUserCommand(argv: string[], env: CommandEnv, io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('user', argv, options);
  const [subcommand, ...rest] = positionals;
  const only = (allowed: string[]) => {
    const extra = Object.keys(values).find((flag) => !allowed.includes(flag) && !(flag in databaseFlags));
    if (extra !== undefined)
      throw new ConfigError('config-invalid', `user ${subcommand}: unknown flag --${extra}`);
  };
  const oneUser = () => {
    only(['json']);
    if (rest.length !== 1) throw new ConfigError('config-invalid', `user ${subcommand} needs one USERNAME`);
    return rest[0] as string;
  };

  if (subcommand === 'create') {
    only(['username', 'role', 'team', 'json']);
    if (rest.length > 0)
      throw new ConfigError('config-invalid', `user create: unexpected argument "${rest[0]}"`);
    if (values.username === undefined)
      throw new ConfigError('config-invalid', 'user create needs --username NAME');
    // Validate what can be checked before asking for a password.
    const checked = userCreateSchema.omit({ password: true }).safeParse({
      username: values.username,
      roles: values.role ?? [],
      teams: values.team ?? [],
    });
    if (!checked.success) throw invalid('user create', checked.error);
    const password = await readPassword('user create', env, io);
    return withUsers(values, env, async (users) => {
      if (await users.findByUsername(checked.data.username)) {
        io.stderr.write(`mcp-gateway: the username "${checked.data.username}" is already taken\n`);
        return 1;
      }
      const now = new Date();
      const user: UserRecord = {
        id: randomUUID(),
        ...checked.data,
        passwordHash: await hashPassword(password),
        createdAt: now,
        updatedAt: now,
      };
      await users.upsert(user);
      io.stdout.write(
        values.json
          ? `${JSON.stringify(presentUser(user), null, 2)}\n`
          : `created user ${user.username} (id ${user.id})\n`,
      );
      return 0;
    });
  }
  if (subcommand === 'list') {
    only(['json']);
    if (rest.length > 0)
      throw new ConfigError('config-invalid', `user list: unexpected argument "${rest[0]}"`);
    return withUsers(values, env, async (users) => {
      const all = await users.list();
      io.stdout.write(values.json ? `${JSON.stringify(all.map(presentUser), null, 2)}\n` : userTable(all));
      return 0;
    });
  }
  if (subcommand === 'set-password' || subcommand === 'disable') {
    const name = oneUser();
    const password =
      subcommand === 'set-password' ? await readPassword('user set-password', env, io) : undefined;
    return withUsers(values, env, async (users) => {
      const user = (await users.findByUsername(name)) ?? (await users.get(name));
      if (!user) {
        io.stderr.write(`mcp-gateway: no user "${name}"\n`);
        return 1;
      }
      const updated: UserRecord = {
        ...user,
        ...(password === undefined ? { disabled: true } : { passwordHash: await hashPassword(password) }),
        updatedAt: new Date(),
      };
      await users.upsert(updated);
      const done = password === undefined ? 'disabled' : 'set a new password for';
      io.stdout.write(
        values.json
          ? `${JSON.stringify(presentUser(updated), null, 2)}\n`
          : `${done} user ${user.username}\n`,
      );
      return 0;
    });
  }
  throw new ConfigError(
    'config-invalid',
    subcommand === undefined
      ? 'user needs a subcommand: create, list, set-password or disable'
      : `user: unknown subcommand "${subcommand}" (create, list, set-password or disable)`,
  );
}

async function withUsers(
  flags: { 'data-dir'?: string; 'database-url'?: string },
  env: CommandEnv,
  run: (users: UserStore) => Promise<number>,
): Promise<number> {
  const database = await openAuthDatabase(flags, env);
  try {
    return await run(createKyselyUserStore(database.db));
  } finally {
    await database.close();
  }
}

function invalid(command: string, error: Parameters<typeof formatZodIssues>[0]): ConfigError {
  return new ConfigError('config-invalid', formatZodIssues(error, command).message, { cause: error });
}

/** The new password: from the environment, else asked twice on the terminal; validated like the REST API does. */
async function readPassword(command: string, env: CommandEnv, io: CommandIo): Promise<string> {
  let password = env[USER_PASSWORD_ENV];
  if (password === undefined || password === '') {
    const stdin = io.stdin;
    if (!stdin?.isTTY) {
      throw new ConfigError(
        'config-invalid',
        `${command} needs a password: set ${USER_PASSWORD_ENV}, or run it on a terminal to be asked`,
      );
    }
    password = await promptHidden(stdin, io.stderr, 'Password: ');
    const again = await promptHidden(stdin, io.stderr, 'Repeat the password: ');
    if (again !== password) throw new ConfigError('config-invalid', `${command}: the passwords do not match`);
  }
  const checked = passwordSchema.safeParse(password);
  if (!checked.success) {
    throw new ConfigError(
      'config-invalid',
      `${command}: ${checked.error.issues[0]?.message ?? 'invalid password'}`,
    );
  }
  return checked.data;
}

/** Reads one line from a terminal without echoing it. */
function promptHidden(
  stdin: NodeJS.ReadStream,
  output: CommandIo['stderr'],
  question: string,
): Promise<string> {
  output.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      output.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish(() => resolve(value));
        if (character === '\u0003' || character === '\u0004') {
          return finish(() => reject(new ConfigError('config-invalid', 'cancelled')));
        }
        if (character === '\u007f' || character === '\b') value = value.slice(0, -1);
        else value += character;
      }
    };
    stdin.on('data', onData);
  });
}

function userTable(users: UserRecord[]): string {
  if (users.length === 0) return 'no users\n';
  return formatTable(
    ['USERNAME', 'ID', 'ROLES', 'TEAMS', 'STATUS'],
    users.map((user) => [
      user.username,
      user.id,
      listCell(user.roles),
      listCell(user.teams),
      user.disabled ? 'disabled' : 'active',
    ]),
  );
}
