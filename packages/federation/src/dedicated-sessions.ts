import { Client, type ClientOptions, type Transport } from '@modelcontextprotocol/client';
import { preserveNotificationOrder } from './ordered-transport.ts';
import {
  describeError,
  type ClientCapabilities,
  type DownstreamContext,
  type Implementation,
  type Logger,
  type RpcParams,
  type UpstreamNotification,
} from '@mcp-gateway/core';

/** Server→client requests a dedicated session relays, with the client capability each needs. */
const RELAYED_REQUESTS = [
  ['sampling/createMessage', 'sampling'],
  ['elicitation/create', 'elicitation'],
  ['roots/list', 'roots'],
] as const satisfies ReadonlyArray<readonly [string, keyof ClientCapabilities]>;

/** Upstream notifications a dedicated session passes on, tagged with its downstream session. */
const RELAYED_NOTIFICATIONS = ['notifications/message', 'notifications/resources/updated'] as const;

/** Options of {@link createDedicatedSessions}. */
export interface DedicatedSessionsOptions {
  upstreamName: string;
  connect: () => Transport | Promise<Transport>;
  clientInfo: Implementation;
  /** Era negotiation, as for the shared session. */
  clientOptions?: Pick<ClientOptions, 'versionNegotiation'>;
  connectTimeoutMs: number;
  /** Beyond this many, calls use the shared session. */
  maxSessions: number;
  logger: Logger;
  onNotification: (notification: UpstreamNotification) => void;
}

interface DedicatedSession {
  client?: Client;
  opening?: Promise<Client>;
  /** Calls in flight on this session, latest last: server→client requests go to the latest one's stream. */
  calls: DownstreamContext[];
  /** The last caller, for server→client requests that arrive between calls. */
  last: DownstreamContext;
  logLevel?: string;
}

/** Whether a client can receive server→client requests, so its calls need an upstream session of their own. */
export function needsDedicatedSession(capabilities: ClientCapabilities): boolean {
  return RELAYED_REQUESTS.some(([, capability]) => capabilities[capability] !== undefined);
}

/**
 * Upstream sessions dedicated to one downstream session each. An upstream can only send a server→client request
 * (sampling, elicitation, roots) on a session whose client declared that capability, and the request must reach the
 * one client whose call caused it; a pooled session shared by every client can do neither. So a client that
 * declares any of these gets its own upstream session, opened at its first call, advertising exactly the client's
 * capabilities, and closed when the client's session ends.
 */
export function createDedicatedSessions(options: DedicatedSessionsOptions) {
  const { logger } = options;
  const sessions = new Map<string, DedicatedSession>();

  const open = async (sessionId: string, entry: DedicatedSession): Promise<Client> => {
    const declared = entry.last.capabilities;
    const capabilities: ClientCapabilities = {};
    for (const [, capability] of RELAYED_REQUESTS) {
      if (declared[capability] !== undefined)
        Object.assign(capabilities, { [capability]: declared[capability] });
    }
    if (declared.experimental) capabilities.experimental = declared.experimental;
    const client = new Client(options.clientInfo, { capabilities, ...options.clientOptions });
    for (const [method, capability] of RELAYED_REQUESTS) {
      if (capabilities[capability] === undefined) continue;
      client.setRequestHandler(method, ((
        request: { params?: RpcParams },
        ctx: { mcpReq: { signal: AbortSignal } },
      ) => {
        const target = entry.calls.at(-1) ?? entry.last;
        return target.request(method, request.params, { signal: ctx.mcpReq.signal });
      }) as never);
    }
    for (const method of RELAYED_NOTIFICATIONS) {
      client.setNotificationHandler(method, (notification: { params?: RpcParams }) =>
        options.onNotification({ method, params: notification.params, sessionId }),
      );
    }
    client.onerror = (error) =>
      logger.debug({ sessionId, err: describeError(error) }, 'dedicated session error');
    const transport = preserveNotificationOrder(await options.connect());
    try {
      await client.connect(transport, { timeout: options.connectTimeoutMs });
      if (entry.logLevel !== undefined && client.getServerCapabilities()?.logging) {
        await client.setLoggingLevel(entry.logLevel as 'info');
      }
    } catch (error) {
      await client.close().catch(() => undefined);
      await transport.close().catch(() => undefined);
      throw error;
    }
    client.onclose = () => {
      if (sessions.get(sessionId) === entry && entry.client === client) entry.client = undefined;
    };
    logger.info({ sessionId, client: entry.last.clientInfo?.name }, 'opened a dedicated upstream session');
    return client;
  };

  return {
    size: () => sessions.size,

    /**
     * The dedicated session for this caller, opened if needed; undefined when the cap is reached. The returned
     * `done` must be called when the call ends.
     */
    async acquire(downstream: DownstreamContext): Promise<{ client: Client; done: () => void } | undefined> {
      let entry = sessions.get(downstream.sessionId);
      if (!entry) {
        if (sessions.size >= options.maxSessions) {
          logger.warn(
            { max: options.maxSessions },
            'dedicated upstream sessions at their cap; using the shared session',
          );
          return undefined;
        }
        entry = { calls: [], last: downstream };
        sessions.set(downstream.sessionId, entry);
      }
      entry.last = downstream;
      const current = entry;
      if (!current.client) {
        current.opening ??= open(downstream.sessionId, current).finally(() => (current.opening = undefined));
        try {
          current.client = await current.opening;
        } catch (error) {
          if (sessions.get(downstream.sessionId) === current && !current.client)
            sessions.delete(downstream.sessionId);
          throw error;
        }
      }
      current.calls.push(downstream);
      return {
        client: current.client,
        done: () => {
          const index = current.calls.lastIndexOf(downstream);
          if (index !== -1) current.calls.splice(index, 1);
        },
      };
    },

    /** Records the client's log level; applies it now when its session is open, else when it opens. */
    async setLogLevel(sessionId: string, level: string): Promise<void> {
      const entry = sessions.get(sessionId);
      if (!entry) return;
      entry.logLevel = level;
      if (entry.client?.getServerCapabilities()?.logging) await entry.client.setLoggingLevel(level as 'info');
    },

    async notify(sessionId: string, method: string, params: RpcParams | undefined): Promise<void> {
      await sessions.get(sessionId)?.client?.notification({ method, params });
    },

    async release(sessionId: string): Promise<void> {
      const entry = sessions.get(sessionId);
      if (!entry) return;
      sessions.delete(sessionId);
      const client = entry.client ?? (await entry.opening?.catch(() => undefined));
      await client?.close().catch(() => undefined);
      if (client) logger.info({ sessionId }, 'closed a dedicated upstream session');
    },

    async closeAll(): Promise<void> {
      await Promise.all([...sessions.keys()].map((id) => this.release(id)));
    },
  };
}

/** What {@link createDedicatedSessions} returns. */
export type DedicatedSessions = ReturnType<typeof createDedicatedSessions>;
