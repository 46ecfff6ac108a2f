/**
 * The registry stage: a source's snapshot in, the one validated Registry out. Pure (no I/O, no
 * clock). Validation is strict and total: every problem in every document is collected, and any
 * problem fails the whole registry with REGISTRY_INVALID, so nothing renders from a half-valid one.
 */
import { DOCUMENT_NAMES, type DocumentName, type Node, type Registry, type RegistryProblem, type RegistrySnapshot, type Service } from './model.js';
import { DocumentChecker } from './document-checker.js';
import { parseDocument } from './parse-document.js';
import { validateServices } from './validate-services.js';
import { validateDomains } from './validate-domains.js';
import { validateRouting } from './validate-routing.js';
import { validateNodes } from './validate-nodes.js';
import { checkHostConflicts } from './check-host-conflicts.js';
import { defaultPublicDomain } from './default-public-domain.js';
import { normalizeDocument, stripStatusFields } from './normalize-document.js';
import { createRegistryError } from './create-registry-error.js';

/** The cluster domain when cluster-info has none: what MyNodeOne's sync-dns.sh falls back to. */
export const DEFAULT_CLUSTER_DOMAIN = 'mynodeone';

/** Settings from courier.yaml that validation needs. */
export interface ParseRegistryOptions {
  /** `traefik.publicDomain`: where public services without a routing entry are served. */
  publicDomain?: string;
}

/** Parse and validate every document of a snapshot; throws REGISTRY_INVALID listing all problems. */
export function parseRegistry(snapshot: RegistrySnapshot, options: ParseRegistryOptions = {}): Registry {
  const problems: RegistryProblem[] = [];
  const checkers = {} as Record<DocumentName, DocumentChecker>;
  const values: Partial<Record<DocumentName, unknown>> = {};
  const unusable = new Set<DocumentName>();

  // Parse: text → value per document; an empty document counts as absent.
  for (const name of DOCUMENT_NAMES) {
    const raw = snapshot.documents[name];
    checkers[name] = new DocumentChecker(name, raw?.origin ?? name, problems);
    if (raw === undefined) continue;
    const parsed = parseDocument(raw, checkers[name]);
    if (!parsed.ok) unusable.add(name);
    else if (!parsed.empty) values[name] = parsed.value;
  }

  // Validate each document on its own, then routing against the others.
  const services = markUnusable(validateServices(values['services.json'], checkers['services.json']), unusable.has('services.json'));
  const domains = markUnusable(validateDomains(values['domains.json'], checkers['domains.json']), unusable.has('domains.json'));
  const nodes = markUnusable(validateNodes(values['registry.json'], checkers['registry.json']), unusable.has('registry.json'));
  const routing = markUnusable(validateRouting(values['routing.json'], checkers['routing.json'], { services, domains, nodes }), unusable.has('routing.json'));
  const clusterDomain = readClusterDomain(values['cluster-domain'], checkers['cluster-domain']);

  // Cross-check: host names that collide. A public or routed service without ip or port is no
  // error: it is left out of the routes until it has a backend (MyNodeOne's scripts accept it too).
  const publicDomain = defaultPublicDomain({ domains: domains.domains }, options.publicDomain);
  checkHostConflicts(
    {
      services: services.drafts,
      routing: routing.usable ? routing.drafts : undefined,
      clusterDomain: clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
      publicDomain,
      publicDomainKnown: domains.usable && domains.names.size === domains.domains.length,
    },
    checkers['services.json'],
  );

  if (problems.length > 0) throw createRegistryError(problems);

  // Assemble: every value is valid now; sort everything so output never depends on input order.
  return {
    services: services.drafts.map(toService).sort((a, b) => compareText(a.name, b.name)),
    domains: [...domains.domains].sort(compareText),
    vpsEndpoints: [...domains.endpoints].sort((a, b) => compareText(a.tailscaleIp, b.tailscaleIp)),
    routing: routing.drafts
      .map((entry) => ({ service: entry.service, domains: entry.domains, vpsNodes: entry.vpsNodes, strategy: entry.strategy ?? 'round-robin' }))
      .sort((a, b) => compareText(a.service, b.service)),
    nodes: [...nodes.nodes].sort(compareNodes),
    clusterDomain: clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
    documents: Object.fromEntries(Object.entries(values).map(([name, value]) => [name, normalizeDocument(name === 'registry.json' ? stripStatusFields(value) : value)])),
  };
}

/** The cluster domain string (already trimmed when it came as text), or undefined when absent or invalid. */
function readClusterDomain(value: unknown, check: DocumentChecker): string | undefined {
  if (value === undefined) return undefined;
  return check.readText('$', typeof value === 'string' ? value.trim() : value, 'clusterDomain');
}

/** A document that failed to parse is as unusable for cross-checks as one of the wrong type. */
function markUnusable<T extends { usable: boolean }>(result: T, parseFailed: boolean): T {
  return parseFailed ? { ...result, usable: false } : result;
}

/** The model's Service from a draft that validated. */
function toService(draft: { name: string; subdomain?: string; ip?: string; port?: number; public: boolean; namespace?: string }): Service {
  const service: Service = { name: draft.name, subdomain: draft.subdomain ?? '', public: draft.public };
  if (draft.ip !== undefined) service.ip = draft.ip;
  if (draft.port !== undefined) service.port = draft.port;
  if (draft.namespace !== undefined) service.namespace = draft.namespace;
  return service;
}

/** Role order laptop, vps, worker; then name. */
function compareNodes(a: Node, b: Node): number {
  return compareText(a.role, b.role) || compareText(a.name, b.name);
}

/** Code-unit order, the same on every machine (unlike localeCompare). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
