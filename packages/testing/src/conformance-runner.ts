import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options for {@link runConformanceSuite}. */
export interface RunConformanceSuiteOptions {
  /** Streamable HTTP endpoint of the server under test, e.g. `http://127.0.0.1:3000/mcp`. */
  url: string;
  /** Version of `@modelcontextprotocol/conformance` to run. Default `'0.1.16'`. */
  version?: string;
  /** `'all'` adds the pending scenarios to the `'active'` ones. Default `'all'`. */
  suite?: 'all' | 'active';
  /** Passed as `--spec-version` (e.g. `'2026-07-28'` with the 0.2 line); default none. */
  specVersion?: string;
  /** Where the suite writes `server-<scenario>-<timestamp>/checks.json`. Default a temp folder, deleted after. */
  outputDir?: string;
  /** Kill the run (its whole process group) after this many ms. Default 180 000. */
  timeoutMs?: number;
}

/** One scenario's outcome, read from its `checks.json`. */
export interface ConformanceScenarioResult {
  name: string;
  /** True when no check has status `FAILURE` (warnings do not fail a scenario, as in the suite's summary). */
  passed: boolean;
  /** Number of checks that count (status `SUCCESS` or `FAILURE`); `INFO` and `WARNING` are not counted. */
  checks: number;
  /** `<check id>: <error message>` for every `FAILURE`. */
  failures: string[];
  /** `<check id>: <error message>` for every `WARNING` (SHOULD-level findings). */
  warnings: string[];
}

/** What {@link runConformanceSuite} returns. */
export interface ConformanceSuiteResult {
  /** Every scenario that ran, in the order the suite ran them. */
  scenarios: ConformanceScenarioResult[];
  /** Number of scenarios passed / failed. */
  passed: number;
  failed: number;
  /** Check totals from the suite's closing `Total: N passed, M failed` line, when it printed one. */
  totals?: { passed: number; failed: number };
  /** Everything the suite printed (stdout, then stderr). */
  raw: string;
}

interface Check {
  id?: string;
  status?: string;
  errorMessage?: string;
  description?: string;
}

const DEFAULT_TIMEOUT_MS = 180_000;
const NODE_22_HINT = 'the conformance suite needs Node 22 from the npm registry (npx -p node@22)';
/** `server-<scenario>-<ISO timestamp with : and . replaced by ->`, as the suite names its result folders. */
const RESULT_DIR = /^server-(.+)-(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z)$/;
/** A summary line: `✓ tools-list: 1 passed, 0 failed` (0.2 adds `, N warnings`). */
const SUMMARY_LINE = /^([✓✗]) (\S+): (\d+) passed, (\d+) failed/u;
const TOTAL_LINE = /^Total: (\d+) passed, (\d+) failed/m;

