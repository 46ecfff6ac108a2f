/**
 * `courier init --from-mynodeone` on a MyNodeOne control plane: the Kubernetes test API server
 * holds MyNodeOne's registry ConfigMaps (a laptop registered under its macOS hostname), the fake
 * HOME has MyNodeOne's key, config.env and a known_hosts with plain, hashed and `[host]:port`
 * entries. The command writes a working site, imports exactly the known host keys, lists each node
 * as trusted or not, and only ever reads the cluster. `courier check` and `courier render` then work
 * on what it wrote.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../controller/config/load-config.js';
import { packagePath } from '../../controller/package-root.js';
import { checkHostKey, formatKnownHostsLine, parseKnownHosts } from '../../controller/transport/known-hosts.js';
import { parseConfigEnv } from '../../controller/cli/init-from-mynodeone.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';

const NS = 'kube-system';
const DIST = packagePath('dist', 'courier', 'main.js');
const REALISTIC = packagePath('test', 'fixtures', 'registry-realistic');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let server: KubeApiServer;
let dir: string;
let home: string;
let kubeconfig: string;
const keys: Record<string, Buffer> = {};

/** Run the built courier with HOME set to the fake control plane's home. */
function courier(cwd: string, ...args: string[]): Promise<Run> {
  const entry = existsSync(DIST) ? [DIST] : ['--import', 'tsx', packagePath('controller', 'cli', 'main.ts')];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entry, ...args],
      { cwd, encoding: 'utf8', env: { ...process.env, HOME: home, KUBECONFIG: '', COURIER_LOG_LEVEL: 'warn', NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
    );
  });
}

/** A fresh ed25519 host key's public blob. */
function hostKey(name: string): Buffer {
  const file = path.join(dir, `hostkey-${name}`);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', file]);
  return Buffer.from(execFileSync('cat', [`${file}.pub`], { encoding: 'utf8' }).split(' ')[1]!, 'base64');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'courier-from-mynodeone-'));
  home = path.join(dir, 'home');
  await mkdir(path.join(home, '.ssh'), { recursive: true });
  await mkdir(path.join(home, '.mynodeone'), { recursive: true });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mynodeone', '-f', path.join(home, '.ssh', 'mynodeone_id_ed25519')]);
  await writeFile(path.join(home, '.mynodeone', 'config.env'), '# MyNodeOne\nCLUSTER_NAME="mynodeone"\nCLUSTER_DOMAIN="mycloud"\nPUBLIC_DOMAIN="curiios.com"\nCONTROL_PLANE_IP=100.122.68.75\n');

  // known_hosts as ssh leaves it: a plain entry, a hashed one (HashKnownHosts yes), a [host]:port one, an unrelated host, a @revoked line
  for (const name of ['laptop', 'vps', 'worker', 'other', 'revoked']) keys[name] = hostKey(name);
  await writeFile(
    path.join(home, '.ssh', 'known_hosts'),
    [
      formatKnownHostsLine('100.68.225.92', 22, keys.vps!),
      formatKnownHostsLine('100.101.92.14', 22, keys.laptop!, { hashed: true }),
      formatKnownHostsLine('100.88.12.3', 2222, keys.worker!, { hashed: true }),
      formatKnownHostsLine('github.com', 22, keys.other!),
      `@revoked ${formatKnownHostsLine('100.70.123.45', 22, keys.revoked!)}`,
      '',
    ].join('\n'),
  );

  server = await startKubeApiServer();
  kubeconfig = path.join(dir, 'kubeconfig.yaml');
  await writeFile(kubeconfig, server.kubeconfig());
  const text = (name: string) => readFile(path.join(REALISTIC, name), 'utf8');
  const nodes = JSON.parse(await text('registry.json')) as { management_laptops: { name: string }[] };
  nodes.management_laptops[0]!.name = 'Vinays-MacBook-Pro';
  server.setConfigMap(NS, 'service-registry', { 'services.json': await text('services.json') });
  server.setConfigMap(NS, 'domain-registry', { 'domains.json': await text('domains.json'), 'routing.json': await text('routing.json') });
  server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(nodes, null, 2) });
  server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
});

afterAll(async () => {
  await server?.stop();
});

