import type { JSONRPCMessage, MessageExtraInfo, Transport } from '@modelcontextprotocol/server';

/** Why a session's stream ended: reported once, to the handler, before `onclose` fires. */
export type SseCloseReason = 'closed' | 'client-disconnected' | 'buffer-overflow' | 'handler-closed';

/** Options of {@link SseServerTransport}; the handler fills them in. */
export interface SseServerTransportOptions {
  sessionId: string;
  /** The relative URL announced in the `endpoint` event, e.g. `/message?sessionId=<id>`. */
  endpoint: string;
  /** Bytes that may wait in the stream for a client that does not read; beyond them the session ends. */
  maxBufferedBytes: number;
  /** Interval of `: ping` comment lines; 0 sends none. */
  keepAliveMs: number;
  /** The GET request's signal: its abort means the client went away. */
  signal?: AbortSignal;
  /** Called once when the session ends, before `onclose`. */
  onEnd?: (reason: SseCloseReason) => void;
}

const encoder = new TextEncoder();
const PING = encoder.encode(': ping\n\n');

/**
 * The server side of one legacy HTTP+SSE session (protocol 2024-11-05) as an SDK `Transport`: `stream` is the
 * `text/event-stream` body of the GET response, opened with the `endpoint` event; `send()` writes `message`
 * events to it and `receive()` delivers POSTed messages to `onmessage`. `onclose` fires exactly once, whether
 * the client went away, `close()` was called, or the handler closed.
 *
 * The stream's own queue is the only buffer: it is measured in bytes, and a message that would push it past
 * `maxBufferedBytes` ends the session instead, so a client that stops reading costs bounded memory.
 */
export class SseServerTransport implements Transport {
  readonly sessionId: string;
  /** The response body. Hand it to exactly one `Response`. */
  readonly stream: ReadableStream<Uint8Array>;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  readonly #controller: ReadableStreamDefaultController<Uint8Array>;
  readonly #maxBufferedBytes: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onEnd: ((reason: SseCloseReason) => void) | undefined;
  readonly #onAbort = () => this.#end('client-disconnected');
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  #started = false;
  #closed = false;

  constructor(options: SseServerTransportOptions) {
    this.sessionId = options.sessionId;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#signal = options.signal;
    this.#onEnd = options.onEnd;

    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          controller = c;
        },
        cancel: () => this.#end('client-disconnected'),
      },
      { highWaterMark: options.maxBufferedBytes, size: (chunk) => chunk.byteLength },
    );
    if (controller === undefined) throw new Error('ReadableStream did not call start() synchronously');
    this.#controller = controller;
    // Nobody reads yet, so this lands in the queue and is the first thing the client sees.
    controller.enqueue(encoder.encode(`event: endpoint\ndata: ${options.endpoint}\n\n`));

    if (options.keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => {
        // A ping only matters on an idle stream; one with data queued is not idle.
        if (this.#queuedBytes() === 0) this.#write(PING);
      }, options.keepAliveMs);
      this.#keepAlive.unref?.();
    }
    if (this.#signal?.aborted) this.#end('client-disconnected');
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** Whether the session has ended; a closed transport never opens again. */
  get closed(): boolean {
    return this.#closed;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('SseServerTransport already started; connect it to one server only');
    if (this.#closed) {
      throw new Error('SSE stream is closed: the client went away before the server connected');
    }
    this.#started = true;
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.#closed) throw new Error('SSE stream is closed');
    if (!this.#write(encoder.encode(`event: message\ndata: ${JSON.stringify(message)}\n\n`))) {
      throw new Error('SSE stream is closed: the client did not read its stream');
    }
  }

  async close(): Promise<void> {
    this.#end('closed');
  }

  /** Delivers one POSTed client→server message to `onmessage`. */
  receive(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    this.onmessage?.(message, extra);
  }

  /** Ends the session on the handler's behalf (it is shutting down). */
  shutDown(): void {
    this.#end('handler-closed');
  }

  #queuedBytes(): number {
    return this.#maxBufferedBytes - (this.#controller.desiredSize ?? this.#maxBufferedBytes);
  }

  /** Queues one frame; ends the session and answers false if it would overflow the buffer. */
  #write(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    const queued = this.#queuedBytes();
    // One frame always fits in an empty queue, so a single large result still goes out to a reading client.
    if (queued > 0 && queued + frame.byteLength > this.#maxBufferedBytes) {
      this.onerror?.(
        new Error(
          `SSE client of session ${this.sessionId} is not reading: ${queued} bytes queued, limit ${this.#maxBufferedBytes}`,
        ),
      );
      this.#end('buffer-overflow');
      return false;
    }
    this.#controller.enqueue(frame);
    return true;
  }

  #end(reason: SseCloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    try {
      // An empty queue ends cleanly. Bytes still queued belong to a client that is not keeping up: erroring the
      // stream drops them at once and makes the HTTP layer drop the connection, instead of holding both open.
      if (reason === 'client-disconnected' || this.#queuedBytes() === 0) this.#controller.close();
      else this.#controller.error(new Error(`SSE session ${this.sessionId} ended (${reason})`));
    } catch {
      // Already cancelled by the consumer: nothing left to end.
    }
    try {
      this.#onEnd?.(reason);
    } finally {
      this.onclose?.();
    }
  }
}
