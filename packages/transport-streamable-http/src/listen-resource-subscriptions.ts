import { randomUUID } from 'node:crypto';
import {
  describeError,
  type CatalogView,
  type DownstreamSession,
  type Logger,
  type Router,
  RpcError,
  RpcErrorCode,
} from '@mcp-gateway/core';

/** Options of {@link createListenResourceSubscriptions}. */
export interface ListenResourceSubscriptionsOptions {
  router: Router;
  logger: Logger;
  /** Called once per `notifications/resources/updated` for a URI some listen stream holds. */
  onUpdated: (uri: string) => void;
  /** A virtual server's view, as for the session servers. */
  view?: () => CatalogView | undefined;
}

/** The router subscriptions held for 2026-07-28 `subscriptions/listen` streams. */
export interface ListenResourceSubscriptions {
  /** Subscribes to `uris` (public URIs) until the returned function is called (idempotent). */
  hold(uris: readonly string[]): () => void;
  /** Drops every subscription. */
  close(): void;
}

/**
 * 2026-07-28 clients have no session: they ask for resource updates with `subscriptions/listen`, whose stream the
 * SDK serves from an event bus. This keeps one router session for all listen streams of an endpoint, subscribed
 * to the union of the URIs they listen to (counted, so two streams on one URI make one upstream subscription), and
 * hands each update to `onUpdated` once; the SDK's listen router delivers it to the streams that asked for it.
 */
export function createListenResourceSubscriptions(
  options: ListenResourceSubscriptionsOptions,
): ListenResourceSubscriptions {
  const { router, logger } = options;
  const holders = new Map<string, number>();
  const subscribed = new Set<string>();
  /** Subscribe and unsubscribe of one URI run one after the other, each bringing the router to the wanted state. */
  const queues = new Map<string, Promise<void>>();
  const session: DownstreamSession = {
    id: `listen-${randomUUID()}`,
    capabilities: () => ({}),
    clientInfo: () => undefined,
    async notify(method, params) {
      if (method === 'notifications/resources/updated' && typeof params?.uri === 'string') {
        options.onUpdated(params.uri);
      }
    },
    async request() {
      throw new RpcError(RpcErrorCode.MethodNotFound, 'a subscriptions/listen stream takes no requests');
    },
  };
  let detach: (() => void) | undefined;

  const sync = (uri: string) => {
    const next = (queues.get(uri) ?? Promise.resolve()).then(async () => {
      const wanted = holders.has(uri) && detach !== undefined;
      if (wanted === subscribed.has(uri)) return;
      const method = wanted ? 'resources/subscribe' : 'resources/unsubscribe';
      try {
        await router.handle(
          method,
          { uri },
          { session, transport: 'streamable-http', view: options.view?.() },
        );
        if (wanted) subscribed.add(uri);
        else subscribed.delete(uri);
      } catch (error) {
        logger.debug({ uri, err: describeError(error) }, `${method} for a listen stream failed`);
      }
    });
    queues.set(uri, next);
    void next.finally(() => {
      if (queues.get(uri) === next) queues.delete(uri);
    });
  };

  return {
    hold(uris) {
      detach ??= router.attachSession(session);
      const distinct = [...new Set(uris)];
      for (const uri of distinct) {
        holders.set(uri, (holders.get(uri) ?? 0) + 1);
        sync(uri);
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const uri of distinct) {
          const left = (holders.get(uri) ?? 1) - 1;
          if (left > 0) holders.set(uri, left);
          else holders.delete(uri);
          sync(uri);
        }
      };
    },

    close() {
      holders.clear();
      subscribed.clear();
      // Detaching releases the router's subscriptions of this session.
      detach?.();
      detach = undefined;
    },
  };
}