describe('courier init --from-mynodeone', () => {
  let run: Run;
  const site = () => path.join(dir, 'site');

  beforeAll(async () => {
    run = await courier(dir, 'init', '--from-mynodeone', 'site', '--kubeconfig', kubeconfig);
  });

  it('writes a courier.yaml on the cluster ConfigMaps with the MyNodeOne key and public domain', async () => {
    expect(run.code, run.stderr).toBe(0);
    const config = parseConfig(await readFile(path.join(site(), 'courier.yaml'), 'utf8'), path.join(site(), 'courier.yaml'));
    expect(config.source).toMatchObject({ type: 'kubernetes', namespace: NS, kubeconfig });
    expect(config.ssh.identity).toBe(path.join(home, '.ssh', 'mynodeone_id_ed25519'));
    expect(config.traefik.publicDomain).toBe('curiios.com');
    expect(config.ssh.knownHosts).toBe(path.join(site(), '.courier', 'known_hosts'));
    expect(run.stdout).toContain('cluster domain: mycloud');
    expect(run.stdout).toContain('public domain: curiios.com');
  });

  it('imports the known host keys of registered nodes (plain, hashed, [host]:port), and nothing else', async () => {
    const imported = parseKnownHosts(await readFile(path.join(site(), '.courier', 'known_hosts'), 'utf8'));
    expect(imported).toHaveLength(3);
    expect(imported.map((entry) => entry.names.kind)).toEqual(['hashed', 'patterns', 'hashed']);
    expect(checkHostKey(imported, '100.68.225.92', 22, keys.vps!)).toEqual({ result: 'match' });
    expect(checkHostKey(imported, '100.101.92.14', 22, keys.laptop!)).toEqual({ result: 'match' });
    expect(checkHostKey(imported, '100.88.12.3', 2222, keys.worker!)).toEqual({ result: 'match' });
    expect(checkHostKey(imported, '100.70.123.45', 22, keys.revoked!)).toEqual({ result: 'unknown' });
    expect(checkHostKey(imported, 'github.com', 22, keys.other!)).toEqual({ result: 'unknown' });
  });

  it('lists every node as trusted or untrusted with the line that trusts it, then the steps left', () => {
    expect(run.stdout).toMatch(/Vinays-MacBook-Pro \(laptop, vinay@100\.101\.92\.14:22\): trusted: ssh-ed25519 SHA256:/);
    expect(run.stdout).toMatch(/node-02 \(worker, .*100\.88\.12\.3:2222\): trusted/);
    expect(run.stdout).toContain('vps-hetzner-eu (vps, sammy@100.70.123.45:22): untrusted: no host key in ~/.ssh/known_hosts; run `courier nodes trust vps-hetzner-eu --config site/courier.yaml`');
    expect(run.stdout).toContain('family-desktop (laptop, family@100.101.92.27:22): untrusted');
    expect(run.stdout).toContain('sudo systemctl disable --now mynodeone-sync-controller');
    expect(run.stdout).toContain('courier check --config site/courier.yaml');
    expect(run.stdout).toContain('courier push --dry-run --config site/courier.yaml');
  });

  it('never changes the cluster: every request it made was a read', () => {
    expect(server.requests.length).toBeGreaterThan(0);
    expect(server.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('refuses to overwrite an existing site', async () => {
    const again = await courier(dir, 'init', '--from-mynodeone', 'site', '--kubeconfig', kubeconfig);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('courier check then reports the registry valid and the nodes still untrusted (exit 1)', async () => {
    const check = await courier(dir, 'check', '--config', 'site/courier.yaml', '--json');
    expect(check.code, check.stderr).toBe(1);
    const report = JSON.parse(check.stdout) as { ok: boolean; checks: { check: string; node?: string; ok: boolean }[] };
    expect(report.checks.find((c) => c.check === 'registry')?.ok).toBe(true);
    const untrusted = report.checks.filter((c) => c.check === 'known host' && !c.ok).map((c) => c.node).sort();
    expect(untrusted).toEqual(['family-desktop', 'node-03', 'vps-hetzner-eu']);
  });

  it('courier render commits the laptop under its store key, its name kept in the commit', async () => {
    const render = await courier(dir, 'render', '--config', 'site/courier.yaml');
    expect(render.code, render.stderr).toBe(0);
    const store = path.join(site(), '.courier', 'store');
    const tree = execFileSync('git', [`--git-dir=${store}`, 'ls-tree', '--name-only', 'main', 'nodes/'], { encoding: 'utf8' });
    expect(tree).toContain('nodes/vinays-macbook-pro\n');
    expect(execFileSync('git', [`--git-dir=${store}`, 'log', '-1', '--format=%B'], { encoding: 'utf8' })).toContain('Vinays-MacBook-Pro');
    expect(server.requests.filter((r) => r.method !== 'GET')).toEqual([]);
  });
});

describe('config.env', () => {
  it('is read as KEY=value lines without running it', () => {
    expect(parseConfigEnv('A="x y"\nexport B=\'z\'\nC=plain # comment\n# D=no\nE=$(rm -rf /)\n')).toEqual({ A: 'x y', B: 'z', C: 'plain', E: '$(rm' });
  });
});
