import {
  importRegistry,
  RegistryError,
  type ImportResult,
  type RegistryDatabase,
  type RegistryDocument,
} from '@mcp-gateway/registry';
import type { Kysely } from 'kysely';
import { ConfigError } from './config-error.ts';
import type { ConfigFile } from './config-file.ts';

/** The registry document a config file stands for: its gateways plus any catalog sections it declares. */
export function configDocument(file: ConfigFile): RegistryDocument {
  return {
    version: 1,
    gateways: file.gateways.map((gateway) => ({ ...gateway })),
    tools: (file.catalog?.tools ?? []) as RegistryDocument['tools'],
    prompts: (file.catalog?.prompts ?? []) as RegistryDocument['prompts'],
    resources: (file.catalog?.resources ?? []) as RegistryDocument['resources'],
    virtualServers: (file.catalog?.virtualServers ?? []) as RegistryDocument['virtualServers'],
  };
}

/**
 * Applies a config file to the registry, idempotently and in one transaction (merge: what the file does not
 * mention is left alone; applying the same file twice changes nothing). A bad entry changes nothing and the
 * error lists every bad entry with its path.
 */
export async function applyConfigFile(
  db: Kysely<RegistryDatabase>,
  file: ConfigFile,
  source: string,
): Promise<ImportResult> {
  try {
    return await importRegistry(db, configDocument(file), { mode: 'merge', actor: `config:${source}` });
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'invalid-input' && Array.isArray(error.details)) {
      const lines = error.details.map((issue) => `${issue.path}: ${issue.message}`);
      throw new ConfigError('config-invalid', `config file ${source}: ${lines.join('; ')}`, { cause: error });
    }
    throw error;
  }
}
