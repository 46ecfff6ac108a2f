/**
 * Pure edits of services.json, after service-registry.sh `register`:
 * `{ subdomain, namespace, service, ip, port, public, updated }` per service (`updated` as jq's
 * `now | todate`). Setting a known service updates only the given fields, in place, and keeps the
 * rest (`service`, unknown fields); a new service needs its subdomain, ip and port and is private
 * unless `public` is given.
 */
import { CourierError } from '../errors.js';
import type { DocumentChange, EditContext } from './model.js';
import { formatJqTime } from './format-registry-time.js';
import { compactEntry, planFieldUpdates } from './plan-field-updates.js';
import { isPlainObject, requireObject } from './require-shape.js';

const DOCUMENT = 'services.json';

/** What `courier services set` says about a service. */
export interface ServiceInput {
  name: string;
  /** '' or '@' for the bare domain. */
  subdomain?: string;
  ip?: string;
  port?: number;
  public?: boolean;
  namespace?: string;
}

/** Create or update a service. */
export function setService(current: unknown, input: ServiceInput, context: EditContext): DocumentChange {
  const services = requireObject(current, { document: DOCUMENT, origin: context.origin, path: '$' });
  const updated = formatJqTime(context.now);
  const existing = services?.[input.name];
  const change = { document: DOCUMENT, kind: 'service', key: input.name } as const;
  const fields = { subdomain: input.subdomain, namespace: input.namespace, ip: input.ip, port: input.port, public: input.public, updated };
  if (services !== undefined && Object.hasOwn(services, input.name) && isPlainObject(existing)) {
    const merged = { ...existing, ...compactEntry(fields) };
    return { ...change, detail: describeService(merged), action: 'updated', operations: planFieldUpdates([input.name], existing, fields) };
  }
  const missing = (['subdomain', 'ip', 'port'] as const).filter((field) => input[field] === undefined);
  if (missing.length > 0) {
    throw new CourierError('USAGE', `service ${input.name} does not exist yet: give ${missing.map((f) => `--${f}`).join(', ')} to create it`, { service: input.name, missing });
  }
  const entry = compactEntry({ ...fields, public: input.public ?? false });
  return { ...change, detail: describeService(entry), action: existing === undefined ? 'added' : 'updated', operations: [{ op: 'set', path: [input.name], value: entry }] };
}

/** Remove a service; an unknown one changes nothing. */
export function removeService(current: unknown, name: string, context: EditContext): DocumentChange {
  const services = requireObject(current, { document: DOCUMENT, origin: context.origin, path: '$' });
  const change = { document: DOCUMENT, kind: 'service', key: name, detail: '' } as const;
  if (services === undefined || !Object.hasOwn(services, name)) return { ...change, action: 'unchanged', operations: [] };
  return { ...change, action: 'removed', operations: [{ op: 'delete', path: [name] }] };
}

/** `(photos → 100.118.5.201:80, public)` for the human line. */
function describeService(entry: Record<string, unknown>): string {
  const subdomain = entry.subdomain === '' || entry.subdomain === '@' ? '@' : String(entry.subdomain);
  return `(${subdomain} → ${String(entry.ip)}:${String(entry.port)}${entry.public === true ? ', public' : ''})`;
}
