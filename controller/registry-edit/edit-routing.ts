/**
 * Pure edits of routing.json, after multi-domain-registry.sh `configure-routing`:
 * `{ domains, vps_nodes, strategy, updated }` per service (`updated` as jq's `now | todate`,
 * strategy round-robin unless given). Setting a routed service updates the given fields in place and
 * keeps the others; a new entry needs its domains and VPS edges.
 */
import { CourierError } from '../errors.js';
import type { Routing } from '../registry/model.js';
import type { DocumentChange, EditContext } from './model.js';
import { formatJqTime } from './format-registry-time.js';
import { planFieldUpdates } from './plan-field-updates.js';
import { isPlainObject, requireObject } from './require-shape.js';

const DOCUMENT = 'routing.json';

/** What `courier routing set` says about a service's public routing. */
export interface RoutingInput {
  service: string;
  domains?: string[];
  /** Tailscale IPs of the VPS edges, in order (the first is the primary for primary-backup). */
  vpsNodes?: string[];
  strategy?: Routing['strategy'];
}

/** Create or update the routing entry of a service. */
export function setRouting(current: unknown, input: RoutingInput, context: EditContext): DocumentChange {
  const routing = requireObject(current, { document: DOCUMENT, origin: context.origin, path: '$' });
  const updated = formatJqTime(context.now);
  const existing = routing?.[input.service];
  const change = { document: DOCUMENT, kind: 'routing', key: input.service } as const;
  if (routing !== undefined && Object.hasOwn(routing, input.service) && isPlainObject(existing)) {
    const fields = { domains: input.domains, vps_nodes: input.vpsNodes, strategy: input.strategy, updated };
    const merged = { ...existing, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) };
    return { ...change, detail: describeRouting(merged), action: 'updated', operations: planFieldUpdates([input.service], existing, fields) };
  }
  if (input.domains === undefined || input.vpsNodes === undefined) {
    throw new CourierError('USAGE', `routing for ${input.service} does not exist yet: give both --domains and --vps to create it`, { service: input.service });
  }
  const entry = { domains: input.domains, vps_nodes: input.vpsNodes, strategy: input.strategy ?? 'round-robin', updated };
  return { ...change, detail: describeRouting(entry), action: existing === undefined ? 'added' : 'updated', operations: [{ op: 'set', path: [input.service], value: entry }] };
}

/** Remove a service's routing entry; an unknown one changes nothing. */
export function removeRouting(current: unknown, service: string, context: EditContext): DocumentChange {
  const routing = requireObject(current, { document: DOCUMENT, origin: context.origin, path: '$' });
  const change = { document: DOCUMENT, kind: 'routing', key: service, detail: '' } as const;
  if (routing === undefined || !Object.hasOwn(routing, service)) return { ...change, action: 'unchanged', operations: [] };
  return { ...change, action: 'removed', operations: [{ op: 'delete', path: [service] }] };
}

/** `(a.com, b.com via 100.64.0.1, 100.64.0.2, round-robin)` for the human line. */
function describeRouting(entry: Record<string, unknown>): string {
  const list = (value: unknown) => (Array.isArray(value) ? value.join(', ') : '?');
  return `(${list(entry.domains)} via ${list(entry.vps_nodes)}, ${typeof entry.strategy === 'string' ? entry.strategy : 'round-robin'})`;
}
