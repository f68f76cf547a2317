/** Kinds of characters a model reads but a person reviewing a tool does not see. */
export type HiddenUnicodeCategory = 'tag' | 'bidi' | 'zero-width';

/** One hidden character in a text. */
export interface HiddenUnicodeMatch {
  /** Index in UTF-16 code units. */
  readonly index: number;
  /** `U+200B`. */
  readonly codePoint: string;
  readonly category: HiddenUnicodeCategory;
}

function categoryOf(code: number): HiddenUnicodeCategory | undefined {
  // Tag characters spell out invisible ASCII (the "ASCII smuggling" attack).
  if (code >= 0xe0000 && code <= 0xe007f) return 'tag';
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0x061c)
    return 'bidi';
  if ((code >= 0x200b && code <= 0x200f) || (code >= 0x2060 && code <= 0x2064) || code === 0xfeff) {
    return 'zero-width';
  }
  return undefined;
}

/** Every tag, bidi-control and zero-width character in `text`. */
export function findHiddenUnicode(text: string): HiddenUnicodeMatch[] {
  const found: HiddenUnicodeMatch[] = [];
  let index = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    const category = categoryOf(code);
    if (category) {
      found.push({ index, codePoint: `U+${code.toString(16).toUpperCase().padStart(4, '0')}`, category });
    }
    index += char.length;
  }
  return found;
}

/** The ASCII text hidden in tag characters (U+E0020–E007E), or '' when there is none. */
export function decodeTagCharacters(text: string): string {
  let decoded = '';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0xe0020 && code <= 0xe007e) decoded += String.fromCharCode(code - 0xe0000);
  }
  return decoded;
}

const MAX_FINDINGS = 50;

/**
 * Hidden characters anywhere in a value a model will read (a tool's description, and every string and key of its
 * schemas, since injections hide in enum values too), as lines for people: `description: 1 hidden character(s): zero-width (U+200B)`.
 */
export function describeHiddenUnicode(value: unknown, path = ''): string[] {
  const findings: string[] = [];
  const visit = (node: unknown, at: string, depth: number) => {
    if (findings.length >= MAX_FINDINGS || depth > 64) return;
    if (typeof node === 'string') {
      const matches = findHiddenUnicode(node);
      if (matches.length === 0) return;
      const byCategory = new Map<HiddenUnicodeCategory, Set<string>>();
      for (const match of matches) {
        const set = byCategory.get(match.category) ?? new Set<string>();
        set.add(match.codePoint);
        byCategory.set(match.category, set);
      }
      // Tag characters are shown as the text they spell rather than code point by code point.
      const parts = [...byCategory].map(([category, codes]) =>
        category === 'tag'
          ? `tag characters spelling "${decodeTagCharacters(node)}"`
          : `${category} (${[...codes].join(', ')})`,
      );
      findings.push(`${at || '(value)'}: ${matches.length} hidden character(s): ${parts.join('; ')}`);
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, `${at}[${i}]`, depth + 1));
      return;
    }
    if (node !== null && typeof node === 'object') {
      for (const [key, item] of Object.entries(node)) {
        const child = at === '' ? key : `${at}.${key}`;
        if (findHiddenUnicode(key).length > 0)
          findings.push(`${child}: hidden character(s) in a property name`);
        visit(item, child, depth + 1);
      }
    }
  };
  visit(value, path, 0);
  return findings;
}
