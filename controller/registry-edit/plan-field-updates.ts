/**
 * Field-by-field updates of an existing entry, so an edit keeps the entry's position, its unknown
 * fields (MyNodeOne adds fields over time) and, in a YAML twin, the comments on untouched fields.
 */
import type { EditOperation, EditPath } from './model.js';

/** Set operations for each field whose value differs (undefined = leave as is), and deletes for `remove` fields present. */
export function planFieldUpdates(path: EditPath, existing: Record<string, unknown>, fields: Record<string, unknown>, remove: readonly string[] = []): EditOperation[] {
  const operations: EditOperation[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined || isSameValue(existing[field], value)) continue;
    operations.push({ op: 'set', path: [...path, field], value });
  }
  for (const field of remove) {
    if (Object.hasOwn(existing, field) && fields[field] === undefined) operations.push({ op: 'delete', path: [...path, field] });
  }
  return operations;
}

/** An entry with only the defined fields, in the given order. */
export function compactEntry(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** Structural equality of JSON values. */
function isSameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
