/** The DNS records the public routes need: which public IP(s) each public host name points at. */
import type { Registry } from '../registry/model.js';
import type { RenderSettings } from './model.js';
import { resolvePublicRoutes, type RouteStrategy } from './resolve-public-routes.js';

/** One A record: a public host name and the VPS public IPs it should resolve to. */
export interface DnsRecord {
  host: string;
  type: 'A';
  values: string[];
  service: string;
  strategy: RouteStrategy;
}

/**
 * Every public host name with the public IP(s) of the VPS nodes that serve it, sorted by host:
 * primary-backup points at the first listed VPS only; round-robin at the VPS serving that domain;
 * a single-domain public service at every VPS node. A VPS without an endpoint in domains.json has
 * no public IP and is left out; a host left with no IP at all gets no record.
 */
export function renderDnsRecords(registry: Registry, settings: RenderSettings): DnsRecord[] {
  const publicIps = new Map(registry.vpsEndpoints.map((e) => [e.tailscaleIp, e.publicIp]));
  const records: DnsRecord[] = [];
  for (const route of resolvePublicRoutes(registry, settings)) {
    const targets = route.strategy === 'primary-backup' ? route.vpsIps.slice(0, 1) : route.vpsIps;
    const values = [...new Set(targets.flatMap((ip) => publicIps.get(ip) ?? []))];
    if (values.length > 0) records.push({ host: route.host, type: 'A', values, service: route.service, strategy: route.strategy });
  }
  return records;
}
