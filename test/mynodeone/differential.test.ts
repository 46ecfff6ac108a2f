/**
 * Differential tests: MyNodeOne's own sync-dns.sh and sync-vps-routes.sh (with
 * multi-domain-registry.sh export-vps-routes) run beside courier's render on the same registry, on
 * the realistic fixture and on generated registries. Per laptop/worker the hosts entries must be
 * equal as sets; per VPS the set of routes (host → backend, entry points, TLS resolver,
 * middlewares). Every difference must be one of the documented ones (README "Differences from
 * MyNodeOne"), and each documented one must show up, so the list stays true.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';
import type { Registry } from '../../controller/registry/model.js';
import { parseRegistry } from '../../controller/registry/parse-registry.js';
import { loadTemplates, type Templates } from '../../controller/render/load-templates.js';
import type { RenderSettings } from '../../controller/render/model.js';
import { renderRegistry } from '../../controller/render/render-registry.js';
import { snapshotOf } from '../fixtures/registry-kit/registry-kit.js';
import { addedHostsEntries, compareSets, effectiveRoutes, formatRoute, hostsEntries, type EffectiveRoute } from '../support/compare-mynodeone.js';
import {
  DIFFERENCES,
  explainCourierOnlyRoute,
  explainHostsEntry,
  explainLegacyOnlyRoute,
  hasPublicService,
  isMultiDomain,
  type DifferenceId,
  type LegacyDocuments,
} from '../support/mynodeone-differences.js';
import { LEGACY_CONTROL_PLANE_IP, LEGACY_HOSTS_BEFORE, locateMyNodeOneScripts, runLegacyScripts, type LegacyRegistry } from '../support/mynodeone-legacy.js';
import { runCourier } from '../registry-edit/run-courier.js';

/** Differences seen in any run of this file: each documented one must appear at least once. */
const seen = new Set<DifferenceId>();
let templates: Templates;

function settingsFor(publicDomain: string): RenderSettings {
  return {
    traefik: { path: '~/traefik/config/mynodeone-routes.yml', publicDomain, entryPoints: { web: 'web', websecure: 'websecure' }, certResolver: 'letsencrypt' },
    hosts: { path: '/etc/hosts' },
  };
}

/** Parsed documents for the explainer, read the way MyNodeOne's jq reads them. */
function legacyDocuments(files: LegacyRegistry, publicDomain: string): LegacyDocuments {
  const parse = (text: string | undefined): Record<string, never> => (text === undefined || text.trim() === '' ? {} : JSON.parse(text));
  return {
    services: parse(files['services.json']),
    routing: parse(files['routing.json']),
    clusterDomain: files['cluster-domain']?.trim() || 'mynodeone',
    publicDomain,
  };
}

