/**
 * Applies an edit's operations to a document's text, changing as little of the text as it can.
 * YAML goes through the yaml package's Document API (parseDocument → setIn/deleteIn → toString), so
 * comments, key order, quoting and blank lines survive, and only the lines the edit changed are
 * taken from the re-printed document; the indentation found in the file is reused. JSON is parsed, edited in place (an assigned key keeps its position, a new
 * key goes last, as jq does) and written back with the file's own indentation, compact JSON staying
 * compact, and its trailing newline. A byte-order mark and CRLF line ends are kept. Pure.
 */
import { isDeepStrictEqual } from 'node:util';
import { diffArrays } from 'diff';
import { isCollection, isNode, isPair, parseDocument, type Document, type YAMLMap, type YAMLSeq } from 'yaml';
import type { EditOperation, EditPath } from './model.js';

/** The indentation of a document that did not exist before. */
const NEW_INDENT = 2;

/** The document text after `operations`; `text` is '' for a document that does not exist yet. */
export function applyEdit(text: string, format: 'json' | 'yaml', operations: readonly EditOperation[]): string {
  const bom = text.startsWith('\ufeff') ? '\ufeff' : '';
  const crlf = text.includes('\r\n');
  const body = (bom ? text.slice(1) : text).replace(/\r\n/g, '\n');
  const edited = format === 'json' ? applyToJson(body, operations) : applyToYaml(body, operations);
  return bom + (crlf ? edited.replace(/\n/g, '\r\n') : edited);
}

/** Edit JSON text as a value and serialize it the way the text was. */
function applyToJson(text: string, operations: readonly EditOperation[]): string {
  const isNew = text.trim() === '';
  let value: unknown = isNew ? {} : JSON.parse(text);
  for (const operation of operations) value = operation.op === 'set' ? setIn(value, operation.path, structuredClone(operation.value)) : deleteIn(value, operation.path);
  if (isNew) return `${JSON.stringify(value, null, NEW_INDENT)}\n`;
  const compact = !text.trim().includes('\n');
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? ' '.repeat(NEW_INDENT);
  const serialized = compact ? JSON.stringify(value) : JSON.stringify(value, null, indent);
  return text.endsWith('\n') ? `${serialized}\n` : serialized;
}

/**
 * Edit YAML text through the yaml Document, keeping comments and styles. The yaml package re-prints
 * the whole document (normalizing, say, the spaces before a comment), so only the lines the edit
 * changed are taken from its output; every other line is the original's, byte for byte. That
 * patch is used only when it parses to exactly the edited value; otherwise the re-printed document is.
 */
function applyToYaml(text: string, operations: readonly EditOperation[]): string {
  if (operations.length === 0) return text;
  const options = { ...detectYamlStyle(text), lineWidth: 0 };
  const doc = parseDocument(text);
  const before = doc.toString(options);
  for (const operation of operations) {
    if (operation.op === 'delete') {
      doc.deleteIn(operation.path);
      continue;
    }
    const unflowed = unflowEmptyParent(doc, operation.path);
    // A scalar is passed as a value so an existing scalar node (and its comment) is updated in place.
    const value = isScalarValue(operation.value) ? operation.value : doc.createNode(operation.value);
    doc.setIn(operation.path, value);
    if (unflowed !== undefined) moveCommentToFirstItem(unflowed);
  }
  const edited = doc.toString(options);
  return patchChangedLines(text, before, edited, doc.toJS()) ?? edited;
}

