/** Where isomorphic-git errors enter courier: every store failure leaves as a CourierError. */
import { CourierError } from '../errors.js';

/** Wraps anything thrown inside a store operation into STORE_ERROR (a CourierError passes through unchanged). */
export function wrapStoreError(err: unknown, operation: string, dir: string, data: Record<string, unknown> = {}): CourierError {
  if (err instanceof CourierError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new CourierError('STORE_ERROR', `store ${dir}: ${operation} failed: ${reason}`, { dir, operation, ...data }, { cause: err });
}

/** The REVISION_NOT_FOUND error for a spec that names nothing in the store. */
export function revisionNotFound(dir: string, spec: string, reason: string, cause?: unknown): CourierError {
  return new CourierError(
    'REVISION_NOT_FOUND',
    `store ${dir}: revision "${spec}" not found: ${reason}; name a revision that \`courier log\` lists (full or abbreviated commit id, main, main~N, refs/nodes/<node>)`,
    { dir, spec },
    { cause },
  );
}

/** True for isomorphic-git's NotFoundError (a missing object, ref or path). */
export function isNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'NotFoundError';
}
