/**
 * routing.json: `{ "<service>": { domains: [...], vps_nodes: [tailscale ips], strategy, updated? } }`
 * as MyNodeOne's multi-domain-registry.sh writes it, checked against the other documents: the
 * service must exist, every domain must be registered, every VPS must be a node (to push to) and an
 * edge in domains.json (for its public IP).
 */
import type { Routing } from './model.js';
import type { DocumentChecker } from './document-checker.js';
import type { ServicesResult } from './validate-services.js';
import type { DomainsResult } from './validate-domains.js';
import type { NodesResult } from './validate-nodes.js';
import { joinPath } from './describe-value.js';

/** The strategies courier renders (MyNodeOne's `geo` is read as primary-backup, see readStrategy). */
const STRATEGIES = ['round-robin', 'primary-backup'] as const;

/** One routing entry as far as it validated: lists hold only their valid, known elements. */
export interface RoutingDraft {
  service: string;
  domains: string[];
  vpsNodes: string[];
  strategy?: Routing['strategy'];
  /** True when every part of the entry is valid. */
  valid: boolean;
}

/** What routing.json holds, for the cross-document checks. */
export interface RoutingResult {
  /** False when the document could not be read as an object: cross-checks against it are skipped. */
  usable: boolean;
  drafts: RoutingDraft[];
}

/** The other documents routing refers to. */
export interface RoutingContext {
  services: ServicesResult;
  domains: DomainsResult;
  nodes: NodesResult;
}

/** Validate routing.json (`undefined` when absent) against the other documents, recording problems on `check`. */
export function validateRouting(value: unknown, check: DocumentChecker, context: RoutingContext): RoutingResult {
  if (value === undefined) return { usable: true, drafts: [] };
  const routing = check.readObject('$', value, 'service names mapped to {"domains", "vps_nodes", "strategy"}', { required: true });
  if (routing === undefined) return { usable: false, drafts: [] };

  const drafts: RoutingDraft[] = [];
  for (const [service, entryValue] of Object.entries(routing)) {
    const path = joinPath('$', service);
    let valid = true;
    if (!context.services.usable) {
      valid = check.readText(path, service, 'serviceName') !== undefined;
    } else if (!context.services.names.has(service)) {
      check.reportValue(path, service, 'is not a service in services.json; register the service or remove this routing entry');
      valid = false;
    }
    const entry = check.readObject(path, entryValue, 'a routing entry {"domains", "vps_nodes", "strategy"}', { required: true });
    if (entry === undefined) continue;

    const domains = readList(joinPath(path, 'domains'), entry.domains, 'domain names registered in domains.json', check, (itemPath, item) => {
      const domain = check.readText(itemPath, item, 'domain');
      if (domain === undefined || !context.domains.usable || context.domains.names.has(domain)) return domain;
      check.reportValue(itemPath, domain, 'is not registered in domains.json; add it under "domains" there or remove it here');
      return undefined;
    });
    const vpsNodes = readList(joinPath(path, 'vps_nodes'), entry.vps_nodes, 'VPS tailscale IPs', check, (itemPath, item) => {
      const ip = check.readText(itemPath, item, 'ipv4');
      if (ip === undefined) return undefined;
      let known = true;
      if (context.nodes.usable && !context.nodes.vpsIps.has(ip)) {
        check.reportValue(itemPath, ip, 'is not the ip of any VPS in registry.json vps_nodes; courier can only push routes to a registered VPS');
        known = false;
      }
      if (context.domains.usable && !context.domains.tailscaleIps.has(ip)) {
        check.reportValue(itemPath, ip, 'is not a tailscale_ip in domains.json vps_nodes, which gives each VPS its public IP; add the VPS there');
        known = false;
      }
      return known ? ip : undefined;
    });
    const strategy = readStrategy(joinPath(path, 'strategy'), entry.strategy, check);
    valid = valid && domains.valid && vpsNodes.valid && strategy !== undefined;
    drafts.push({ service, domains: domains.items, vpsNodes: vpsNodes.items, strategy, valid });
  }
  return { usable: true, drafts };
}

/** A required, non-empty list without duplicates, each element read by `readItem`. */
function readList(
  path: string,
  value: unknown,
  expected: string,
  check: DocumentChecker,
  readItem: (itemPath: string, item: unknown) => string | undefined,
): { items: string[]; valid: boolean } {
  const list = check.readArray(path, value, `a non-empty list of ${expected}`, { required: true });
  if (list === undefined) return { items: [], valid: false };
  if (list.length === 0) {
    check.report(path, `is empty; list at least one (${expected})`);
    return { items: [], valid: false };
  }
  const items: string[] = [];
  const firstIndex = new Map<unknown, number>();
  let valid = true;
  list.forEach((item, index) => {
    const itemPath = joinPath(path, index);
    const first = typeof item === 'string' ? firstIndex.get(item) : undefined;
    if (first !== undefined) {
      check.reportValue(itemPath, item, `is listed twice (also at ${joinPath(path, first)}); list each once`);
      valid = false;
      return;
    }
    if (typeof item === 'string') firstIndex.set(item, index);
    const read = readItem(itemPath, item);
    if (read === undefined) valid = false;
    else items.push(read);
  });
  return { items, valid };
}

/**
 * The strategy: `round-robin` when absent (MyNodeOne's default). `geo`, which MyNodeOne's
 * configure-routing offers but renders like any other strategy (every listed VPS serves every listed
 * domain), is read as `primary-backup`, which renders exactly that, so such a registry switches as is.
 */
function readStrategy(path: string, value: unknown, check: DocumentChecker): Routing['strategy'] | undefined {
  if (value === undefined || value === null) return 'round-robin';
  if (value === 'geo') return 'primary-backup';
  return check.readChoice(path, value, STRATEGIES);
}
