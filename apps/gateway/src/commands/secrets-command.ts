import { secretBoxFromEnv } from '@mcp-gateway/auth';
import { createDatabase, resealSecrets } from '@mcp-gateway/registry';
import { ConfigError, loadRuntimeConfig } from '../config/index.ts';
import { createRegistrySecretCodec } from '../secrets/registry-secret-codec.ts';

/** Help for `mcp-gateway secrets`. */
export const SECRETS_USAGE = `Usage: mcp-gateway secrets rotate [--data-dir PATH | --database-url URL]

Re-encrypts every stored upstream secret (gateway headers and env, REST tool credentials) with the key in
MCP_GATEWAY_SECRET_KEY, in one transaction; secrets stored unencrypted are encrypted too. To rotate:
  1. set MCP_GATEWAY_SECRET_KEY to the new key and MCP_GATEWAY_SECRET_KEY_PREVIOUS to the old one, on every replica;
  2. run: mcp-gateway secrets rotate (with the same variables);
  3. remove MCP_GATEWAY_SECRET_KEY_PREVIOUS.
Generate a key with: openssl rand -base64 32
`;

/**
 * `mcp-gateway secrets rotate`: seals every stored secret under the current key (`MCP_GATEWAY_SECRET_KEY`), opening
 * old ones with `MCP_GATEWAY_SECRET_KEY_PREVIOUS`, and prints how many values it re-encrypted. Opens the database as
 * `export` and `import` do. Returns the exit code.
 */
export async function runSecretsCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  stdout: { write(text: string): unknown },
): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === undefined || subcommand === '--help' || subcommand === 'help') {
    stdout.write(SECRETS_USAGE);
    return subcommand === undefined ? 1 : 0;
  }
  if (subcommand !== 'rotate') {
    throw new ConfigError('config-invalid', `secrets: unknown command "${subcommand}" (expected: rotate)`);
  }
  const box = secretBoxFromEnv(env);
  if (box === undefined) {
    throw new ConfigError(
      'config-invalid',
      'secrets rotate needs the new key in MCP_GATEWAY_SECRET_KEY (and the old one in MCP_GATEWAY_SECRET_KEY_PREVIOUS); generate one with: openssl rand -base64 32',
    );
  }
  const config = loadRuntimeConfig({ argv: [...rest], env });
  const database = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const result = await resealSecrets(database.db, { secrets: createRegistrySecretCodec(box) });
    const changed = result.resealed + result.sealed;
    stdout.write(
      `re-encrypted ${changed} secret value${changed === 1 ? '' : 's'} with key "${box.activeKeyId}" ` +
        `(${result.resealed} from an older key, ${result.sealed} stored unencrypted); ` +
        `${result.unchanged} already used it\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
