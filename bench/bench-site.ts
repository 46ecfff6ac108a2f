/**
 * Bench sites on an sshd fleet: a temp site directory whose registry names the first N fleet nodes
 * (~20% VPS, the rest laptops and workers), its known_hosts and courier.yaml; emptying node roots;
 * editing a service; checking that nodes' files really hold an address.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SshdFleet } from '../test/support/sshd-fleet.js';
import { makeTempDir } from './lib.js';
import { generateRegistry, siteConfig, writeRegistry, type GenNode } from './registry-gen.js';

/** Services in every bench registry. */
export const SERVICES = 50;

/** A site directory whose nodes are the first `n` fleet nodes. */
export interface FleetSite {
  dir: string;
  config: string;
  registryDir: string;
  stateDir: string;
  nodes: GenNode[];
}

/** Roles: the first ~20% VPS (at least one), then laptops and workers alternating. */
export function fleetNodes(fleet: SshdFleet, n: number): GenNode[] {
  const vps = Math.max(1, Math.round(n * 0.2));
  return Array.from({ length: n }, (_, i) => {
    const f = fleet.nodes[i]!;
    const role = i < vps ? 'vps' : i % 2 === 0 ? 'laptop' : 'worker';
    return { name: `${role}-${i}`, role, ip: f.address, ssh_user: fleet.user, ssh_port: f.port, root: f.root };
  });
}

/** Create a site for the first `n` fleet nodes; `ssh` adds lines under `ssh:`, `httpListen` turns the API on. */
export async function createFleetSite(fleet: SshdFleet, n: number, name: string, options: { extra?: string; ssh?: string[]; httpListen?: string } = {}): Promise<FleetSite> {
  const dir = await makeTempDir(`courier-bench-${name}-`);
  const registryDir = path.join(dir, 'registry');
  await mkdir(registryDir);
  const nodes = fleetNodes(fleet, n);
  writeRegistry(registryDir, generateRegistry(nodes, SERVICES));
  const knownHosts = path.join(dir, 'known_hosts');
  await fleet.writeKnownHosts(knownHosts);
  const config = path.join(dir, 'courier.yaml');
  await writeFile(config, siteConfig({ ssh: { identity: fleet.clientKeyPath, knownHosts, extra: options.ssh }, httpListen: options.httpListen, extra: options.extra }));
  return { dir, config, registryDir, stateDir: path.join(dir, 'state'), nodes };
}

/** Empty the first `n` node roots (a node that never received anything). */
export async function clearRoots(fleet: SshdFleet, n: number): Promise<void> {
  for (const node of fleet.nodes.slice(0, n)) {
    await rm(node.root, { recursive: true, force: true });
    await mkdir(node.root, { recursive: true });
  }
}

/** Set one service's ip (write + rename, as an editor does). */
export async function setServiceIp(registryDir: string, service: string, ip: string): Promise<void> {
  const file = path.join(registryDir, 'services.json');
  const services = JSON.parse(await readFile(file, 'utf8')) as Record<string, { ip: string }>;
  services[service]!.ip = ip;
  await writeFile(`${file}.tmp`, JSON.stringify(services, null, 2));
  await rename(`${file}.tmp`, file);
}

/** Whether node `i`'s own file holds `ip` (VPS: the Traefik routes; others: /etc/hosts). */
export async function nodeHolds(fleet: SshdFleet, site: FleetSite, i: number, ip: string): Promise<boolean> {
  const node = site.nodes[i]!;
  const root = fleet.nodes[i]!.root;
  const text = await readFile(path.join(root, node.role === 'vps' ? 'srv/traefik/routes.yml' : 'etc/hosts'), 'utf8').catch(() => '');
  return node.role === 'vps' ? text.includes(`http://${ip}:`) : text.includes(`${ip}\t`);
}

/** Throw unless every node of the site holds `ip` in its files. */
export async function assertAllHold(fleet: SshdFleet, site: FleetSite, ip: string, what: string): Promise<void> {
  const missing: string[] = [];
  for (let i = 0; i < site.nodes.length; i++) if (!(await nodeHolds(fleet, site, i, ip))) missing.push(site.nodes[i]!.name);
  if (missing.length) throw new Error(`${what}: ${missing.length} node(s) report active at the new revision but their files lack ${ip}: ${missing.slice(0, 10).join(', ')}`);
}
