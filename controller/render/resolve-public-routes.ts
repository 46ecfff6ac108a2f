/**
 * Who serves which public host name: the one decision both the Traefik files and the DNS records
 * are derived from, so the two can never disagree.
 */
import { CourierError } from '../errors.js';
import { defaultPublicDomain } from '../registry/default-public-domain.js';
import type { Registry, Routing, Service } from '../registry/model.js';
import { assertHostName, assertIdentifier, assertIpAddress, assertPort } from './assert-render-input.js';
import { compareText } from './compare-text.js';
import type { RenderSettings } from './model.js';

/** How a public host is spread over the VPS nodes: `single` is a public service with no routing entry. */
export type RouteStrategy = 'single' | 'round-robin' | 'primary-backup';

/** One public host name of one service and the VPS nodes that serve it. */
export interface PublicRoute {
  service: string;
  host: string;
  /** Tailscale IPs of the serving VPS nodes: routing order (the first is primary), or every VPS node by name for `single`. */
  vpsIps: string[];
  strategy: RouteStrategy;
  /** `http://<service ip>:<port>`. */
  backendUrl: string;
}

/**
 * Every public route of the registry, sorted by host then service, one per (service, host). A
 * service without `ip` or `port` has no backend and is left out; routing is an explicit publish,
 * so a routed service is served whether or not `public` is set.
 */
export function resolvePublicRoutes(registry: Registry, settings: RenderSettings): PublicRoute[] {
  const routes = new Map<string, PublicRoute>();
  const routed = new Set(registry.routing.map((r) => r.service));
  const services = new Map(registry.services.map((s) => [s.name, s]));
  for (const routing of registry.routing) {
    const service = services.get(routing.service);
    if (service?.ip === undefined || service.port === undefined) continue;
    for (const route of resolveRoutingRoutes(service, routing)) addRoute(routes, route);
  }
  const single = registry.services.filter((s) => s.public && !routed.has(s.name) && s.ip !== undefined && s.port !== undefined);
  if (single.length > 0) {
    const domain = requirePublicDomain(registry, settings);
    const vpsIps = registry.nodes
      .filter((n) => n.role === 'vps')
      .sort((a, b) => compareText(a.name, b.name))
      .map((n) => n.ip);
    for (const service of single) {
      addRoute(routes, buildRoute(service, joinHost(service.subdomain, domain), vpsIps, 'single'));
    }
  }
  const sorted = [...routes.values()].sort((a, b) => compareText(a.host, b.host) || compareText(a.service, b.service));
  return mergeSameHost(sorted);
}

/** The routes of one routing entry: every VPS serves every domain, or domain i goes to VPS i mod n. */
function resolveRoutingRoutes(service: Service, routing: Routing): PublicRoute[] {
  const n = routing.vpsNodes.length;
  if (n === 0) return [];
  return routing.domains.map((domain, i) => {
    const vpsIps = routing.strategy === 'primary-backup' ? [...routing.vpsNodes] : [routing.vpsNodes[i % n] as string];
    return buildRoute(service, joinHost(service.subdomain, domain), vpsIps, routing.strategy);
  });
}

function buildRoute(service: Service, host: string, vpsIps: string[], strategy: RouteStrategy): PublicRoute {
  const where = `services.json: $.${service.name}`;
  assertIdentifier(service.name, `${where} (name)`);
  assertHostName(host, `${where}.subdomain (public host)`);
  const ip = service.ip as string;
  assertIpAddress(ip, `${where}.ip`);
  assertPort(service.port as number, `${where}.port`);
  for (const vps of vpsIps) assertIpAddress(vps, `routing.json: $.${service.name}.vps_nodes`);
  const address = ip.includes(':') ? `[${ip}]` : ip;
  return { service: service.name, host, vpsIps: [...vpsIps], strategy, backendUrl: `http://${address}:${service.port}` };
}

/** Merge a route into the map: the same (service, host) twice (a domain listed twice) is served by the union. */
function addRoute(routes: Map<string, PublicRoute>, route: PublicRoute): void {
  const key = `${route.service}\n${route.host}`;
  const existing = routes.get(key);
  if (existing === undefined) {
    routes.set(key, route);
    return;
  }
  for (const ip of route.vpsIps) if (!existing.vpsIps.includes(ip)) existing.vpsIps.push(ip);
}

/**
 * One route per host. Registry validation allows two services on one host only when they share the
 * backend (`ip:port`); the first by service name then serves it on the union of their VPS nodes.
 * Different backends would make the host ambiguous: RENDER_INVALID.
 */
function mergeSameHost(sorted: PublicRoute[]): PublicRoute[] {
  const merged: PublicRoute[] = [];
  for (const route of sorted) {
    const kept = merged[merged.length - 1];
    if (kept?.host !== route.host) {
      merged.push(route);
      continue;
    }
    if (kept.backendUrl !== route.backendUrl) {
      throw new CourierError(
        'RENDER_INVALID',
        `public host ${route.host} is claimed by ${kept.service} (${kept.backendUrl}) and ${route.service} (${route.backendUrl}); give one of them another subdomain or domain`,
        { host: route.host, services: [kept.service, route.service] },
      );
    }
    for (const ip of route.vpsIps) if (!kept.vpsIps.includes(ip)) kept.vpsIps.push(ip);
  }
  return merged;
}

/** `<subdomain>.<domain>`; `@` or an empty subdomain is the bare domain. */
function joinHost(subdomain: string, domain: string): string {
  return subdomain === '' || subdomain === '@' ? domain : `${subdomain}.${domain}`;
}

function requirePublicDomain(registry: Registry, settings: RenderSettings): string {
  const domain = defaultPublicDomain(registry, settings.traefik.publicDomain);
  if (domain !== undefined) return domain;
  const known = registry.domains.length === 0 ? 'domains.json lists none' : `domains.json lists ${registry.domains.join(', ')}`;
  throw new CourierError(
    'RENDER_INVALID',
    `public services without a routing entry need a public domain and ${known}: set traefik.publicDomain in courier.yaml`,
    { setting: 'traefik.publicDomain', domains: registry.domains },
  );
}
