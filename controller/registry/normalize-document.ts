/**
 * The store keeps each revision's registry documents as JSON; sorting object keys makes the same
 * registry give the same bytes whatever order a source (kubectl, jq, an editor) wrote them in.
 */

/** A copy of a parsed document with object keys sorted recursively; arrays keep their order. */
export function normalizeDocument(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeDocument);
  if (typeof value !== 'object' || value === null) return value;
  const keys = Object.keys(value).sort();
  // fromEntries defines own properties, so a "__proto__" key stays data and never becomes a prototype.
  return Object.fromEntries(keys.map((key) => [key, normalizeDocument((value as Record<string, unknown>)[key])]));
}
