// How the catalog-scale and REST-tool benchmarks start the gateway: a frozen copy of apps/gateway/dist (the build
// may be redone by someone else mid-run; tsup cleans dist first), run with plain `node`.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, REPO_ROOT, sleep, spawnScale, temporaryDir, type ScaleProcess } from './scale-process.ts';

/** The gateway's build output (`pnpm --filter @mcp-gateway/gateway build`). */
export const GATEWAY_DIST = join(REPO_ROOT, 'apps/gateway/dist');
/** The gateway CLI's source, run through tsx when the build does not start. */
export const GATEWAY_SOURCE_CLI = join(REPO_ROOT, 'apps/gateway/src/cli.ts');

/** How the gateway process is started: `node [loader] <cli> …`. */
export interface GatewayLaunch {
  /** `dist` (the built bundle), `dist+require` (the bundle with a global `require` preloaded) or `source` (tsx). */
  from: 'dist' | 'dist+require' | 'source';
  /** Node options that load the CLI: empty, the `require` shim, or `--import tsx`. */
  loader: string[];
  /** The CLI file: a copy of dist/cli.js, or src/cli.ts. */
  cli: string;
  /** Why the plain bundle was not used, when it was not. */
  note?: string;
  /** The commit the working tree is on, and how many files under apps/ and packages/ differ from it. */
  revision: { commit: string; changedFiles: number };
}

/**
 * A preload that defines a global `require` (esbuild's ESM `__require` shim uses it when present), for a bundle
 * that inlined a CommonJS dependency which requires Node built-ins: the bundle itself runs unchanged.
 */
function requireShim(cli: string): string {
  return `data:text/javascript,import{createRequire}from'node:module';globalThis.require=createRequire(${JSON.stringify(cli)});`;
}

function probeHelp(cli: string, loader: string[]): { ok: boolean; error: string } {
  const probe = spawnSync(process.execPath, [...loader, cli, '--help'], {
    cwd: REPO_ROOT,
    timeout: 20_000,
    encoding: 'utf8',
  });
  const error =
    (probe.stderr ?? '').split('\n').find((line) => /^\w*Error\b/.test(line)) ?? `exit ${probe.status}`;
  return { ok: probe.status === 0, error: error.trim() };
}

/** The commit and the number of changed files under apps/ and packages/ (read-only git commands). */
function revision(): GatewayLaunch['revision'] {
  const git = (args: string[]) =>
    spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 10_000 }).stdout?.trim() ?? '';
  const commit = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  const changed = git(['status', '--porcelain', '--', 'apps', 'packages']);
  return { commit, changedFiles: changed === '' ? 0 : changed.split('\n').length };
}

/**
 * Copies dist into a temporary folder whose `node_modules` links to apps/gateway/node_modules, so the bundle's
 * third-party imports resolve as they do in place. Returns the copy's cli.js.
 */
function snapshotDist(from: string): string {
  const dir = temporaryDir('mcpgw-dist');
  cpSync(from, dir, { recursive: true });
  symlinkSync(join(REPO_ROOT, 'apps/gateway/node_modules'), join(dir, 'node_modules'), 'dir');
  return join(dir, 'cli.js');
}

/**
 * `dist`: the built CLI as is (throws when `node dist/cli.js --help` fails). `source`: src/cli.ts through tsx.
 * `auto`: the built CLI; when it fails with esbuild's "Dynamic require … is not supported", the same bundle with a
 * global `require` preloaded; else the source (saying why). The bundle is a frozen copy taken now.
 */
export async function resolveGatewayLaunch(
  prefer: 'auto' | 'dist' | 'source',
  /** Another build of the gateway to copy instead of apps/gateway/dist (a frozen before/after build). */
  distDir: string = GATEWAY_DIST,
): Promise<GatewayLaunch> {
  const source: GatewayLaunch = {
    from: 'source',
    loader: ['--import', 'tsx'],
    cli: GATEWAY_SOURCE_CLI,
    revision: revision(),
  };
  if (prefer === 'source') return source;
  if (!existsSync(join(distDir, 'cli.js'))) {
    const missing = `${distDir}/cli.js is missing (pnpm --filter @mcp-gateway/gateway build)`;
    if (prefer === 'dist') throw new Error(missing);
    return { ...source, note: `${missing}; ran apps/gateway/src/cli.ts through tsx instead` };
  }
  // A copy taken while someone rebuilds may be partial: try a few times.
  let failure = '';
  for (let attempt = 1; attempt <= 3; attempt += 1) {
    const cli = snapshotDist(distDir);
    const plain = probeHelp(cli, []);
    if (plain.ok) return { from: 'dist', loader: [], cli, revision: source.revision };
    failure = `node apps/gateway/dist/cli.js --help fails: ${plain.error}`;
    if (/Dynamic require of/.test(plain.error)) {
      if (prefer === 'dist') throw new Error(failure);
      const shim = ['--import', requireShim(cli)];
      if (probeHelp(cli, shim).ok) {
        const note = `${failure} (a CommonJS dependency inlined into the ESM bundle); ran the same bundle with a global require preloaded`;
        return { from: 'dist+require', loader: shim, cli, note, revision: source.revision };
      }
    }
    await sleep(2_000);
  }
  if (prefer === 'dist') throw new Error(failure);
  return { ...source, note: `${failure}; ran apps/gateway/src/cli.ts through tsx instead` };
}

