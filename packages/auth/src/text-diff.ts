const MAX_CELLS = 4_000_000;

/**
 * A line diff of two texts, unified style without hunks: ` ` kept, `-` only in `before`, `+` only in `after`,
 * under `--- <beforeLabel>` / `+++ <afterLabel>` headers. Very long inputs fall back to "all removed, all added".
 */
export function diffLines(
  before: string,
  after: string,
  labels = { before: 'approved', after: 'current' },
): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const out = [`--- ${labels.before}`, `+++ ${labels.after}`];
  if (a.length * b.length > MAX_CELLS) {
    return [...out, ...a.map((l) => `-${l}`), ...b.map((l) => `+${l}`)].join('\n');
  }
  // Longest common subsequence table, filled from the end so the walk below goes forwards.
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] =
        a[i] === b[j]
          ? (table[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(table[(i + 1) * width + j] ?? 0, table[i * width + j + 1] ?? 0);
    }
  }
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(` ${a[i] ?? ''}`);
      i++;
      j++;
    } else if (
      i < a.length &&
      (j >= b.length || (table[(i + 1) * width + j] ?? 0) >= (table[i * width + j + 1] ?? 0))
    ) {
      out.push(`-${a[i] ?? ''}`);
      i++;
    } else {
      out.push(`+${b[j] ?? ''}`);
      j++;
    }
  }
  return out.join('\n');
}
