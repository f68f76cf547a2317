import { describeError, silentLogger } from '@mcp-gateway/core';
import type { Logger, Tool, Upstream, UpstreamChange } from '@mcp-gateway/core';
import type { ToolPins, ToolReview } from './tool-pins.ts';

/** An upstream whose catalog shows only approved tools. */
export interface PinnedUpstream extends Upstream {
  /** Re-reviews the inner upstream's tools now; resolves when the catalog reflects the result. */
  refresh(): Promise<ToolReview>;
  /** The tools held back by the last review. */
  lastReview(): ToolReview;
}

/** Options of {@link withToolPins}. */
export interface WithToolPinsOptions {
  logger?: Logger;
}

/**
 * Wraps an upstream so its catalog lists only tools whose definition is approved: a new or changed tool is absent
 * from `tools/list`, and the router answers a call to it with `Unknown tool`, exactly as if it did not exist. The
 * tools are reviewed on start, on every tools change of the inner upstream, and after each approval. Until the first
 * review finishes, and whenever the pin store fails, no new tool is exposed (fail closed).
 */
export function withToolPins(
  upstream: Upstream,
  pins: ToolPins,
  options: WithToolPinsOptions = {},
): PinnedUpstream {
  const logger = options.logger ?? silentLogger;
  const listeners = new Set<(change: UpstreamChange) => void>();
  let approved: readonly Tool[] = [];
  let last: ToolReview = { approved: [], quarantined: [] };
  let queue: Promise<unknown> = Promise.resolve();

  const emit = (change: UpstreamChange) => {
    for (const listener of listeners) listener(change);
  };

  const runReview = async (): Promise<ToolReview> => {
    try {
      const result = await pins.review(upstream.id, upstream.getCatalog().tools);
      const changed =
        result.approved.length !== approved.length || result.approved.some((tool, i) => tool !== approved[i]);
      approved = result.approved;
      last = result;
      if (changed) emit({ type: 'catalog', kinds: ['tools'] });
      return result;
    } catch (error) {
      logger.error(
        { upstream: upstream.name, err: describeError(error) },
        'tool review failed; keeping the last approved tools',
      );
      return last;
    }
  };

  /** Reviews run one at a time, in order, so an older review never overwrites a newer one. */
  const refresh = (): Promise<ToolReview> => {
    const next = queue.then(runReview);
    queue = next;
    return next;
  };

  const offInner = upstream.onChange((change) => {
    if (change.type === 'catalog' && change.kinds.includes('tools')) {
      void refresh();
      const others = change.kinds.filter((kind) => kind !== 'tools');
      if (others.length > 0) emit({ type: 'catalog', kinds: others });
      return;
    }
    emit(change);
  });
  const offPins = pins.onChange((upstreamId) => {
    if (upstreamId === upstream.id) void refresh();
  });

  return {
    id: upstream.id,
    name: upstream.name,
    start() {
      upstream.start();
      void refresh();
    },
    async close() {
      offInner();
      offPins();
      await upstream.close();
    },
    getState: () => upstream.getState(),
    getCatalog: () => ({ ...upstream.getCatalog(), tools: approved }),
    getCapabilities: () => upstream.getCapabilities(),
    request: (method, params, requestOptions) => upstream.request(method, params, requestOptions),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onNotification: (listener) => upstream.onNotification(listener),
    notify: (method, params, notifyOptions) => upstream.notify(method, params, notifyOptions),
    releaseSession: (sessionId) => upstream.releaseSession(sessionId),
    refresh,
    lastReview: () => last,
  };
}
