/** The one ordering rendering uses, so output never depends on the process locale. */

/** Order strings by UTF-16 code units (not `localeCompare`): identical on every machine. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
