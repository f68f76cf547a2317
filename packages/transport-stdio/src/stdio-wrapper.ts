import { setTimeout as sleep } from 'node:timers/promises';
import { describeError, silentLogger } from '@mcp-gateway/core';
import type { Logger } from '@mcp-gateway/core';
import { SdkError, SdkHttpError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { FetchLike, JSONRPCMessage } from '@modelcontextprotocol/client';
import { createLineSplitter } from './line-splitter.ts';
import { createStdioError } from './stdio-error.ts';

/** Backoff of {@link createStdioWrapper} while the gateway is unreachable or its session is lost. */
export interface StdioWrapperReconnectOptions {
  /** Delay before the first retry, doubled per attempt (±20% jitter). Default 500 ms. */
  initialMs?: number;
  /** Longest delay between two attempts. Default 10000 ms. */
  maxMs?: number;
  /**
   * Attempts per outage before waiting requests fail with a JSON-RPC error (-32603). The next message from the
   * client starts a new round. Default 6, about 25 s with the other defaults.
   */
  maxAttempts?: number;
}

/** Options of {@link createStdioWrapper}. */
export interface StdioWrapperOptions {
  /** The gateway's streamable HTTP endpoint, e.g. `http://127.0.0.1:4444/mcp`. */
  url: string;
  /** Sent with every HTTP request (e.g. `Authorization`). Values are never logged. */
  headers?: Record<string, string>;
  /** Newline-delimited JSON-RPC from the client. Default `process.stdin`. */
  input?: NodeJS.ReadableStream;
  /** Where the gateway's messages go, one per line. Default `process.stdout`; nothing else is written there. */
  output?: NodeJS.WritableStream;
  /** Must not write to `output` (use {@link createStderrLogger} in a CLI). Default: silent. */
  logger?: Logger;
  /** See {@link StdioWrapperReconnectOptions}. */
  reconnect?: StdioWrapperReconnectOptions;
  /** The fetch used for every request to the gateway. Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Longest stdin line accepted, in bytes; longer ones are answered with -32700. Default 32 MiB. */
  maxMessageBytes?: number;
  /** After stdin ends, how long `run()` waits for answers to requests still in flight. Default 30000 ms. */
  drainTimeoutMs?: number;
}

/** A running stdio ↔ streamable HTTP relay, from {@link createStdioWrapper}. */
export interface StdioWrapper {
  /**
   * Reads `input` until it ends, then waits (at most `drainTimeoutMs`) for the answers to requests in flight,
   * ends the gateway session and resolves once everything is written. Call it once.
   */
  run(): Promise<void>;
  /** Stops now: ends the gateway session (best effort, 1 s), stops reading input, makes `run()` resolve. */
  close(): Promise<void>;
}

type RequestId = string | number;
type MessageKind = 'request' | 'notification' | 'response';

/** One HTTP client transport to the gateway, normally one MCP session; replaced after the connection breaks. */
interface Connection {
  readonly transport: StreamableHTTPClientTransport;
  /** The first reason this connection was given up on. */
  broken?: Error;
  /** Replaced by a newer connection; stays open only until its unsettled requests settle. */
  retired: boolean;
  closed: boolean;
  initializedSent: boolean;
  /** Settles once the first GET (the standalone event stream) got its answer or failed. */
  readonly eventStream: Promise<void>;
}

interface PendingRequest {
  readonly id: RequestId;
  readonly method: string;
  readonly message: JSONRPCMessage;
  readonly connection: Connection;
  /** The gateway accepted the POST (its answer comes on the response stream). */
  accepted: boolean;
  /** Aborts the request's response stream when the client cancels it. */
  readonly abort: AbortController;
}

interface InternalWaiter {
  readonly connection: Connection;
  resolve(message: Record<string, unknown>): void;
  reject(error: Error): void;
}

const DEFAULT_INITIAL_MS = 500;
const DEFAULT_MAX_MS = 10_000;
const DEFAULT_MAX_ATTEMPTS = 6;
const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024;
const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;
/** How long a replayed `initialize` may take before the attempt counts as failed. */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** After `notifications/initialized`, how long client messages wait for the GET event stream to open. */
const EVENT_STREAM_WAIT_MS = 1000;
const TERMINATE_TIMEOUT_MS = 1000;
const DRAIN_POLL_MS = 20;
const INTERNAL_ID_PREFIX = 'mcp-gateway-wrapper-';

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INTERNAL_ERROR = -32603;

/** Header names the SDK transport derives from the session; a user-supplied value would desynchronise it. */
const RESERVED_HEADERS = new Set(['mcp-session-id', 'mcp-protocol-version', 'content-type', 'accept']);
/** Statuses meaning "not processed, try again" (a restarting gateway, or a proxy in front of it). */
const RETRYABLE_STATUSES = new Set([429, 502, 503]);
/** Errors of a connection that never reached the gateway, so the request certainly did not run. */
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/**
 * Methods without side effects, resent on a new session when their answer was lost in flight. Anything else
 * (`tools/call` above all) may have run already, so the client gets an error instead of a second execution.
 */
const RESENDABLE_METHODS = new Set([
  'initialize',
  'ping',
  'server/discover',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
]);
const LIST_KINDS = ['tools', 'prompts', 'resources'] as const;

/**
 * Creates the stdio wrapper: a raw relay between a stdio MCP client (newline-delimited JSON-RPC on `input` and
 * `output`) and a gateway's streamable HTTP endpoint, so clients that only spawn commands (Claude Desktop) can
 * use a remote gateway. Every message passes through untouched in both directions, server→client requests and
 * their answers included. When the gateway restarts or becomes unreachable the wrapper reconnects with backoff;
 * when the session is lost it replays the client's `initialize` and `notifications/initialized` on a new one
 * (swallowing the replayed answer), then resends what failed, so the client never notices. Requests that cannot
 * be delivered within the retry budget are answered with a JSON-RPC error, so the client never hangs.
 * Invalid options throw a `GatewayError` (code `config-invalid`) right here.
 *
 * @example
 * await createStdioWrapper({ url: 'http://127.0.0.1:4444/mcp', logger: createStderrLogger() }).run();
 */
export function createStdioWrapper(options: StdioWrapperOptions): StdioWrapper {
  const { url, displayUrl, headers, initialMs, maxMs, maxAttempts, maxMessageBytes, drainTimeoutMs } =
    validateOptions(options);
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stdout;
  const logger = (options.logger ?? silentLogger).child({ gateway: displayUrl });

  /** The usable connection, or the one a reconnection is setting up; undefined before the first message. */
  let connection: Connection | undefined;
  /** Every connection not closed yet: the current one and retired ones with requests still unsettled. */
  const connections = new Set<Connection>();
  /** True while messages can go straight to `connection`; otherwise they wait in `queue`. */
  let connected = false;
  /** True while client messages wait for the event stream after `notifications/initialized`. */
  let holding = false;
  let recovering = false;
  let everConnected = false;
  let closing = false;
  let outputFailed = false;
  /** Client messages waiting for a usable connection, in arrival order. */
  const queue: JSONRPCMessage[] = [];
  /** Client requests sent to the gateway and not answered yet. */
  const pending = new Map<RequestId, PendingRequest>();
  /** Server→client requests the client has not answered yet, with the connection whose session asked. */
  const serverRequests = new Map<RequestId, Connection>();
  /** The wrapper's own requests (the replayed `initialize`), whose answers the client never sees. */
  const internal = new Map<RequestId, InternalWaiter>();
  let internalCounter = 0;

  let initializeParams: unknown;
  let initializeResult: { protocolVersion: unknown } | undefined;
  let clientInitialized = false;

  const stop = new AbortController();
  let inputEnded!: () => void;
  const inputDone = new Promise<void>((resolve) => {
    inputEnded = resolve;
  });

  // ---- output ----

  const write = (message: unknown): void => {
    if (outputFailed) return;
    output.write(`${JSON.stringify(message)}\n`);
  };
  const writeError = (id: RequestId | null, code: number, message: string): void =>
    write({ jsonrpc: '2.0', id, error: { code, message } });

  const onOutputError = (error: unknown): void => {
    if (outputFailed) return;
    outputFailed = true;
    logger.warn({ event: 'output-fail', err: describeCause(error) }, 'the client stopped reading; closing');
    void close();
  };

  // ---- connections ----

  const baseFetch: FetchLike = options.fetch ?? ((target, init) => fetch(target, init));

  const openConnection = (): Connection => {
    let eventStreamSettled!: () => void;
    const opened: Connection = {
      retired: false,
      closed: false,
      initializedSent: false,
      eventStream: new Promise<void>((resolve) => {
        eventStreamSettled = resolve;
      }),
      transport: new StreamableHTTPClientTransport(new URL(url), {
        requestInit: { headers },
        // Watches for the GET the SDK opens by itself after `notifications/initialized` is accepted.
        fetch: async (target, init) => {
          if (init?.method !== 'GET') return baseFetch(target, init);
          try {
            return await baseFetch(target, init);
          } finally {
            eventStreamSettled();
          }
        },
        // The SDK resumes broken SSE streams itself; this wrapper decides when it has tried long enough.
        reconnectionOptions: {
          initialReconnectionDelay: initialMs,
          maxReconnectionDelay: maxMs,
          reconnectionDelayGrowFactor: 2,
          maxRetries: Number.MAX_SAFE_INTEGER,
        },
        reconnectionScheduler: (reconnect, delayMs, attempt) => {
          if (opened.retired) return;
          if (attempt >= maxAttempts) {
            markBroken(opened, new Error(`the event stream could not be reopened in ${attempt} attempts`));
            return;
          }
          const timer = setTimeout(reconnect, delayMs);
          return () => clearTimeout(timer);
        },
      }),
    };
    opened.transport.onmessage = (message) => receive(opened, message);
    opened.transport.onerror = (error) => {
      if (opened.retired) return;
      logger.debug({ event: 'transport-error', err: describeCause(error) }, 'gateway transport error');
      // A 404 to the event stream's GET: the gateway forgot the session (it restarted).
      if (isSessionLost(error, opened)) markBroken(opened, error);
    };
    connections.add(opened);
    return opened;
  };

  const closeConnection = (target: Connection): void => {
    if (target.closed) return;
    target.closed = true;
    target.retired = true;
    connections.delete(target);
    for (const [id, owner] of serverRequests) if (owner === target) serverRequests.delete(id);
    void target.transport.close().catch(() => undefined);
  };

  /** Stops tracking `request`; a retired connection closes once nothing of it is left. */
  const forget = (request: PendingRequest): void => {
    if (pending.get(request.id) === request) pending.delete(request.id);
    const owner = request.connection;
    if (!owner.retired) return;
    for (const other of pending.values()) if (other.connection === owner) return;
    closeConnection(owner);
  };

  const rejectInternal = (target: Connection, cause: Error): void => {
    for (const waiter of internal.values()) if (waiter.connection === target) waiter.reject(cause);
  };

  /** Takes `broken` out of service; the running or a new reconnection replaces it. */
  const markBroken = (broken: Connection, cause: unknown): void => {
    if (broken !== connection || closing) return;
    broken.broken ??= asError(cause);
    rejectInternal(broken, broken.broken);
    if (!connected) return; // a reconnection is under way and sees `broken.broken`
    connected = false;
    logger.warn(
      { event: 'gateway-disconnect', err: describeCause(cause), inFlight: pending.size },
      `lost the connection to the gateway: ${describeCause(cause)}`,
    );
    startRecovery(cause);
  };

  const failLost = (request: PendingRequest, cause: unknown): void =>
    writeError(
      request.id,
      INTERNAL_ERROR,
      `The connection to the gateway at ${displayUrl} was lost while "${request.method}" was in flight ` +
        `(${describeCause(cause)}); it may or may not have completed.`,
    );

  /**
   * Replaces the current connection. Requests it accepted lost their response stream with it: harmless ones are
   * resent, the others answered with an error. Requests whose POST is still unanswered settle on their own.
   */
  const retire = (cause: unknown): void => {
    const old = connection;
    connection = undefined;
    connected = false;
    if (old === undefined) return;
    old.broken ??= asError(cause);
    old.retired = true;
    rejectInternal(old, old.broken);
    const resend: JSONRPCMessage[] = [];
    for (const request of [...pending.values()]) {
      if (request.connection !== old || !request.accepted) continue;
      pending.delete(request.id);
      if (RESENDABLE_METHODS.has(request.method)) resend.push(request.message);
      else failLost(request, cause);
    }
    queue.unshift(...resend);
    if (![...pending.values()].some((request) => request.connection === old)) closeConnection(old);
  };

  /** Sends `message` again: now if a connection is usable, else first in the queue. */
  const resubmit = (message: JSONRPCMessage, cause: unknown): void => {
    if (connected && connection !== undefined) {
      void sendOn(connection, message);
      return;
    }
    queue.unshift(message);
    startRecovery(cause);
  };

  const startRecovery = (cause: unknown): void => {
    if (recovering || closing) return;
    recovering = true;
    recover(cause).catch((error: unknown) => {
      logger.error({ event: 'wrapper-error', err: describeCause(error) }, 'reconnection failed unexpectedly');
    });
  };

  const backoff = (attempt: number): number => {
    const base = Math.min(initialMs * 2 ** (attempt - 1), maxMs);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  };

  /** Opens a new connection (replaying the handshake when there was one) and flushes the queue, with backoff. */
  const recover = async (firstCause: unknown): Promise<void> => {
    try {
      let cause = firstCause;
      let attempt = 0;
      while (attempt < maxAttempts) {
        attempt += 1;
        retire(cause);
        // Right away when the gateway answered (a lost session) or nothing failed yet (the first connection).
        const immediate = attempt === 1 && (cause === undefined || isSessionLostError(cause));
        const delayMs = immediate ? 0 : backoff(attempt);
        if (everConnected || attempt > 1) {
          logger.info(
            { event: 'gateway-reconnect', attempt, maxAttempts, delayMs },
            `reconnecting to the gateway (attempt ${attempt} of ${maxAttempts}) in ${delayMs} ms`,
          );
        }
        if (delayMs > 0 && !(await sleep(delayMs, true, { signal: stop.signal }).catch(() => false))) return;
        if (closing) return;
        const fresh = openConnection();
        connection = fresh;
        try {
          await fresh.transport.start();
          const replayed = initializeResult === undefined ? undefined : await replayHandshake(fresh);
          await flushQueue(fresh);
          logger.info(
            { event: everConnected ? 'gateway-reconnect-done' : 'gateway-connect', attempt },
            !everConnected
              ? 'connected to the gateway'
              : replayed === undefined
                ? 'reconnected to the gateway'
                : 'reconnected to the gateway with a new session (initialize replayed)',
          );
          everConnected = true;
          if (replayed !== undefined) announceListChanges(replayed);
          return;
        } catch (error) {
          if (closing) return;
          cause = fresh.broken ?? error;
          logger.warn(
            { event: 'gateway-connect-fail', attempt, err: describeCause(cause) },
            `could not reach the gateway: ${describeCause(cause)}`,
          );
          if (!isRetryable(cause, fresh)) {
            giveUp(cause, `The gateway at ${displayUrl} refused the connection: ${describeCause(cause)}`);
            return;
          }
        }
      }
      giveUp(
        cause,
        `The gateway at ${displayUrl} is unreachable after ${attempt} attempts: ${describeCause(cause)}`,
      );
    } finally {
      recovering = false;
    }
  };

  /** Fails what waits for the gateway; the next client message starts a new round of attempts. */
  const giveUp = (cause: unknown, reason: string): void => {
    retire(cause);
    let failed = 0;
    for (const message of queue.splice(0)) {
      const raw = message as unknown as Record<string, unknown>;
      if (kindOf(raw) !== 'request') continue;
      failed += 1;
      writeError(raw.id as RequestId, INTERNAL_ERROR, reason);
    }
    logger.error(
      { event: 'gateway-reconnect-fail', failedRequests: failed, err: describeCause(cause) },
      `${reason}; the next message from the client tries again`,
    );
  };

  /** Re-creates the client's session on `fresh`; returns the new `initialize` result. */
  const replayHandshake = async (fresh: Connection): Promise<Record<string, unknown>> => {
    const response = await internalRequest(fresh, 'initialize', initializeParams);
    const error = response.error as { message?: unknown } | undefined;
    if (error !== undefined) {
      throw new Error(`the gateway refused the replayed initialize: ${String(error.message)}`);
    }
    const result = isObject(response.result) ? response.result : {};
    if (typeof result.protocolVersion === 'string')
      fresh.transport.setProtocolVersion(result.protocolVersion);
    if (result.protocolVersion !== initializeResult?.protocolVersion) {
      logger.warn(
        {
          event: 'protocol-version-change',
          before: initializeResult?.protocolVersion,
          after: result.protocolVersion,
        },
        'the new session negotiated another protocol version than the client knows',
      );
    }
    if (clientInitialized) {
      fresh.initializedSent = true;
      // The SDK transport opens the GET event stream once the gateway accepts this (202).
      await fresh.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await Promise.race([fresh.eventStream, sleep(EVENT_STREAM_WAIT_MS)]);
    }
    if (fresh.broken !== undefined) throw fresh.broken;
    return result;
  };

  const internalRequest = (
    target: Connection,
    method: string,
    params: unknown,
  ): Promise<Record<string, unknown>> => {
    internalCounter += 1;
    const id = `${INTERNAL_ID_PREFIX}${internalCounter}`;
    return new Promise((resolve, reject) => {
      const settle = (): boolean => {
        clearTimeout(timer);
        return internal.delete(id);
      };
      const timer = setTimeout(() => {
        if (settle())
          reject(new Error(`the gateway did not answer ${method} within ${HANDSHAKE_TIMEOUT_MS} ms`));
      }, HANDSHAKE_TIMEOUT_MS);
      internal.set(id, {
        connection: target,
        resolve: (message) => {
          if (settle()) resolve(message);
        },
        reject: (error) => {
          if (settle()) reject(error);
        },
      });
      const message = { jsonrpc: '2.0', id, method, ...(params !== undefined && { params }) };
      target.transport
        .send(message as JSONRPCMessage, {
          onRequestStreamEnd: () => {
            if (settle()) reject(new Error(`the gateway ended the ${method} stream without answering`));
          },
        })
        .catch((error: unknown) => {
          if (settle()) reject(asError(error));
        });
    });
  };

  /** Sends the queue in order on `fresh`; marks it usable once empty, throws if it broke meanwhile. */
  const flushQueue = async (fresh: Connection): Promise<void> => {
    for (;;) {
      if (fresh.broken !== undefined) throw fresh.broken;
      if (closing) throw new Error('the wrapper is closing');
      const message = queue.shift();
      if (message === undefined) break;
      await sendOn(fresh, message);
    }
    connected = true;
  };

  /** After a new session, lists may have changed while nobody listened: tell the client to fetch them again. */
  const announceListChanges = (result: Record<string, unknown>): void => {
    const capabilities = (isObject(result.capabilities) ? result.capabilities : {}) as Record<
      string,
      { listChanged?: unknown } | undefined
    >;
    for (const kind of LIST_KINDS) {
      if (capabilities[kind]?.listChanged === true) {
        write({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` });
      }
    }
  };

  // ---- client → gateway ----

  const submit = (message: JSONRPCMessage): void => {
    if (connected && connection !== undefined) {
      if (holding) queue.push(message);
      else void sendOn(connection, message);
      return;
    }
    queue.push(message);
    startRecovery(undefined);
  };

  /**
   * Sends the client's `notifications/initialized` and holds its next messages until the SDK has opened the GET
   * event stream: a call sent right away could otherwise make the gateway emit a notification (list_changed)
   * before the stream exists, and the gateway would drop it.
   */
  const sendInitialized = async (target: Connection, message: JSONRPCMessage): Promise<void> => {
    target.initializedSent = true;
    const hold = connected; // while a reconnection flushes the queue, it waits for this send anyway
    if (hold) holding = true;
    try {
      await target.transport.send(message);
      await Promise.race([target.eventStream, sleep(EVENT_STREAM_WAIT_MS)]);
    } catch (error) {
      logDrop(target, 'notifications/initialized', error);
      if (isRetryable(error, target)) markBroken(target, error);
    } finally {
      if (hold) {
        holding = false;
        // Release what waited, unless a reconnection took over the queue meanwhile.
        if (connected && connection === target) for (const held of queue.splice(0)) void sendOn(target, held);
      }
    }
  };

  const logDrop = (target: Connection, method: unknown, error: unknown): void => {
    if (target.retired) return; // aborted because the connection was replaced: nothing was lost by this
    logger.warn(
      { event: 'message-drop', method, err: describeCause(error) },
      `could not deliver ${typeof method === 'string' ? method : 'an answer'} to the gateway; dropped`,
    );
  };

  const sendOn = async (target: Connection, message: JSONRPCMessage): Promise<void> => {
    const raw = message as unknown as Record<string, unknown>;
    const kind = kindOf(raw);
    if (kind === 'request') {
      await sendRequest(target, message, raw);
      return;
    }
    if (raw.method === 'notifications/initialized') {
      if (target.initializedSent) return; // already replayed on this connection
      await sendInitialized(target, message);
      return;
    }
    try {
      await target.transport.send(message);
    } catch (error) {
      logDrop(target, raw.method, error);
      if (isRetryable(error, target)) markBroken(target, error);
    }
  };

  const sendRequest = async (
    target: Connection,
    message: JSONRPCMessage,
    raw: Record<string, unknown>,
  ): Promise<void> => {
    const request: PendingRequest = {
      id: raw.id as RequestId,
      method: raw.method as string,
      message,
      connection: target,
      accepted: false,
      abort: new AbortController(),
    };
    pending.set(request.id, request);
    try {
      await target.transport.send(message, {
        requestSignal: request.abort.signal,
        onRequestStreamEnd: () => {
          if (pending.get(request.id) !== request) return; // answered or settled already
          const cause = new Error(`the gateway ended the response stream of "${request.method}" early`);
          if (!target.retired) {
            markBroken(target, cause); // retire() settles it
            return;
          }
          forget(request);
          if (RESENDABLE_METHODS.has(request.method)) resubmit(request.message, cause);
          else failLost(request, cause);
        },
      });
      if (pending.get(request.id) === request) request.accepted = true;
    } catch (error) {
      requestSendFailed(request, error);
    }
  };

  const requestSendFailed = (request: PendingRequest, error: unknown): void => {
    if (pending.get(request.id) !== request) return; // answered, settled or cancelled
    forget(request);
    if (!isRetryable(error, request.connection)) {
      const answer = jsonRpcErrorOf(error);
      writeError(
        request.id,
        answer?.code ?? INTERNAL_ERROR,
        answer?.message ??
          `The gateway at ${displayUrl} rejected "${request.method}": ${describeCause(error)}`,
      );
      return;
    }
    markBroken(request.connection, error);
    if (isUndelivered(error) || RESENDABLE_METHODS.has(request.method)) resubmit(request.message, error);
    else failLost(request, error);
  };

  // ---- gateway → client ----

  const receive = (source: Connection, message: JSONRPCMessage): void => {
    const raw = message as unknown as Record<string, unknown>;
    const kind = kindOf(raw);
    if (kind === 'response') {
      const id = raw.id as RequestId;
      const waiter = internal.get(id);
      if (waiter !== undefined) {
        if (waiter.connection === source) waiter.resolve(raw);
        return;
      }
      const request = pending.get(id);
      if (request !== undefined && request.connection === source) {
        forget(request);
        if (request.method === 'initialize' && isObject(raw.result)) {
          initializeResult = { protocolVersion: raw.result.protocolVersion };
          // What the SDK's own Client does after initialize: later requests carry MCP-Protocol-Version.
          if (typeof raw.result.protocolVersion === 'string') {
            source.transport.setProtocolVersion(raw.result.protocolVersion);
          }
        }
        write(message);
        return;
      }
      if (source !== connection) return; // a late duplicate from a replaced connection
    }
    // Retired connections stay open only while one of their requests runs: what they send still belongs to it.
    if (source.closed) return;
    if (kind === 'request') serverRequests.set(raw.id as RequestId, source);
    write(message);
  };

  /** Sends the client's answer to a server→client request back to the session that asked. */
  const answerServer = (message: JSONRPCMessage, id: RequestId): void => {
    const owner = serverRequests.get(id);
    serverRequests.delete(id);
    if (owner === undefined || owner.closed) {
      logger.debug({ event: 'answer-drop', id }, 'dropped an answer to a server request of an ended session');
      return;
    }
    owner.transport.send(message).catch((error: unknown) => {
      logDrop(owner, undefined, error);
      if (isRetryable(error, owner)) markBroken(owner, error);
    });
  };

  // ---- stdin ----

  const handleLine = (line: Buffer): void => {
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      logger.warn(
        { event: 'input-invalid', bytes: line.length, err: describeCause(error) },
        'a line on stdin is not JSON; answered with -32700',
      );
      writeError(null, PARSE_ERROR, `Parse error: ${describeCause(error)}`);
      return;
    }
    // JSON-RPC batches (2025-03-26 and older) are relayed one message at a time.
    const items = Array.isArray(value) ? value : [value];
    if (items.length === 0) writeError(null, INVALID_REQUEST, 'Invalid Request: empty batch');
    for (const item of items) handleClientMessage(item);
  };

  const handleClientMessage = (item: unknown): void => {
    const kind = isObject(item) ? kindOf(item) : undefined;
    if (!isObject(item) || kind === undefined) {
      const id = isObject(item) && isRequestId(item.id) ? item.id : null;
      logger.warn(
        { event: 'input-invalid', id },
        'a message on stdin is not JSON-RPC 2.0; answered with -32600',
      );
      writeError(id, INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 message');
      return;
    }
    const message = item as unknown as JSONRPCMessage;
    if (kind === 'request' && item.method === 'initialize') {
      initializeParams = item.params;
      initializeResult = undefined;
      clientInitialized = false;
    } else if (item.method === 'notifications/initialized') {
      clientInitialized = true;
    } else if (item.method === 'notifications/cancelled' && isObject(item.params)) {
      const target = item.params.requestId;
      const queued = queue.findIndex((waiting) => {
        const raw = waiting as unknown as Record<string, unknown>;
        return raw.id === target && kindOf(raw) === 'request';
      });
      if (queued !== -1) {
        queue.splice(queued, 1); // it never reached the gateway: drop both
        return;
      }
      const request = isRequestId(target) ? pending.get(target) : undefined;
      if (request !== undefined) {
        const owner = request.connection;
        if (owner === connection) submit(message);
        else if (!owner.closed) owner.transport.send(message).catch(() => undefined); // the session running it
        request.abort.abort(); // a 2026-07-28 gateway takes the closed stream as the cancellation
        forget(request); // the client gave up on it: nothing to wait for at exit
        return;
      }
    } else if (kind === 'response' && isRequestId(item.id)) {
      answerServer(message, item.id);
      return;
    }
    submit(message);
  };

  const splitter = createLineSplitter({
    maxLineBytes: maxMessageBytes,
    onLine: handleLine,
    onOverflow: () => {
      logger.warn({ event: 'input-too-large', maxMessageBytes }, 'dropped a stdin line over maxMessageBytes');
      writeError(null, PARSE_ERROR, `Parse error: message longer than ${maxMessageBytes} bytes`);
    },
  });
  const onData = (chunk: Buffer | string): void => {
    splitter.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  };
  let inputFinished = false;
  const onInputEnd = (): void => {
    if (inputFinished) return;
    inputFinished = true;
    const rest = splitter.end();
    if (rest.length > 0 && !closing) handleLine(rest);
    inputEnded();
  };
  const onInputError = (error: unknown): void => {
    logger.warn({ event: 'input-fail', err: describeCause(error) }, 'reading stdin failed');
    onInputEnd();
  };
  const detachInput = (): void => {
    input.off('data', onData);
    input.off('end', onInputEnd);
    input.off('close', onInputEnd);
    input.off('error', onInputError);
    input.pause();
  };

  // ---- lifecycle ----

  const drain = async (): Promise<void> => {
    const deadline = Date.now() + drainTimeoutMs;
    while (!closing && (pending.size > 0 || queue.length > 0 || recovering)) {
      if (Date.now() >= deadline) {
        logger.warn(
          { event: 'drain-timeout', inFlight: pending.size, queued: queue.length },
          `stdin ended; gave up waiting for answers after ${drainTimeoutMs} ms`,
        );
        return;
      }
      await sleep(DRAIN_POLL_MS);
    }
  };

  const flushOutput = async (): Promise<void> => {
    if (outputFailed) return;
    await Promise.race([
      new Promise<void>((resolve) => output.write('', () => resolve())),
      sleep(TERMINATE_TIMEOUT_MS),
    ]);
  };

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      closing = true;
      stop.abort();
      inputEnded();
      detachInput();
      const last = connection;
      connection = undefined;
      connected = false;
      for (const waiter of internal.values()) waiter.reject(new Error('the wrapper is closing'));
      if (last !== undefined && last.transport.sessionId !== undefined && last.broken === undefined) {
        // Tell the gateway the session is over (HTTP DELETE), but never let a dead gateway hold up the exit.
        await Promise.race([
          last.transport.terminateSession().catch(() => undefined),
          sleep(TERMINATE_TIMEOUT_MS),
        ]);
      }
      for (const open of [...connections]) closeConnection(open);
      await flushOutput();
      output.off('error', onOutputError);
      logger.info({ event: 'wrapper-stop' }, 'stopped');
    })();
    return closed;
  };

  let running: Promise<void> | undefined;
  const run = (): Promise<void> => {
    running ??= (async () => {
      if (closing) return;
      output.on('error', onOutputError);
      input.on('data', onData);
      input.on('end', onInputEnd);
      input.on('close', onInputEnd);
      input.on('error', onInputError);
      input.resume();
      logger.info(
        { event: 'wrapper-start', headers: Object.keys(headers) },
        `relaying stdio to the gateway at ${displayUrl}`,
      );
      await inputDone;
      if (!closing) {
        logger.info({ event: 'input-end', inFlight: pending.size }, 'stdin ended');
        await drain();
      }
      await close();
    })();
    return running;
  };

  return { run, close };
}

// ---- helpers ----

interface ValidatedOptions {
  url: string;
  displayUrl: string;
  headers: Record<string, string>;
  initialMs: number;
  maxMs: number;
  maxAttempts: number;
  maxMessageBytes: number;
  drainTimeoutMs: number;
}

function validateOptions(options: StdioWrapperOptions): ValidatedOptions {
  const invalid = (message: string, cause?: unknown) =>
    createStdioError({ reason: 'invalid-options' }, `stdio wrapper: ${message}`, cause);

  let parsed: URL;
  try {
    parsed = new URL(options.url);
  } catch (error) {
    throw invalid(`url must be an absolute http(s) URL, got "${options.url}"`, error);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw invalid(`url must use http or https, got "${parsed.protocol}"`);
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw invalid(`header "${name}" is set by the wrapper itself`);
    }
    try {
      new Headers([[name, value]]);
    } catch (error) {
      throw invalid(`header "${name}" has an invalid name or value`, error);
    }
    headers[name] = value;
  }

  const reconnect = options.reconnect ?? {};
  const initialMs = reconnect.initialMs ?? DEFAULT_INITIAL_MS;
  const maxMs = reconnect.maxMs ?? DEFAULT_MAX_MS;
  const maxAttempts = reconnect.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const positive: [string, number][] = [
    ['reconnect.initialMs', initialMs],
    ['reconnect.maxMs', maxMs],
    ['reconnect.maxAttempts', maxAttempts],
    ['maxMessageBytes', maxMessageBytes],
  ];
  for (const [name, value] of positive) {
    if (!Number.isSafeInteger(value) || value < 1)
      throw invalid(`${name} must be a positive integer, got ${value}`);
  }
  if (maxMs < initialMs)
    throw invalid(`reconnect.maxMs (${maxMs}) is below reconnect.initialMs (${initialMs})`);
  if (!Number.isSafeInteger(drainTimeoutMs) || drainTimeoutMs < 0) {
    throw invalid(`drainTimeoutMs must be a non-negative integer, got ${drainTimeoutMs}`);
  }

  // Logs and error messages name the endpoint without credentials or query (a token may hide there).
  const displayUrl = `${parsed.origin}${parsed.pathname}`;
  return {
    url: parsed.href,
    displayUrl,
    headers,
    initialMs,
    maxMs,
    maxAttempts,
    maxMessageBytes,
    drainTimeoutMs,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** A cheap structural check, looser than the SDK's schema: the gateway validates what it receives. */
function kindOf(value: Record<string, unknown>): MessageKind | undefined {
  if (value.jsonrpc !== '2.0') return undefined;
  if (typeof value.method === 'string') {
    if (!('id' in value)) return 'notification';
    return isRequestId(value.id) ? 'request' : undefined;
  }
  if (('result' in value || 'error' in value) && (isRequestId(value.id) || value.id === null))
    return 'response';
  return undefined;
}

/** A short, readable cause for logs and error messages: `HTTP 404: Session not found`, `fetch failed (ECONNREFUSED)`. */
function describeCause(error: unknown): string {
  if (error instanceof SdkHttpError) {
    const detail = jsonRpcErrorOf(error)?.message ?? error.statusText;
    return detail === undefined || detail === '' ? `HTTP ${error.status}` : `HTTP ${error.status}: ${detail}`;
  }
  const code = networkCodeOf(error);
  const text = describeError(error);
  return code === undefined || text.includes(code) ? text : `${text} (${code})`;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

function httpStatusOf(error: unknown): number | undefined {
  return error instanceof SdkHttpError ? error.status : undefined;
}

function isSessionLostError(error: unknown): boolean {
  return httpStatusOf(error) === 404;
}

/** A 404 while the connection has a session: the gateway no longer knows it (spec: start a new one). */
function isSessionLost(error: unknown, connection: Connection): boolean {
  return isSessionLostError(error) && connection.transport.sessionId !== undefined;
}

function networkCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Whether trying again may help: the gateway or a proxy said "not now" (429, 502, 503), a session the connection
 * had is gone (404), or the failure is not an answer at all (fetch's TypeError for a refused or reset connection,
 * the wrapper's own timeouts). Other statuses and SDK errors (401, 400, unexpected content) are final answers.
 */
function isRetryable(error: unknown, connection: Connection): boolean {
  const status = httpStatusOf(error);
  if (status === 404) return connection.transport.sessionId !== undefined;
  if (status !== undefined) return RETRYABLE_STATUSES.has(status);
  return !(error instanceof SdkError);
}

/** Whether the request certainly did not run: the gateway turned it away, or no connection was made. */
function isUndelivered(error: unknown): boolean {
  if (httpStatusOf(error) !== undefined) return true;
  const code = networkCodeOf(error);
  return code !== undefined && CONNECT_ERROR_CODES.has(code);
}

/** The JSON-RPC error in an HTTP error response's body (a gateway's 401 or 400), if there is one. */
function jsonRpcErrorOf(error: unknown): { code: number; message: string } | undefined {
  if (!(error instanceof SdkHttpError) || typeof error.data.text !== 'string') return undefined;
  try {
    const body: unknown = JSON.parse(error.data.text);
    if (!isObject(body) || !isObject(body.error)) return undefined;
    const { code, message } = body.error;
    return typeof code === 'number' && typeof message === 'string' ? { code, message } : undefined;
  } catch {
    return undefined;
  }
}
