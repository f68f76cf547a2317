import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (Chrome DevTools format) the summary reads. */
interface CpuProfile {
  nodes: Array<{
    id: number;
    hitCount?: number;
    children?: number[];
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** One function's self time, located in our sources when the bundle's source map says where it came from. */
export interface HotSpot {
  functionName: string;
  /** Where it runs: a repo-relative path (mapped through the source map when there is one), or a V8 pseudo-frame. */
  location: string;
  selfMs: number;
  /** Share of the busy (non-idle) samples, in percent. */
  percent: number;
  /**
   * For native and Node-internal functions: the nearest caller in a script of ours or of an npm package (the one
   * with most of the hits), which says whose work it is, e.g. `writeUtf8String` via the stdio transport's `send`.
   */
  via?: string;
}

/** Self time summed by file or package, to see which layer the time goes to. */
export interface HotArea {
  area: string;
  selfMs: number;
  percent: number;
}

/** Summary of a profile: top functions and top areas by self time. */
export interface CpuProfileSummary {
  /** Time the counted samples cover, in ms. */
  totalMs: number;
  /** Whether only a window of the profile was counted (see {@link SummarizeOptions.window}). */
  windowed: boolean;
  /** Share of samples spent idle (waiting for I/O or for a core), in percent. */
  idlePercent: number;
  /** Time the process was running JavaScript, native code or GC in the counted samples, in ms. */
  busyMs: number;
  functions: HotSpot[];
  /** Our own functions (apps/, packages/) by total time: self plus everything they called. */
  ownInclusive: HotSpot[];
  areas: HotArea[];
}

/** Options of {@link summarizeCpuProfile}. */
export interface SummarizeOptions {
  /** Repo root, to show paths relative to it. */
  root: string;
  /** Functions to list [15]. */
  top?: number;
  /**
   * Count only samples taken between these offsets (ms from the start of the profile); without it every sample
   * counts, as `hitCount` has them.
   */
  window?: { fromMs: number; toMs: number };
}

/**
 * Summarizes a `.cpuprofile`: sums the hits per function (name + script URL, plus the line for anonymous functions
 * so that they are not lumped together), turns them into ms with the mean sampling interval, and maps positions in
 * bundled files back to our sources with the bundle's `.map`, so hot spots read `file:function`.
 */
export function summarizeCpuProfile(path: string, options: SummarizeOptions): CpuProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const hitsByNode = countHits(profile, options.window);
  const totalHits = [...hitsByNode.values()].reduce((sum, hits) => sum + hits, 0);
  const profileMs = (profile.endTime - profile.startTime) / 1000;
  const totalMs =
    options.window === undefined
      ? profileMs
      : Math.max(0, Math.min(options.window.toMs, profileMs) - Math.max(0, options.window.fromMs));
  const msPerHit = totalHits === 0 ? 0 : totalMs / totalHits;
  const maps = new Map<string, SourceMap | undefined>();

  const parents = new Map<number, CpuProfile['nodes'][number]>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node);
  const byFunction = new Map<
    string,
    { functionName: string; location: string; hits: number; callers: Map<string, number> }
  >();
  const byArea = new Map<string, number>();
  let idleHits = 0;
  for (const node of profile.nodes) {
    const hits = hitsByNode.get(node.id) ?? 0;
    if (hits === 0) continue;
    const frame = node.callFrame;
    if (frame.functionName === '(idle)') idleHits += hits;
    const located = locate(frame, options.root, maps);
    const name = frame.functionName === '' ? `(anonymous)` : frame.functionName;
    const key = `${name}\u0000${frame.url}${frame.functionName === '' ? `:${frame.lineNumber}` : ''}`;
    const entry = byFunction.get(key) ?? {
      functionName: name,
      location: located.location,
      hits: 0,
      callers: new Map<string, number>(),
    };
    entry.hits += hits;
    if (!frame.url.startsWith('file://')) {
      const caller = userlandCaller(node.id, parents);
      if (caller !== undefined) {
        const { location } = locate(caller.callFrame, options.root, maps);
        const label = `${caller.callFrame.functionName || '(anonymous)'} ${location}`;
        entry.callers.set(label, (entry.callers.get(label) ?? 0) + hits);
      }
    }
    byFunction.set(key, entry);
    byArea.set(located.area, (byArea.get(located.area) ?? 0) + hits);
  }

