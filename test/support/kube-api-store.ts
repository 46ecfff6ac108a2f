/**
 * The state behind the Kubernetes API test server: namespaced objects of a few resources, one global
 * monotonically increasing resourceVersion (like etcd's revision), a bounded event history for
 * watches, and the API's rules for conflicts, no-op updates, patches and MicroTime fields. The HTTP
 * layer (kube-api-server.ts) only maps requests onto these methods and errors onto Status objects.
 */
import { randomUUID } from 'node:crypto';
import { applyJsonPatch, applyMergePatch } from './kube-api-patch.js';

/** A Kubernetes object as JSON (kind, apiVersion, metadata, data/spec, anything else). */
export type KubeObject = { kind?: string; apiVersion?: string; metadata?: Record<string, unknown> } & Record<string, unknown>;

/** One resource the server knows: its plural, the group/version and kind it serves. */
export interface KubeResource {
  plural: 'configmaps' | 'leases';
  group: string;
  apiVersion: string;
  kind: string;
}

/** The resources served: core ConfigMaps and coordination.k8s.io Leases. */
export const KUBE_RESOURCES: Record<KubeResource['plural'], KubeResource> = {
  configmaps: { plural: 'configmaps', group: '', apiVersion: 'v1', kind: 'ConfigMap' },
  leases: { plural: 'leases', group: 'coordination.k8s.io', apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' },
};

/** A watch event as the API streams it. */
export interface KubeWatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

/** An API failure; the server turns it into a `Status` response with this code and reason. */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  /** The `Status` object the real API server sends for this failure. */
  toStatus(): KubeObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

/** A live watch: receives events for one resource in one namespace after it was opened. */
export interface KubeWatcher {
  resource: KubeResource;
  namespace: string;
  send(event: KubeWatchEvent): void;
}

interface HistoryEntry {
  rv: number;
  plural: string;
  namespace: string;
  event: KubeWatchEvent;
}

/** MicroTime on the wire: RFC 3339 with exactly six fractional digits (Go's `RFC3339Micro`). */
const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;

/** In-memory objects, resourceVersions, watch history and watchers. */
export class KubeApiStore {
  private readonly objects = new Map<string, KubeObject>();
  private history: HistoryEntry[] = [];
  private readonly watchers = new Set<KubeWatcher>();
  private revision = 1;
  /** Watches from a resourceVersion below this get 410 Expired (history before it is gone). */
  private compacted = 0;

  constructor(private readonly historyLimit = 1000) {}

  /** The current global resourceVersion. */
  currentResourceVersion(): string {
    return String(this.revision);
  }

  /** One object, or undefined. */
  get(resource: KubeResource, namespace: string, name: string): KubeObject | undefined {
    const obj = this.objects.get(this.key(resource, namespace, name));
    return obj === undefined ? undefined : structuredClone(obj);
  }

  /** The objects of a resource in a namespace, sorted by name (as etcd returns them). */
  list(resource: KubeResource, namespace: string, fieldSelector?: string): KubeObject[] {
    const nameFilter = parseNameSelector(fieldSelector);
    const prefix = `${resource.plural}/${namespace}/`;
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, obj]) => structuredClone(obj))
      .filter((obj) => nameFilter === undefined || obj.metadata?.name === nameFilter)
      .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  }

  /** POST: create; 409 AlreadyExists when the name is taken. */
  create(resource: KubeResource, namespace: string, body: KubeObject): KubeObject {
    const obj = this.checkBody(resource, namespace, body, undefined);
    const name = String(obj.metadata!.name);
    if (this.objects.has(this.key(resource, namespace, name))) {
      throw new KubeApiError(409, 'AlreadyExists', `${resource.plural}${groupSuffix(resource)} "${name}" already exists`, detailsOf(resource, name));
    }
    obj.metadata = { ...obj.metadata, uid: randomUUID(), creationTimestamp: formatTime(new Date()) };
    return this.commit(resource, namespace, name, obj, 'ADDED');
  }

  /** PUT: replace; 404 when missing, 409 Conflict when body's resourceVersion is set and stale; a no-op keeps the resourceVersion. */
  replace(resource: KubeResource, namespace: string, name: string, body: KubeObject): KubeObject {
    const obj = this.checkBody(resource, namespace, body, name);
    const current = this.objects.get(this.key(resource, namespace, name));
    if (current === undefined) throw notFound(resource, name);
    const sentVersion = obj.metadata?.resourceVersion;
    if (sentVersion !== undefined && sentVersion !== '' && sentVersion !== current.metadata?.resourceVersion) throw conflict(resource, name);
    return this.update(resource, namespace, name, current, obj);
  }

  /** PATCH: merge, strategic (treated as merge) or JSON patch; a resourceVersion in the result is a precondition. */
  patch(resource: KubeResource, namespace: string, name: string, contentType: string, patch: unknown): KubeObject {
    const current = this.objects.get(this.key(resource, namespace, name));
    if (current === undefined) throw notFound(resource, name);
    const type = contentType.split(';')[0]!.trim();
    let patched: unknown;
    if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json') {
      patched = applyMergePatch(structuredClone(current), patch);
    } else if (type === 'application/json-patch+json') {
      patched = applyJsonPatch(structuredClone(current), patch);
    } else {
      throw new KubeApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
    }
    if (!isObject(patched)) throw new KubeApiError(400, 'BadRequest', 'the patch did not produce an object');
    const obj = this.checkBody(resource, namespace, patched as KubeObject, name);
    if (obj.metadata?.resourceVersion !== undefined && obj.metadata.resourceVersion !== current.metadata?.resourceVersion) throw conflict(resource, name);
    return this.update(resource, namespace, name, current, obj);
  }

  /** DELETE: remove and emit DELETED; 404 when missing. */
  delete(resource: KubeResource, namespace: string, name: string): KubeObject {
    const key = this.key(resource, namespace, name);
    const current = this.objects.get(key);
    if (current === undefined) throw notFound(resource, name);
    this.objects.delete(key);
    this.revision += 1;
    // The DELETED event carries the object at the deletion's resourceVersion.
    const gone = { ...current, metadata: { ...current.metadata, resourceVersion: String(this.revision) } };
    this.record(resource, namespace, { type: 'DELETED', object: gone });
    return gone;
  }

  /** Events for a watch from `resourceVersion`; throws 410 Expired when that history is gone. Missing/"0": synthetic ADDED for the current state. */
  eventsSince(resource: KubeResource, namespace: string, resourceVersion: string | undefined): KubeWatchEvent[] {
    if (resourceVersion === undefined || resourceVersion === '' || resourceVersion === '0') {
      return this.list(resource, namespace).map((object) => ({ type: 'ADDED', object: withKind(resource, object) }));
    }
    const rv = Number(resourceVersion);
    if (!Number.isInteger(rv)) throw new KubeApiError(400, 'BadRequest', `invalid resource version: ${resourceVersion}`);
    if (rv < this.compacted) throw new KubeApiError(410, 'Expired', `too old resource version: ${rv} (${this.compacted})`);
    return this.history.filter((h) => h.rv > rv && h.plural === resource.plural && h.namespace === namespace).map((h) => structuredClone(h.event));
  }

  /** Register a watcher for events committed from now on; returns its removal. */
  addWatcher(watcher: KubeWatcher): () => void {
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Forget the event history: any resourceVersion handed out so far is too old to watch from. */
  expireHistory(): void {
    // Like an etcd compaction followed by a write: the current list resourceVersion is past every old one.
    this.revision += 1;
    this.compacted = this.revision;
    this.history = [];
  }

  private update(resource: KubeResource, namespace: string, name: string, current: KubeObject, next: KubeObject): KubeObject {
    const merged: KubeObject = {
      ...next,
      metadata: { ...next.metadata, uid: current.metadata?.uid, creationTimestamp: current.metadata?.creationTimestamp, resourceVersion: current.metadata?.resourceVersion },
    };
    // The API server skips no-op updates: same content, same resourceVersion, no event.
    if (stableJson(merged) === stableJson(current)) return structuredClone(current);
    return this.commit(resource, namespace, name, merged, 'MODIFIED');
  }

  private commit(resource: KubeResource, namespace: string, name: string, obj: KubeObject, type: 'ADDED' | 'MODIFIED'): KubeObject {
    this.revision += 1;
    const stored = withKind(resource, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(this.revision) } });
    this.objects.set(this.key(resource, namespace, name), stored);
    this.record(resource, namespace, { type, object: structuredClone(stored) });
    return structuredClone(stored);
  }

  private record(resource: KubeResource, namespace: string, event: KubeWatchEvent): void {
    this.history.push({ rv: this.revision, plural: resource.plural, namespace, event });
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.compacted = dropped.rv;
    }
    for (const w of this.watchers) {
      if (w.resource.plural === resource.plural && w.namespace === namespace) w.send(structuredClone(event));
    }
  }

  /** Validate what a client sent the way the API server decodes and validates it. */
  private checkBody(resource: KubeResource, namespace: string, body: KubeObject, urlName: string | undefined): KubeObject {
    if (!isObject(body)) throw new KubeApiError(400, 'BadRequest', `${resource.kind} in version "${resource.apiVersion.split('/').pop()}" cannot be handled as a ${resource.kind}: the body is not an object`);
    const obj = structuredClone(body);
    const metadata = isObject(obj.metadata) ? { ...obj.metadata } : {};
    delete metadata.managedFields;
    const name = metadata.name;
    if (typeof name !== 'string' || name === '') throw new KubeApiError(422, 'Invalid', `${resource.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    if (urlName !== undefined && name !== urlName) throw new KubeApiError(400, 'BadRequest', `the name of the object (${name}) does not match the name on the URL (${urlName})`);
    if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== namespace) {
      throw new KubeApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    metadata.namespace = namespace;
    obj.metadata = metadata;
    obj.kind = resource.kind;
    obj.apiVersion = resource.apiVersion;
    if (resource.plural === 'configmaps') checkConfigMap(obj);
    if (resource.plural === 'leases') checkLease(obj);
    return obj;
  }

  private key(resource: KubeResource, namespace: string, name: string): string {
    return `${resource.plural}/${namespace}/${name}`;
  }
}

function checkConfigMap(obj: KubeObject): void {
  const data = obj.data;
  if (data === undefined || data === null) return;
  if (!isObject(data)) throw decodeError('ConfigMap', 'v1', 'data: expected map[string]string');
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string') throw decodeError('ConfigMap', 'v1', `data.${k}: expected string, got ${typeof v}`);
  }
}

function checkLease(obj: KubeObject): void {
  const spec = obj.spec;
  if (spec === undefined || spec === null) return;
  if (!isObject(spec)) throw decodeError('Lease', 'v1', 'spec: expected object');
  for (const field of ['acquireTime', 'renewTime'] as const) {
    const value = spec[field];
    if (value === undefined || value === null) continue;
    // metav1.MicroTime.UnmarshalJSON parses with RFC3339Micro: exactly six fractional digits.
    if (typeof value !== 'string' || !MICRO_TIME.test(value)) {
      throw decodeError('Lease', 'v1', `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05.000000Z07:00": cannot parse as RFC3339Micro (spec.${field})`);
    }
  }
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && duration !== null && (!Number.isInteger(duration) || (duration as number) <= 0)) {
    throw new KubeApiError(422, 'Invalid', `Lease "${String(obj.metadata?.name)}" is invalid: spec.leaseDurationSeconds: Invalid value: ${String(duration)}: must be greater than 0`, {
      name: obj.metadata?.name,
      group: 'coordination.k8s.io',
      kind: 'Lease',
      causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: must be greater than 0', field: 'spec.leaseDurationSeconds' }],
    });
  }
  const transitions = spec.leaseTransitions;
  if (transitions !== undefined && transitions !== null && (!Number.isInteger(transitions) || (transitions as number) < 0)) {
    throw new KubeApiError(422, 'Invalid', `Lease "${String(obj.metadata?.name)}" is invalid: spec.leaseTransitions: Invalid value: ${String(transitions)}: must be greater than or equal to 0`);
  }
}

