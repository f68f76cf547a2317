/** A parsed `{name}` template: literal text and placeholders, in order. */
export type StringTemplate = ReadonlyArray<string | { name: string }>;

/**
 * Parses a template in which `{name}` is a placeholder and `{{` / `}}` are literal braces. Any other brace (as in
 * `find -exec … {} ;`) stays literal text.
 */
export function parseStringTemplate(text: string): StringTemplate {
  const parts: Array<string | { name: string }> = [];
  let literal = '';
  const pattern = /\{\{|\}\}|\{([A-Za-z0-9_.-]+)\}/g;
  let last = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    literal += text.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[0] === '{{') literal += '{';
    else if (match[0] === '}}') literal += '}';
    else {
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push({ name: match[1] ?? '' });
    }
  }
  literal += text.slice(last);
  if (literal !== '') parts.push(literal);
  return parts;
}

/** The placeholder names of a template, in order. */
export function templateNames(template: StringTemplate): string[] {
  return template.flatMap((part) => (typeof part === 'string' ? [] : [part.name]));
}

/** Fills a template; `value` gives each placeholder's text. */
export function renderStringTemplate(template: StringTemplate, value: (name: string) => string): string {
  let text = '';
  for (const part of template) text += typeof part === 'string' ? part : value(part.name);
  return text;
}
