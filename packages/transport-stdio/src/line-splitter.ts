/** Options of {@link createLineSplitter}. */
export interface LineSplitterOptions {
  /** Longest line kept, in bytes, without its newline. */
  maxLineBytes: number;
  /** Called with each complete line, without its `\n`. */
  onLine: (line: Buffer) => void;
  /**
   * Called once per line that grows past `maxLineBytes`. `head` holds the line's first `maxLineBytes` bytes when
   * `keepHead` is set (stderr is logged truncated), and is empty otherwise (stdout drops the line without copying
   * it). The rest of the line is skipped up to the next `\n`.
   */
  onOverflow: (head: Buffer) => void;
  /** Keep the first `maxLineBytes` bytes of an over-long line for `onOverflow`. Default false. */
  keepHead?: boolean;
}

/** Splits a byte stream into `\n`-terminated lines. */
export interface LineSplitter {
  push(chunk: Buffer): void;
  /** Returns the unterminated rest (empty when none, or while skipping an over-long line) and forgets it. */
  end(): Buffer;
}

/**
 * Splits a byte stream into lines while holding at most `maxLineBytes` bytes of an unfinished line, so a child
 * that never writes a newline cannot make the gateway's memory grow without bound.
 */
export function createLineSplitter(options: LineSplitterOptions): LineSplitter {
  const { maxLineBytes, onLine, onOverflow, keepHead = false } = options;
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;

  const take = (): Buffer => {
    const line = parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    return line;
  };

  return {
    push(chunk) {
      let start = 0;
      while (start < chunk.length) {
        const newline = chunk.indexOf(0x0a, start);
        const end = newline === -1 ? chunk.length : newline;
        if (!skipping) {
          const piece = chunk.subarray(start, end);
          if (size + piece.length > maxLineBytes) {
            if (keepHead) parts.push(piece.subarray(0, maxLineBytes - size));
            size = keepHead ? maxLineBytes : 0;
            const head = keepHead ? take() : Buffer.alloc(0);
            parts = [];
            size = 0;
            skipping = true;
            onOverflow(head);
          } else if (piece.length > 0) {
            parts.push(piece);
            size += piece.length;
          }
        }
        if (newline === -1) return;
        if (skipping) skipping = false;
        else onLine(take());
        start = newline + 1;
      }
    },
    end() {
      const rest = skipping ? Buffer.alloc(0) : take();
      parts = [];
      size = 0;
      skipping = false;
      return rest;
    },
  };
}
