import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSession, type LoadTarget } from './load-generator.ts';
import {
  freePort,
  removeOnExit,
  sleep,
  spawnManaged,
  waitForPort,
  type ManagedProcess,
} from './processes.ts';

/** Where the harness finds its own entry points and the projects it compares. */
export interface BenchPaths {
  /** The monorepo root. */
  root: string;
  /** The bench package folder. */
  bench: string;
  /** Built echo upstream (`dist/echo-server.js`). */
  echoBin: string;
  /** Built load generator (`dist/load-generator.js`). */
  loadGeneratorBin: string;
  /**
   * Node arguments that run the gateway CLI: `[apps/gateway/dist/cli.js]`, or the TypeScript source under tsx when
   * the build does not start (see `prepareGateway` in run-bench.ts).
   */
  gatewayEntry: readonly string[];
  /** Extra options for `mcp-gateway start`, e.g. `--database-url` (from the bench's own flags). */
  gatewayOptions: readonly string[];
}

/** Identifiers of the rows of the results table. */
export type TargetId =
  'direct-http' | 'direct-stdio' | 'gateway-http' | 'gateway-stdio' | 'supergateway' | 'mcp-proxy';

/** A row of the results table: what the load generator talks to, and how it was set up. */
export interface TargetInfo {
  id: TargetId;
  label: string;
  /** One line on the path a call takes. */
  path: string;
}

/** Every row, in table order. */
export const TARGETS: readonly TargetInfo[] = [
  {
    id: 'direct-http',
    label: 'direct (HTTP)',
    path: 'client → echo server (streamable HTTP, JSON responses)',
  },
  {
    id: 'direct-stdio',
    label: 'direct (stdio, reference)',
    path: 'client → echo server (stdio child of the load generator, one per session)',
  },
  {
    id: 'gateway-http',
    label: 'gateway → HTTP echo',
    path: 'client → MCP Gateway → echo server (streamable HTTP)',
  },
  {
    id: 'gateway-stdio',
    label: 'gateway → stdio echo',
    path: 'client → MCP Gateway → echo server (one stdio child)',
  },
  {
    id: 'supergateway',
    label: 'supergateway 4.0.0 --stateful',
    path: 'client → supergateway → echo server (one stdio child per session)',
  },
  {
    id: 'mcp-proxy',
    label: 'mcp-proxy 6.7.19',
    path: 'client → mcp-proxy → echo server (one shared stdio child)',
  },
];

/** A started target: the load target for the generator, the process to watch (if any), and how to stop it. */
export interface RunningTarget {
  load: LoadTarget;
  /** The process under test (gateway, proxy or echo server), for RSS readings and profiles. */
  process?: ManagedProcess;
  stop(): Promise<void>;
}

/** Starts the echo upstream over HTTP on an ephemeral port. */
export async function startEchoHttp(paths: BenchPaths): Promise<RunningTarget & { url: string }> {
  const echo = spawnManaged({
    name: 'echo-server (http)',
    command: process.execPath,
    args: [paths.echoBin, 'http', '--port', '0'],
  });
  const [url] = await echo.waitForLine(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/, 15_000);
  return { url, load: { transport: 'http', url }, process: echo, stop: () => echo.stop() };
}

/** The stdio echo as the load generator runs it itself (one child per session). */
export function echoStdioTarget(paths: BenchPaths): RunningTarget {
  return {
    load: { transport: 'stdio', command: process.execPath, args: [paths.echoBin, 'stdio'] },
    stop: async () => undefined,
  };
}

/** Options of {@link startGatewayProcess}. */
export interface GatewayProcessOptions {
  paths: BenchPaths;
  /** The echo upstream: its HTTP URL, or `'stdio'` for a stdio child of the gateway. */
  upstream: { transport: 'streamable-http'; url: string } | { transport: 'stdio' };
  /** Registry folder; reuse one to start on an initialized database [a fresh temporary folder]. */
  dataDir?: string;
  /** Write a V8 CPU profile into this folder (written when the gateway exits after SIGINT). */
  cpuProfileDir?: string;
}

/**
 * Runs the built gateway CLI as its own process on an ephemeral port, with a fresh data dir and a config file that
 * registers the echo upstream under the empty namespace (so the tool stays `echo`). Resolves once the gateway
 * printed its URL and `GET /v1/gateways` shows the upstream `ready`.
 */
