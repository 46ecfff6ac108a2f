/**
 * The read-side CLI through the built binary (dist/courier/main.js): init, render, log,
 * diff, dns, nodes list, and what an invalid registry does to the exit status and the store.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';

const BIN = packagePath('dist', 'courier', 'main.js');

/** Run the built courier binary. */
function courier(cwd: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, COURIER_LOG_LEVEL: 'warn' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function git(store: string, ...args: string[]): string {
  return execFileSync('git', [`--git-dir=${store}`, ...args], { encoding: 'utf8' });
}

describe('courier read-side commands (built binary)', () => {
  let dir: string;
  let config: string;
  let store: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'courier-cli-'));
    config = path.join(dir, 'site', 'courier.yaml');
    store = path.join(dir, 'site', '.courier', 'store');
  });

  it('prints help and exits 0', () => {
    const r = courier(dir, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('push');
  });

  it('init writes a commented config and an example registry, and refuses to overwrite', () => {
    const r = courier(dir, 'init', 'site');
    expect(r.code).toBe(0);
    const text = readFileSync(config, 'utf8');
    expect(text).toContain('publicDomain: example.com');
    for (const f of ['services.json', 'domains.json', 'routing.json', 'registry.json', 'cluster-domain']) expect(existsSync(path.join(dir, 'site', 'registry', f))).toBe(true);
    const services = JSON.parse(readFileSync(path.join(dir, 'site', 'registry', 'services.json'), 'utf8')) as Record<string, { subdomain: string; public: boolean }>;
    expect(Object.values(services).some((s) => s.subdomain === '')).toBe(true);
    expect(Object.values(services).some((s) => !s.public)).toBe(true);
    expect(services.dashboard).toBeDefined();
    const routing = JSON.parse(readFileSync(path.join(dir, 'site', 'registry', 'routing.json'), 'utf8')) as Record<string, { strategy: string }>;
    expect(new Set(Object.values(routing).map((r) => r.strategy))).toEqual(new Set(['round-robin', 'primary-backup']));
    const again = courier(dir, 'init', 'site');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });

  it('render commits a revision that stock git reads', () => {
    const r = courier(dir, 'render', '--config', config, '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { revision: string; committed: boolean; changes: { node: string }[] };
    expect(out.committed).toBe(true);
    expect(out.changes.map((c) => c.node).sort()).toEqual(['edge-eu', 'edge-us', 'laptop-1', 'worker-1']);
    expect(git(store, 'rev-parse', 'main').trim()).toBe(out.revision);
    expect(git(store, 'log', '--stat', 'main')).toContain('nodes/laptop-1/hosts');
    const hosts = git(store, 'show', 'main:nodes/laptop-1/hosts');
    expect(hosts).toContain('100.64.0.10\tdashboard.mycloud.local\n');
    expect(hosts).toContain('100.64.0.10\tmycloud.local\n');
    expect(hosts).not.toContain('grafana.example.com');
    expect(git(store, 'show', 'main:nodes/edge-eu/traefik.yml')).toContain('Host(`photos.example.com`)');
    execFileSync('git', [`--git-dir=${store}`, 'fsck', '--strict'], { stdio: 'pipe' });
  });

  it('render without changes makes no new commit', () => {
    const before = git(store, 'rev-parse', 'main').trim();
    const r = courier(dir, 'render', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('unchanged');
    expect(git(store, 'rev-parse', 'main').trim()).toBe(before);
  });

  it('a service change commits a revision naming only the affected nodes, and diff shows it', () => {
    const file = path.join(dir, 'site', 'registry', 'services.json');
    const services = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    services.grafana!.ip = '100.64.0.99';
    writeFileSync(file, JSON.stringify(services, null, 2));
    const r = courier(dir, 'render', '--config', config, '--json');
    const out = JSON.parse(r.stdout) as { changes: { node: string }[] };
    expect(out.changes.map((c) => c.node).sort()).toEqual(['laptop-1', 'worker-1']);

    const diff = courier(dir, 'diff', '--config', config, '--node', 'laptop-1');
    expect(diff.code).toBe(0);
    expect(diff.stdout).toContain('-100.64.0.14\tgrafana.mycloud.local');
    expect(diff.stdout).toContain('+100.64.0.99\tgrafana.mycloud.local');
    expect(diff.stdout).not.toContain('edge-eu');
  });

  it('log lists revisions newest first and filters by node', () => {
    const all = JSON.parse(courier(dir, 'log', '--config', config, '--json').stdout) as { revision: string; trigger: string; nodes: string[] }[];
    expect(all).toHaveLength(2);
    expect(all[0]!.nodes).toEqual(['laptop-1', 'worker-1']);
    const edge = JSON.parse(courier(dir, 'log', '--config', config, '--node', 'edge-eu', '--json').stdout) as unknown[];
    expect(edge).toHaveLength(1);
    const one = JSON.parse(courier(dir, 'log', '--config', config, '-n', '1', '--json').stdout) as unknown[];
    expect(one).toHaveLength(1);
    expect(courier(dir, 'log', '--config', config).stdout).toContain('manual render');
  });

  it('dns lists every public host with the VPS public IP its A record needs', () => {
    const records = JSON.parse(courier(dir, 'dns', '--config', config, '--json').stdout) as { host: string; values: string[]; strategy: string }[];
    const byHost = Object.fromEntries(records.map((r) => [r.host, r]));
    // round-robin: example.com on the first VPS, example.org on the second
    expect(byHost['photos.example.com']).toMatchObject({ values: ['203.0.113.10'], strategy: 'round-robin' });
    expect(byHost['photos.example.org']).toMatchObject({ values: ['198.51.100.20'], strategy: 'round-robin' });
    // primary-backup: both domains point at the primary
    expect(byHost['chat.example.org']).toMatchObject({ values: ['203.0.113.10'], strategy: 'primary-backup' });
    // single-domain public services: every VPS; '@' is the bare domain
    expect(byHost['example.com']?.values.sort()).toEqual(['198.51.100.20', '203.0.113.10']);
    expect(byHost['grafana.example.com']).toBeUndefined();
  });

  it('nodes list shows nodes by role with address and user', () => {
    const r = courier(dir, 'nodes', 'list', '--config', config);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/vps\s+edge-eu\s+100\.64\.1\.1:22\s+root/);
    const json = JSON.parse(courier(dir, 'nodes', 'list', '--config', config, '--json').stdout) as { name: string; role: string }[];
    expect(json.map((n) => `${n.role}:${n.name}`)).toEqual(['laptop:laptop-1', 'vps:edge-eu', 'vps:edge-us', 'worker:worker-1']);
  });

  it('an invalid registry exits 2 with one line per problem and leaves the store as it was', () => {
    const before = git(store, 'rev-parse', 'main').trim();
    const file = path.join(dir, 'site', 'registry', 'services.json');
    const good = readFileSync(file, 'utf8');
    const services = JSON.parse(good) as Record<string, Record<string, unknown>>;
    services.immich!.port = 70000;
    services.grafana!.ip = '300.1.1.1';
    writeFileSync(file, JSON.stringify(services, null, 2));
    const r = courier(dir, 'render', '--config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('registry/services.json: $.immich.port: 70000 is not a port (1-65535)');
    expect(r.stderr).toMatch(/registry\/services\.json: \$\.grafana\.ip: .*300\.1\.1\.1/);
    const json = JSON.parse(courier(dir, 'render', '--config', config, '--json').stdout) as { error: { code: string; data: { problems: unknown[] } } };
    expect(json.error.code).toBe('REGISTRY_INVALID');
    expect(json.error.data.problems).toHaveLength(2);
    expect(git(store, 'rev-parse', 'main').trim()).toBe(before);
    writeFileSync(file, good);
  });

  it('bad JSON is reported with line and column', () => {
    const file = path.join(dir, 'site', 'registry', 'routing.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '{\n  "immich": {\n    "domains": [,]\n  }\n}\n');
    const r = courier(dir, 'render', '--config', config);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/registry\/routing\.json: .*line 3.*column \d+/);
    writeFileSync(file, good);
  });

  it('a typo in courier.yaml is a usage error naming the key', () => {
    const bad = path.join(dir, 'typo.yaml');
    writeFileSync(bad, 'sorce:\n  type: files\n');
    const r = courier(dir, 'render', '--config', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sorce: unknown key');
  });

  it('a missing config names the fix', () => {
    const r = courier(dir, 'render', '--config', path.join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('CONFIG_NOT_FOUND');
    expect(r.stderr).toContain('courier init');
  });

  it('an unknown command or option exits 2', () => {
    expect(courier(dir, 'frobnicate').code).toBe(2);
    expect(courier(dir, 'log', '--bogus').code).toBe(2);
  });
});
