/**
 * Writes node status back into MyNodeOne's node registry (`registry.json` in ConfigMap
 * `sync-controller-registry`), the fields sync-controller.sh maintains: per node `status`,
 * `last_sync`, `last_attempt`, and top-level `metadata.last_updated` / `metadata.updated_by`.
 * Everything else in the document is kept as it was, including key order and indentation, since
 * MyNodeOne and people edit the same document. Writes are optimistic: a replace carrying the
 * resourceVersion that was read; on 409 Conflict the ConfigMap is read again and the change re-applied.
 */
import { CoreV1Api, KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { CourierError } from '../errors.js';
import { DOCUMENT_CONFIGMAPS, ROLE_ARRAYS } from '../registry/model.js';
import { kubernetesStatusCode, wrapKubernetesError } from '../sources/kubernetes-error.js';
import type { NodeStatus } from './next-node-status.js';

const { configMap: CONFIGMAP, key: KEY } = DOCUMENT_CONFIGMAPS['registry.json'];
const ORIGIN = `configmap/${CONFIGMAP}/${KEY}`;

/** Options for writeStatusToConfigMap. */
export interface StatusWriteOptions {
  /** `metadata.updated_by`, e.g. `courier@<hostname>` (MyNodeOne writes `user@host`). */
  updatedBy: string;
  now: Date;
  /** Re-reads after a 409 Conflict before giving up (default 5). */
  maxRetries?: number;
}

/** Set MyNodeOne's status fields of the given nodes in `registry.json`; a missing ConfigMap or key is left alone, an unchanged status is not written. */
export async function writeStatusToConfigMap(client: KubeConfig | CoreV1Api, namespace: string, statuses: readonly NodeStatus[], options: StatusWriteOptions): Promise<void> {
  const api = client instanceof KubeConfig ? client.makeApiClient(CoreV1Api) : client;
  const maxRetries = options.maxRetries ?? 5;
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    const current = await readRegistryConfigMap(api, namespace);
    const text = current?.data?.[KEY];
    if (current === undefined || text === undefined) return;
    const next = applyNodeStatuses(text, statuses, options);
    if (next === undefined) return;
    try {
      // The read object carries its resourceVersion: the replace fails with 409 if anyone wrote since.
      await api.replaceNamespacedConfigMap({ name: CONFIGMAP, namespace, body: { ...current, data: { ...current.data, [KEY]: next } } });
      return;
    } catch (err) {
      if (kubernetesStatusCode(err) !== 409) throw wrapKubernetesError(err, `writing node status to ${ORIGIN} in namespace ${namespace}`, { namespace });
    }
  }
  throw new CourierError(
    'SOURCE_UNAVAILABLE',
    `kubernetes: writing node status to ${ORIGIN} in namespace ${namespace}: still conflicting after ${maxRetries} retries (someone else keeps writing it); the next status change tries again`,
    { namespace, retries: maxRetries },
    { retryable: true },
  );
}

/** The new `registry.json` text with the statuses applied, or undefined when no node field changes. */
function applyNodeStatuses(text: string, statuses: readonly NodeStatus[], options: StatusWriteOptions): string | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CourierError('REGISTRY_INVALID', `${ORIGIN}: not valid JSON (${(err as Error).message}); node status was not written back`, { origin: ORIGIN }, { cause: err });
  }
  if (!isObject(doc)) throw new CourierError('REGISTRY_INVALID', `${ORIGIN}: $: expected an object; node status was not written back`, { origin: ORIGIN });
  const byName = new Map(statuses.map((s) => [s.node, s]));
  let changed = false;
  for (const array of Object.values(ROLE_ARRAYS)) {
    const entries = doc[array];
    if (!Array.isArray(entries)) continue;
    for (const entry of entries) {
      if (!isObject(entry) || typeof entry.name !== 'string') continue;
      const status = byName.get(entry.name);
      if (status === undefined) continue;
      const fields: Record<string, string | undefined> = {
        status: status.status,
        last_sync: status.last_sync && formatTime(status.last_sync),
        last_attempt: status.last_attempt && formatTime(status.last_attempt),
      };
      for (const [field, value] of Object.entries(fields)) {
        // Assigning an existing key keeps its position; a new key goes last, as jq does.
        if (value === undefined || entry[field] === value) continue;
        entry[field] = value;
        changed = true;
      }
    }
  }
  if (!changed) return undefined;
  const metadata = isObject(doc.metadata) ? doc.metadata : (doc.metadata = {});
  metadata.last_updated = formatTime(options.now.toISOString());
  metadata.updated_by = options.updatedBy;
  return stringifyLike(doc, text);
}

async function readRegistryConfigMap(api: CoreV1Api, namespace: string): Promise<V1ConfigMap | undefined> {
  try {
    return await api.readNamespacedConfigMap({ name: CONFIGMAP, namespace });
  } catch (err) {
    if (kubernetesStatusCode(err) === 404) return undefined;
    throw wrapKubernetesError(err, `reading ${ORIGIN} in namespace ${namespace}`, { namespace });
  }
}

/** Serialize with the indentation and trailing newline of the original text (jq writes two spaces; compact stays compact). */
function stringifyLike(doc: unknown, original: string): string {
  const indent = /\n([ \t]+)"/.exec(original)?.[1];
  const body = original.trimEnd().includes('\n') ? JSON.stringify(doc, null, indent ?? 2) : JSON.stringify(doc);
  return original.endsWith('\n') ? `${body}\n` : body;
}

/** MyNodeOne's timestamps are jq's `now | todate`: UTC to the second, `Z`. */
function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
