/**
 * The switch a new user makes on an existing MyNodeOne control plane, end to end: MyNodeOne's
 * registry in the Kubernetes test API server (a laptop registered under its macOS hostname), its key
 * and known_hosts in HOME, real sshd nodes; then `courier init --from-mynodeone`, `courier check`,
 * `courier push --dry-run` and `courier push`. Every node converges, the laptop's old MyNodeOne hosts
 * section gives way to courier's block, and the cluster is only ever read.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';
import { formatKnownHostsLine } from '../../controller/transport/known-hosts.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';

const NS = 'kube-system';
const DIST = packagePath('dist', 'courier', 'main.js');
const LEGACY_HOSTS = '127.0.0.1\tlocalhost\n\n# MyNodeOne Services - Auto-synced on Sat Nov 22 10:00:00 UTC 2025\n100.118.5.201\tphotos.mycloud.local\n\n';

let fleet: SshdFleet;
let server: KubeApiServer;
let dir: string;
let home: string;

function courier(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const entry = existsSync(DIST) ? [DIST] : ['--import', 'tsx', packagePath('controller', 'cli', 'main.ts')];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entry, ...args],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, HOME: home, KUBECONFIG: '', SSH_AUTH_SOCK: '', COURIER_LOG_LEVEL: 'warn', NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

/** Every file under `root`, relative to it. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}

beforeAll(async () => {
  fleet = await startSshdFleet(2);
  dir = await mkdtemp(path.join(os.tmpdir(), 'courier-switch-'));
  home = path.join(dir, 'home');
  await mkdir(path.join(home, '.ssh'), { recursive: true, mode: 0o700 });
  await mkdir(path.join(home, '.mynodeone'), { recursive: true });
  await copyFile(fleet.clientKeyPath, path.join(home, '.ssh', 'mynodeone_id_ed25519'));
  await writeFile(path.join(home, '.mynodeone', 'config.env'), 'CLUSTER_DOMAIN="mycloud"\nPUBLIC_DOMAIN="curiios.com"\n');
  // the control plane has ssh'd to both nodes before: one plain entry, one hashed
  const [laptop, vps] = fleet.nodes as [(typeof fleet.nodes)[0], (typeof fleet.nodes)[0]];
  const vpsKey = Buffer.from(vps.hostKeyPub.split(' ')[1]!, 'base64');
  await writeFile(path.join(home, '.ssh', 'known_hosts'), `${fleet.knownHostsLine(0)}\n${formatKnownHostsLine(vps.address, vps.port, vpsKey, { hashed: true })}\n`);
  await mkdir(path.join(laptop.root, 'etc'), { recursive: true });
  await writeFile(path.join(laptop.root, 'etc', 'hosts'), LEGACY_HOSTS);

  server = await startKubeApiServer();
  await writeFile(path.join(dir, 'kubeconfig.yaml'), server.kubeconfig());
  const stamp = { registered: '2025-11-20T09:00:00+00:00', last_sync: null, status: 'active', webhook_port: 8080, repo_path: '' };
  server.setConfigMap(NS, 'service-registry', {
    'services.json': JSON.stringify({
      immich: { subdomain: 'photos', namespace: 'immich', service: 'immich-server', ip: '100.118.5.201', port: 80, public: true, updated: '2025-11-22T10:00:00Z' },
      dashboard: { subdomain: 'dashboard', namespace: 'kube-system', service: 'dashboard', ip: '100.118.5.200', port: 80, public: false, updated: '2025-11-22T10:00:00Z' },
    }),
  });
  server.setConfigMap(NS, 'domain-registry', {
    'domains.json': JSON.stringify({ domains: { 'curiios.com': { description: '', status: 'active' } }, vps_nodes: [{ tailscale_ip: vps.address, public_ip: '45.8.133.192', location: 'unknown' }] }),
    'routing.json': JSON.stringify({ immich: { domains: ['curiios.com'], vps_nodes: [vps.address], strategy: 'geo', updated: '2025-11-22T10:00:00Z' } }),
  });
  // `root` keeps the test's writes inside the fleet's temp dirs: the one field a real MyNodeOne registry would not have
  server.setConfigMap(NS, 'sync-controller-registry', {
    'registry.json': JSON.stringify({
      management_laptops: [{ ip: laptop.address, name: 'Vinays-MacBook-Pro', ssh_user: fleet.user, ssh_port: laptop.port, root: laptop.root, ...stamp }],
      vps_nodes: [{ ip: vps.address, name: 'vps.example.net', ssh_user: fleet.user, ssh_port: vps.port, root: vps.root, ...stamp }],
      worker_nodes: [],
      metadata: { version: '1.0', last_updated: '2025-11-22T10:00:00+00:00', updated_by: 'root@control-plane' },
    }),
  });
  server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
});

afterAll(async () => {
  await server?.stop();
  await fleet?.stopAll();
});

describe('switching a MyNodeOne control plane to courier', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('init --from-mynodeone, check, push --dry-run and push converge every node, reading the cluster only', async () => {
    const init = await courier('init', '--from-mynodeone', 'site', '--kubeconfig', 'kubeconfig.yaml');
    expect(init.code, init.stdout + init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Vinays-MacBook-Pro \(laptop, .*\): trusted/);
    expect(init.stdout).toMatch(/vps\.example\.net \(vps, .*\): trusted/);

    const check = await courier('check', '--config', 'site/courier.yaml', '--json');
    // every check passes but those that need a push or a daemon (none runs yet)
    const report = JSON.parse(check.stdout) as { ok: boolean; checks: { check: string; node?: string; ok: boolean }[] };
    expect(report.checks.filter((c) => !c.ok).map((c) => c.check).filter((c) => c !== 'daemon' && c !== 'verified'), check.stdout).toEqual([]);
    expect(report.checks.filter((c) => c.check === 'known host' && c.ok)).toHaveLength(2);

    const dry = await courier('push', '--dry-run', '--config', 'site/courier.yaml', '--json');
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as { node: string; status: string }[]).map((r) => [r.node, r.status])).toEqual([
      ['Vinays-MacBook-Pro', 'pending'],
      ['vps.example.net', 'pending'],
    ]);
    expect(await readFile(path.join(fleet.nodes[0]!.root, 'etc', 'hosts'), 'utf8')).toBe(LEGACY_HOSTS);

    const push = await courier('push', '--config', 'site/courier.yaml', '--json');
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect((JSON.parse(push.stdout) as { node: string; status: string }[]).map((r) => [r.node, r.status])).toEqual([
      ['Vinays-MacBook-Pro', 'converged'],
      ['vps.example.net', 'converged'],
    ]);

    // the laptop: its own line kept, MyNodeOne's section gone, courier's block with every service that has an ip
    const hosts = await readFile(path.join(fleet.nodes[0]!.root, 'etc', 'hosts'), 'utf8');
    expect(hosts).not.toContain('MyNodeOne');
    expect(hosts.startsWith('127.0.0.1\tlocalhost\n')).toBe(true);
    expect(hosts).toContain('# BEGIN courier\n');
    expect(hosts).toContain('100.118.5.201\tphotos.mycloud.local\n');
    expect(hosts).toContain('100.118.5.200\tmycloud.local\n');

    // the VPS: the routed service under the routing's domain (geo renders like MyNodeOne: every listed VPS)
    const routesFile = (await filesUnder(fleet.nodes[1]!.root)).find((f) => f.endsWith('traefik/config/mynodeone-routes.yml'));
    expect(routesFile).toBeDefined();
    const routes = await readFile(path.join(fleet.nodes[1]!.root, routesFile!), 'utf8');
    expect(routes).toContain('Host(`photos.curiios.com`)');
    expect(routes).toContain('http://100.118.5.201:80');

    // init, check and push only read MyNodeOne's ConfigMaps
    expect(server.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});
