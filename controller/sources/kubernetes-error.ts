/**
 * Turns what the Kubernetes client throws (ApiException with a Status body, a watch's Error with
 * `statusCode`, node-fetch's FetchError for an unreachable server) into courier's SOURCE_UNAVAILABLE,
 * saying what was being done and the API server's own message.
 */
import { ApiException } from '@kubernetes/client-node';
import { CourierError } from '../errors.js';

/** The HTTP status of a Kubernetes client failure, or undefined when no response arrived. */
export function kubernetesStatusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/** Wrap a Kubernetes client failure as SOURCE_UNAVAILABLE; retryable unless the API refused us (401/403) or the request was invalid. */
export function wrapKubernetesError(err: unknown, action: string, data: Record<string, unknown> = {}): CourierError {
  const status = kubernetesStatusCode(err);
  const detail = status === undefined ? describeNetworkError(err) : `HTTP ${status}: ${statusMessage(err) ?? 'no message'}`;
  const hint =
    status === 401 || status === 403
      ? 'check the credentials in the kubeconfig and that RBAC allows get/list/watch (and update for status) on these ConfigMaps and on Leases'
      : status === undefined
        ? 'check that the Kubernetes API server is reachable from here'
        : 'the API server rejected the request';
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  return new CourierError('SOURCE_UNAVAILABLE', `kubernetes: ${action}: ${detail}; ${hint}`, { ...data, status }, { cause: err, retryable });
}

/** The `message` of the Status object the API server sent, when there is one. */
function statusMessage(err: unknown): string | undefined {
  const body = err instanceof ApiException ? (err.body as unknown) : undefined;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      return body.slice(0, 200) || undefined;
    }
  }
  if (typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  if (err instanceof ApiException) return undefined;
  return err instanceof Error ? err.message : String(err);
}

function describeNetworkError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? `${e.code}: ` : '';
  return `${code}${typeof e?.message === 'string' ? e.message : String(err)}`;
}
