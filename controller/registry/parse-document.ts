/**
 * Turns one RawDocument's text into a value: JSON, YAML (a `.yaml` twin) or bare text (the
 * cluster-domain). A syntax error becomes one problem that names the line and column. An empty
 * document counts as absent, as MyNodeOne treats an empty ConfigMap key.
 */
import { parseDocument as parseYamlDocument } from 'yaml';
import type { RawDocument } from './model.js';
import type { DocumentChecker } from './document-checker.js';
import { escapeNonAscii } from './describe-value.js';
import { scanJson } from './scan-json.js';

/** Deeper nesting than this is rejected, so later recursive steps cannot overflow the stack. */
const MAX_DEPTH = 64;

/**
 * Largest registry document accepted, in bytes. A Kubernetes ConfigMap holds at most 1 MiB, and
 * MyNodeOne's documents are a few KiB; a bigger one is a mistake (or an attack) that would cost the
 * daemon its memory budget, so it is refused before it is parsed.
 */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

/** The problem message for a document of `bytes` bytes over MAX_DOCUMENT_BYTES (the files source says it before reading). */
export function documentTooLarge(bytes: number): string {
  return `is ${bytes} bytes, more than the ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB a registry document may hold (a ConfigMap holds at most 1 MiB); split the registry or remove what does not belong in it`;
}

/** Most entries (object keys plus array items, one level down) a document may hold: services, routes, nodes, domains. */
export const MAX_DOCUMENT_ENTRIES = 10_000;

/** The outcome of parsing: `ok` false means a problem was recorded and the value is unusable. */
export type ParsedDocument = { ok: true; empty: true } | { ok: true; empty: false; value: unknown } | { ok: false };

/** Parse a document's text by its format, recording syntax problems on `check`. */
export function parseDocument(raw: RawDocument, check: DocumentChecker): ParsedDocument {
  // A byte-order mark is invisible in editors and breaks JSON.parse: drop it.
  const text = raw.text.startsWith('\ufeff') ? raw.text.slice(1) : raw.text;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    check.report('$', documentTooLarge(bytes));
    return { ok: false };
  }
  if (text.trim() === '') return { ok: true, empty: true };
  if (raw.format === 'text') return { ok: true, empty: false, value: text.trim() };
  const parsed = raw.format === 'json' ? parseJson(text, check) : parseYaml(text, check);
  if (!parsed.ok || parsed.empty) return parsed;
  if (exceedsDepth(parsed.value, MAX_DEPTH)) {
    check.report('$', `is nested deeper than ${MAX_DEPTH} levels; registry documents are shallow`);
    return { ok: false };
  }
  const entries = countEntries(parsed.value);
  if (entries > MAX_DOCUMENT_ENTRIES) {
    check.report('$', `holds ${entries} entries, more than the ${MAX_DOCUMENT_ENTRIES} a registry document may hold (services, routes, nodes or domains)`);
    return { ok: false };
  }
  return parsed;
}

/** JSON.parse, with the error position turned into line and column, and duplicate keys rejected. */
function parseJson(text: string, check: DocumentChecker): ParsedDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const scan = scanJson(text);
    const position = /at position (\d+)/.exec(message);
    // V8 omits the position for "Unexpected token" errors; the scanner finds it then.
    const offset = position ? Number(position[1]) : (scan.error?.offset ?? text.length);
    const reason = position || scan.error === undefined ? cleanJsonMessage(message) : scan.error.message;
    const { line, column } = locateOffset(text, offset);
    check.report('$', `is not valid JSON: line ${line}, column ${column}: ${reason}`);
    return { ok: false };
  }
  const scan = scanJson(text);
  for (const duplicate of scan.duplicateKeys) {
    const { line, column } = locateOffset(text, duplicate.offset);
    check.report(duplicate.path, `is a duplicate key at line ${line}, column ${column}; each key may appear once (JSON.parse would keep only the last)`);
  }
  return scan.duplicateKeys.length > 0 ? { ok: false } : { ok: true, empty: false, value };
}

/** The yaml package's parser, reporting the first error with its line and column. */
function parseYaml(text: string, check: DocumentChecker): ParsedDocument {
  const doc = parseYamlDocument(text, { uniqueKeys: true, prettyErrors: true });
  const error = doc.errors[0];
  if (error !== undefined) {
    const at = error.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}: ` : '';
    const first = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    check.report('$', `is not valid YAML: ${where}${escapeNonAscii(first)}`);
    return { ok: false };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // toJS throws for an unresolved alias or an alias bomb; neither is in doc.errors.
    check.report('$', `is not valid YAML: ${escapeNonAscii(err instanceof Error ? err.message : String(err))}`);
    return { ok: false };
  }
  if (value === null || value === undefined) return { ok: true, empty: true };
  return { ok: true, empty: false, value };
}

/** Remove V8's position and its echo of the document text from a JSON.parse message. */
function cleanJsonMessage(message: string): string {
  const cleaned = message
    .replace(/, (\.\.\.)?"[\s\S]*" is not valid JSON$/, '')
    .replace(/ in JSON at position \d+( \(line \d+ column \d+\))?/, '')
    .trim();
  return escapeNonAscii(cleaned);
}

/** 1-based line and column of a UTF-16 offset; CRLF counts as one line break. */
export function locateOffset(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** Keys or items of the value, plus the items of each array directly inside it (registry.json's role arrays, vps_nodes). */
function countEntries(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  let count = children.length;
  for (const child of children) if (Array.isArray(child)) count += child.length;
  return count;
}

/** True when `value` nests arrays/objects deeper than `limit` (stops recursing at the limit). */
function exceedsDepth(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (limit === 0) return true;
  const children = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => exceedsDepth(child, limit - 1));
}
