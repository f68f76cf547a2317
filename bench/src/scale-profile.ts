// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per function, mapped back through the bundle's
// source maps to file:line, and self time per source file.
//
//   tsx src/scale-profile.ts FILE.cpuprofile [--top 25]
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './scale-process.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** One row of the summary. */
export interface HotSpot {
  /** `path/to/file.ts:line function` (or a V8 pseudo-frame like `(garbage collector)`). */
  where: string;
  selfMs: number;
  percent: number;
}

/** A profile's self time by function and by file. */
export interface ProfileSummary {
  /** CPU time sampled, idle excluded. */
  totalMs: number;
  /** Time the main thread sat idle (the `(idle)` pseudo-frame). */
  idleMs: number;
  functions: HotSpot[];
  files: HotSpot[];
  /** The repository's own functions (packages/, apps/) by total time: their own and their callees' (sync stacks). */
  ownInclusive: HotSpot[];
}

const sourceMaps = new Map<string, SourceMap | undefined>();

function sourceMapOf(path: string): SourceMap | undefined {
  if (!sourceMaps.has(path)) {
    let map: SourceMap | undefined;
    const mapPath = `${path}.map`;
    if (existsSync(mapPath)) {
      try {
        map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')) as SourceMapPayload);
      } catch {
        map = undefined;
      }
    }
    sourceMaps.set(path, map);
  }
  return sourceMaps.get(path);
}

/** A readable path: from the last node_modules (pnpm's store prefix dropped), or from the repository root. */
function shortPath(path: string): string {
  const inModules = path.lastIndexOf('node_modules/');
  if (inModules !== -1) {
    return path.slice(inModules + 'node_modules/'.length).replace(/^\.pnpm\/[^/]+\/node_modules\//, '');
  }
  const fromRepo = relative(REPO_ROOT, path);
  return fromRepo.startsWith('..') ? path : fromRepo;
}

/** A source-map source (`../../../packages/core/src/router.ts`) as a repository path, wherever the bundle sits. */
function sourcePath(source: string, bundle: string): string {
  if (source.startsWith('file://')) return shortPath(fileURLToPath(source));
  const inModules = source.lastIndexOf('node_modules/');
  if (inModules !== -1) return shortPath(source);
  const inRepo = /(?:^|\/)((?:apps|packages|bench)\/.+)$/.exec(source);
  if (inRepo?.[1]) return inRepo[1];
  return shortPath(join(bundle, '..', source));
}

/** Where a frame's code comes from: original source file and line when a source map knows it. */
function locate(frame: ProfileNode['callFrame']): { file: string; line: number } {
  if (frame.url === '') return { file: '', line: 0 };
  if (!frame.url.startsWith('file://')) return { file: frame.url, line: frame.lineNumber + 1 };
  const path = fileURLToPath(frame.url);
  const map = sourceMapOf(path);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry && 'originalSource' in entry && entry.originalSource) {
    return { file: sourcePath(entry.originalSource, path), line: entry.originalLine + 1 };
  }
  return { file: shortPath(path), line: frame.lineNumber + 1 };
}

/** Which samples to count: a window in ms from the profile's start, and how many rows to keep. */
export interface SummaryOptions {
  top?: number;
  fromMs?: number;
  toMs?: number;
}

/** Self time per function and per file of one .cpuprofile, optionally within a time window. */
export function summariseProfile(path: string, options: SummaryOptions = {}): ProfileSummary {
  const { top = 25, fromMs = 0, toMs = Number.POSITIVE_INFINITY } = options;
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; the time after it (until the next sample) is what it stands for.
  let atUs = 0;
  for (let index = 0; index < profile.samples.length; index += 1) {
    atUs += profile.timeDeltas[index] ?? 0;
    if (atUs < fromMs * 1000 || atUs > toMs * 1000) continue;
    const id = profile.samples[index];
    const delta = profile.timeDeltas[index + 1] ?? 0;
    if (id !== undefined) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  }
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const names = new Map<number, { where: string; file: string }>();
  const nameOf = (node: ProfileNode) => {
    let found = names.get(node.id);
    if (found === undefined) {
      const { file, line } = locate(node.callFrame);
      const name = node.callFrame.functionName || '(anonymous)';
      found = { where: file === '' ? name : `${file}:${line} ${name}`, file: file === '' ? name : file };
      names.set(node.id, found);
    }
    return found;
  };
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const { where, file } = nameOf(node);
    functions.set(where, (functions.get(where) ?? 0) + us);
    files.set(file, (files.get(file) ?? 0) + us);
    // Each of our own functions on this stack gets the time once, however often it recurses.
    const seen = new Set<string>();
    for (let cursor: number | undefined = id, depth = 0; cursor !== undefined && depth < 512; depth += 1) {
      const frame = byId.get(cursor);
      if (!frame) break;
      const named = nameOf(frame);
      if (/^(packages|apps)\//.test(named.file) && !seen.has(named.where)) {
        seen.add(named.where);
        inclusive.set(named.where, (inclusive.get(named.where) ?? 0) + us);
      }
      cursor = parents.get(cursor);
    }
  }
  const rank = (entries: Map<string, number>): HotSpot[] =>
    [...entries]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([where, us]) => ({
        where,
        selfMs: Math.round(us / 100) / 10,
        percent: Math.round((us / totalUs) * 1000) / 10,
      }));
  return {
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    functions: rank(functions),
    files: rank(files),
    ownInclusive: rank(inclusive),
  };
}

/** The newest .cpuprofile in `dir`. */
export function newestProfile(dir: string): string | undefined {
  const names = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  names.sort();
  const last = names.at(-1);
  return last === undefined ? undefined : join(dir, last);
}

/** The summary as markdown tables. */
export function profileMarkdown(summary: ProfileSummary): string {
  const rows = (spots: HotSpot[]) =>
    spots.map((s) => `| ${s.where} | ${s.selfMs} | ${s.percent} % |`).join('\n');
  return [
    `${summary.totalMs} ms of CPU sampled (plus ${summary.idleMs} ms idle); shares are of the CPU time.`,
    '',
    '| Function (self time) | ms | share |',
    '| --- | --- | --- |',
    rows(summary.functions),
    '',
    '| File (self time) | ms | share |',
    '| --- | --- | --- |',
    rows(summary.files),
    '',
    '| Repository function (total time: self + synchronous callees) | ms | share |',
    '| --- | --- | --- |',
    rows(summary.ownInclusive),
  ].join('\n');
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: tsx src/scale-profile.ts FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(`${profileMarkdown(summariseProfile(file, { top: Number(values.top) }))}\n`);
}
