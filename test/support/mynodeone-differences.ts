/**
 * The deliberate differences between courier and MyNodeOne's scripts, as the README's "Differences
 * from MyNodeOne" table lists them, and the explainer the differential tests use: every entry or
 * route that only one side produces must be explained by one of them, or it is a courier bug.
 */
import { LEGACY_CONTROL_PLANE_IP } from './mynodeone-legacy.js';
import type { EffectiveRoute } from './compare-mynodeone.js';

/** The documented differences, by the id the README table shows. */
export const DIFFERENCES = {
  'timestamps': 'MyNodeOne writes the time into every file (`Generated on: …`, `Auto-synced on …`); courier renders byte-identical files for an unchanged registry',
  'strategy-ignored': 'MyNodeOne stores the routing strategy but ignores it: every listed VPS serves every listed domain; courier spreads round-robin domains over the VPS nodes (domain i on VPS i mod n)',
  'unrouted-public': 'once routing.json has any entry, MyNodeOne serves only routed services; courier also serves a public service without a routing entry on every VPS under traefik.publicDomain',
  'no-public-service': 'with no service marked public MyNodeOne writes no routes at all, not even for routed services; courier serves routed services whatever `public` says',
  'vps-without-routes': 'in multi-domain mode a VPS that no routing entry names gets a log line appended to its routes file, which fails validation, so MyNodeOne installs nothing (the old routes stay); courier writes that VPS a valid file',
  'empty-subdomain': 'an empty subdomain on a routed host: MyNodeOne writes `Host(`.example.com`)`, which matches nothing; courier serves the bare domain',
  'router-named-after-subdomain': 'without routing.json MyNodeOne names each router after the subdomain, so a public service with subdomain `@` or `` gives a file that is not YAML: its check refuses it and nothing is installed; courier names routers `<service>-<host>`',
  'at-subdomain-hosts': 'subdomain `@` in /etc/hosts: MyNodeOne writes `@.<cluster>.local`; courier writes the bare `<cluster>.local`, as `@` means on public hosts',
  'no-ip-backend': 'a public service without an ip: MyNodeOne routes it to `http://null:<port>` (single-domain mode) or to the control plane (routed); courier leaves it out until it has an ip',
} as const;

/** A documented difference's id. */
export type DifferenceId = keyof typeof DIFFERENCES;

/** The registry documents as parsed JSON, which the explainer reads like MyNodeOne does. */
export interface LegacyDocuments {
  services: Record<string, { subdomain?: string; ip?: string | null; port?: number; public?: boolean }>;
  routing: Record<string, { domains?: string[]; vps_nodes?: string[]; strategy?: string }>;
  clusterDomain: string;
  publicDomain: string;
}

function hostOf(subdomain: string, domain: string, legacy: boolean): string {
  if (subdomain === '@') return domain;
  if (subdomain === '') return legacy ? `.${domain}` : domain;
  return `${subdomain}.${domain}`;
}

/** True when MyNodeOne's sync-vps-routes.sh runs in multi-domain mode (routing.json is not `{}`). */
export function isMultiDomain(docs: LegacyDocuments): boolean {
  return Object.keys(docs.routing).length > 0;
}

/** True when any service is `public: true` (MyNodeOne's VPS script stops early otherwise). */
export function hasPublicService(docs: LegacyDocuments): boolean {
  return Object.values(docs.services).some((s) => s.public === true);
}

/** Why a route only MyNodeOne produced for VPS `vpsIp` differs from courier, or undefined (a courier bug). */
export function explainLegacyOnlyRoute(docs: LegacyDocuments, vpsIp: string, route: EffectiveRoute): DifferenceId | undefined {
  if (route.host.startsWith('.')) return 'empty-subdomain';
  if (route.urls.some((url) => url.startsWith('http://null:') || url.startsWith(`http://${LEGACY_CONTROL_PLANE_IP}:`))) return 'no-ip-backend';
  if (!isMultiDomain(docs)) return undefined;
  for (const [name, entry] of Object.entries(docs.routing)) {
    const service = docs.services[name];
    if (service === undefined) continue;
    const domains = entry.domains ?? [];
    const vps = entry.vps_nodes ?? [];
    const strategy = entry.strategy ?? 'round-robin';
    const index = domains.findIndex((domain) => hostOf(service.subdomain ?? '', domain, true) === route.host);
    if (index < 0 || !vps.includes(vpsIp)) continue;
    // courier would send this domain to vps[index mod n] only
    if (strategy === 'round-robin' && vps[index % vps.length] !== vpsIp) return 'strategy-ignored';
  }
  return undefined;
}

/** Why a route only courier produced for VPS `vpsIp` differs from MyNodeOne, or undefined (a courier bug). */
export function explainCourierOnlyRoute(docs: LegacyDocuments, route: EffectiveRoute): DifferenceId | undefined {
  const multi = isMultiDomain(docs);
  for (const [name, service] of Object.entries(docs.services)) {
    const url = `http://${service.ip}:${service.port}`;
    if (!route.urls.includes(url)) continue;
    const entry = docs.routing[name];
    const domains = entry === undefined ? [docs.publicDomain] : (entry.domains ?? []);
    for (const domain of domains) {
      if (hostOf(service.subdomain ?? '', domain, false) !== route.host) continue;
      if (service.subdomain === '') return 'empty-subdomain';
      if (multi && entry === undefined && service.public === true) return 'unrouted-public';
    }
  }
  return undefined;
}

/** Why a hosts entry (`ip name`) only one side wrote differs, or undefined (a courier bug). */
export function explainHostsEntry(docs: LegacyDocuments, entry: string, side: 'legacy' | 'courier'): DifferenceId | undefined {
  const [ip, name] = entry.split(' ');
  const bare = `${docs.clusterDomain}.local`;
  const withAt = Object.values(docs.services).filter((s) => s.subdomain === '@' && s.ip === ip);
  if (withAt.length === 0) return undefined;
  if (side === 'legacy' && name === `@.${bare}`) return 'at-subdomain-hosts';
  if (side === 'courier' && name === bare) return 'at-subdomain-hosts';
  return undefined;
}
