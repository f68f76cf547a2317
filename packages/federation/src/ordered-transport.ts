import type { Transport } from '@modelcontextprotocol/client';

type Message = Parameters<NonNullable<Transport['onmessage']>>[0];

function isResponse(message: Message): boolean {
  return typeof message === 'object' && message !== null && 'id' in message && !('method' in message);
}

/**
 * Keeps an upstream's notifications ahead of the response they belong to. The SDK client dispatches notifications a
 * microtask later than responses, so a progress notification that arrives in the same chunk as its call's response
 * (a busy stdio pipe coalesces them) would be dropped as "unknown token", and the caller would miss it. Responses (and
 * the close) are therefore handed over one macrotask later, after the notifications before them.
 */
export function preserveNotificationOrder(transport: Transport): Transport {
  const ordered = Object.create(transport) as Transport;
  let pending = 0;
  let closeWaiting: (() => void) | undefined;
  transport.onmessage = (message, extra) => {
    if (!isResponse(message)) {
      ordered.onmessage?.(message, extra);
      return;
    }
    pending += 1;
    setImmediate(() => {
      pending -= 1;
      ordered.onmessage?.(message, extra);
      if (pending === 0 && closeWaiting) {
        const close = closeWaiting;
        closeWaiting = undefined;
        close();
      }
    });
  };
  transport.onerror = (error) => ordered.onerror?.(error);
  transport.onclose = () => {
    const close = () => ordered.onclose?.();
    if (pending === 0) close();
    else closeWaiting = close;
  };
  // Methods run on the real transport, so its own state (pid, sessions, describeClose) stays where it is.
  for (const key of ['start', 'send', 'close', 'setProtocolVersion', 'describeClose'] as const) {
    const method = (transport as unknown as Record<string, unknown>)[key];
    if (typeof method === 'function') {
      Object.defineProperty(ordered, key, {
        value: (...args: unknown[]) => (method as (...a: unknown[]) => unknown).apply(transport, args),
        writable: true,
        configurable: true,
      });
    }
  }
  for (const key of ['onmessage', 'onerror', 'onclose'] as const) {
    Object.defineProperty(ordered, key, { value: undefined, writable: true, configurable: true });
  }
  return ordered;
}
