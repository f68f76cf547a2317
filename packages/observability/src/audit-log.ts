import { describeError, silentLogger, type CallInfo, type Logger, type RouterHooks } from '@mcp-gateway/core';
import { canonicalJsonSha256 } from './canonical-json.ts';
import { redactSecrets } from './redact-secrets.ts';

/** What a change did to an entity. */
export type AuditAction = 'create' | 'update' | 'delete' | 'import';

/** One line of the audit log: a change to a registry entity, or a tool call. */
export interface AuditEntry {
  at: Date;
  kind: 'change' | 'tool-call';
  /** Who: the admin who changed something, or the principal who called a tool (absent until auth supplies it). */
  actor?: string;
  entityType?: string;
  entityId?: string;
  action?: AuditAction;
  /** The entity before and after the change, secrets replaced by `[REDACTED]`. */
  before?: unknown;
  after?: unknown;
  /** The public tool name. */
  tool?: string;
  /** The upstream's name and id. */
  upstream?: string;
  upstreamId?: string;
  sessionId?: string;
  /** `tool-error` is a result with `isError: true`; `error` a JSON-RPC error (code in `errorCode`). */
  outcome?: 'ok' | 'tool-error' | 'error';
  errorCode?: number;
  durationMs?: number;
  /** SHA-256 of the canonical JSON (sorted keys) of the arguments, secrets redacted first. */
  argumentsHash?: string;
  /** The arguments themselves, secrets redacted, when `hashArguments` is false. */
  arguments?: unknown;
}

/** A change to record with {@link AuditLog.recordChange}. */
export interface AuditChange {
  actor?: string;
  entityType: string;
  entityId: string;
  action: AuditAction;
  before?: unknown;
  after?: unknown;
}

/** Counters of an {@link AuditLog}. */
export interface AuditLogStats {
  /** Entries waiting to be written. */
  queued: number;
  written: number;
  /** Entries lost: pushed out of a full queue, in a batch that failed every attempt, or recorded after close. */
  dropped: number;
  /** Batches given up after every attempt failed. */
  failedBatches: number;
  /** Write attempts that failed (each retry counts). */
  failedWrites: number;
}

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  /** Stores a batch (an insert of many rows). A rejection is retried with backoff; it never reaches a caller. */
  write: (entries: AuditEntry[]) => Promise<void>;
  logger?: Logger;
  /** How long an entry may wait before its batch is written. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Entries per `write` call at most; a full batch is written without waiting. Default 500. */
  maxBatch?: number;
  /** Entries waiting at most; beyond, the oldest are dropped and counted. Default 10000. */
  maxQueue?: number;
  /** Current time in epoch milliseconds. Default `Date.now`. */
  clock?: () => number;
  /** Store tool-call arguments as a SHA-256 (true) or as redacted JSON (false). Default true. */
  hashArguments?: boolean;
  /** Attempts per batch and the delays between them (doubling from `baseDelayMs` up to `maxDelayMs`). */
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** Who made a call (the authenticated principal's id), read when the call ends. Default: nobody recorded. */
  actorOf?: (call: CallInfo) => string | undefined;
}

/**
 * An audit log written asynchronously in batches: recording is synchronous and O(1) (a push onto a bounded queue),
 * so it never sits on a call's critical path; hashing and redacting of tool arguments happen when the batch is
 * written. Failures are retried and logged, never thrown to callers.
 */
export interface AuditLog {
  /** Router hooks that record a `tool-call` entry per tools/call. */
  readonly hooks: RouterHooks;
  /** Records a change to a registry entity; `before`/`after` are copied with secrets redacted. */
  recordChange(change: AuditChange): void;
  /** Writes everything queued now; resolves when done or given up (never rejects). */
  flush(): Promise<void>;
  /** Stops the timer and flushes; later records are dropped. */
  close(): Promise<void>;
  stats(): AuditLogStats;
}

/** A queued entry; a tool call's arguments are kept raw until the batch is written. */
interface Queued {
  entry: AuditEntry;
  rawArguments?: { value: unknown };
}

