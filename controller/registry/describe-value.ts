/**
 * How registry values appear in problem messages: JSON-quoted, truncated, with every character
 * outside printable ASCII escaped (so a newline, a zero-width space or a Cyrillic look-alike is
 * visible in a terminal and can never break the message's one-line-per-problem layout).
 */

/** Longest shown value, in characters, before it is cut with `...`. */
const MAX_SHOWN = 40;

/** Names for the characters people most often paste by accident or on purpose. */
const CHARACTER_NAMES: Record<number, string> = {
  0x09: 'tab',
  0x0a: 'newline',
  0x0d: 'carriage return',
  0x20: 'space',
  0x22: 'double quote',
  0x23: '"#"',
  0x27: 'single quote',
  0x3a: '":"',
  0x60: 'backtick',
  0x7b: '"{"',
  0x7d: '"}"',
  0xa0: 'no-break space',
  0x200b: 'zero-width space',
  0x200c: 'zero-width non-joiner',
  0x200d: 'zero-width joiner',
  0xfeff: 'zero-width no-break space',
  0xff0e: 'fullwidth full stop',
};

/** Escape every character outside printable ASCII as `\uXXXX` (astral characters as a surrogate pair). */
export function escapeNonAscii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** JSON-quote a string with non-ASCII escaped. */
export function quoteText(text: string): string {
  return escapeNonAscii(JSON.stringify(text));
}

/** Show a registry value in a message: strings quoted, long values cut, objects and arrays abbreviated. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') {
    return value.length > MAX_SHOWN ? `${quoteText(value.slice(0, MAX_SHOWN))}... (${value.length} characters)` : quoteText(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const json = escapeNonAscii(JSON.stringify(value) ?? String(value));
  return json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN - 3)}...` : json;
}

/** Name one character for a message: `U+0430 (non-ASCII)`, `U+000A (newline)`, `U+0041 ("A")`. */
export function describeCharacter(codePoint: number): string {
  const hex = `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CHARACTER_NAMES[codePoint];
  if (name !== undefined) return `${hex} (${name}${codePoint > 0x7e ? ', non-ASCII' : ''})`;
  if (codePoint < 0x20 || codePoint === 0x7f) return `${hex} (control character)`;
  if (codePoint > 0x7e) return `${hex} (non-ASCII, possibly a look-alike of an ASCII character)`;
  return `${hex} (${JSON.stringify(String.fromCodePoint(codePoint))})`;
}

/** Append a key or index to a JSON path: `$.immich`, `$.vps_nodes[1]`, `$["weird key"]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return `${base}.${key}`;
  const shown = key.length > 80 ? `${key.slice(0, 80)}...` : key;
  return `${base}[${quoteText(shown)}]`;
}
