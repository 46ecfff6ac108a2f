/**
 * Builds a courier site for the end-to-end tests in its own temp dir: a courier.yaml (files source,
 * the fleet's client key, a known_hosts file, no retries unless asked) and a `registry/` directory
 * in MyNodeOne's document shapes whose nodes are real sshd processes of an sshd fleet. Tests change
 * `site.registry` and call `site.save()` to rewrite the documents.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { NodeRole } from '../../controller/registry/model.js';
import type { SshdFleet } from '../support/sshd-fleet.js';
import { runCourier, type CourierRun } from './run-courier.js';

const run = promisify(execFile);

/** Where the site's artifacts land on a node (below the node's root). */
export const HOSTS_PATH = '/etc/hosts';
export const TRAEFIK_PATH = '/srv/traefik/routes.yml';

/** One node of the site: a registry entry backed by fleet node `fleet`. */
export interface SiteNode {
  name: string;
  role: NodeRole;
  fleet: number;
  sudo?: boolean;
  /** Connect through this port on the fleet node's address (a proxy) instead of its sshd port. */
  port?: number;
}

/** A services.json entry. */
export interface ServiceDoc {
  subdomain: string;
  ip: string;
  port: number;
  public: boolean;
}

/** A routing.json entry with VPS nodes named by site node name (resolved to their addresses on save). */
export interface RoutingSpec {
  domains: string[];
  vps: string[];
  strategy: 'round-robin' | 'primary-backup';
}

/** The registry as the test edits it. */
export interface SiteRegistry {
  nodes: SiteNode[];
  services: Record<string, ServiceDoc>;
  routing: Record<string, RoutingSpec>;
}

/** One node's result in `courier push --json` / `courier verify --json`. */
export interface NodeReportJson {
  node: string;
  role: NodeRole;
  status: 'converged' | 'drifted' | 'unreachable' | 'failed';
  revision: string;
  changed: string[];
  bytesSent: number;
  durationMs: number;
  attempts: number;
  drift: { name: string; path: string; kind: string; expected: string; found: string }[];
  oids: Record<string, string>;
  error: { code: string; message: string; retryable: boolean } | null;
}

/** One node's row in `courier status --json`. */
export interface NodeStatusJson {
  node: string;
  role: NodeRole;
  status: 'active' | 'pending_sync' | 'error';
  last_sync: string | null;
  revision: string | null;
  current: boolean;
  failures: number;
  last_error: { code: string; message: string } | null;
}

/** A site on disk and the controls the tests use. */
export interface TestSite {
  dir: string;
  configFile: string;
  stateDir: string;
  storeDir: string;
  knownHostsFile: string;
  registry: SiteRegistry;
  /** Rewrite the registry documents from `registry`. */
  save(): Promise<void>;
  /** Run the courier CLI against this site. */
  courier(...args: string[]): Promise<CourierRun>;
  /** The per-node reports of `courier push|verify ... --json`, by node name; throws when the output is not a report list. */
  reports(result: CourierRun): Record<string, NodeReportJson>;
  /** `courier status --json` rows by node name. */
  status(): Promise<Record<string, NodeStatusJson>>;
  /** The node's root directory (the agent prefixes every path with it). */
  root(node: string): string;
  /** Absolute path on this machine of `target` (a node path such as /etc/hosts) on `node`. */
  file(node: string, target: string): string;
  /** Read a node's file, or undefined when it does not exist. */
  read(node: string, target: string): Promise<Buffer | undefined>;
  /** Write a node's file (a pre-existing file, or a hand edit). */
  write(node: string, target: string, content: string | Buffer): Promise<void>;
  /** Temp files courier's agent left in the directory of `target` on `node`. */
  tempFiles(node: string, target: string): Promise<string[]>;
}

