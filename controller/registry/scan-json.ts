/**
 * A small JSON syntax scanner. JSON.parse says what is wrong but, for some errors ("Unexpected
 * token"), not where; and it silently keeps the last of two equal keys. This scanner finds the
 * offset of the first syntax error and every duplicate key (with its JSON path), so a problem can
 * name the line and column. It builds no values.
 */
import { describeCharacter, joinPath } from './describe-value.js';

/** Deeper nesting than this is reported rather than risking the call stack. */
const MAX_DEPTH = 256;

/** What scanning found. */
export interface JsonScan {
  error?: { offset: number; message: string };
  duplicateKeys: { offset: number; path: string }[];
}

class ScanError extends Error {
  constructor(
    readonly offset: number,
    message: string,
  ) {
    super(message);
  }
}

const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Scan JSON text for its first syntax error and for duplicate object keys. */
export function scanJson(text: string): JsonScan {
  const duplicateKeys: JsonScan['duplicateKeys'] = [];
  let i = 0;

  const fail = (message: string): never => {
    throw new ScanError(i, message);
  };
  const unexpected = (): never => {
    const codePoint = text.codePointAt(i);
    return codePoint === undefined ? fail('unexpected end of input') : fail(`unexpected ${describeCharacter(codePoint)}`);
  };
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text.charAt(i))) i++;
  };

  const scanString = (): string => {
    const start = i;
    i++;
    for (;;) {
      const c = text.charAt(i);
      if (i >= text.length) fail('unterminated string');
      if (c === '"') break;
      if (c === '\\') {
        const e = text.charAt(i + 1);
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in string');
          i += 6;
        } else if ('"\\/bfnrt'.includes(e) && e !== '') {
          i += 2;
        } else {
          i++;
          fail('bad escape in string');
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail(`${describeCharacter(c.charCodeAt(0))} inside a string (escape it)`);
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };

  const scanValue = (path: string, depth: number): void => {
    skipSpace();
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH} levels`);
    const c = text.charAt(i);
    if (c === '{') return scanObject(path, depth);
    if (c === '[') return scanArray(path, depth);
    if (c === '"') {
      scanString();
      return;
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail('bad number');
      i = NUMBER.lastIndex;
      return;
    }
    const literal = ['true', 'false', 'null'].find((word) => word.startsWith(c) && c !== '');
    if (literal === undefined) return unexpected();
    // Walk the literal so a misspelling ("tru") is reported where it goes wrong, as JSON.parse does.
    for (const expected of literal) {
      if (text.charAt(i) !== expected) return unexpected();
      i++;
    }
  };

  const scanObject = (path: string, depth: number): void => {
    i++;
    skipSpace();
    if (text.charAt(i) === '}') {
      i++;
      return;
    }
    const seen = new Set<string>();
    for (;;) {
      skipSpace();
      if (text.charAt(i) !== '"') fail('expected a double-quoted property name');
      const keyOffset = i;
      const key = scanString();
      if (seen.has(key)) duplicateKeys.push({ offset: keyOffset, path: joinPath(path, key) });
      seen.add(key);
      skipSpace();
      if (text.charAt(i) !== ':') fail("expected ':' after a property name");
      i++;
      scanValue(joinPath(path, key), depth + 1);
      skipSpace();
      if (text.charAt(i) === ',') {
        i++;
        continue;
      }
      if (text.charAt(i) === '}') {
        i++;
        return;
      }
      fail("expected ',' or '}' after a property value");
    }
  };

  const scanArray = (path: string, depth: number): void => {
    i++;
    skipSpace();
    if (text.charAt(i) === ']') {
      i++;
      return;
    }
    for (let index = 0; ; index++) {
      scanValue(joinPath(path, index), depth + 1);
      skipSpace();
      if (text.charAt(i) === ',') {
        i++;
        continue;
      }
      if (text.charAt(i) === ']') {
        i++;
        return;
      }
      fail("expected ',' or ']' after an array element");
    }
  };

  try {
    scanValue('$', 0);
    skipSpace();
    if (i < text.length) fail('unexpected content after the JSON value');
    return { duplicateKeys };
  } catch (err) {
    if (err instanceof ScanError) return { error: { offset: err.offset, message: err.message }, duplicateKeys };
    throw err;
  }
}
