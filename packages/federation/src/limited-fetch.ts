/**
 * Wraps `fetch` so an upstream's response body stops at `maxBytes`: past it the body errors, the SDK request fails,
 * and the caller gets an error naming the upstream instead of the gateway buffering an unbounded result.
 */
export function createLimitedFetch(
  maxBytes: number,
  fetchImpl: typeof globalThis.fetch = globalThis.fetch,
): typeof globalThis.fetch {
  if (!Number.isInteger(maxBytes) || maxBytes <= 0)
    throw new TypeError('maxBytes must be a positive whole number');
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    if (!response.body) return response;
    // A declared length settles it without wrapping the body (the common case: JSON answers).
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared)) {
      if (declared <= maxBytes) return response;
      await response.body.cancel().catch(() => undefined);
      throw new Error(`the upstream's response (${declared} bytes) exceeds the ${maxBytes}-byte limit`);
    }
    let seen = 0;
    const limited = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxBytes) {
            controller.error(new Error(`the upstream's response exceeded ${maxBytes} bytes and was cut off`));
            return;
          }
          controller.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}
