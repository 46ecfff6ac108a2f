/**
 * Host names must identify one backend. Internally (hosts files) a name maps to one ip; publicly
 * (Traefik on the VPS edges) a host maps to one `ip:port`. Two services that would claim the same
 * name with different backends are a problem naming both, found before anything renders.
 */
import type { DocumentChecker } from './document-checker.js';
import type { ServiceDraft } from './validate-services.js';
import type { RoutingDraft } from './validate-routing.js';
import { describeValue, joinPath, quoteText } from './describe-value.js';

/** What the conflict checks need from the validated documents. */
export interface HostConflictInput {
  services: ServiceDraft[];
  /** Routing entries, or undefined when routing.json was unusable (public checks are skipped). */
  routing: RoutingDraft[] | undefined;
  clusterDomain: string;
  /** The domain of public services without a routing entry (see defaultPublicDomain). */
  publicDomain: string | undefined;
  /** False when domains.json was unusable, so a missing public domain may be a follow-on error. */
  publicDomainKnown: boolean;
}

/** One claim on a host name: who claims it, pointing where, and how the claim arises. */
interface Claim {
  service: string;
  backend: string;
  how: string;
}

/** Record a problem for every host name two services would point at different backends. */
export function checkHostConflicts(input: HostConflictInput, check: DocumentChecker): void {
  const services = [...input.services].sort((a, b) => compareText(a.name, b.name));
  checkInternalNames(services, input.clusterDomain, check);
  if (input.routing !== undefined) checkPublicHosts(services, input.routing, input, check);
}

/** `<subdomain>.<cluster>.local`; `""`/`@` the bare name; `dashboard` also the bare name (MyNodeOne). */
function checkInternalNames(services: ServiceDraft[], clusterDomain: string, check: DocumentChecker): void {
  const bare = `${clusterDomain}.local`;
  const claims = new Map<string, Claim>();
  const reported = new Set<string>();
  for (const service of services) {
    const { subdomain, ip } = service;
    if (subdomain === undefined || ip === undefined) continue;
    const names: [string, string][] = isBare(subdomain)
      ? [[bare, `gives the bare host name ${bare}`]]
      : [[`${subdomain}.${bare}`, `gives the host name ${subdomain}.${bare}`]];
    if (subdomain === 'dashboard') names.push([bare, `also gives the bare host name ${bare} (MyNodeOne gives the dashboard both names)`]);
    for (const [name, how] of names) {
      claimName(claims, reported, name, { service: service.name, backend: ip, how }, subdomain, 'points at', check);
    }
  }
}

/** Routed services on each routing domain; other public services on the public domain. */
function checkPublicHosts(services: ServiceDraft[], routing: RoutingDraft[], input: HostConflictInput, check: DocumentChecker): void {
  const routes = new Map(routing.map((entry) => [entry.service, entry]));
  const claims = new Map<string, Claim>();
  const reported = new Set<string>();
  for (const service of services) {
    const route = routes.get(service.name);
    let domains: string[];
    if (route !== undefined) {
      domains = route.domains;
    } else if (service.public) {
      if (input.publicDomain === undefined) {
        if (input.publicDomainKnown) {
          check.report(
            joinPath(joinPath('$', service.name), 'public'),
            'public service has no routing entry and no public domain; set traefik.publicDomain in courier.yaml or add a routing entry',
          );
        }
        continue;
      }
      domains = [input.publicDomain];
    } else {
      continue;
    }
    const { subdomain, ip, port } = service;
    if (subdomain === undefined || ip === undefined || port === undefined) continue;
    for (const domain of domains) {
      const host = isBare(subdomain) ? domain : `${subdomain}.${domain}`;
      const how = `gives the public host ${host}${route === undefined ? ' (the public domain)' : ' (from routing.json)'}`;
      claimName(claims, reported, host, { service: service.name, backend: `${ip}:${port}`, how }, subdomain, 'serves it from', check);
    }
  }
}

/** Register one claim; a different backend on the same name is a problem (once per pair of services). */
function claimName(
  claims: Map<string, Claim>,
  reported: Set<string>,
  name: string,
  claim: Claim,
  subdomain: string,
  verb: string,
  check: DocumentChecker,
): void {
  const first = claims.get(name);
  if (first === undefined) {
    claims.set(name, claim);
    return;
  }
  if (first.backend === claim.backend || first.service === claim.service) return;
  const pair = `${first.service}\0${claim.service}`;
  if (reported.has(pair)) return;
  reported.add(pair);
  check.report(
    joinPath(joinPath('$', claim.service), 'subdomain'),
    `${describeValue(subdomain)} ${claim.how}, but service ${quoteText(first.service)} already ${verb} ${first.backend} ` +
      `and this service ${verb} ${claim.backend}; give one of them another subdomain`,
  );
}

/** `""` and `@` both mean the bare domain. */
function isBare(subdomain: string): boolean {
  return subdomain === '' || subdomain === '@';
}

/** Code-unit order, the same on every machine (unlike localeCompare). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