  // Total time of our own functions: each node's hits count once for every distinct function of ours on its stack.
  const inclusive = new Map<string, { functionName: string; location: string; hits: number }>();
  for (const node of profile.nodes) {
    const hits = hitsByNode.get(node.id) ?? 0;
    if (hits === 0 || node.callFrame.functionName === '(idle)') continue;
    const seen = new Set<string>();
    for (
      let current: CpuProfile['nodes'][number] | undefined = node;
      current;
      current = parents.get(current.id)
    ) {
      const frame = current.callFrame;
      const located = locate(frame, options.root, maps);
      if (!located.area.startsWith('ours:')) continue;
      const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
      const key = `${name}\u0000${located.location}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { functionName: name, location: located.location, hits: 0 };
      entry.hits += hits;
      inclusive.set(key, entry);
    }
  }

  // Shares are of busy time: idle samples only say the process waited (for I/O, or for a core on a busy machine).
  const busyHits = totalHits - idleHits;
  const percent = (hits: number) => (busyHits <= 0 ? 0 : Math.round((hits / busyHits) * 1000) / 10);
  const ms = (hits: number) => Math.round(hits * msPerHit);
  return {
    totalMs: Math.round(totalMs),
    windowed: options.window !== undefined,
    idlePercent: totalHits === 0 ? 0 : Math.round((idleHits / totalHits) * 1000) / 10,
    busyMs: ms(busyHits),
    functions: [...byFunction.values()]
      .filter((entry) => entry.functionName !== '(idle)')
      .sort((a, b) => b.hits - a.hits)
      .slice(0, options.top ?? 15)
      .map((entry) => ({
        functionName: entry.functionName,
        location: entry.location,
        selfMs: ms(entry.hits),
        percent: percent(entry.hits),
        ...(entry.callers.size === 0
          ? {}
          : { via: [...entry.callers.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] }),
      })),
    ownInclusive: [...inclusive.values()]
      .sort((a, b) => b.hits - a.hits)
      .slice(0, 12)
      .map((entry) => ({
        functionName: entry.functionName,
        location: entry.location,
        selfMs: ms(entry.hits),
        percent: percent(entry.hits),
      })),
    areas: [...byArea.entries()]
      .filter(([area]) => area !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([area, hits]) => ({ area, selfMs: ms(hits), percent: percent(hits) })),
  };
}

/** The nearest ancestor frame that runs in a script file (ours or an npm package's), not V8 or Node internals. */
function userlandCaller(
  id: number,
  parents: Map<number, CpuProfile['nodes'][number]>,
): CpuProfile['nodes'][number] | undefined {
  let current = parents.get(id);
  for (let depth = 0; current !== undefined && depth < 64; depth += 1) {
    if (current.callFrame.url.startsWith('file://')) return current;
    current = parents.get(current.id);
  }
  return undefined;
}

/** Hits per node id: `hitCount` for the whole profile, or the samples whose timestamp falls in the window. */
function countHits(profile: CpuProfile, window: SummarizeOptions['window']): Map<number, number> {
  const hits = new Map<number, number>();
  const { samples, timeDeltas } = profile;
  if (window === undefined || samples === undefined || timeDeltas === undefined) {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
    return hits;
  }
  const from = window.fromMs * 1000;
  const to = window.toMs * 1000;
  let at = 0; // microseconds since profile.startTime
  samples.forEach((id, index) => {
    at += timeDeltas[index] ?? 0;
    if (at >= from && at < to) hits.set(id, (hits.get(id) ?? 0) + 1);
  });
  return hits;
}

function locate(
  frame: CpuProfile['nodes'][number]['callFrame'],
  root: string,
  maps: Map<string, SourceMap | undefined>,
): { location: string; area: string } {
  if (frame.url === '')
    return {
      location: '(V8/native)',
      area: frame.functionName.startsWith('(') ? frame.functionName : '(native)',
    };
  if (frame.url.startsWith('node:'))
    return { location: `${frame.url}:${frame.lineNumber + 1}`, area: 'node internals' };
  if (!frame.url.startsWith('file://')) return { location: frame.url, area: frame.url };
  const file = fileURLToPath(frame.url);
  const map = sourceMapFor(file, maps);
  const entry = map?.findEntry(frame.lineNumber, frame.columnNumber);
  if (entry !== undefined && 'originalSource' in entry && typeof entry.originalSource === 'string') {
    const original = entry.originalSource.startsWith('file://')
      ? fileURLToPath(entry.originalSource)
      : new URL(entry.originalSource, frame.url).pathname;
    const shown = repoRelative(root, original);
    return { location: `${shown}:${entry.originalLine + 1}`, area: areaOf(shown) };
  }
  const shown = repoRelative(root, file);
  // A .ts file run under tsx has no .map on disk and the positions are of the transpiled code: name the file only.
  if (/\.[cm]?ts$/.test(file)) return { location: shown, area: areaOf(shown) };
  return { location: `${shown}:${frame.lineNumber + 1}`, area: areaOf(shown) };
}

/**
 * A path relative to the repository; a source of a build made in another checkout (`--gateway-dist`, a frozen
 * before/after build) is shown from its own `packages/` or `apps/` folder, so it still counts as ours.
 */
function repoRelative(root: string, path: string): string {
  const shown = relative(root, path);
  if (!shown.startsWith('..') || shown.includes('node_modules/')) return shown;
  return /\/((?:packages|apps)\/.+)$/.exec(path)?.[1] ?? shown;
}

/** Groups a repo-relative path by npm package (`node_modules/<pkg>`) or by our own workspace package. */
function areaOf(path: string): string {
  const modules = path.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const parts = path.slice(modules + 'node_modules/'.length).split('/');
    const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    return `npm: ${name ?? path}`;
  }
  const workspace = path.match(/^(packages|apps)\/([^/]+)\//);
  return workspace ? `ours: ${workspace[1]}/${workspace[2]}` : path;
}

function sourceMapFor(file: string, maps: Map<string, SourceMap | undefined>): SourceMap | undefined {
  if (maps.has(file)) return maps.get(file);
  let map: SourceMap | undefined;
  try {
    if (existsSync(`${file}.map`))
      map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload);
  } catch {
    map = undefined;
  }
  maps.set(file, map);
  return map;
}