/** The default services: two private, three public (one routed to each of the first two VPS, one on every VPS). */
export function defaultServices(): Record<string, ServiceDoc> {
  return {
    dashboard: { subdomain: 'dashboard', ip: '100.64.0.10', port: 80, public: false },
    grafana: { subdomain: 'grafana', ip: '100.64.0.14', port: 3000, public: false },
    website: { subdomain: '@', ip: '100.64.0.10', port: 8080, public: true },
    immich: { subdomain: 'photos', ip: '100.64.0.11', port: 2283, public: true },
    'open-webui': { subdomain: 'chat', ip: '100.64.0.12', port: 8080, public: true },
  };
}

/** The default routing: immich on the first VPS, open-webui on the second (when there is one). */
export function defaultRouting(nodes: readonly SiteNode[]): Record<string, RoutingSpec> {
  const vps = nodes.filter((n) => n.role === 'vps').map((n) => n.name);
  const routing: Record<string, RoutingSpec> = {};
  if (vps[0]) routing.immich = { domains: ['example.com'], vps: [vps[0]], strategy: 'primary-backup' };
  if (vps[1]) routing['open-webui'] = { domains: ['example.com'], vps: [vps[1]], strategy: 'primary-backup' };
  return routing;
}

/**
 * Create a site in a new temp dir for `nodes` of `fleet`. The roots of the fleet nodes used are
 * emptied first (tests in one file share a fleet, one after the other). `trusted` lists the fleet
 * indexes written to known_hosts (default: every fleet node).
 */
