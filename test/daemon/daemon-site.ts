/**
 * Test support for the daemon: a site whose nodes are a real sshd fleet, and the built daemon as
 * a child process (stopped by PID), with helpers to read its HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { packagePath } from '../../controller/package-root.js';
import type { SshdFleet } from '../support/sshd-fleet.js';
import type { StatusView } from '../../controller/status/build-status-view.js';

/** Roles for a 5-node fleet: 2 VPS, 2 laptops, 1 worker. */
export const FIVE_ROLES = ['vps', 'vps', 'laptop', 'laptop', 'worker'] as const;

/** A site on disk. */
export interface DaemonSite {
  dir: string;
  config: string;
  registry: string;
  services: Record<string, Record<string, unknown>>;
  writeServices(services: Record<string, Record<string, unknown>>): void;
  /** Path of an artifact on a fleet node. */
  nodeFile(i: number, file: 'hosts' | 'traefik'): string;
}

/** Write a site for the fleet; nodes are named node-<i>. */
export function createDaemonSite(fleet: SshdFleet, roles: readonly string[], extraConfig = ''): DaemonSite {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'courier-daemon-'));
  const registry = path.join(dir, 'registry');
  mkdirSync(registry);
  const knownHosts = path.join(dir, 'known_hosts');
  // synchronously: a command run right after creating the site must find every host key
  writeFileSync(knownHosts, fleet.nodes.map((_, i) => `${fleet.knownHostsLine(i)}\n`).join(''), { mode: 0o600 });
  const config = path.join(dir, 'courier.yaml');
  writeFileSync(
    config,
    `source:\n  type: files\n  path: registry\nssh:\n  identity: ${fleet.clientKeyPath}\n  knownHosts: ${knownHosts}\n  connectTimeout: 5s\n` +
      `hosts:\n  path: /etc/hosts\ntraefik:\n  path: /srv/traefik/routes.yml\n  publicDomain: example.com\n` +
      `reconcile:\n  retries: 0\n  retryDelay: 100ms\n  interval: 1h\n  debounce: 100ms\n  shutdownGrace: 20s\n  errorAfter: 50\n` +
      `http:\n  listen: 127.0.0.1:0\nlog:\n  level: info\n${extraConfig}`,
  );
  const nodes = { management_laptops: [] as unknown[], vps_nodes: [] as unknown[], worker_nodes: [] as unknown[] };
  roles.forEach((role, i) => {
    const n = fleet.nodes[i]!;
    const entry = { name: `node-${i}`, ip: n.address, ssh_user: fleet.user, ssh_port: n.port, root: n.root };
    (role === 'vps' ? nodes.vps_nodes : role === 'laptop' ? nodes.management_laptops : nodes.worker_nodes).push(entry);
  });
  const vps = roles.map((r, i) => (r === 'vps' ? fleet.nodes[i]!.address : undefined)).filter(Boolean) as string[];
  writeFileSync(path.join(registry, 'registry.json'), JSON.stringify(nodes, null, 2));
  writeFileSync(
    path.join(registry, 'domains.json'),
    JSON.stringify({ domains: { 'example.com': {} }, vps_nodes: vps.map((ip, k) => ({ tailscale_ip: ip, public_ip: `203.0.113.${k + 1}` })) }, null, 2),
  );
  writeFileSync(path.join(registry, 'cluster-domain'), 'mycloud\n');
  const services: Record<string, Record<string, unknown>> = {
    app: { subdomain: 'app', ip: '100.64.0.10', port: 8080, public: true },
    grafana: { subdomain: 'grafana', ip: '100.64.0.11', port: 3000, public: false },
  };
  const site: DaemonSite = {
    dir,
    config,
    registry,
    services,
    writeServices(next) {
      // write-then-rename, as editors do
      const tmp = path.join(registry, '.services.json.tmp');
      writeFileSync(tmp, JSON.stringify(next, null, 2));
      renameSync(tmp, path.join(registry, 'services.json'));
    },
    nodeFile(i, file) {
      return path.join(fleet.nodes[i]!.root, file === 'hosts' ? 'etc/hosts' : 'srv/traefik/routes.yml');
    },
  };
  writeFileSync(path.join(registry, 'services.json'), JSON.stringify(services, null, 2));
  return site;
}

/** A daemon child process. */
export interface DaemonProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  status(): Promise<StatusView>;
  metrics(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `courier daemon` (built binary) and wait until it prints its dashboard URL. */
export async function startDaemonProcess(config: string): Promise<DaemonProcess> {
  const child = spawn(process.execPath, [packagePath('dist', 'courier', 'main.js'), 'daemon', '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COURIER_LOG_LEVEL: 'info' },
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start in 60 s:\n${out}\n${err}`)), 60_000);
    const check = () => {
      const m = /dashboard: (http:\/\/[^\s/]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exit.then((e) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited ${e.code ?? e.signal} before starting:\n${out}\n${err}`));
    });
  });
  return {
    child,
    url,
    stdout: () => out,
    stderr: () => err,
    exit,
    status: async () => (await (await fetch(`${url}/api/status`)).json()) as StatusView,
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const e = await exit;
      clearTimeout(killer);
      return e;
    },
  };
}
