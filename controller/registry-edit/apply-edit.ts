/**
 * Applies an edit's operations to a document's text, changing as little of the text as it can.
 * YAML goes through the yaml package's Document API (parseDocument → setIn/deleteIn → toString), so
 * comments, key order, quoting and blank lines survive; the indentation and sequence style found in
 * the file are reused. JSON is parsed, edited in place (an assigned key keeps its position, a new
 * key goes last, as jq does) and written back with the file's own indentation, compact JSON staying
 * compact, and its trailing newline. A byte-order mark and CRLF line ends are kept. Pure.
 */
import { isCollection, parseDocument, type Document } from 'yaml';
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

/** Edit YAML text through the yaml Document, keeping comments and styles. */
function applyToYaml(text: string, operations: readonly EditOperation[]): string {
  const doc = parseDocument(text);
  for (const operation of operations) {
    if (operation.op === 'delete') {
      doc.deleteIn(operation.path);
      continue;
    }
    unflowEmptyParent(doc, operation.path);
    doc.setIn(operation.path, doc.createNode(operation.value));
  }
  return doc.toString({ ...detectYamlStyle(text), lineWidth: 0 });
}

/** An empty flow collection (`vps_nodes: []`) that gets its first entry becomes a block one, as a person would write it. */
function unflowEmptyParent(doc: Document, path: EditPath): void {
  if (path.length === 0) return;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (isCollection(parent) && parent.flow === true && parent.items.length === 0) parent.flow = false;
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