/** How a launch is shown in reports. */
export function describeLaunch(launch: GatewayLaunch): string {
  const at = `commit ${launch.revision.commit}${launch.revision.changedFiles > 0 ? ` + ${launch.revision.changedFiles} uncommitted files under apps/ and packages/` : ''}`;
  if (launch.from === 'dist') return `apps/gateway/dist/cli.js (${at})`;
  if (launch.from === 'dist+require')
    return `apps/gateway/dist/cli.js with a global \`require\` preloaded, see the note (${at})`;
  return `apps/gateway/src/cli.ts through tsx (${at})`;
}

/** What {@link spawnGateway} needs. */
export interface GatewaySpawn {
  launch: GatewayLaunch;
  /** The upstreams config file (`--config`). */
  configPath: string;
  /** The embedded database's folder (`--data-dir`). */
  dataDir: string;
  /** A PostgreSQL URL instead of the embedded database (`--database-url`). */
  databaseUrl?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Run under `node --cpu-prof --cpu-prof-dir DIR`. */
  profileDir?: string;
}

/** A gateway process that has printed its URL. */
export interface SpawnedGateway {
  gateway: ScaleProcess;
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  base: string;
  /** `performance.now()` at spawn. */
  spawnedAt: number;
  /** Spawn → URL printed, in ms. */
  listeningMs: number;
}

/** Spawns `mcp-gateway start --port 0 … --log-level warn` and waits (up to 2 minutes) until it prints its URL. */
export async function spawnGateway(options: GatewaySpawn): Promise<SpawnedGateway> {
  const profileArgs =
    options.profileDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', options.profileDir];
  const databaseArgs = options.databaseUrl === undefined ? [] : ['--database-url', options.databaseUrl];
  const spawnedAt = performance.now();
  const gateway = spawnScale(
    'gateway',
    [
      process.execPath,
      ...profileArgs,
      // Only the port the inspector would use if activated (SIGUSR1, see forceGc): nothing listens until then.
      '--inspect-port=0',
      ...options.launch.loader,
      options.launch.cli,
      'start',
      '--port',
      '0',
      '--data-dir',
      options.dataDir,
      ...databaseArgs,
      '--config',
      options.configPath,
      '--log-level',
      'warn',
    ],
    { env: { ...process.env, ...options.env } },
  );
  const [, base] = await gateway.waitForLine(/(http:\/\/127\.0\.0\.1:\d+)\/mcp/, 120_000);
  if (base === undefined) throw new Error('the gateway printed no URL');
  return { gateway, base, spawnedAt, listeningMs: performance.now() - spawnedAt };
}

/** Polls `GET /ready` (every 25 ms, up to 3 minutes) until it answers 200; returns its body. */
export async function waitForReady(spawned: SpawnedGateway): Promise<{ catalog?: { tools?: number } }> {
  return pollUntil(
    '/ready 200',
    async () => {
      const response = await fetch(`${spawned.base}/ready`, { signal: AbortSignal.timeout(10_000) });
      const body = (await response.json()) as { catalog?: { tools?: number } };
      return response.status === 200 ? body : undefined;
    },
    { timeoutMs: 180_000, everyMs: 25 },
  ).catch((error: unknown) => {
    throw new Error(`${String(error)}${spawned.gateway.tail()}`);
  });
}

const COLLECT_GARBAGE = `
const socket = new WebSocket(process.argv[1]);
const timer = setTimeout(() => process.exit(2), 20000);
let id = 0;
const send = () => socket.send(JSON.stringify({ id: ++id, method: 'HeapProfiler.collectGarbage' }));
socket.onopen = send;
socket.onmessage = (event) => {
  const message = JSON.parse(String(event.data));
  if (message.id === undefined) return;
  if (message.id < 2) return send();
  clearTimeout(timer);
  socket.close();
  process.exit(0);
};
socket.onerror = () => process.exit(3);
`;

/**
 * Runs two full garbage collections in the gateway: SIGUSR1 opens its inspector (on the port `--inspect-port=0`
 * picked), and a short-lived `node --experimental-websocket` child sends `HeapProfiler.collectGarbage`. Afterwards
 * the V8 heap holds only live objects. The inspector stays open, so call this last. Returns false if it failed.
 */
export async function forceGc(spawned: SpawnedGateway): Promise<boolean> {
  try {
    process.kill(spawned.gateway.pid, 'SIGUSR1');
    const [, url] = await spawned.gateway.waitForLine(/Debugger listening on (ws:\/\/\S+)/, 10_000);
    if (url === undefined) return false;
    const child = spawnSync(
      process.execPath,
      ['--experimental-websocket', '--no-warnings', '-e', COLLECT_GARBAGE, url],
      {
        timeout: 30_000,
        encoding: 'utf8',
      },
    );
    return child.status === 0;
  } catch {
    return false;
  }
}
