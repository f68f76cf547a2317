import { commandToolDefinitionSchema, restToolDefinitionSchema } from '@mcp-gateway/adapter-rest';
import { ConfigError } from './config-error.ts';

/**
 * A config file's `tools` section with its REST and command tool entries (`integration: rest|command`) made ready
 * for the registry: `integrationConfig` is checked with the adapter's own schemas (its `name` defaults to the
 * entry's) and `definition` is derived from it when absent. Any bad entry throws a {@link ConfigError} naming the
 * file and the field, so it is refused when the file is applied instead of being left out at the next reload.
 * Other entries pass through unchanged (the registry validates them).
 */
export function adapterToolEntries(tools: readonly unknown[], source: string): unknown[] {
  const issues: string[] = [];
  const entries = tools.map((entry, index) => adapterToolEntry(entry, `tools.${index}`, issues));
  if (issues.length > 0)
    throw new ConfigError('config-invalid', `config file ${source}: ${issues.join('; ')}`);
  return entries;
}

function adapterToolEntry(entry: unknown, path: string, issues: string[]): unknown {
  if (!isRecord(entry) || (entry.integration !== 'rest' && entry.integration !== 'command')) return entry;
  const config = entry.integrationConfig;
  if (!isRecord(config)) {
    issues.push(`${path}.integrationConfig: is required for a ${entry.integration} tool`);
    return entry;
  }
  if (config.name !== undefined && config.name !== entry.name) {
    issues.push(`${path}.integrationConfig.name: must equal the entry's name (or be left out)`);
    return entry;
  }
  const command = entry.integration === 'command';
  const schema = command ? commandToolDefinitionSchema : restToolDefinitionSchema;
  const parsed = schema.safeParse({ ...config, name: entry.name, ...(command ? { kind: 'command' } : {}) });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const where = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
      issues.push(`${path}.integrationConfig${where}: ${issue.message}`);
    }
    return entry;
  }
  const definition = parsed.data;
  return {
    ...entry,
    integrationConfig: definition,
    definition: entry.definition ?? {
      name: definition.name,
      ...(definition.description === undefined ? {} : { description: definition.description }),
      inputSchema: definition.inputSchema ?? { type: 'object' },
      ...(definition.outputSchema === undefined ? {} : { outputSchema: definition.outputSchema }),
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
