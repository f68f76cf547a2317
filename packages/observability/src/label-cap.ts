/** The label value that stands for every value beyond a {@link createLabelCap} limit. */
export const OTHER_LABEL = '_other';

/** Bounds the distinct values one metric label can take, so a flood of new names cannot grow memory without end. */
export interface LabelCap {
  /** The value itself while fewer than `limit` distinct values were seen (or it was seen before), else `_other`. */
  (value: string): string;
}

/** Creates a {@link LabelCap} that admits the first `limit` distinct values it is asked about. */
export function createLabelCap(limit: number): LabelCap {
  if (!Number.isInteger(limit) || limit < 1)
    throw new TypeError('a label limit must be a positive whole number');
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= limit) return OTHER_LABEL;
    seen.add(value);
    return value;
  };
}
