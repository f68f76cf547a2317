import { parseArgs, type ParseArgsConfig } from 'node:util';

type ArgOptions = NonNullable<ParseArgsConfig['options']>;
import { migrateAuth } from '@mcp-gateway/auth';
import { createDatabase, type Database } from '@mcp-gateway/registry';
import { ConfigError, loadRuntimeConfig } from '../config/index.ts';

/** Where a command writes, and where it may ask a person for a password. */
export interface CommandIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Read for password prompts, only when it is a terminal. Default: none, so nothing is ever prompted. */
  stdin?: NodeJS.ReadStream;
}

/** The environment a command reads (`process.env` in the CLI). */
export type CommandEnv = Record<string, string | undefined>;

/** Flags every database command takes, as in `export` and `import`. */
export const databaseFlags = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
} as const satisfies ArgOptions;

/** What {@link parseCommandArgs} returns: flag values typed after `T`, and the positionals. */
export type ParsedCommandArgs<T extends ArgOptions> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
>;

/** Parses `argv` strictly; a mistake becomes a {@link ConfigError} that names the command. */
export function parseCommandArgs<const T extends ArgOptions>(
  command: string,
  argv: string[],
  options: T,
): ParsedCommandArgs<T> {
  try {
    return parseArgs({ args: argv, options, strict: true as const, allowPositionals: true as const });
  } catch (error) {
    const message =
      error instanceof Error ? (error.message.split('\n', 1)[0] ?? error.message) : String(error);
    throw new ConfigError('config-invalid', `${command}: ${message}`, { cause: error });
  }
}

/**
 * Opens the registry database as `export`/`import` do (`--data-dir`, `--database-url` or their environment
 * variables), with the registry migrations and the auth tables applied.
 */
export async function openAuthDatabase(
  flags: { 'data-dir'?: string; 'database-url'?: string },
  env: CommandEnv,
): Promise<Database> {
  const argv = [
    ...(flags['data-dir'] === undefined ? [] : [`--data-dir=${flags['data-dir']}`]),
    ...(flags['database-url'] === undefined ? [] : [`--database-url=${flags['database-url']}`]),
  ];
  const config = loadRuntimeConfig({ argv, env });
  const database = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateAuth(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** Rows as left-aligned columns under a header, for people; scripts use `--json`. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A list for a table cell: `a,b`, or `-` when empty. */
export function listCell(values: readonly string[] | null | undefined): string {
  return values && values.length > 0 ? values.join(',') : '-';
}
