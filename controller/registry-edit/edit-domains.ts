/**
 * Pure edits of domains.json, after multi-domain-registry.sh: `register-domain` writes
 * `{ description, registered, status: "active" }`, `register-vps` appends
 * `{ tailscale_ip, public_ip, location, registered, status: "active" }` unique by `tailscale_ip`
 * (`registered` as jq's `now | todate`). Adding a known domain or VPS updates it in place,
 * re-stamping `registered` and keeping its other fields; a description or location that is not
 * given is left as it was (a new domain gets MyNodeOne's empty description, a new VPS no location).
 */
import type { DocumentChange, EditContext, EditOperation } from './model.js';
import { formatJqTime } from './format-registry-time.js';
import { compactEntry, planFieldUpdates } from './plan-field-updates.js';
import { isPlainObject, requireArray, requireObject } from './require-shape.js';

const DOCUMENT = 'domains.json';

/** Register a public domain, or update the description of a registered one. */
export function addDomain(current: unknown, domain: string, description: string | undefined, context: EditContext): DocumentChange {
  const { document, domains } = readDomains(current, context);
  const registered = formatJqTime(context.now);
  const change = { document: DOCUMENT, kind: 'domain', key: domain, detail: '' } as const;
  const existing = domains?.[domain];
  if (domains !== undefined && Object.hasOwn(domains, domain) && isPlainObject(existing)) {
    const operations = planFieldUpdates(['domains', domain], existing, { description, registered, status: 'active' });
    return { ...change, action: 'updated', operations };
  }
  const entry = { description: description ?? '', registered, status: 'active' };
  const operations: EditOperation[] = [];
  if (document === undefined) operations.push({ op: 'set', path: ['domains'], value: { [domain]: entry } }, { op: 'set', path: ['vps_nodes'], value: [] });
  else if (domains === undefined) operations.push({ op: 'set', path: ['domains'], value: { [domain]: entry } });
  else operations.push({ op: 'set', path: ['domains', domain], value: entry });
  return { ...change, action: existing === undefined ? 'added' : 'updated', operations };
}

/** Unregister a domain; an unknown domain changes nothing (MyNodeOne warns and succeeds). */
export function removeDomain(current: unknown, domain: string, context: EditContext): DocumentChange {
  const { domains } = readDomains(current, context);
  const change = { document: DOCUMENT, kind: 'domain', key: domain, detail: '' } as const;
  if (domains === undefined || !Object.hasOwn(domains, domain)) return { ...change, action: 'unchanged', operations: [] };
  return { ...change, action: 'removed', operations: [{ op: 'delete', path: ['domains', domain] }] };
}

/** What `courier vps add` says about a VPS edge. */
export interface VpsInput {
  tailscaleIp: string;
  publicIp: string;
  location?: string;
}

/** Register a VPS edge, or update the one with the same tailscale IP. */
export function addVps(current: unknown, input: VpsInput, context: EditContext): DocumentChange {
  const { document, vpsNodes } = readDomains(current, context);
  const registered = formatJqTime(context.now);
  const change = { document: DOCUMENT, kind: 'vps', key: input.tailscaleIp, detail: `(public ${input.publicIp})` } as const;
  const index = findVps(vpsNodes, input.tailscaleIp);
  if (index !== -1) {
    const fields = { public_ip: input.publicIp, location: input.location, registered, status: 'active' };
    return { ...change, action: 'updated', operations: planFieldUpdates(['vps_nodes', index], vpsNodes![index] as Record<string, unknown>, fields) };
  }
  const entry = compactEntry({ tailscale_ip: input.tailscaleIp, public_ip: input.publicIp, location: input.location, registered, status: 'active' });
  const operations: EditOperation[] = [];
  if (document === undefined) operations.push({ op: 'set', path: ['domains'], value: {} }, { op: 'set', path: ['vps_nodes'], value: [entry] });
  else if (vpsNodes === undefined) operations.push({ op: 'set', path: ['vps_nodes'], value: [entry] });
  else operations.push({ op: 'set', path: ['vps_nodes', vpsNodes.length], value: entry });
  return { ...change, action: 'added', operations };
}

/** Unregister the VPS edge with this tailscale IP; an unknown one changes nothing. */
export function removeVps(current: unknown, tailscaleIp: string, context: EditContext): DocumentChange {
  const { vpsNodes } = readDomains(current, context);
  const index = findVps(vpsNodes, tailscaleIp);
  const change = { document: DOCUMENT, kind: 'vps', key: tailscaleIp } as const;
  if (index === -1) return { ...change, detail: '', action: 'unchanged', operations: [] };
  const publicIp = (vpsNodes![index] as Record<string, unknown>).public_ip;
  const detail = typeof publicIp === 'string' ? `(public ${publicIp})` : '';
  return { ...change, detail, action: 'removed', operations: [{ op: 'delete', path: ['vps_nodes', index] }] };
}

/** The document, its `domains` object and its `vps_nodes` list, each checked when present. */
function readDomains(current: unknown, context: EditContext): { document?: Record<string, unknown>; domains?: Record<string, unknown>; vpsNodes?: unknown[] } {
  const where = { document: DOCUMENT, origin: context.origin } as const;
  const document = requireObject(current, { ...where, path: '$' });
  return {
    document,
    domains: requireObject(document?.domains, { ...where, path: '$.domains' }),
    vpsNodes: requireArray(document?.vps_nodes, { ...where, path: '$.vps_nodes' }),
  };
}

/** Index of the VPS edge with this tailscale IP, or -1. */
function findVps(vpsNodes: unknown[] | undefined, tailscaleIp: string): number {
  return vpsNodes?.findIndex((entry) => isPlainObject(entry) && entry.tailscale_ip === tailscaleIp) ?? -1;
}