/** `original` with the lines that differ between `before` and `after` (two printings of one document) replaced; undefined when that is not safe. */
function patchChangedLines(original: string, before: string, after: string, expected: unknown): string | undefined {
  const newline = original === '' || original.endsWith('\n');
  const originalLines = splitLines(newline ? original : `${original}\n`);
  const beforeLines = splitLines(before);
  // Line i of the original must be line i of its re-printing, at the same indentation.
  if (originalLines.length !== beforeLines.length || originalLines.some((line, i) => indentOf(line) !== indentOf(beforeLines[i]!))) return undefined;
  const out: string[] = [];
  let at = 0;
  for (const part of diffArrays(beforeLines, splitLines(after))) {
    if (part.added) {
      out.push(...part.value);
    } else {
      if (!part.removed) out.push(...originalLines.slice(at, at + part.value.length));
      at += part.value.length;
    }
  }
  const patched = newline ? out.join('') : out.join('').replace(/\n$/, '');
  const check = parseDocument(patched);
  return check.errors.length === 0 && isDeepStrictEqual(check.toJS(), expected) ? patched : undefined;
}

/** Lines with their line ends. */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)?.[0] ?? '';
}

function isScalarValue(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/** An empty flow collection (`vps_nodes: []`) that gets its first entry becomes a block one, as a person would write it; returns it then. */
function unflowEmptyParent(doc: Document, path: EditPath): YAMLMap | YAMLSeq | undefined {
  if (path.length === 0) return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isCollection(parent) || parent.flow !== true || parent.items.length > 0) return undefined;
  parent.flow = false;
  return parent;
}

/** The comment after `key: []` would land after the new block list: put it before the first item instead. */
function moveCommentToFirstItem(collection: YAMLMap | YAMLSeq): void {
  const first: unknown = collection.items[0];
  const holder = isPair(first) ? first.key : first;
  if (!collection.comment || !isNode(holder)) return;
  holder.commentBefore = holder.commentBefore ? `${collection.comment}\n${holder.commentBefore}` : collection.comment;
  collection.comment = null;
}

/** The indentation (spaces per level) and whether sequences in maps are indented, as the file has them. */
function detectYamlStyle(text: string): { indent: number; indentSeq: boolean } {
  const lines = text.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  let indent = NEW_INDENT;
  let indentSeq = true;
  let indentFound = false;
  let seqFound = false;
  for (let i = 1; i < lines.length && !(indentFound && seqFound); i++) {
    const previous = lines[i - 1]!;
    const line = lines[i]!;
    const before = leadingSpaces(previous);
    const here = leadingSpaces(line);
    if (!/:\s*(#.*)?$/.test(previous)) continue;
    // A key that opens a block: its child is either a nested map (the indent) or a sequence.
    if (line.slice(here).startsWith('- ') || line.trim() === '-') {
      if (!seqFound) {
        indentSeq = here > before;
        seqFound = true;
      }
    } else if (here > before && !indentFound && !previous.trimStart().startsWith('- ')) {
      indent = here - before;
      indentFound = true;
    }
  }
  return { indent, indentSeq };
}

function leadingSpaces(line: string): number {
  return line.length - line.trimStart().length;
}

/** `root` with `value` set at `path`, creating missing objects (or lists, before an index) on the way. */
function setIn(root: unknown, path: EditPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const [key, ...rest] = path as [string | number, ...(string | number)[]];
  const container = (isContainer(root) ? root : typeof key === 'number' ? [] : {}) as Record<string | number, unknown>;
  const child = setIn(Object.hasOwn(container, key) ? container[key] : undefined, rest, value);
  // defineProperty, not assignment: a key named `__proto__` must become a field, not the prototype.
  if (Array.isArray(container)) container[key] = child;
  else Object.defineProperty(container, key, { value: child, writable: true, enumerable: true, configurable: true });
  return container;
}

/** `root` without the entry at `path` (a list closes the gap); a missing path changes nothing. */
function deleteIn(root: unknown, path: EditPath): unknown {
  if (path.length === 0 || !isContainer(root)) return root;
  const [key, ...rest] = path as [string | number, ...(string | number)[]];
  if (rest.length > 0) {
    const child = (root as Record<string | number, unknown>)[key];
    if (isContainer(child)) deleteIn(child, rest);
  } else if (Array.isArray(root)) {
    if (typeof key === 'number' && key < root.length) root.splice(key, 1);
  } else {
    delete (root as Record<string, unknown>)[key];
  }
  return root;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}
