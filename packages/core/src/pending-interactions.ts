import { randomUUID } from 'node:crypto';
import { RpcError, RpcErrorCode } from './errors.ts';
import type { RpcParams, RpcResult } from './mcp-types.ts';
import type { UpstreamProgress } from './upstream.ts';

/** A server→client request an upstream made during a call, waiting for the client's answer. */
export interface InputAsk {
  readonly key: string;
  readonly method: string;
  readonly params: RpcParams | undefined;
}

/** What a call in progress needs next: its final result, or the client's input. */
export type InteractionStep =
  | { kind: 'result'; result: RpcResult }
  | { kind: 'error'; error: unknown }
  | { kind: 'input'; asks: InputAsk[] };

interface PendingAsk extends InputAsk {
  resolve(value: RpcResult): void;
  sentToClient: boolean;
}

/**
 * One call from a 2026-07-28 client (stateless, no server→client requests) to an upstream that asks the client for
 * input the 2025 way (elicitation/create, sampling/createMessage, roots/list). The upstream call stays open on this
 * gateway; each question becomes an `input_required` result, and the client's retry carries the answers back.
 * Stateful protocol object, hence a class.
 */
export class PendingInteraction {
  readonly id = randomUUID();
  readonly controller = new AbortController();
  expiresAt: number;
  /** Rounds answered so far: a requestState is good for exactly one round (single use). */
  round = 0;
  /** Where the upstream's progress goes: the round open now. */
  progress: ((progress: UpstreamProgress) => void) | undefined;
  private readonly asks = new Map<string, PendingAsk>();
  private counter = 0;
  private outcome: InteractionStep | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly ttlMs: number) {
    this.expiresAt = Date.now() + ttlMs;
  }

  /** Starts the call; `run` gets the function the upstream uses to ask the client a question. */
  start(
    run: (ask: (method: string, params: RpcParams | undefined) => Promise<RpcResult>) => Promise<RpcResult>,
  ): void {
    run((method, params) => this.ask(method, params)).then(
      (result) => this.settle({ kind: 'result', result }),
      (error: unknown) => this.settle({ kind: 'error', error }),
    );
  }

  /** Delivers the client's answers (keyed like the asks it was sent); unknown keys are ignored. */
  answer(responses: Record<string, unknown> | undefined): void {
    this.expiresAt = Date.now() + this.ttlMs;
    for (const [key, value] of Object.entries(responses ?? {})) {
      const ask = this.asks.get(key);
      if (!ask || !ask.sentToClient) continue;
      this.asks.delete(key);
      ask.resolve(value as RpcResult);
    }
    // Questions the client did not answer are asked again.
    for (const ask of this.asks.values()) ask.sentToClient = false;
  }

  /** Waits until the call finishes or needs input the client has not been asked for yet. */
  async next(): Promise<InteractionStep> {
    for (;;) {
      if (this.outcome) return this.outcome;
      const unsent = [...this.asks.values()].filter((ask) => !ask.sentToClient);
      if (unsent.length > 0) {
        for (const ask of unsent) ask.sentToClient = true;
        return { kind: 'input', asks: unsent.map(({ key, method, params }) => ({ key, method, params })) };
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Ends the call: the upstream request is cancelled and outstanding questions fail. */
  abandon(reason: string): void {
    this.controller.abort(new Error(reason));
    this.settle({ kind: 'error', error: new RpcError(RpcErrorCode.InvalidParams, reason) });
  }

  get done(): boolean {
    return this.outcome !== undefined;
  }

  private ask(method: string, params: RpcParams | undefined): Promise<RpcResult> {
    return new Promise((resolve) => {
      this.counter += 1;
      const key = `${method.split('/')[0]}-${this.counter}`;
      this.asks.set(key, { key, method, params, resolve, sentToClient: false });
      this.notify();
    });
  }

  private settle(step: InteractionStep): void {
    this.outcome ??= step;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** The calls in progress on this gateway process, expired after a TTL without a retry. */
export class PendingInteractions {
  private readonly calls = new Map<string, PendingInteraction>();
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(private readonly ttlMs = 5 * 60_000) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(ttlMs, 30_000));
    this.sweeper.unref?.();
  }

  create(): PendingInteraction {
    const call = new PendingInteraction(this.ttlMs);
    this.calls.set(call.id, call);
    return call;
  }

  get(id: string): PendingInteraction | undefined {
    return this.calls.get(id);
  }

  delete(id: string): void {
    this.calls.delete(id);
  }

  size(): number {
    return this.calls.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const call of this.calls.values()) call.abandon('the gateway is shutting down');
    this.calls.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, call] of this.calls) {
      if (call.expiresAt > now) continue;
      call.abandon('the call waited too long for input and was cancelled; start it again');
      this.calls.delete(id);
    }
  }
}