export async function startGatewayProcess(options: GatewayProcessOptions): Promise<RunningTarget> {
  const { paths } = options;
  const folder = mkdtempSync(join(tmpdir(), 'mcp-gateway-bench-'));
  removeOnExit(folder);
  const upstream =
    options.upstream.transport === 'stdio'
      ? {
          name: 'echo',
          transport: 'stdio',
          command: process.execPath,
          args: [paths.echoBin, 'stdio'],
          namespace: '',
        }
      : { name: 'echo', transport: 'streamable-http', url: options.upstream.url, namespace: '' };
  const configPath = join(folder, 'config.json');
  writeFileSync(configPath, JSON.stringify({ gateways: [upstream] }, null, 2));
  const profileArgs =
    options.cpuProfileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir];
  const gateway = spawnManaged({
    name: `gateway (${options.upstream.transport} upstream)`,
    command: process.execPath,
    args: [
      ...profileArgs,
      ...paths.gatewayEntry,
      'start',
      '--port',
      '0',
      '--data-dir',
      options.dataDir ?? join(folder, 'data'),
      '--config',
      configPath,
      '--log-level',
      'warn',
      ...paths.gatewayOptions,
    ],
    cwd: folder,
  });
  // SIGINT is the gateway's graceful stop, and what makes V8 write the CPU profile.
  const stop = () => gateway.stop({ signal: 'SIGINT', timeoutMs: 15_000 });
  try {
    const [url] = await gateway.waitForLine(/http:\/\/127\.0\.0\.1:\d+\/mcp/, 60_000);
    await waitForUpstreamReady(new URL('/v1/gateways', url).href, 30_000);
    return { load: { transport: 'http', url }, process: gateway, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitForUpstreamReady(listUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(listUrl, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as { items?: Array<{ runtime?: { status?: string } }> };
      const statuses = (body.items ?? []).map((item) => item.runtime?.status ?? 'unknown');
      if (statuses.length > 0 && statuses.every((status) => status === 'ready')) return;
      last = `statuses ${JSON.stringify(statuses)}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  throw new Error(`gateway upstream not ready after ${timeoutMs} ms (${last})`);
}

/** Resolves a package's bin script inside the bench package's node_modules, to run it with `node`. */
function packageBin(paths: BenchPaths, name: string): string {
  const folder = join(paths.bench, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as {
    bin?: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[name];
  if (bin === undefined) throw new Error(`${name} has no bin named ${name}`);
  return join(folder, bin);
}

/** supergateway 4.0.0 in stateful streamable-HTTP mode, fronting the stdio echo (it spawns one per session). */
export async function startSupergateway(paths: BenchPaths): Promise<RunningTarget> {
  const port = await freePort();
  const proxy = spawnManaged({
    name: 'supergateway',
    command: process.execPath,
    args: [
      packageBin(paths, 'supergateway'),
      '--stdio',
      `${JSON.stringify(process.execPath)} ${JSON.stringify(paths.echoBin)} stdio`,
      '--outputTransport',
      'streamableHttp',
      '--stateful',
      '--port',
      String(port),
      '--logLevel',
      'none',
    ],
  });
  return readyProxy(proxy, port);
}

/** mcp-proxy 6.7.19 serving streamable HTTP on 127.0.0.1, fronting the stdio echo (one child shared). */
export async function startMcpProxy(paths: BenchPaths): Promise<RunningTarget> {
  const port = await freePort();
  const proxy = spawnManaged({
    name: 'mcp-proxy',
    command: process.execPath,
    args: [
      packageBin(paths, 'mcp-proxy'),
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--server',
      'stream',
      '--',
      process.execPath,
      paths.echoBin,
      'stdio',
    ],
  });
  return readyProxy(proxy, port);
}

/** Waits for a proxy's port, then for one real MCP session to open and close. */
async function readyProxy(proxy: ManagedProcess, port: number): Promise<RunningTarget> {
  const url = `http://127.0.0.1:${port}/mcp`;
  const stop = () => proxy.stop({ signal: 'SIGTERM', timeoutMs: 5_000 });
  try {
    await waitForPort(port, 20_000);
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const session = await openSession({ transport: 'http', url }, 5_000);
        await session.close();
        break;
      } catch (error) {
        if (Date.now() > deadline || proxy.exited()) throw error;
        await sleep(200);
      }
    }
    return { load: { transport: 'http', url }, process: proxy, stop };
  } catch (error) {
    await stop();
    throw new Error(
      `${proxy.name} did not become ready: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
