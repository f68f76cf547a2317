import {
  createKyselyTokenStore,
  createKyselyUserStore,
  createTokenService,
  type ApiTokenInfo,
  type UserStore,
} from '@mcp-gateway/auth';
import { ConfigError } from '../config/index.ts';
import { LOCAL_ADMIN_OWNER, presentToken } from '../http/tokens-routes.ts';
import {
  databaseFlags,
  formatTable,
  listCell,
  openAuthDatabase,
  parseCommandArgs,
  type CommandEnv,
  type CommandIo,
} from './command-support.ts';

const options = {
  ...databaseFlags,
  name: { type: 'string' },
  owner: { type: 'string' },
  role: { type: 'string', multiple: true },
  team: { type: 'string', multiple: true },
  scope: { type: 'string', multiple: true },
  server: { type: 'string', multiple: true },
  'expires-in-days': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const MAX_EXPIRY_DAYS = 3650;

/**
 * `mcp-gateway token create|list|revoke`, straight on the database (no running gateway needed). Whoever can open
 * the database is trusted as an admin: `create` may name any owner, roles and scopes. Returns the exit code.
 */
export async function runTokenCommand(argv: string[], env: CommandEnv, io: CommandIo): Promise<number> {
  const { values, positionals } = parseCommandArgs('token', argv, options);
  const [subcommand, ...rest] = positionals;
  const only = (allowed: string[]) => {
    const extra = Object.keys(values).find((flag) => !allowed.includes(flag) && !(flag in databaseFlags));
    if (extra !== undefined)
      throw new ConfigError('config-invalid', `token ${subcommand}: unknown flag --${extra}`);
  };
  if (subcommand === 'create') {
    only(['name', 'owner', 'role', 'team', 'scope', 'server', 'expires-in-days', 'json']);
    if (rest.length > 0) throw unexpected('create', rest);
    if (values.name === undefined || values.name.trim() === '') {
      throw new ConfigError('config-invalid', 'token create needs --name NAME');
    }
  } else if (subcommand === 'list') {
    only(['owner', 'json']);
    if (rest.length > 0) throw unexpected('list', rest);
  } else if (subcommand === 'revoke') {
    only(['json']);
    if (rest.length !== 1) throw new ConfigError('config-invalid', 'token revoke needs one token ID');
  } else {
    throw new ConfigError(
      'config-invalid',
      subcommand === undefined
        ? 'token needs a subcommand: create, list or revoke'
        : `token: unknown subcommand "${subcommand}" (create, list or revoke)`,
    );
  }
  const expiresInDays = parseExpiry(values['expires-in-days']);

  const database = await openAuthDatabase(values, env);
  const tokens = createTokenService({ store: createKyselyTokenStore(database.db), lastUsedFlushMs: 0 });
  try {
    if (subcommand === 'create') {
      const users = createKyselyUserStore(database.db);
      const owner = await resolveOwner(users, values.owner ?? LOCAL_ADMIN_OWNER);
      if (!owner.known && values.owner !== undefined && values.owner !== LOCAL_ADMIN_OWNER) {
        io.stderr.write(`note: no user "${values.owner}"; the token is owned by the id "${owner.id}"\n`);
      }
      const { token, info } = await tokens.create({
        name: values.name as string,
        ownerId: owner.id,
        roles: values.role ?? owner.roles,
        teams: values.team ?? owner.teams,
        scopes: values.scope ?? ['*'],
        virtualServers: values.server ?? null,
        expiresAt: expiresInDays === undefined ? null : new Date(Date.now() + expiresInDays * 86_400_000),
      });
      io.stdout.write(
        values.json ? `${JSON.stringify({ ...presentToken(info), token }, null, 2)}\n` : `${token}\n`,
      );
      io.stderr.write(
        `Created API token "${info.name}" (id ${info.id}, owner ${info.ownerId}, roles ${listCell(info.roles)}).\n` +
          'Copy it now: it will not be shown again.\n',
      );
      return 0;
    }
    if (subcommand === 'list') {
      const filter =
        values.owner === undefined
          ? undefined
          : { ownerId: (await resolveOwner(createKyselyUserStore(database.db), values.owner)).id };
      const infos = await tokens.list(filter);
      io.stdout.write(
        values.json ? `${JSON.stringify(infos.map(presentToken), null, 2)}\n` : tokenTable(infos),
      );
      return 0;
    }
    const id = rest[0] as string;
    if (!(await tokens.revoke(id))) {
      io.stderr.write(`mcp-gateway: no token with id "${id}"\n`);
      return 1;
    }
    io.stdout.write(values.json ? `${JSON.stringify({ id, revoked: true })}\n` : `revoked ${id}\n`);
    return 0;
  } finally {
    await tokens.close();
    await database.close();
  }
}

/**
 * The owner named by `--owner`: a user by username or id (its roles and teams become the token's defaults), else the
 * id as given; the local `admin` owner defaults to the admin role, any other unknown owner to no role.
 */
async function resolveOwner(
  users: UserStore,
  name: string,
): Promise<{ id: string; roles: readonly string[]; teams: readonly string[]; known: boolean }> {
  const user = (await users.findByUsername(name)) ?? (await users.get(name));
  if (user) return { id: user.id, roles: user.roles, teams: user.teams, known: true };
  return { id: name, roles: name === LOCAL_ADMIN_OWNER ? ['admin'] : [], teams: [], known: false };
}

function parseExpiry(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const days = Number(value);
  if (!Number.isInteger(days) || days < 1 || days > MAX_EXPIRY_DAYS) {
    throw new ConfigError(
      'config-invalid',
      `--expires-in-days: expected a whole number from 1 to ${MAX_EXPIRY_DAYS}, got "${value}"`,
    );
  }
  return days;
}

function unexpected(subcommand: string, rest: string[]): ConfigError {
  return new ConfigError('config-invalid', `token ${subcommand}: unexpected argument "${rest[0] ?? ''}"`);
}

function tokenTable(infos: ApiTokenInfo[]): string {
  if (infos.length === 0) return 'no API tokens\n';
  const now = Date.now();
  const status = (info: ApiTokenInfo) =>
    info.revokedAt !== null
      ? 'revoked'
      : info.expiresAt !== null && info.expiresAt.getTime() <= now
        ? 'expired'
        : 'active';
  return formatTable(
    ['ID', 'NAME', 'PREFIX', 'OWNER', 'ROLES', 'SCOPES', 'STATUS', 'EXPIRES', 'LAST USED'],
    infos.map((info) => [
      info.id,
      info.name,
      `${info.prefix}…`,
      info.ownerId,
      listCell(info.roles),
      listCell(info.scopes),
      status(info),
      info.expiresAt?.toISOString() ?? 'never',
      info.lastUsedAt?.toISOString() ?? 'never',
    ]),
  );
}