export async function createSite(
  fleet: SshdFleet,
  nodes: SiteNode[],
  options: { services?: Record<string, ServiceDoc>; routing?: Record<string, RoutingSpec>; trusted?: number[]; reconcile?: string; hosts?: string } = {},
): Promise<TestSite> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-it-site-'));
  const configFile = path.join(dir, 'courier.yaml');
  const knownHostsFile = path.join(dir, 'known_hosts');
  const stateDir = path.join(dir, 'state');
  for (const n of nodes) {
    const root = fleet.nodes[n.fleet]!.root;
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
  }
  await fleet.writeKnownHosts(knownHostsFile);
  if (options.trusted) {
    const lines = options.trusted.map((i) => `${fleet.knownHostsLine(i)}\n`).join('');
    await writeFile(knownHostsFile, lines, { mode: 0o600 });
  }
  // a node reached through a proxy port presents the same host key at that port
  const proxied = nodes.filter((n) => n.port !== undefined).map((n) => `${fleet.knownHostsLine(n.fleet).replace(/^\[([^\]]+)\]:\d+ /, `[$1]:${n.port} `)}\n`);
  if (proxied.length > 0) await writeFile(knownHostsFile, (await readFile(knownHostsFile, 'utf8')) + proxied.join(''), { mode: 0o600 });
  await writeFile(
    configFile,
    [
      'source:',
      '  type: files',
      '  path: registry',
      'state:',
      '  dir: state',
      'traefik:',
      `  path: ${TRAEFIK_PATH}`,
      '  publicDomain: example.com',
      'hosts:',
      `  path: ${HOSTS_PATH}`,
      ...(options.hosts ? [options.hosts] : []),
      'ssh:',
      `  identity: ${fleet.clientKeyPath}`,
      '  knownHosts: known_hosts',
      '  connectTimeout: 10s',
      '  sessionTimeout: 60s',
      'reconcile:',
      options.reconcile ?? '  retries: 0',
      'log:',
      '  level: warn',
      '',
    ].join('\n'),
  );

  const registry: SiteRegistry = { nodes, services: options.services ?? defaultServices(), routing: options.routing ?? defaultRouting(nodes) };
  const byName = (name: string) => {
    const node = registry.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`site has no node ${name}`);
    return node;
  };
  const address = (name: string) => fleet.nodes[byName(name).fleet]!.address;

  const site: TestSite = {
    dir,
    configFile,
    stateDir,
    storeDir: path.join(stateDir, 'store'),
    knownHostsFile,
    registry,
    save: async () => {
      const entry = (n: SiteNode) => {
        const f = fleet.nodes[n.fleet]!;
        return { name: n.name, ip: f.address, ssh_user: fleet.user, ssh_port: n.port ?? f.port, root: f.root, ...(n.sudo ? { sudo: true } : {}) };
      };
      const vps = registry.nodes.filter((n) => n.role === 'vps');
      const routing: Record<string, unknown> = {};
      for (const [service, spec] of Object.entries(registry.routing)) {
        // A route to a node that is no longer a VPS would be a registry error: drop it.
        const listed = spec.vps.filter((name) => registry.nodes.some((n) => n.name === name && n.role === 'vps'));
        if (listed.length > 0) routing[service] = { domains: spec.domains, vps_nodes: listed.map(address), strategy: spec.strategy };
      }
      const documents = {
        'services.json': registry.services,
        'domains.json': {
          domains: { 'example.com': { description: 'integration tests' } },
          vps_nodes: vps.map((n, i) => ({ tailscale_ip: address(n.name), public_ip: `203.0.113.${10 + i}`, location: `loc-${i}` })),
        },
        'routing.json': routing,
        'registry.json': {
          management_laptops: registry.nodes.filter((n) => n.role === 'laptop').map(entry),
          vps_nodes: vps.map(entry),
          worker_nodes: registry.nodes.filter((n) => n.role === 'worker').map(entry),
        },
      };
      await mkdir(path.join(dir, 'registry'), { recursive: true });
      for (const [name, value] of Object.entries(documents)) await writeFile(path.join(dir, 'registry', name), JSON.stringify(value, null, 2) + '\n');
      await writeFile(path.join(dir, 'registry', 'cluster-domain'), 'mycloud\n');
    },
    courier: (...args) => runCourier(configFile, args),
    reports: (result) => {
      if (!Array.isArray(result.json)) throw new Error(`expected a JSON report list (exit ${result.code}); stdout: ${result.stdout.slice(0, 2000)} stderr: ${result.stderr.slice(-2000)}`);
      return Object.fromEntries((result.json as NodeReportJson[]).map((r) => [r.node, r]));
    },
    status: async () => {
      const result = await runCourier(configFile, ['status', '--json']);
      const view = result.json as { nodes?: NodeStatusJson[] } | undefined;
      if (result.code !== 0 || !view?.nodes) throw new Error(`courier status --json failed (exit ${result.code}): ${result.stdout} ${result.stderr}`);
      return Object.fromEntries(view.nodes.map((n) => [n.node, n]));
    },
    root: (node) => fleet.nodes[byName(node).fleet]!.root,
    file: (node, target) => path.join(site.root(node), target),
    read: async (node, target) => {
      try {
        return await readFile(site.file(node, target));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    write: async (node, target, content) => {
      await mkdir(path.dirname(site.file(node, target)), { recursive: true });
      await writeFile(site.file(node, target), content);
    },
    tempFiles: async (node, target) => {
      const file = site.file(node, target);
      const names = await readdir(path.dirname(file)).catch(() => [] as string[]);
      return names.filter((n) => n.startsWith(`.${path.basename(file)}.courier-`));
    },
  };
  await site.save();
  return site;
}

/** Git blob id of `content`, as `git hash-object` computes it. */
export function blobOid(content: string | Buffer): string {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
}

/** `git hash-object <file>`: the blob id stock git computes for a file. */
export async function gitHashObject(file: string): Promise<string> {
  const { stdout } = await run('git', ['hash-object', file]);
  return stdout.trim();
}

/** Stock git in the site's bare store. */
export async function git(site: TestSite, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', [`--git-dir=${site.storeDir}`, ...args]);
  return stdout;
}

/** The body of the `# BEGIN courier` block of a hosts file (lines between the markers), or undefined. */
export function blockBody(text: string): string | undefined {
  const match = /(?:^|\n)# BEGIN courier\r?\n([\s\S]*?)# END courier(?:\r?\n|$)/.exec(text);
  return match?.[1];
}

/** Wait until `check` returns true, polling every `interval` ms; throws after `timeout` ms. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, options: { timeout?: number; interval?: number } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeout ?? 30_000);
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, options.interval ?? 20));
  }
}
