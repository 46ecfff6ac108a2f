/**
 * Synthetic registries for the benchmarks, in MyNodeOne's document shapes: nodes of the three roles,
 * services (a third public; half of the public ones routed over 2-3 domains and 2-3 VPS nodes,
 * alternating round-robin and primary-backup), the domain registry and the cluster domain.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { NodeRole, RegistrySnapshot } from '../controller/registry/model.js';

/** A registry.json node entry. */
export interface GenNode {
  name: string;
  role: NodeRole;
  ip: string;
  ssh_user: string;
  ssh_port?: number;
  root?: string;
}

/** A services.json entry. */
export interface GenService {
  subdomain: string;
  ip: string;
  port: number;
  public: boolean;
  namespace: string;
}

/** The registry documents as objects. */
export interface GenRegistry {
  services: Record<string, GenService>;
  domains: { domains: Record<string, { description: string }>; vps_nodes: { tailscale_ip: string; public_ip: string; location: string }[] };
  routing: Record<string, { domains: string[]; vps_nodes: string[]; strategy: 'round-robin' | 'primary-backup' }>;
  registry: { management_laptops: GenNode[]; vps_nodes: GenNode[]; worker_nodes: GenNode[] };
  clusterDomain: string;
}

/** The public domain used for unrouted public services (set as traefik.publicDomain). */
export const PUBLIC_DOMAIN = 'example.com';
const DOMAINS = [PUBLIC_DOMAIN, 'example.net', 'example.org'];

/** The k-th address of a /16-sized block starting at `a.b`: a.b.(k/250).(k%250+1). */
export function blockIp(a: number, b: number, k: number): string {
  return `${a}.${b + Math.floor(k / 62_500)}.${Math.floor(k / 250) % 250}.${(k % 250) + 1}`;
}

/** `count` nodes: `vps` VPS first, then laptops and workers alternating; distinct names and 100.64.x.y addresses. */
export function syntheticNodes(count: { vps: number; laptops: number; workers: number }): GenNode[] {
  const nodes: GenNode[] = [];
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  for (let i = 0; i < count.vps; i++) nodes.push({ name: `vps-${pad(i, 3)}`, role: 'vps', ip: blockIp(100, 64, nodes.length), ssh_user: 'root' });
  for (let i = 0; i < count.laptops; i++) nodes.push({ name: `laptop-${pad(i, 3)}`, role: 'laptop', ip: blockIp(100, 64, nodes.length), ssh_user: 'admin' });
  for (let i = 0; i < count.workers; i++) nodes.push({ name: `worker-${pad(i, 3)}`, role: 'worker', ip: blockIp(100, 64, nodes.length), ssh_user: 'courier' });
  return nodes;
}

/** The service address for service `i` at generation `gen` (gen 0 = the initial registry). */
export function serviceIp(i: number, gen = 0): string {
  return gen === 0 ? blockIp(100, 100, i) : blockIp(10, 0, gen * 1000 + i);
}

/** Service `i`'s name. */
export function serviceName(i: number): string {
  return `svc-${String(i).padStart(3, '0')}`;
}

/** Whether service `i` is public (every third). */
export function isPublic(i: number): boolean {
  return i % 3 === 0;
}

/** Build a registry with `serviceCount` services over `nodes`. */
export function generateRegistry(nodes: readonly GenNode[], serviceCount: number): GenRegistry {
  const vps = nodes.filter((n) => n.role === 'vps');
  const services: Record<string, GenService> = {};
  const routing: GenRegistry['routing'] = {};
  for (let i = 0; i < serviceCount; i++) {
    const name = serviceName(i);
    services[name] = { subdomain: `s${i}`, ip: serviceIp(i), port: 8000 + (i % 1000), public: isPublic(i), namespace: `ns-${i % 20}` };
    // half of the public services carry a routing entry (needs at least one VPS)
    if (isPublic(i) && i % 6 === 0 && vps.length > 0) {
      const k = i / 6;
      const domainCount = 2 + (k % 2);
      const vpsCount = Math.min(vps.length, 2 + (k % 2));
      routing[name] = {
        domains: Array.from({ length: domainCount }, (_, j) => DOMAINS[(k + j) % DOMAINS.length]!),
        vps_nodes: Array.from({ length: vpsCount }, (_, j) => vps[(k + j) % vps.length]!.ip),
        strategy: k % 2 === 0 ? 'round-robin' : 'primary-backup',
      };
    }
  }
  return {
    services,
    routing,
    domains: {
      domains: Object.fromEntries(DOMAINS.map((d) => [d, { description: `bench domain ${d}` }])),
      vps_nodes: vps.map((n, k) => ({ tailscale_ip: n.ip, public_ip: blockIp(198, 18, k), location: `region-${k % 4}` })),
    },
    registry: {
      management_laptops: nodes.filter((n) => n.role === 'laptop'),
      vps_nodes: vps,
      worker_nodes: nodes.filter((n) => n.role === 'worker'),
    },
    clusterDomain: 'benchcloud',
  };
}

/** The document texts of a registry, keyed by file name. */
export function registryFiles(reg: GenRegistry): Record<string, string> {
  return {
    'services.json': JSON.stringify(reg.services, null, 2),
    'domains.json': JSON.stringify(reg.domains, null, 2),
    'routing.json': JSON.stringify(reg.routing, null, 2),
    'registry.json': JSON.stringify(reg.registry, null, 2),
    'cluster-domain': `${reg.clusterDomain}\n`,
  };
}

/** Write the registry documents into `dir` (each by write + rename, as editors do). */
export function writeRegistry(dir: string, reg: GenRegistry, only?: string[]): void {
  for (const [file, text] of Object.entries(registryFiles(reg))) {
    if (only && !only.includes(file)) continue;
    const tmp = path.join(dir, `.${file}.tmp`);
    writeFileSync(tmp, text);
    renameSync(tmp, path.join(dir, file));
  }
}

/** The registry as an in-memory source snapshot (what the files source would deliver). */
export function registrySnapshot(reg: GenRegistry, trigger: string): RegistrySnapshot {
  const files = registryFiles(reg);
  const json = (name: 'services.json' | 'domains.json' | 'routing.json' | 'registry.json') => ({ name, origin: `bench/${name}`, format: 'json' as const, text: files[name]! });
  return {
    trigger,
    documents: {
      'services.json': json('services.json'),
      'domains.json': json('domains.json'),
      'routing.json': json('routing.json'),
      'registry.json': json('registry.json'),
      'cluster-domain': { name: 'cluster-domain', origin: 'bench/cluster-domain', format: 'text', text: files['cluster-domain']! },
    },
  };
}

/** A courier.yaml for a bench site (files source in `registry/`, state in `state/`). */
export function siteConfig(options: { ssh?: { identity: string; knownHosts: string; extra?: string[] }; httpListen?: string; extra?: string } = {}): string {
  return [
    'source:',
    '  type: files',
    '  path: registry',
    'state:',
    '  dir: state',
    'traefik:',
    '  path: /srv/traefik/routes.yml',
    `  publicDomain: ${PUBLIC_DOMAIN}`,
    'hosts:',
    '  path: /etc/hosts',
    ...(options.ssh ? ['ssh:', `  identity: ${options.ssh.identity}`, `  knownHosts: ${options.ssh.knownHosts}`, ...(options.ssh.extra ?? []).map((l) => `  ${l}`)] : []),
    'http:',
    ...(options.httpListen ? [`  listen: ${options.httpListen}`] : ['  enabled: false']),
    'log:',
    '  level: error',
    options.extra ?? '',
  ].join('\n');
}
