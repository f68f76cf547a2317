#!/usr/bin/env node
import { watch } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { importOpenApi } from '@mcp-gateway/adapter-rest';
import {
  createChangeFeed,
  createDatabase,
  createToolStore,
  exportRegistry,
  importRegistry,
  type RegistryDocument,
} from '@mcp-gateway/registry';
import { applyOpenApiImport } from './http/admin-actions.ts';
import { runSecretsCommand } from './commands/secrets-command.ts';
import { maskDocument, unmaskDocument } from './http/config-routes.ts';
import { registrySecretsFromEnv } from './secrets/registry-secret-codec.ts';
import { describeError } from '@mcp-gateway/core';
import { closeAllStdioProcesses, killAllStdioProcesses, runWrapperCli } from '@mcp-gateway/transport-stdio';
import {
  ConfigError,
  describeConfig,
  loadConfigFile,
  loadRuntimeConfig,
  type GatewayInput,
} from './config/index.ts';
import { createLogger } from './logger.ts';
import { runSampleServer } from './sample-server.ts';
import { startGateway } from './start-gateway.ts';
import { runTokenCommand } from './commands/token-command.ts';
import { runUserCommand } from './commands/user-command.ts';

const USAGE = `Usage: mcp-gateway [start] [options]
       mcp-gateway export [--format json|yaml] [--output FILE] [options]
       mcp-gateway import FILE [--replace] [options]
       mcp-gateway import-openapi FILE|URL --source NAME [--base-url URL] [--include-tag TAG]... [options]
       mcp-gateway secrets rotate [options]
       mcp-gateway token create --name NAME [--owner USER] [--role R]... [--team T]... [--scope S]...
                         [--server VSID]... [--expires-in-days D] [--json] [options]
       mcp-gateway token list [--owner USER] [--json] [options]
       mcp-gateway token revoke ID [options]
       mcp-gateway user create --username NAME [--role R]... [--team T]... [options]
       mcp-gateway user list [--json] [options]
       mcp-gateway user set-password|disable USERNAME [options]
       mcp-gateway wrapper --url URL [--header "K: V"]...
       mcp-gateway sample-server

Commands:
  start            Start the gateway (default).
  export           Print (or write) the whole registry as JSON or YAML: gateways, tools, prompts, resources, servers.
                   Secrets are masked (********); importing a masked value keeps the stored one.
  import           Apply a registry document in one transaction (merge; --replace deletes what it does not list).
                   With the embedded database, stop the gateway first (or use PUT /v1/config while it runs).
  import-openapi   Turn an OpenAPI 3.x (or Swagger 2.0) spec into REST tools; a re-import of the same --source
                   updates them in place and prints what changed (or POST /v1/openapi/import while it runs).
  secrets rotate   Re-encrypt every stored upstream secret with MCP_GATEWAY_SECRET_KEY, reading old ones with
                   MCP_GATEWAY_SECRET_KEY_PREVIOUS (see mcp-gateway secrets --help).
  token            API tokens, straight on the database. create prints the token once on stdout (--json: with its
                   details); --owner is a username or id (default admin), whose roles and teams the token gets
                   unless --role/--team say otherwise; --scope defaults to * and --server to any virtual server.
  user             People who sign in with a password (Basic auth). The password is read from
                   MCP_GATEWAY_USER_PASSWORD, or asked for on a terminal; never from a flag.
  wrapper          Bridge a stdio-only MCP client (Claude Desktop) to a gateway URL: stdin/stdout ↔ streamable HTTP.
  sample-server    Run the sample MCP server on stdio (what --sample registers).

Options (environment variable in brackets):
  --port N                 Port to listen on [MCP_GATEWAY_PORT] (default 4444)
  --host H                 Address to bind [MCP_GATEWAY_HOST] (default 127.0.0.1)
  --config PATH            Upstreams config file, JSON or YAML [MCP_GATEWAY_CONFIG]
  --data-dir PATH          Embedded database folder [MCP_GATEWAY_DATA_DIR] (default ./data)
  --database-url URL       Postgres instead of the embedded database [DATABASE_URL]
  --log-level LEVEL        fatal|error|warn|info|debug|trace|silent [LOG_LEVEL] (default info)
  --log-format FORMAT      json|pretty [MCP_GATEWAY_LOG_FORMAT] (default json)
  --upstream-timeout-ms N  Default upstream request timeout [MCP_GATEWAY_UPSTREAM_TIMEOUT_MS] (default 30000)
  --allowed-origins LIST   Browser origins allowed to call, comma-separated [MCP_GATEWAY_ALLOWED_ORIGINS]
  --auth METHODS           Credentials accepted: none, or a list of token,jwt,basic [MCP_GATEWAY_AUTH]
                           (default: jwt,token when MCP_GATEWAY_JWT_SECRET or MCP_GATEWAY_JWT_JWKS_URL is set, else none)
  --public-url URL         External base URL of the gateway, for OAuth resource URLs [MCP_GATEWAY_PUBLIC_URL]
  --mcp-scopes LIST        Scopes every MCP request's token needs [MCP_GATEWAY_MCP_SCOPES]
  --allow-unauthenticated  Bind beyond loopback without auth (a proxy in front authenticates) [MCP_GATEWAY_ALLOW_UNAUTHENTICATED]
  --rate-limits LIST       Token buckets, e.g. principal=60/min,tool=600/min,virtual-server=1000/min [MCP_GATEWAY_RATE_LIMITS]
  --rate-limit-store S     memory (per replica) or database (shared) [MCP_GATEWAY_RATE_LIMIT_STORE]
  --tool-pinning MODE      off, quarantine or trust-first [MCP_GATEWAY_TOOL_PINNING]
  --sample                 Also register the sample upstream (a stdio server with echo, add, current_time)
  --watch                  Re-apply the --config file whenever it changes
  --help                   Show this help
`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'wrapper') return runWrapperCli(rest);
  if (first === 'export' || first === 'import') return registryCommand(first, rest);
  if (first === 'import-openapi') return importOpenApiCommand(rest);
  if (first === 'token' || first === 'user') {
    const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
    return first === 'token' ? runTokenCommand(rest, process.env, io) : runUserCommand(rest, process.env, io);
  }
  if (first === 'secrets') return runSecretsCommand(rest, process.env, process.stdout);
  if (first === 'sample-server') {
    await runSampleServer();
    return -1;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const args = first === 'start' ? rest : argv;
  if (args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const sample = args.includes('--sample');
  const watchConfig = args.includes('--watch');
  const config = loadRuntimeConfig({
    argv: args
      .filter((arg) => arg !== '--sample' && arg !== '--watch')
      .map((arg) => (arg === '--allow-unauthenticated' ? '--allow-unauthenticated=true' : arg)),
    env: process.env,
  });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });

  const configFile = config.configPath ? await loadConfigFile(config.configPath) : undefined;
  const gateways: GatewayInput[] = configFile?.gateways ?? [];
  if (sample && !gateways.some((g) => g.name === 'sample')) {
    gateways.push({
      name: 'sample',
      transport: 'stdio',
      command: process.execPath,
      args: [fileURLToPath(import.meta.url), 'sample-server'],
      env: {},
      headers: {},
      enabled: true,
      tags: ['sample'],
    });
  }

  logger.info({ config: describeConfig(config) }, 'starting MCP Gateway');
  const gateway = await startGateway({
    config,
    logger,
    gateways,
    catalog: configFile?.catalog,
    configSource: config.configPath,
  });
  if (watchConfig && config.configPath) {
    const path = config.configPath;
    let timer: ReturnType<typeof setTimeout> | undefined;
    watch(path, () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        loadConfigFile(path)
          .then((file) => gateway.applyConfig(file, path))
          .catch((error: unknown) =>
            logger.error({ err: describeError(error), path }, 'the changed config file was not applied'),
          );
      }, 200);
    }).unref();
    logger.info({ path }, 'watching the config file');
  }
  logger.info({ url: gateway.mcpUrl }, 'MCP Gateway is listening');
  process.stdout.write(`\nMCP Gateway is ready. Connect your MCP client to:\n\n    ${gateway.mcpUrl}\n\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal while shutting down: stop waiting, take every child down now.
      logger.warn({ signal }, 'second signal: killing stdio servers and exiting now');
      killAllStdioProcesses('SIGKILL');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      killAllStdioProcesses();
      process.exit(1);
    }, 10_000);
    force.unref();
    gateway
      .close()
      .then(() => closeAllStdioProcesses())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: describeError(error) }, 'shutdown failed');
        killAllStdioProcesses();
        process.exit(1);
      });
  };
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  return -1;
}

process.once('exit', () => killAllStdioProcesses());

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    const message = error instanceof ConfigError ? error.message : describeError(error);
    const details = (error as { details?: unknown }).details;
    const lines = Array.isArray(details)
      ? details
          .map((d: { path?: string; message?: string }) => `\n  ${d.path ?? ''}: ${d.message ?? ''}`)
          .join('')
      : '';
    process.stderr.write(`mcp-gateway: ${message}${lines}\n`);
    killAllStdioProcesses();
    process.exit(1);
  },
);

/** `mcp-gateway export` and `mcp-gateway import`: the registry as one document, straight from the database. */
async function registryCommand(command: 'export' | 'import', argv: string[]): Promise<number> {
  const take = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    if (index === -1) return undefined;
    const value = argv[index + 1];
    argv.splice(index, 2);
    return value;
  };
  const format = take('--format');
  const output = take('--output');
  const replace = argv.includes('--replace');
  const rest = argv.filter((arg) => arg !== '--replace');
  const file =
    command === 'import' && rest[0] !== undefined && !rest[0].startsWith('--') ? rest.shift() : undefined;
  if (command === 'import' && file === undefined)
    throw new ConfigError('config-invalid', 'import needs a FILE');
  if (format !== undefined && format !== 'json' && format !== 'yaml') {
    throw new ConfigError('config-invalid', `--format: expected json or yaml, got "${format}"`);
  }
  const config = loadRuntimeConfig({ argv: rest, env: process.env });
  const database = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const { codec: secrets } = registrySecretsFromEnv(process.env);
  try {
    if (command === 'export') {
      const document = maskDocument(await exportRegistry(database.db, { secrets }));
      const yaml = (format ?? (/\.ya?ml$/.test(output ?? '') ? 'yaml' : 'json')) === 'yaml';
      const text = yaml ? stringifyYaml(document) : `${JSON.stringify(document, null, 2)}\n`;
      if (output) await writeFile(output, text);
      else process.stdout.write(text);
      return 0;
    }
    const path = file as string;
    const text = await readFile(path, 'utf8');
    const document: unknown = /\.ya?ml$/.test(path) ? parseYaml(text) : JSON.parse(text);
    // A masked secret (from `export`) keeps the stored value.
    const unmasked =
      typeof document === 'object' && document !== null && !Array.isArray(document)
        ? unmaskDocument(document as RegistryDocument, await exportRegistry(database.db, { secrets }))
        : document;
    const result = await importRegistry(database.db, unmasked, {
      mode: replace ? 'replace' : 'merge',
      actor: 'cli',
      secrets,
    });
    // Running gateways on the same Postgres reload at once.
    const feed = await createChangeFeed({ database, pollIntervalMs: 0 });
    await feed.publish({ kind: 'config', id: 'cli', version: Date.now() });
    await feed.close();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } finally {
    await database.close();
  }
}

/** `mcp-gateway import-openapi FILE|URL --source NAME`: an OpenAPI spec as REST tools, straight into the registry. */
async function importOpenApiCommand(argv: string[]): Promise<number> {
  const values = (flag: string): string[] => {
    const found: string[] = [];
    for (let index = argv.indexOf(flag); index !== -1; index = argv.indexOf(flag)) {
      const value = argv[index + 1];
      if (value !== undefined) found.push(value);
      argv.splice(index, 2);
    }
    return found;
  };
  const source = values('--source')[0];
  const baseUrl = values('--base-url')[0];
  const tags = values('--include-tag');
  const location = argv[0] !== undefined && !argv[0].startsWith('--') ? argv.shift() : undefined;
  if (location === undefined || source === undefined) {
    throw new ConfigError('config-invalid', 'import-openapi needs FILE|URL and --source NAME');
  }
  const spec = /^https?:\/\//.test(location)
    ? await (await fetch(location)).text()
    : await readFile(location, 'utf8');
  const imported = importOpenApi(spec, { baseUrl, ...(tags.length > 0 ? { include: { tags } } : {}) });
  const config = loadRuntimeConfig({ argv, env: process.env });
  const database = await createDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const feed = await createChangeFeed({ database, pollIntervalMs: 0 });
    const report = await applyOpenApiImport({
      tools: createToolStore({ db: database.db, secrets: registrySecretsFromEnv(process.env).codec }),
      source,
      imported: imported.tools,
      warnings: imported.warnings,
      publish: (change) => feed.publish(change),
    });
    await feed.close();
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