function decodeError(kind: string, version: string, detail: string): KubeApiError {
  return new KubeApiError(400, 'BadRequest', `${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`);
}

function notFound(resource: KubeResource, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${resource.plural}${groupSuffix(resource)} "${name}" not found`, detailsOf(resource, name));
}

function conflict(resource: KubeResource, name: string): KubeApiError {
  return new KubeApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resource.plural}${groupSuffix(resource)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    detailsOf(resource, name),
  );
}

function detailsOf(resource: KubeResource, name: string): Record<string, unknown> {
  return { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural };
}

function groupSuffix(resource: KubeResource): string {
  return resource.group ? `.${resource.group}` : '';
}

function withKind(resource: KubeResource, obj: KubeObject): KubeObject {
  return { kind: resource.kind, apiVersion: resource.apiVersion, ...obj };
}

/** The name a `metadata.name=X` (or `==`) field selector selects, undefined for none; other selectors are 400, as unsupported here. */
export function parseNameSelector(selector: string | undefined): string | undefined {
  if (selector === undefined || selector === '') return undefined;
  const m = /^metadata\.name==?(.*)$/.exec(selector);
  if (!m) throw new KubeApiError(400, 'BadRequest', `"${selector}" is not a known field selector: only "metadata.name" is supported by this test server`);
  return m[1];
}

/** RFC 3339 with seconds, as metav1.Time serializes. */
function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** True for a JSON object (not an array, not null). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with object keys sorted: equal text means equal content. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));
}
