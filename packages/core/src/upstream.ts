import type {
  ClientCapabilities,
  Implementation,
  Prompt,
  Resource,
  ResourceTemplate,
  RpcParams,
  RpcResult,
  ServerCapabilities,
  Tool,
} from './mcp-types.ts';

/** Everything an upstream offers, each list complete (every page fetched). */
export interface UpstreamCatalog {
  readonly tools: readonly Tool[];
  readonly prompts: readonly Prompt[];
  readonly resources: readonly Resource[];
  readonly resourceTemplates: readonly ResourceTemplate[];
}

/** The catalog of an upstream that has not listed anything yet. */
export const emptyUpstreamCatalog: UpstreamCatalog = Object.freeze({
  tools: [],
  prompts: [],
  resources: [],
  resourceTemplates: [],
});

/**
 * Where an upstream is in its life:
 * - `connecting`: first connection under way;
 * - `ready`: connected and listed;
 * - `reconnecting`: the connection broke; a new one is being opened with backoff;
 * - `unhealthy`: it failed repeatedly (a crash loop); retries continue slowly;
 * - `closed`: removed or shut down.
 */
export type UpstreamStatus = 'connecting' | 'ready' | 'reconnecting' | 'unhealthy' | 'closed';

/** An upstream's health as shown by the REST API and used by the router. */
export interface UpstreamState {
  readonly status: UpstreamStatus;
  readonly lastError?: string;
  readonly lastErrorAt?: Date;
  readonly connectedAt?: Date;
  /** How many times the connection was reopened after a failure. */
  readonly reconnects: number;
  readonly serverInfo?: Implementation;
  readonly protocolVersion?: string;
}

/** A progress update relayed from an upstream, without its token (the caller's token is put back downstream). */
export interface UpstreamProgress {
  progress: number;
  total?: number;
  message?: string;
}

/**
 * The downstream client a call comes from. An upstream that must reach that one client (sampling, elicitation,
 * roots) uses it; everything else ignores it.
 */
export interface DownstreamContext {
  /** The downstream session's id. */
  readonly sessionId: string;
  /** What the client declared at initialize (or, statelessly, in the request's `_meta`). */
  readonly capabilities: ClientCapabilities;
  readonly clientInfo?: Implementation;
  /**
   * Sends a server→client request (`sampling/createMessage`, `elicitation/create`, `roots/list`) to this client,
   * on the stream of the call when it is still open.
   */
  request(
    method: string,
    params: RpcParams | undefined,
    options?: { signal?: AbortSignal },
  ): Promise<RpcResult>;
}

/** Per-call options: cancellation, a timeout, progress relay, and who is calling. */
export interface UpstreamRequestOptions {
  signal?: AbortSignal;
  /** Overrides the upstream's default timeout for this call. */
  timeoutMs?: number;
  onProgress?: (progress: UpstreamProgress) => void;
  downstream?: DownstreamContext;
}

/**
 * A notification an upstream sent that is not about its catalog: `notifications/message` (logging),
 * `notifications/resources/updated`, … `sessionId` is set when it arrived on a session dedicated to one downstream
 * session, and then concerns that client only.
 */
export interface UpstreamNotification {
  readonly method: string;
  readonly params?: RpcParams;
  readonly sessionId?: string;
}

/** What changed on an upstream: its catalog (one kind, or all after a reconnect) or its state. */
export type UpstreamChange =
  { type: 'catalog'; kinds: readonly CatalogKind[] } | { type: 'state'; state: UpstreamState };

/** The kinds of catalog items a client can be told changed. */
export type CatalogKind = 'tools' | 'prompts' | 'resources';

/**
 * Anything that can list and serve tools, prompts and resources: an MCP server connection, a REST adapter, a peer
 * gateway. The router only speaks to this interface. Implementations keep their own connection alive; a request
 * never opens a connection or repeats a handshake.
 */
export interface Upstream {
  /** Stable id (the registry row's id). */
  readonly id: string;
  /** Human name, used in error messages and logs. */
  readonly name: string;
  /** Begins connecting in the background; never throws (failures show in the state). */
  start(): void;
  /** Disconnects for good and releases every resource (child processes included). Idempotent. */
  close(): Promise<void>;
  getState(): UpstreamState;
  /** The last complete listing; kept while reconnecting so names stay stable. */
  getCatalog(): UpstreamCatalog;
  getCapabilities(): ServerCapabilities | undefined;
  /**
   * Sends one request upstream (tools/call, prompts/get, resources/read, completion/complete, …) and returns its
   * result untouched. Fails with an `RpcError` naming the upstream when it is unavailable, times out, or answers
   * with an error or garbage.
   */
  request(
    method: string,
    params: RpcParams | undefined,
    options?: UpstreamRequestOptions,
  ): Promise<RpcResult>;
  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: UpstreamChange) => void): () => void;
  /** Subscribes to the upstream's other notifications; returns the unsubscribe function. */
  onNotification(listener: (notification: UpstreamNotification) => void): () => void;
  /**
   * Forwards a client notification (e.g. `notifications/roots/list_changed`) upstream: to the session dedicated
   * to `sessionId` when there is one, else nowhere (a shared session has no roots of its own).
   */
  notify(method: string, params: RpcParams | undefined, options: { sessionId: string }): Promise<void>;
  /** The downstream session ended: release whatever the upstream kept for it. */
  releaseSession(sessionId: string): Promise<void>;
}
