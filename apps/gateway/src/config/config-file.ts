import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { formatZodIssues, gatewayInputSchema } from './gateway-input.ts';
import type { GatewayInput } from './gateway-input.ts';

/** The upstreams a config file declares, validated, in file order (`gateways` first, then `mcpServers`). */
export interface ConfigFile {
  gateways: GatewayInput[];
  /**
   * The rest of the registry when the file declares it (tool, prompt and resource entries, virtual servers), in the
   * registry document's shape (see `exportRegistry`); validated when applied, in one transaction.
   */
  catalog?: { tools?: unknown[]; prompts?: unknown[]; resources?: unknown[]; virtualServers?: unknown[] };
}

const topLevelShape =
  'an object with "gateways" (a list) and/or "mcpServers" (an object keyed by server name)';

// Other keys are ignored at the top level so that a real claude_desktop_config.json (which holds more) loads as is.
const topLevelSchema = z.looseObject(
  {
    gateways: z.array(z.unknown(), { error: 'gateways must be a list' }).optional(),
    mcpServers: z
      .record(z.string(), z.unknown(), { error: 'mcpServers must be an object keyed by server name' })
      .optional(),
    tools: z.array(z.unknown(), { error: 'tools must be a list' }).optional(),
    prompts: z.array(z.unknown(), { error: 'prompts must be a list' }).optional(),
    resources: z.array(z.unknown(), { error: 'resources must be a list' }).optional(),
    virtualServers: z.array(z.unknown(), { error: 'virtualServers must be a list' }).optional(),
  },
  { error: `expected ${topLevelShape}` },
);

// Claude Desktop's entry. Field types are left to gatewayInputSchema so both shapes get the same messages.
const claudeServerSchema = z.strictObject(
  {
    command: z.unknown().optional(),
    args: z.unknown().optional(),
    env: z.unknown().optional(),
    cwd: z.unknown().optional(),
    url: z.unknown().optional(),
    headers: z.unknown().optional(),
    passthroughHeaders: z.unknown().optional(),
    type: z
      .enum(['stdio', 'http', 'streamable-http', 'sse'], {
        error: 'type must be one of "stdio", "http", "streamable-http", "sse"',
      })
      .optional(),
    disabled: z.boolean({ error: 'disabled must be true or false' }).optional(),
  },
  { error: 'each server must be an object' },
);

// Our field names as they are spelled in a Claude Desktop entry; `name` is the entry's key.
const claudeFieldNames: Record<string, string | undefined> = {
  transport: 'type',
  enabled: 'disabled',
  name: undefined,
};

type Issue = z.core.$ZodIssue;
type ParsedEntry = { ok: true; gateway: GatewayInput } | { ok: false; issues: Issue[] };

function withPrefix(issues: readonly Issue[], prefix: PropertyKey[]): Issue[] {
  return issues.map((issue) => ({ ...issue, path: [...prefix, ...issue.path] }));
}

function parseClaudeServer(name: string, entry: unknown): ParsedEntry {
  const prefix = ['mcpServers', name];
  const shape = claudeServerSchema.safeParse(entry);
  if (!shape.success) return { ok: false, issues: withPrefix(shape.error.issues, prefix) };
  const { type, disabled, ...fields } = shape.data;
  let transport: string;
  if (type !== undefined) transport = type === 'http' ? 'streamable-http' : type;
  else if (fields.command !== undefined) transport = 'stdio';
  else if (fields.url !== undefined) transport = 'streamable-http';
  else {
    const message = 'needs either "command" (a local stdio server) or "url" (a remote server)';
    return { ok: false, issues: [{ code: 'custom', path: prefix, message, input: entry }] };
  }
  const input: Record<string, unknown> = { name, transport };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) input[key] = value;
  if (disabled !== undefined) input.enabled = !disabled;

  const result = gatewayInputSchema.safeParse(input);
  if (result.success) return { ok: true, gateway: result.data };
  const issues = result.error.issues.map((issue) => {
    const [field, ...rest] = issue.path;
    if (typeof field !== 'string' || !(field in claudeFieldNames))
      return { ...issue, path: [...prefix, ...issue.path] };
    const renamed = claudeFieldNames[field];
    return { ...issue, path: renamed === undefined ? prefix : [...prefix, renamed, ...rest] };
  });
  return { ok: false, issues };
}

