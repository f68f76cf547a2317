import {
  importRegistry,
  RegistryError,
  type ImportResult,
  type RegistryDatabase,
  type RegistryDocument,
  type SecretCodec,
} from '@mcp-gateway/registry';
import type { Kysely } from 'kysely';
import { ConfigError } from './config-error.ts';
import { adapterToolEntries } from './adapter-tool-entries.ts';
import type { ConfigFile } from './config-file.ts';

/**
 * The registry document a config file stands for: its gateways plus any catalog sections it declares, REST and
 * command tool entries checked and completed by {@link adapterToolEntries}.
 */
export function configDocument(file: ConfigFile, source = 'config'): RegistryDocument {
  return {
    version: 1,
    gateways: file.gateways.map((gateway) => ({ ...gateway })),
    tools: adapterToolEntries(file.catalog?.tools ?? [], source) as RegistryDocument['tools'],
    prompts: (file.catalog?.prompts ?? []) as RegistryDocument['prompts'],
    resources: (file.catalog?.resources ?? []) as RegistryDocument['resources'],
    virtualServers: (file.catalog?.virtualServers ?? []) as RegistryDocument['virtualServers'],
  };
}

/**
 * Applies a config file to the registry, idempotently and in one transaction (merge: what the file does not
 * mention is left alone; applying the same file twice changes nothing). A bad entry changes nothing and the
 * error lists every bad entry with its path. `secrets` seals the upstream secrets it writes (see
 * `registrySecretsFromEnv`).
 */
export async function applyConfigFile(
  db: Kysely<RegistryDatabase>,
  file: ConfigFile,
  source: string | { source: string; secrets?: SecretCodec },
): Promise<ImportResult> {
  const { source: name, secrets } = typeof source === 'string' ? { source, secrets: undefined } : source;
  try {
    return await importRegistry(db, configDocument(file, name), {
      mode: 'merge',
      actor: `config:${name}`,
      secrets,
    });
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'invalid-input' && Array.isArray(error.details)) {
      const lines = error.details.map((issue) => `${issue.path}: ${issue.message}`);
      throw new ConfigError('config-invalid', `config file ${name}: ${lines.join('; ')}`, { cause: error });
    }
    throw error;
  }
}
