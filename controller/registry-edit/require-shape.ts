/**
 * What a planner needs of the document it edits before it can say where an entry goes: an object
 * where the document has an object, a list where it has a list. Anything else is REGISTRY_INVALID
 * naming the path, so the edit stops before it could overwrite data it does not understand.
 */
import { CourierError } from '../errors.js';
import type { DocumentName } from '../registry/model.js';

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` as an object; undefined (absent) is allowed when `optional`; anything else throws REGISTRY_INVALID. */
export function requireObject(value: unknown, where: { document: DocumentName; origin: string; path: string }): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (isPlainObject(value)) return value;
  throw shapeError(where, 'an object', value);
}

/** `value` as a list; undefined (absent) is allowed; anything else throws REGISTRY_INVALID. */
export function requireArray(value: unknown, where: { document: DocumentName; origin: string; path: string }): unknown[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value;
  throw shapeError(where, 'a list', value);
}

function shapeError(where: { document: DocumentName; origin: string; path: string }, expected: string, value: unknown): CourierError {
  const found = Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
  const message = `${where.origin}: ${where.path}: is ${found}, expected ${expected}; fix the document before editing it with courier`;
  return new CourierError('REGISTRY_INVALID', message, { problems: [{ document: where.document, origin: where.origin, path: where.path, message: `is ${found}, expected ${expected}` }] });
}
