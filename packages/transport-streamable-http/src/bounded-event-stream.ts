/**
 * Wraps an SSE response so a client that stops reading cannot make the gateway buffer without bound: the SDK's
 * stream is drained into a queue measured in bytes, and once more than `maxBufferedBytes` wait for the client the
 * stream is ended and `onOverflow` runs (the session is then closed). `onEnd` runs once when the stream is over for
 * any reason (ended, failed, cancelled by the client, overflowed). Other responses pass through untouched.
 */
export function boundEventStream(
  response: Response,
  options: { maxBufferedBytes: number; onOverflow: () => void; onEnd?: () => void },
): Response {
  const source = response.body;
  if (!source || !(response.headers.get('content-type') ?? '').startsWith('text/event-stream'))
    return response;
  const reader = source.getReader();
  let overflowed = false;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    options.onEnd?.();
  };
  const bounded = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        void (async () => {
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              controller.enqueue(value);
              if ((controller.desiredSize ?? 0) < 0) {
                overflowed = true;
                await reader.cancel().catch(() => undefined);
                controller.error(
                  new Error(`client is not reading: more than ${options.maxBufferedBytes} bytes queued`),
                );
                options.onOverflow();
                end();
                return;
              }
            }
            controller.close();
          } catch (error) {
            if (!overflowed) controller.error(error);
          }
          end();
        })();
      },
      cancel(reason) {
        end();
        return reader.cancel(reason);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: options.maxBufferedBytes }),
  );
  return new Response(bounded, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
