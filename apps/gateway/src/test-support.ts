import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { stdioFixtureCommand } from '@mcp-gateway/testing';
import type { GatewayInput, RuntimeConfig } from './config/index.ts';
import { createLogger } from './logger.ts';
import type { RunningGateway } from './start-gateway.ts';

/** A runtime config for tests: ephemeral loopback port, a fresh temp data dir, short timeouts. */
export async function testConfig(
  overrides: Partial<RuntimeConfig> = {},
): Promise<RuntimeConfig & AsyncDisposable> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mcp-gateway-test-'));
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir,
    logLevel: 'info',
    logFormat: 'json',
    upstreamTimeoutMs: 10_000,
    allowedOrigins: [],
    ...overrides,
    [Symbol.asyncDispose]: () => rm(dataDir, { recursive: true, force: true }),
  };
}

/** A pino logger whose JSON lines are kept in memory, so tests can assert on what was logged. */
export function capturedLogger(): {
  logger: ReturnType<typeof createLogger>;
  lines: () => Record<string, unknown>[];
} {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', format: 'json', destination });
  return {
    logger,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Polls `check` every 50 ms until it returns a value, failing after `timeoutMs` with `what` in the message. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastError instanceof Error ? `: ${lastError.message}` : ''}`,
  );
}

/** Waits until every registered upstream reports `ready`. */
export async function waitForReadyUpstreams(gateway: RunningGateway, count: number): Promise<void> {
  await waitFor(`${count} ready upstreams`, async () => {
    const records = await gateway.store.list();
    const ready = records.filter((r) => gateway.manager.status(r.id)?.status === 'ready');
    return ready.length >= count ? true : undefined;
  });
}

/** The official SDK client, connected to the gateway over loopback streamable HTTP. */
export async function connectClient(
  gateway: RunningGateway,
  name = 'test-client',
): Promise<Client & AsyncDisposable> {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: {} });
  await client.connect(new StreamableHTTPClientTransport(new URL(gateway.mcpUrl)));
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

/** A stdio upstream running packages/testing's fixture server under `name` (also its namespace). */
export function stdioFixtureGateway(name: string, extra: Partial<GatewayInput> = {}): GatewayInput {
  return {
    name,
    transport: 'stdio',
    ...stdioFixtureCommand(name),
    env: {},
    headers: {},
    enabled: true,
    tags: [],
    ...extra,
  };
}
