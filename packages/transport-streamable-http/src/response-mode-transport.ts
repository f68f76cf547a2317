import {
  isJSONRPCErrorResponse,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type RequestId,
  type TransportSendOptions,
  WebStandardStreamableHTTPServerTransport,
  type WebStandardStreamableHTTPServerTransportOptions,
} from '@modelcontextprotocol/server';

/**
 * How a POST that carries requests is answered:
 * - `auto`: plain `application/json`, unless a message related to the request (progress, a server→client request
 *   such as elicitation or sampling) has to reach the client before the response, or the call is still running
 *   after `streamAfterMs`; then the answer becomes an SSE stream carrying everything sent so far.
 * - `sse`: always an SSE stream.
 * - `json`: always `application/json`; messages related to a request go to the session's GET stream instead.
 */
export type ResponseMode = 'auto' | 'sse' | 'json';

/** Options of {@link ResponseModeTransport}: the SDK transport's, plus the response mode. */
export interface ResponseModeTransportOptions extends Omit<
  WebStandardStreamableHTTPServerTransportOptions,
  'enableJsonResponse'
> {
  responseMode: ResponseMode;
  /** In `auto` mode, a call still unanswered after this long switches to SSE; 0 never switches on time alone. */
  streamAfterMs: number;
}

/** The answer to one POST in `auto` mode while it is still undecided. */
interface PendingAnswer {
  readonly ids: readonly RequestId[];
  readonly responses: Map<RequestId, JSONRPCMessage>;
  decided: 'json' | 'sse' | undefined;
  decide(outcome: 'json' | 'sse'): void;
  readonly outcome: Promise<'json' | 'sse'>;
}

/**
 * The SDK's streamable HTTP server transport, answering POSTs in a chosen {@link ResponseMode}. In `auto` mode the
 * SDK streams as usual, but the stream is held back: if the responses arrive before any related message, the
 * client gets them as one JSON body and the stream is dropped (the SDK's bookkeeping, event ids included, is
 * unchanged); otherwise the held stream is returned, with everything already written to it. So only requests that
 * really stream pay for SSE, and a server→client request raised during any call still reaches its caller.
 */
export class ResponseModeTransport extends WebStandardStreamableHTTPServerTransport {
  readonly #mode: ResponseMode;
  readonly #streamAfterMs: number;
  readonly #pending = new Map<RequestId, PendingAnswer>();

  constructor(options: ResponseModeTransportOptions) {
    const { responseMode, streamAfterMs, ...rest } = options;
    super({ ...rest, enableJsonResponse: responseMode === 'json' });
    this.#mode = responseMode;
    this.#streamAfterMs = streamAfterMs;
  }

  /** Handles one POST with its already parsed body, answering in this transport's response mode. */
  async handlePost(request: Request, body: unknown): Promise<Response> {
    const ids = this.#mode === 'auto' ? requestIdsOf(body) : [];
    // Nothing to answer, or ids already in flight (the SDK refuses or mixes those up anyway): as the SDK does.
    if (ids.length === 0 || ids.some((id) => this.#pending.has(id)) || new Set(ids).size !== ids.length) {
      return this.handleRequest(request, { parsedBody: body });
    }
    const answer = pendingAnswer(ids);
    for (const id of ids) this.#pending.set(id, answer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const response = await this.handleRequest(request, { parsedBody: body });
      if (!isEventStream(response)) return response;
      if (this.#streamAfterMs > 0 && answer.decided === undefined) {
        timer = setTimeout(() => answer.decide('sse'), this.#streamAfterMs);
        timer.unref?.();
      }
      if ((await answer.outcome) === 'sse') return response;
      // The SDK has written the responses to the held stream and closed it: drop it, send them as JSON.
      response.body?.cancel().catch(() => undefined);
      const responses = ids.map((id) => answer.responses.get(id));
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const sessionId = response.headers.get('mcp-session-id');
      if (sessionId !== null) headers['mcp-session-id'] = sessionId;
      return new Response(JSON.stringify(Array.isArray(body) ? responses : responses[0]), {
        status: 200,
        headers,
      });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      for (const id of ids) if (this.#pending.get(id) === answer) this.#pending.delete(id);
    }
  }

  override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.#mode === 'sse') return super.send(message, options);
    const isResponse = isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message);
    if (this.#mode === 'json') {
      // A JSON answer has no room for related messages: they go to the GET stream rather than being dropped.
      if (isResponse || options?.relatedRequestId === undefined) return super.send(message, options);
      return super.send(message, { ...options, relatedRequestId: undefined });
    }
    const id = isResponse ? message.id : options?.relatedRequestId;
    const answer = id === undefined ? undefined : this.#pending.get(id);
    if (answer === undefined || answer.decided !== undefined || id === undefined) {
      return super.send(message, options);
    }
    if (!isResponse) {
      answer.decide('sse');
      return super.send(message, options);
    }
    answer.responses.set(id, message);
    if (answer.ids.length === 1) {
      // The only response of a single request, before anything related: the answer is JSON, decided now, so the
      // held stream will never be read. The SDK still gets a response to finish its bookkeeping, but an empty one:
      // serializing a large result (a tools/list page) into an SSE event nobody reads would double its cost.
      answer.decide('json');
      return super.send({ jsonrpc: '2.0', id, result: {} }, options);
    }
    try {
      await super.send(message, options);
    } finally {
      if (answer.responses.size === answer.ids.length) answer.decide('json');
    }
  }

  override async close(): Promise<void> {
    // Undecided answers get their (now closed) stream, as every answer did before JSON responses existed.
    for (const answer of this.#pending.values()) answer.decide('sse');
    this.#pending.clear();
    return super.close();
  }
}

function pendingAnswer(ids: readonly RequestId[]): PendingAnswer {
  let resolve!: (outcome: 'json' | 'sse') => void;
  const outcome = new Promise<'json' | 'sse'>((r) => (resolve = r));
  const answer: PendingAnswer = {
    ids,
    responses: new Map(),
    decided: undefined,
    outcome,
    decide(value) {
      if (answer.decided !== undefined) return;
      answer.decided = value;
      resolve(value);
    },
  };
  return answer;
}

/**
 * The ids of the JSON-RPC requests in a body (one message or a batch). A shape check only: the SDK validates the
 * messages next, and answers a malformed body with an error before anything is pending.
 */
function requestIdsOf(body: unknown): RequestId[] {
  const messages = Array.isArray(body) ? (body as unknown[]) : [body];
  const ids: RequestId[] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || !('method' in message)) continue;
    const id = (message as { id?: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') ids.push(id);
  }
  return ids;
}

function isEventStream(response: Response): boolean {
  return (
    response.body !== null && (response.headers.get('content-type') ?? '').startsWith('text/event-stream')
  );
}