/** Creates an {@link AuditLog}; invalid options throw here. */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? Date.now;
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const maxBatch = options.maxBatch ?? 500;
  const maxQueue = options.maxQueue ?? 10_000;
  const hashArguments = options.hashArguments ?? true;
  const attempts = options.retry?.attempts ?? 5;
  const baseDelayMs = options.retry?.baseDelayMs ?? 200;
  const maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
  if (typeof options.write !== 'function') throw new TypeError('createAuditLog needs a write function');
  for (const [name, value, min] of [
    ['flushIntervalMs', flushIntervalMs, 0],
    ['maxBatch', maxBatch, 1],
    ['maxQueue', maxQueue, 1],
    ['retry.attempts', attempts, 1],
    ['retry.baseDelayMs', baseDelayMs, 0],
    ['retry.maxDelayMs', maxDelayMs, 0],
  ] as const) {
    if (!Number.isInteger(value) || value < min) {
      throw new TypeError(`${name} must be a whole number of at least ${min}, got ${String(value)}`);
    }
  }

  // The queue is an array read from `head`, compacted now and then, so that pushing and dropping are O(1).
  let items: Array<Queued | undefined> = [];
  let head = 0;
  const size = () => items.length - head;
  let written = 0;
  let dropped = 0;
  let failedBatches = 0;
  let failedWrites = 0;
  let warnedAboutDrops = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let draining: Promise<void> | undefined;

  const drop = (count: number, reason: string) => {
    dropped += count;
    if (warnedAboutDrops) return;
    warnedAboutDrops = true;
    logger.warn({ dropped: count, reason }, 'audit entries dropped');
  };

  const enqueue = (queued: Queued) => {
    if (closed) {
      dropped += 1;
      logger.debug({ kind: queued.entry.kind }, 'audit entry recorded after close was dropped');
      return;
    }
    items.push(queued);
    if (size() > maxQueue) {
      items[head] = undefined;
      head += 1;
      drop(1, `the queue is full (${maxQueue} entries)`);
    }
    if (head > 1024 && head * 2 > items.length) {
      items = items.slice(head);
      head = 0;
    }
    schedule(size() >= maxBatch ? 0 : flushIntervalMs);
  };

  const schedule = (delayMs: number) => {
    if (draining) return; // the drain picks up whatever is queued when it ends
    if (timer && delayMs > 0) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delayMs);
    timer.unref?.();
  };

  const take = (): AuditEntry[] => {
    const count = Math.min(maxBatch, size());
    const batch: AuditEntry[] = [];
    for (let index = head; index < head + count; index++) {
      const queued = items[index];
      items[index] = undefined;
      if (queued) batch.push(materialize(queued));
    }
    head += count;
    if (head === items.length) {
      items = [];
      head = 0;
    }
    return batch;
  };

  /** Hashes or redacts a tool call's arguments: done off the call path, when its batch is written. */
  const materialize = (queued: Queued): AuditEntry => {
    if (!queued.rawArguments) return queued.entry;
    try {
      const redacted = redactSecrets(queued.rawArguments.value ?? {});
      return hashArguments
        ? { ...queued.entry, argumentsHash: canonicalJsonSha256(redacted) }
        : { ...queued.entry, arguments: redacted };
    } catch (error) {
      logger.warn({ err: describeError(error), tool: queued.entry.tool }, 'audit arguments not recorded');
      return queued.entry;
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const sleeping = setTimeout(resolve, ms);
      if (!closed) sleeping.unref?.();
    });

  /** Writes one batch, retrying with backoff; true when it was stored. */
  const writeBatch = async (batch: AuditEntry[]): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await options.write(batch);
        written += batch.length;
        warnedAboutDrops = false;
        return true;
      } catch (error) {
        failedWrites += 1;
        const last = attempt >= attempts;
        logger.warn(
          { err: describeError(error), entries: batch.length, attempt, attempts },
          last ? 'audit batch not written; giving up' : 'audit batch not written; retrying',
        );
        if (last) return false;
        await sleep(Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  };

  const drain = async () => {
    while (size() > 0) {
      const batch = take();
      if (await writeBatch(batch)) continue;
      failedBatches += 1;
      drop(batch.length, 'every attempt to write the batch failed');
      if (closed) {
        // Shutting down with a store that keeps failing: do not hold the process for every remaining batch.
        const left = size();
        items = [];
        head = 0;
        if (left > 0) drop(left, 'the log closed while its store kept failing');
      }
    }
  };

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    draining ??= drain()
      .catch((error: unknown) => logger.error({ err: describeError(error) }, 'audit flush failed'))
      .finally(() => {
        draining = undefined;
        if (size() > 0 && !closed) schedule(flushIntervalMs);
      });
    return draining;
  };

  const hooks: RouterHooks = {
    afterCall(call: CallInfo, outcome) {
      if (call.method !== 'tools/call') return;
      const principal = options.actorOf?.(call);
      const entry: AuditEntry = {
        at: new Date(clock()),
        kind: 'tool-call',
        actor: principal,
        tool: call.name,
        upstream: call.upstreamName,
        upstreamId: call.upstreamId,
        sessionId: call.sessionId,
        outcome: !outcome.ok ? 'error' : outcome.isError === true ? 'tool-error' : 'ok',
        errorCode: outcome.errorCode,
        durationMs: outcome.durationMs,
      };
      enqueue({ entry, rawArguments: { value: call.params?.arguments } });
    },
  };

  return {
    hooks,
    recordChange(change) {
      enqueue({
        entry: {
          at: new Date(clock()),
          kind: 'change',
          actor: change.actor,
          entityType: change.entityType,
          entityId: change.entityId,
          action: change.action,
          before: redactSecrets(change.before),
          after: redactSecrets(change.after),
        },
      });
    },
    flush,
    async close() {
      closed = true;
      // A flush in progress may have stopped early; run until the queue is empty or given up.
      while (draining || size() > 0) await flush();
    },
    stats: () => ({ queued: size(), written, dropped, failedBatches, failedWrites }),
  };
}
