#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
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

const USAGE = `Usage: mcp-gateway [start] [options]
       mcp-gateway wrapper --url URL [--header "K: V"]...
       mcp-gateway sample-server

Commands:
  start            Start the gateway (default).
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
  --sample                 Also register the sample upstream (a stdio server with echo, add, current_time)
  --help                   Show this help
`;

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === 'wrapper') return runWrapperCli(rest);
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
  const config = loadRuntimeConfig({ argv: args.filter((arg) => arg !== '--sample'), env: process.env });
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });

  const gateways: GatewayInput[] = config.configPath
    ? (await loadConfigFile(config.configPath)).gateways
    : [];
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
  const gateway = await startGateway({ config, logger, gateways });
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
    const message = error instanceof ConfigError ? error.message : `failed to start: ${describeError(error)}`;
    process.stderr.write(`mcp-gateway: ${message}\n`);
    killAllStdioProcesses();
    process.exit(1);
  },
);