/** Runs both sides on `files` and asserts every difference is a documented one; returns the differences seen. */
async function compareOnRegistry(files: LegacyRegistry, publicDomain: string): Promise<DifferenceId[]> {
  const snapshot = snapshotOf(Object.fromEntries(Object.entries(files).filter(([, text]) => text !== undefined)));
  const registry: Registry = parseRegistry(snapshot, { publicDomain });
  const rendered = renderRegistry(registry, settingsFor(publicDomain), templates);
  const vpsNodes = registry.nodes.filter((node) => node.role === 'vps');
  const legacy = await runLegacyScripts(files, vpsNodes.map((node) => node.ip), publicDomain);
  const docs = legacyDocuments(files, publicDomain);
  const found: DifferenceId[] = [];
  const problems: string[] = [];
  const note = (id: DifferenceId | undefined, what: string): void => {
    if (id === undefined) problems.push(what);
    else found.push(id);
  };

  // MyNodeOne's scripts only read: no kubectl write, and ssh only to the control plane
  expect(legacy.kubectlWrites).toEqual([]);
  expect(new Set(legacy.sshDestinations)).toEqual(new Set(legacy.sshDestinations.length > 0 ? [`root@${LEGACY_CONTROL_PLANE_IP}`] : []));
  expect(legacy.dnsStatus, legacy.dnsLog).toBe(0);

  // MyNodeOne keeps the lines it does not own (as courier keeps everything outside its block)
  for (const entry of hostsEntries(legacy.hostsBefore)) expect(hostsEntries(legacy.hostsAfter).has(entry)).toBe(true);
  const legacyHosts = addedHostsEntries(legacy.hostsBefore, legacy.hostsAfter);
  if (legacyHosts.size > 0) {
    expect(legacy.hostsAfter).toMatch(/# MyNodeOne Services - Auto-synced on .+\d/);
    found.push('timestamps');
  }
  for (const render of rendered.nodes.filter((r) => r.node.role !== 'vps')) {
    const courierHosts = hostsEntries(render.artifacts.find((a) => a.name === 'hosts')?.content ?? '');
    const { onlyLeft, onlyRight } = compareSets(legacyHosts, courierHosts);
    for (const entry of onlyLeft) note(explainHostsEntry(docs, entry, 'legacy'), `${render.node.name}: only MyNodeOne writes hosts entry ${entry}`);
    for (const entry of onlyRight) note(explainHostsEntry(docs, entry, 'courier'), `${render.node.name}: only courier writes hosts entry ${entry}`);
  }

  for (const node of vpsNodes) {
    const result = legacy.vps.get(node.ip)!;
    const courierFile = rendered.nodes.find((r) => r.node.name === node.name)!.artifacts.find((a) => a.name === 'traefik.yml')!.content;
    const courierRoutes = effectiveRoutes(courierFile);
    let legacyRoutes: EffectiveRoute[] = [];
    // why MyNodeOne installed no routes file at all (the VPS keeps its old one): then every courier route is that difference
    let noFile: DifferenceId | undefined;
    const multi = isMultiDomain(docs);
    const named = Object.values(docs.routing).some((entry) => (entry.vps_nodes ?? []).includes(node.ip));
    if (result.routes !== undefined) {
      expect(result.status, result.log).toBe(0);
      expect(result.routes).toMatch(/^Generated on: .+\d/m);
      found.push('timestamps');
      legacyRoutes = effectiveRoutes(result.routes);
    } else if (!hasPublicService(docs)) {
      // the script stops before writing anything: "No services found" / "No public services configured"
      expect(result.status, result.log).toBe(0);
      expect(result.log).toMatch(/No services found in registry|No public services configured/);
      noFile = 'no-public-service';
    } else if (multi && !named) {
      // export-vps-routes logs "No routes assigned" into the file, the YAML check refuses it, nothing is installed
      expect(result.status, result.log).not.toBe(0);
      expect(result.log).toContain('invalid YAML');
      noFile = 'vps-without-routes';
    } else if (!multi && Object.values(docs.services).some((s) => s.public === true && (s.subdomain === '' || s.subdomain === '@'))) {
      // single-domain mode names the router after the subdomain: "" or "@" is no YAML key, the check refuses the file
      expect(result.status, result.log).not.toBe(0);
      expect(result.log).toContain('invalid YAML');
      noFile = 'router-named-after-subdomain';
    } else {
      problems.push(`${node.name}: MyNodeOne installed no routes (exit ${result.status}): ${result.log.slice(-600)}`);
    }
    if (noFile !== undefined) found.push(noFile);
    const legacySet = new Map(legacyRoutes.map((route) => [formatRoute(route), route]));
    const courierSet = new Map(courierRoutes.map((route) => [formatRoute(route), route]));
    const { onlyLeft, onlyRight } = compareSets(new Set(legacySet.keys()), new Set(courierSet.keys()));
    for (const key of onlyLeft) note(explainLegacyOnlyRoute(docs, node.ip, legacySet.get(key)!), `${node.name} (${node.ip}): only MyNodeOne routes ${key}`);
    for (const key of onlyRight) note(noFile ?? explainCourierOnlyRoute(docs, courierSet.get(key)!), `${node.name} (${node.ip}): only courier routes ${key}`);
  }
  if (problems.length > 0) throw new Error(`differences that are not on the documented list (courier bugs, or the list is wrong):\n${problems.join('\n')}`);
  for (const id of found) seen.add(id);
  return found;
}

async function readFixture(dir: string): Promise<LegacyRegistry> {
  const files: LegacyRegistry = {};
  for (const key of ['services.json', 'domains.json', 'routing.json', 'registry.json', 'cluster-domain'] as const) {
    files[key] = await readFile(path.join(dir, key), 'utf8').catch(() => undefined);
  }
  return files;
}

// ---------------------------------------------------------------- generated registries

const SERVICE_NAMES = ['immich', 'open-webui', 'grafana', 'jellyfin', 'dashboard', 'homepage', 'gitea', 'wiki-js'];
const SUBDOMAINS = ['photos', 'chat', 'grafana', 'media', 'dashboard', '', '@', 'git'];
/** Subdomains that claim the bare internal name: courier refuses two with different backends, so a registry has at most one. */
const BARE = new Set(['', '@', 'dashboard']);
const DOMAINS = ['example.com', 'example.org', 'curiios.com'];
const VPS = [
  { name: 'vps-contabo-us', ip: '100.68.225.92', public: '45.8.133.192' },
  { name: 'VPS.Example.Net', ip: '100.70.123.45', public: '167.99.1.1' },
  { name: 'edge_01', ip: '100.71.0.3', public: '203.0.113.7' },
];
const LAPTOPS = ['Vinays-MacBook-Pro', 'family-desktop'];
const WORKERS = ['worker_01', 'node-02.lan'];

interface Generated {
  files: LegacyRegistry;
  publicDomain: string;
}

const serviceArb = fc.record({ subdomain: fc.constantFrom(...SUBDOMAINS), hasIp: fc.boolean(), port: fc.integer({ min: 1, max: 65535 }), public: fc.boolean() });
const routingArb = fc.record({
  service: fc.nat(),
  domains: fc.shuffledSubarray(DOMAINS, { minLength: 1 }),
  vps: fc.shuffledSubarray([0, 1, 2], { minLength: 1 }),
  strategy: fc.constantFrom(undefined, 'round-robin', 'primary-backup', 'geo'),
});
const siteArb = fc
  .record({
    clusterDomain: fc.constantFrom(undefined, 'mycloud', 'mynodeone', 'home'),
    domains: fc.shuffledSubarray(DOMAINS, { minLength: 1 }),
    vpsCount: fc.integer({ min: 1, max: 3 }),
    laptops: fc.integer({ min: 0, max: 2 }),
    workers: fc.integer({ min: 0, max: 2 }),
    services: fc.array(serviceArb, { maxLength: 6 }),
    routing: fc.option(fc.array(routingArb, { maxLength: 4 }), { nil: undefined }),
  })
  .map((site): Generated => buildGenerated(site));

function buildGenerated(site: {
  clusterDomain: string | undefined;
  domains: string[];
  vpsCount: number;
  laptops: number;
  workers: number;
  services: { subdomain: string; hasIp: boolean; port: number; public: boolean }[];
  routing: { service: number; domains: string[]; vps: number[]; strategy: string | undefined }[] | undefined;
}): Generated {
  const services: Record<string, object> = {};
  const usedSubdomains = new Set<string>();
  let bareTaken = false;
  site.services.forEach((service, i) => {
    if (usedSubdomains.has(service.subdomain) || (BARE.has(service.subdomain) && bareTaken)) return;
    usedSubdomains.add(service.subdomain);
    if (BARE.has(service.subdomain)) bareTaken = true;
    const name = SERVICE_NAMES[i]!;
    services[name] = {
      subdomain: service.subdomain,
      namespace: name,
      service: name,
      ...(service.hasIp ? { ip: `100.118.5.${200 + i}` } : {}),
      port: service.port,
      public: service.public,
      updated: '2025-11-22T10:00:00Z',
    };
  });
  const vps = VPS.slice(0, site.vpsCount);
  const routing: Record<string, object> = {};
  const names = Object.keys(services);
  for (const entry of site.routing ?? []) {
    if (names.length === 0) break;
    const service = names[entry.service % names.length]!;
    const domains = entry.domains.filter((d) => site.domains.includes(d));
    const vpsIps = entry.vps.filter((i) => i < vps.length).map((i) => vps[i]!.ip);
    if (routing[service] !== undefined || domains.length === 0 || vpsIps.length === 0) continue;
    routing[service] = { domains, vps_nodes: vpsIps, ...(entry.strategy === undefined ? {} : { strategy: entry.strategy }), updated: '2025-11-22T10:00:00Z' };
  }
  const node = (name: string, ip: string, user: string): object => ({
    ip,
    name,
    ssh_user: user,
    webhook_port: 8080,
    repo_path: '',
    registered: '2025-11-20T09:00:00+00:00',
    last_sync: null,
    status: 'active',
  });
  const files: LegacyRegistry = {
    'services.json': JSON.stringify(services),
    'domains.json': JSON.stringify({
      domains: Object.fromEntries(site.domains.map((d) => [d, { description: '', registered: '2025-11-20T09:00:00Z', status: 'active' }])),
      vps_nodes: vps.map((v) => ({ tailscale_ip: v.ip, public_ip: v.public, location: 'unknown', registered: '2025-11-20T09:00:00Z', status: 'active' })),
    }),
    'registry.json': JSON.stringify({
      management_laptops: LAPTOPS.slice(0, site.laptops).map((name, i) => node(name, `100.101.92.${10 + i}`, 'vinay')),
      vps_nodes: vps.map((v) => node(v.name, v.ip, 'root')),
      worker_nodes: WORKERS.slice(0, site.workers).map((name, i) => node(name, `100.88.12.${3 + i}`, 'root')),
      metadata: { version: '1.0', last_updated: '2025-11-22T10:00:00+00:00', updated_by: 'root@control-plane' },
    }),
  };
  if (site.routing !== undefined) files['routing.json'] = JSON.stringify(routing);
  if (site.clusterDomain !== undefined) files['cluster-domain'] = site.clusterDomain;
  return { files, publicDomain: site.domains[0]! };
}

describe("courier against MyNodeOne's own scripts", () => {
  beforeAll(async () => {
    locateMyNodeOneScripts();
    templates = await loadTemplates();
  });

  it('finds the scripts beside the repository, or fails saying where it looked', () => {
    expect(locateMyNodeOneScripts()).toBe(path.resolve(packagePath(), '..', 'shared', 'reference', 'mynodeone'));
  });

  it('agrees on the realistic fixture, but for documented differences, and leaves the real /etc untouched', async () => {
    const realHosts = await readFile('/etc/hosts', 'utf8');
    const files = await readFixture(packagePath('test', 'fixtures', 'registry-realistic'));
    const found = await compareOnRegistry(files, 'curiios.com');
    expect(found).toContain('timestamps');
    expect(await readFile('/etc/hosts', 'utf8')).toBe(realHosts);
    expect(existsSync('/etc/mynodeone-routes.yml') || readdirSync('/etc').some((f) => f.startsWith('hosts.backup.'))).toBe(false);
  });

  it('agrees on a laptop registered under its macOS hostname with a worker and one VPS', async () => {
    const files: LegacyRegistry = {
      'services.json': JSON.stringify({
        immich: { subdomain: 'photos', namespace: 'immich', service: 'immich-server', ip: '100.118.5.203', port: 2283, public: true, updated: '2025-11-22T10:00:00Z' },
        dashboard: { subdomain: 'dashboard', namespace: 'kube-system', service: 'dashboard', ip: '100.118.5.200', port: 80, public: false, updated: '2025-11-22T10:00:00Z' },
      }),
      'domains.json': JSON.stringify({ domains: { 'curiios.com': { description: '', registered: '2025-11-20T09:00:00Z', status: 'active' } }, vps_nodes: [] }),
      'registry.json': JSON.stringify({
        management_laptops: [{ ip: '100.101.92.14', name: 'Vinays-MacBook-Pro', ssh_user: 'vinay', webhook_port: 8080, repo_path: '', registered: '2025-11-20T09:00:00+00:00', last_sync: null, status: 'active' }],
        vps_nodes: [{ ip: '100.68.225.92', name: 'vps.example.net', ssh_user: 'root', webhook_port: 8080, repo_path: '/root/MyNodeOne', registered: '2025-11-20T09:00:00+00:00', last_sync: null, status: 'failed', last_error: '2025-11-21T10:00:00Z' }],
        worker_nodes: [{ ip: '100.88.12.3', name: 'worker_01', ssh_user: 'root', webhook_port: 8080, repo_path: '', registered: '2025-11-20T09:00:00+00:00', last_sync: null, status: 'pending_sync', last_attempt: '2025-11-21T10:00:00Z' }],
        metadata: { version: '1.0', last_updated: '2025-11-22T10:00:00+00:00', updated_by: 'root@control-plane' },
      }),
      'routing.json': '{}',
      'cluster-domain': 'mycloud',
    };
    expect(await compareOnRegistry(files, 'curiios.com')).toEqual(['timestamps', 'timestamps']);
  });

  it("switches a laptop whose /etc/hosts MyNodeOne's sync-dns.sh wrote: courier's push keeps the user's lines, removes MyNodeOne's section and holds the same entries", async () => {
    const files = await readFixture(packagePath('test', 'fixtures', 'registry-realistic'));
    const legacy = await runLegacyScripts(files, [], 'curiios.com');
    expect(legacy.hostsAfter).toContain('# MyNodeOne Services - Auto-synced on');
    const site = await mkdtemp(path.join(os.tmpdir(), 'courier-switch-'));
    const root = path.join(site, 'laptop');
    await mkdir(path.join(site, 'registry'), { recursive: true });
    await mkdir(path.join(root, 'etc'), { recursive: true });
    for (const key of ['services.json', 'domains.json', 'routing.json', 'cluster-domain'] as const) await writeFile(path.join(site, 'registry', key), files[key]!);
    const laptop = { name: 'Vinays-MacBook-Pro', ip: '127.0.0.1', transport: 'local', root, webhook_port: 8080, repo_path: '', registered: '2025-11-20T09:00:00+00:00', last_sync: null, status: 'active' };
    // the fixture's VPS nodes stay registered (routing names them); only the laptop is pushed to
    const nodes = { ...(JSON.parse(files['registry.json']!) as object), management_laptops: [laptop], worker_nodes: [] };
    await writeFile(path.join(site, 'registry', 'registry.json'), JSON.stringify(nodes));
    await writeFile(path.join(site, 'courier.yaml'), 'source:\n  type: files\n  path: registry\ntraefik:\n  publicDomain: curiios.com\n');
    await writeFile(path.join(root, 'etc', 'hosts'), legacy.hostsAfter);
    const push = await runCourier(path.join(site, 'courier.yaml'), 'push', '--node', 'Vinays-MacBook-Pro', '--json');
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const after = await readFile(path.join(root, 'etc', 'hosts'), 'utf8');
    expect(after).not.toContain('MyNodeOne');
    expect(after.startsWith(LEGACY_HOSTS_BEFORE)).toBe(true);
    const block = after.slice(after.indexOf('# BEGIN courier\n'));
    // the same entries MyNodeOne wrote, but for the documented at-subdomain-hosts (website's "@": its bare name comes from dashboard too)
    const legacyEntries = [...addedHostsEntries(legacy.hostsBefore, legacy.hostsAfter)];
    expect(legacyEntries).toContain('100.118.5.200 @.mycloud.local');
    expect(hostsEntries(block)).toEqual(new Set(legacyEntries.filter((entry) => !entry.includes(' @.'))));
    await rm(site, { recursive: true, force: true });
  });

  it('agrees on generated registries (services with and without ip, @, empty and dashboard subdomains, several domains and VPS nodes, round-robin, primary-backup and geo)', async () => {
    const seed = Number(process.env.COURIER_FC_SEED ?? 20261201);
    await fc.assert(
      fc.asyncProperty(siteArb, async (site) => {
        await compareOnRegistry(site.files, site.publicDomain);
      }),
      { numRuns: Number(process.env.COURIER_FC_RUNS ?? 30), seed, endOnFailure: true },
    );
  }, 900_000);

  it('lists exactly these differences in the README table', async () => {
    const readme = await readFile(packagePath('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Differences from MyNodeOne'), readme.indexOf('\n## ', readme.indexOf('### Differences from MyNodeOne')));
    const ids = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]);
    expect(ids.sort()).toEqual(Object.keys(DIFFERENCES).sort());
  });

  // runs last: every documented difference must be one that really happens (the list is asserted, not prose)
  it('shows every documented difference at least once, and no other', () => {
    expect([...seen].sort()).toEqual(Object.keys(DIFFERENCES).sort());
  });
});