/** Runs a command without a shell, in its own process group, and kills that group on timeout. */
function runCommand(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      env: { ...process.env, npm_config_yes: 'true', NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      // npx starts node, which starts the suite: kill the whole group we created, not just npx.
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

function describeCheck(check: Check): string {
  return `${check.id ?? 'check'}: ${check.errorMessage ?? check.description ?? 'no message'}`;
}

/** The scenario's result from `<dir>/checks.json`, or `undefined` when it wrote none (it crashed). */
async function readScenario(dir: string, name: string): Promise<ConformanceScenarioResult | undefined> {
  let json: string;
  try {
    json = await readFile(join(dir, 'checks.json'), 'utf8');
  } catch {
    return undefined; // the suite creates the folder before running the scenario
  }
  const parsed: unknown = JSON.parse(json);
  const checks = Array.isArray(parsed) ? (parsed as Check[]) : [];
  const failures = checks.filter((check) => check.status === 'FAILURE').map(describeCheck);
  const warnings = checks.filter((check) => check.status === 'WARNING').map(describeCheck);
  const counted = checks.filter((check) => check.status === 'SUCCESS' || check.status === 'FAILURE').length;
  return { name, passed: failures.length === 0, checks: counted, failures, warnings };
}

/**
 * Runs the official MCP conformance suite's server scenarios against `url` with
 * `npx -y -p node@22 -p @modelcontextprotocol/conformance@<version> conformance server …` (the CLI needs
 * Node ≥ 22, fetched from the npm registry; no shell is involved). Results come from the `checks.json` each
 * scenario writes, so they do not depend on the console format; a scenario that crashed before writing one
 * is taken from the summary and reported as failed. A server failing scenarios is a normal result, not an
 * error; the promise rejects only when the suite cannot run (npx/Node 22 unavailable) or times out.
 */
export async function runConformanceSuite(
  options: RunConformanceSuiteOptions,
): Promise<ConformanceSuiteResult> {
  const version = options.version ?? '0.1.16';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const outputDir = options.outputDir ?? (await mkdtemp(join(tmpdir(), 'mcp-conformance-')));
  await mkdir(outputDir, { recursive: true });
  const before = new Set(await readdir(outputDir));

  const suite = options.suite ?? 'all';
  const args = ['-y', '-p', 'node@22', '-p', `@modelcontextprotocol/conformance@${version}`, 'conformance'];
  args.push('server', '--url', options.url, '--suite', suite, '-o', outputDir);
  if (options.specVersion !== undefined) args.push('--spec-version', options.specVersion);

  try {
    let run: Awaited<ReturnType<typeof runCommand>>;
    try {
      run = await runCommand('npx', args, timeoutMs);
    } catch (error) {
      throw new Error(`Could not start npx: ${NODE_22_HINT}`, { cause: error });
    }
    const raw = run.stderr === '' ? run.stdout : `${run.stdout}\n${run.stderr}`;
    if (run.timedOut) {
      throw new Error(
        `The conformance suite did not finish within ${timeoutMs} ms and was killed.\n${tail(raw)}`,
      );
    }

    // Result folders written by this run, newest last, so a re-run scenario reports its latest result.
    const folders = new Map<string, string>();
    const created = (await readdir(outputDir)).filter((entry) => !before.has(entry)).sort(byTimestamp);
    for (const entry of created) {
      const match = RESULT_DIR.exec(entry);
      if (match?.[1] !== undefined) folders.set(match[1], join(outputDir, entry));
    }

    const summary = parseSummary(run.stdout);
    const order = summary.length > 0 ? summary.map((line) => line.name) : [...folders.keys()];
    const scenarios: ConformanceScenarioResult[] = [];
    for (const name of order) {
      const folder = folders.get(name);
      const fromFile = folder === undefined ? undefined : await readScenario(folder, name);
      if (fromFile !== undefined) {
        scenarios.push(fromFile);
        continue;
      }
      const line = summary.find((entry) => entry.name === name);
      scenarios.push({
        name,
        passed: false,
        checks: (line?.passed ?? 0) + (line?.failed ?? 0),
        failures: [`${name}: the scenario wrote no checks.json (it crashed; see raw output)`],
        warnings: [],
      });
    }

    if (scenarios.length === 0) {
      throw new Error(
        `npx ${args.slice(0, 6).join(' ')} server … produced no results (exit code ${String(run.code)}). ` +
          `Note: ${NODE_22_HINT}, and the registry must have @modelcontextprotocol/conformance@${version}. ` +
          `Output ends:\n${tail(raw)}`,
      );
    }
    const total = TOTAL_LINE.exec(run.stdout);
    const passed = scenarios.filter((scenario) => scenario.passed).length;
    return {
      scenarios,
      passed,
      failed: scenarios.length - passed,
      ...(total?.[1] !== undefined && total[2] !== undefined
        ? { totals: { passed: Number(total[1]), failed: Number(total[2]) } }
        : {}),
      raw,
    };
  } finally {
    if (options.outputDir === undefined) await rm(outputDir, { recursive: true, force: true });
  }
}

function byTimestamp(a: string, b: string): number {
  return (RESULT_DIR.exec(a)?.[2] ?? '').localeCompare(RESULT_DIR.exec(b)?.[2] ?? '');
}

function parseSummary(stdout: string): Array<{ name: string; passed: number; failed: number }> {
  const start = stdout.lastIndexOf('SUMMARY ===');
  if (start === -1) return [];
  const lines: Array<{ name: string; passed: number; failed: number }> = [];
  for (const line of stdout.slice(start).split('\n')) {
    const match = SUMMARY_LINE.exec(line.trim());
    if (match?.[2] !== undefined)
      lines.push({ name: match[2], passed: Number(match[3]), failed: Number(match[4]) });
  }
  return lines;
}

function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
