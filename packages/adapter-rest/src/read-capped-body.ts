/** A response body read up to a cap. */
export interface CappedBody {
  bytes: Uint8Array;
  /** True when the body was longer than the cap and reading stopped there. */
  truncated: boolean;
  /** The full length when the server declared it (Content-Length). */
  declaredBytes?: number;
}

/**
 * Reads at most `maxBytes` of a response body and cancels the rest, so a huge body costs `maxBytes` of memory and
 * the connection is released instead of drained.
 */
export async function readCappedBody(response: Response, maxBytes: number): Promise<CappedBody> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const declaredBytes = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
  if (!response.body) return { bytes: new Uint8Array(0), truncated: false, declaredBytes };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  let failed = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (size + value.byteLength > maxBytes) {
        chunks.push(value.subarray(0, maxBytes - size));
        size = maxBytes;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.byteLength;
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    // Cancelling tells the server to stop sending (the connection is dropped rather than drained).
    if (truncated || failed) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
  return { bytes: concat(chunks, size), truncated, declaredBytes };
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The marker appended to a cut body: `…[truncated: 1048576 of 52428800 bytes]`. */
export function truncationMarker(body: CappedBody): string {
  const total =
    body.declaredBytes !== undefined ? String(body.declaredBytes) : 'more than ' + body.bytes.byteLength;
  return `…[truncated: ${body.bytes.byteLength} of ${total} bytes]`;
}