function parseOurGateway(index: number, entry: unknown): ParsedEntry {
  const result = gatewayInputSchema.safeParse(entry);
  if (result.success) return { ok: true, gateway: result.data };
  return { ok: false, issues: withPrefix(result.error.issues, ['gateways', index]) };
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // yaml's messages end their first line with ':' before a code frame; keep the one line.
  return (message.split('\n', 1)[0] ?? message).trim().replace(/:$/, '');
}

function parseText(path: string, text: string): unknown {
  const extension = extname(path).toLowerCase();
  const fail = (format: string, cause: unknown): ConfigError =>
    new ConfigError('config-invalid', `config file ${path}: not valid ${format}: ${firstLine(cause)}`, {
      cause,
    });
  if (extension === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw fail('JSON', error);
    }
  }
  if (extension === '.yaml' || extension === '.yml') {
    try {
      return parseYaml(text);
    } catch (error) {
      throw fail('YAML', error);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    try {
      return parseYaml(text);
    } catch (error) {
      throw fail('JSON or YAML', error);
    }
  }
}

/**
 * Reads and validates a config file: JSON or YAML (chosen by `.json`/`.yaml`/`.yml`, otherwise JSON then YAML), in
 * our shape `{ gateways: [...] }`, Claude Desktop's `{ mcpServers: { name: {...} } }`, or both merged. Throws a
 * {@link ConfigError} naming the file and the field path (`config-unreadable` when the file cannot be read,
 * `config-invalid` for everything else, including two upstreams with the same name).
 */
export async function loadConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('config-unreadable', `config file ${path}: cannot read: ${firstLine(error)}`, {
      cause: error,
    });
  }
  const document = topLevelSchema.safeParse(parseText(path, text));
  if (!document.success) {
    throw new ConfigError('config-invalid', formatZodIssues(document.error, `config file ${path}`).message, {
      cause: document.error,
    });
  }
  const { gateways = [], mcpServers, tools, prompts, resources, virtualServers } = document.data;
  const hasCatalog = [tools, prompts, resources, virtualServers].some((part) => part !== undefined);
  if (document.data.gateways === undefined && mcpServers === undefined && !hasCatalog) {
    throw new ConfigError('config-invalid', `config file ${path}: expected ${topLevelShape}`);
  }

  const entries: Array<{ where: string; parsed: ParsedEntry }> = [
    ...gateways.map((entry, index) => ({
      where: `gateways.${index}`,
      parsed: parseOurGateway(index, entry),
    })),
    ...Object.entries(mcpServers ?? {}).map(([name, entry]) => ({
      where: `mcpServers.${name}`,
      parsed: parseClaudeServer(name, entry),
    })),
  ];
  const issues = entries.flatMap(({ parsed }) => (parsed.ok ? [] : parsed.issues));
  if (issues.length > 0) {
    const error = new z.ZodError(issues);
    throw new ConfigError('config-invalid', formatZodIssues(error, `config file ${path}`).message, {
      cause: error,
    });
  }

  const result: GatewayInput[] = [];
  const seen = new Map<string, string>();
  for (const { where, parsed } of entries) {
    if (!parsed.ok) continue;
    const first = seen.get(parsed.gateway.name);
    if (first !== undefined) {
      throw new ConfigError(
        'config-invalid',
        `config file ${path}: duplicate gateway name "${parsed.gateway.name}" (${first} and ${where})`,
      );
    }
    seen.set(parsed.gateway.name, where);
    result.push(parsed.gateway);
  }
  return hasCatalog
    ? { gateways: result, catalog: { tools, prompts, resources, virtualServers } }
    : { gateways: result };
}
