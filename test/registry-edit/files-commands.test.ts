/**
 * The registry editing commands on a files source, through the courier binary: each command adds,
 * updates or removes what it says in MyNodeOne's documents, JSON keeps its key order and layout, a
 * YAML twin keeps its comments, and an edit that would make the registry invalid exits 2 and leaves
 * the file byte-identical.
 */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createSite, realisticText, runCourier } from './run-courier.js';

const CONFIG = 'source:\n  type: files\n  path: registry\ntraefik:\n  publicDomain: curiios.com\n';

type Json = Record<string, unknown>;

let site: { dir: string; config: string; registry: string };

beforeEach(async () => {
  site = await createSite(CONFIG, { registry: true });
});

const courier = (...args: string[]) => runCourier(site.config, ...args);
const text = (name: string) => readFile(path.join(site.registry, name), 'utf8');
const json = async (name: string) => JSON.parse(await text(name)) as Json;
const list = (value: unknown) => value as Json[];

describe('nodes add and remove', () => {
  it('nodes add appends a node with MyNodeOne bookkeeping and says so', async () => {
    const r = await courier('nodes', 'add', 'vps', '100.64.1.3', 'edge-3', 'root', '--port', '2222', '--sudo');
    expect(r).toMatchObject({ code: 0, stdout: 'added node edge-3 (vps 100.64.1.3)\n' });
    const registry = await json('registry.json');
    const added = list(registry.vps_nodes).at(-1)!;
    expect(Object.keys(added)).toEqual(['name', 'ip', 'ssh_user', 'ssh_port', 'sudo', 'registered', 'last_sync', 'status']);
    expect(added).toMatchObject({ name: 'edge-3', ip: '100.64.1.3', ssh_user: 'root', ssh_port: 2222, sudo: true, last_sync: null, status: 'active' });
    expect(added.registered).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    expect((registry.metadata as Json).last_updated).toBe(added.registered);
    expect(list(registry.vps_nodes).map((n) => n.name)).toEqual(['vps-contabo-us', 'vps-hetzner-eu', 'edge-3']);
  });

  it('nodes add with a known name replaces that node in place, keeping its other fields', async () => {
    const r = await courier('nodes', 'add', 'worker', '100.88.12.30', 'node-02', 'ops', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ document: 'registry.json', action: 'updated', key: 'node-02' });
    const workers = list((await json('registry.json')).worker_nodes);
    expect(workers.map((n) => n.name)).toEqual(['node-02', 'node-03']);
    expect(workers[0]).toMatchObject({ ip: '100.88.12.30', ssh_user: 'ops', webhook_port: 8080, repo_path: '/home/mynodeone/MyNodeOne', last_sync: '2025-10-28T09:25:02+00:00' });
    // --port was not given again: the old ssh_port 2222 is gone.
    expect(workers[0]).not.toHaveProperty('ssh_port');
  });

  it('nodes remove deletes the node; an unknown node changes nothing', async () => {
    expect(await courier('nodes', 'remove', 'node-03')).toMatchObject({ code: 0, stdout: 'removed node node-03 (worker 100.88.12.4)\n' });
    expect(list((await json('registry.json')).worker_nodes).map((n) => n.name)).toEqual(['node-02']);
    const before = await text('registry.json');
    expect(await courier('nodes', 'remove', 'ghost')).toMatchObject({ code: 0, stdout: 'node ghost not found: nothing changed\n' });
    expect(await text('registry.json')).toBe(before);
  });

  it('removing a VPS that routing uses is refused and the file stays byte-identical', async () => {
    const before = await text('registry.json');
    const r = await courier('nodes', 'remove', 'vps-contabo-us');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('REGISTRY_INVALID');
    expect(r.stderr).toContain('registry/routing.json: $.immich.vps_nodes[0]: "100.68.225.92" is not the ip of any VPS in registry.json vps_nodes');
    expect(await text('registry.json')).toBe(before);
  });

  it('rejects an unknown role and a port that is not a number with exit 2', async () => {
    expect((await courier('nodes', 'add', 'server', '1.2.3.4', 'x', 'u')).code).toBe(2);
    const r = await courier('nodes', 'add', 'worker', '1.2.3.4', 'x', 'u', '--port', 'ssh');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('USAGE: --port ssh: expected a whole number');
  });
});

describe('domains and vps', () => {
  it('domains add registers a domain and domains remove unregisters it', async () => {
    expect(await courier('domains', 'add', 'example.org', 'Lab')).toMatchObject({ code: 0, stdout: 'added domain example.org\n' });
    expect((await json('domains.json')).domains).toMatchObject({ 'example.org': { description: 'Lab', status: 'active' } });
    expect(Object.keys((await json('domains.json')).domains as Json)).toEqual(['curiios.com', 'vinaysachdeva.com', 'example.org']);
    expect(await courier('domains', 'remove', 'example.org', '--json')).toMatchObject({ code: 0, stdout: '{"document":"domains.json","action":"removed","key":"example.org"}\n' });
    expect(await text('domains.json')).toBe(await realisticText('domains.json'));
  });

  it('removing a domain that routing uses is refused with the validation message and exit 2', async () => {
    const before = await text('domains.json');
    const r = await courier('domains', 'remove', 'curiios.com', '--json');
    expect(r.code).toBe(2);
    const error = (JSON.parse(r.stdout) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('REGISTRY_INVALID');
    expect(error.message).toContain('registry/routing.json: $.immich.domains[0]: "curiios.com" is not registered in domains.json');
    expect(await text('domains.json')).toBe(before);
  });

  it('vps add appends an edge unique by tailscale IP, vps remove deletes an unused one', async () => {
    expect(await courier('vps', 'add', '100.64.9.9', '198.51.100.9', 'ap-south')).toMatchObject({ code: 0, stdout: 'added vps 100.64.9.9 (public 198.51.100.9)\n' });
    expect(await courier('vps', 'add', '100.64.9.9', '198.51.100.10')).toMatchObject({ code: 0, stdout: 'updated vps 100.64.9.9 (public 198.51.100.10)\n' });
    const edges = list((await json('domains.json')).vps_nodes);
    expect(edges.map((e) => e.tailscale_ip)).toEqual(['100.68.225.92', '100.70.123.45', '100.64.9.9']);
    expect(edges[2]).toMatchObject({ public_ip: '198.51.100.10', location: 'ap-south', status: 'active' });
    expect((await courier('vps', 'remove', '100.64.9.9')).code).toBe(0);
    expect(await text('domains.json')).toBe(await realisticText('domains.json'));
  });

  it('removing a VPS edge that routing uses is refused', async () => {
    const r = await courier('vps', 'remove', '100.70.123.45');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is not a tailscale_ip in domains.json vps_nodes');
    expect(await text('domains.json')).toBe(await realisticText('domains.json'));
  });
});

describe('routing and services', () => {
  it('routing set creates and updates an entry; routing remove deletes it', async () => {
    const r = await courier('routing', 'set', 'kube-prometheus-stack-grafana', '--domains', 'curiios.com', '--vps', '100.70.123.45,100.68.225.92', '--strategy', 'primary-backup');
    expect(r).toMatchObject({ code: 0, stdout: 'added routing kube-prometheus-stack-grafana (curiios.com via 100.70.123.45, 100.68.225.92, primary-backup)\n' });
    expect((await json('routing.json'))['kube-prometheus-stack-grafana']).toMatchObject({ domains: ['curiios.com'], vps_nodes: ['100.70.123.45', '100.68.225.92'], strategy: 'primary-backup' });
    expect((await courier('routing', 'set', 'immich', '--vps', '100.70.123.45')).code).toBe(0);
    expect((await json('routing.json')).immich).toMatchObject({ domains: ['curiios.com', 'vinaysachdeva.com'], vps_nodes: ['100.70.123.45'], strategy: 'round-robin' });
    expect(await courier('routing', 'remove', 'kube-prometheus-stack-grafana')).toMatchObject({ code: 0, stdout: 'removed routing kube-prometheus-stack-grafana\n' });
    expect(Object.keys(await json('routing.json'))).toEqual(['immich', 'website', 'open-webui']);
  });

  it('routing set refuses an unregistered domain and a bad strategy', async () => {
    const r = await courier('routing', 'set', 'immich', '--domains', 'nowhere.net');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"nowhere.net" is not registered in domains.json');
    expect((await courier('routing', 'set', 'immich', '--strategy', 'geo')).code).toBe(2);
    expect(await text('routing.json')).toBe(await realisticText('routing.json'));
  });

  it('services set creates a service, updates only the given fields, and --no-public clears public', async () => {
    expect(await courier('services', 'set', 'jellyfin', '--subdomain', 'media', '--ip', '100.118.5.210', '--port', '8096', '--namespace', 'media')).toMatchObject({
      code: 0,
      stdout: 'added service jellyfin (media → 100.118.5.210:8096)\n',
    });
    expect((await courier('services', 'set', 'immich', '--port', '2283', '--no-public')).code).toBe(0);
    const services = await json('services.json');
    expect(services.jellyfin).toMatchObject({ subdomain: 'media', namespace: 'media', ip: '100.118.5.210', port: 8096, public: false });
    expect(Object.keys(services.immich as Json)).toEqual(['subdomain', 'namespace', 'service', 'ip', 'port', 'public', 'updated']);
    expect(services.immich).toMatchObject({ service: 'immich-server', port: 2283, public: false });
    expect(Object.keys(services).at(-1)).toBe('jellyfin');
  });

  it('services set keeps the JSON layout: only the new entry is added to the text', async () => {
    const before = await realisticText('services.json');
    expect((await courier('services', 'set', 'jellyfin', '--subdomain', 'media', '--ip', '100.118.5.210', '--port', '8096')).code).toBe(0);
    const after = await text('services.json');
    const added = after.slice(before.length - '  }\n}\n'.length);
    expect(after.slice(0, before.length - '\n}\n'.length)).toBe(before.slice(0, -'\n}\n'.length));
    expect(added).toMatch(/^ {2}},\n {2}"jellyfin": \{\n {4}"subdomain": "media",\n {4}"ip": "100\.118\.5\.210",\n {4}"port": 8096,\n {4}"public": false,\n {4}"updated": "[^"]+Z"\n {2}}\n}\n$/);
  });

  it('an edit that makes the registry invalid exits 2 and leaves the file byte-identical', async () => {
    const before = await text('services.json');
    const r = await courier('services', 'set', 'immich', '--port', '70000');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('registry/services.json: $.immich.port: 70000 is not a port (1-65535)');
    expect(await text('services.json')).toBe(before);
  });

  it('removing a routed service is refused; removing an unrouted one works', async () => {
    expect((await courier('services', 'remove', 'immich')).code).toBe(2);
    expect(await courier('services', 'remove', 'minio-console')).toMatchObject({ code: 0, stdout: 'removed service minio-console\n' });
    expect(Object.keys(await json('services.json'))).not.toContain('minio-console');
  });

  it('a new service needs its subdomain, ip and port', async () => {
    const r = await courier('services', 'set', 'jellyfin', '--port', '8096');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('USAGE: service jellyfin does not exist yet: give --subdomain, --ip to create it');
  });
});

describe('documents and files', () => {
  const YAML_SERVICES = [
    '# Services on the cluster, kept by hand and by courier.',
    'immich:',
    '  subdomain: photos   # photos.<domain>',
    '  namespace: immich',
    '  service: immich-server',
    "  ip: '100.118.5.201'",
    '  port: 80',
    '  public: true',
    '',
    '# Private dashboard.',
    'dashboard: {subdomain: dashboard, ip: 100.118.5.200, port: 80, public: false}',
    'website:',
    '  subdomain: "@"',
    '  ip: 100.118.5.200',
    '  port: 8080',
    '  public: true',
    'open-webui:',
    '  subdomain: chat',
    '  ip: 100.118.5.203',
    '  port: 80',
    '  public: true',
    '',
  ].join('\n');

  it('a YAML twin is edited in place: comments, quoting and key order survive', async () => {
    await rm(path.join(site.registry, 'services.json'));
    await writeFile(path.join(site.registry, 'services.yaml'), YAML_SERVICES);
    expect((await courier('services', 'set', 'immich', '--port', '2283')).code).toBe(0);
    expect((await courier('services', 'set', 'grafana', '--subdomain', 'grafana', '--ip', '100.118.5.204', '--port', '3000')).code).toBe(0);
    const after = await text('services.yaml');
    const lines = after.split('\n');
    // The untouched region is exactly as it was, comments, flow map and quoting included.
    expect(lines.slice(0, 6).join('\n')).toBe(YAML_SERVICES.split('\n').slice(0, 6).join('\n'));
    expect(lines[6]).toBe('  port: 2283');
    expect(lines[7]).toBe('  public: true');
    // service-registry.sh stamps `updated`: a new last field of the entry, before the blank line.
    expect(lines[8]).toMatch(/^ {2}updated: \S+Z$/);
    expect(lines.slice(9, 22).join('\n')).toBe(YAML_SERVICES.split('\n').slice(8, 21).join('\n'));
    expect(after).toContain('  subdomain: photos   # photos.<domain>\n');
    expect(after).toContain('# Private dashboard.\n');
    expect(lines.slice(22).join('\n')).toMatch(/^grafana:\n {2}subdomain: grafana\n {2}ip: 100\.118\.5\.204\n {2}port: 3000\n {2}public: false\n {2}updated: \S+Z\n$/);
    expect(lines.filter((l) => /^\S/.test(l) && !l.startsWith('#')).map((l) => l.split(':')[0])).toEqual(['immich', 'dashboard', 'website', 'open-webui', 'grafana']);
  });

  it('an invalid edit leaves a YAML twin byte-identical', async () => {
    await rm(path.join(site.registry, 'services.json'));
    await writeFile(path.join(site.registry, 'services.yaml'), YAML_SERVICES);
    expect((await courier('services', 'set', 'immich', '--ip', 'not-an-ip')).code).toBe(2);
    expect(await text('services.yaml')).toBe(YAML_SERVICES);
  });

  it('a missing document is created as JSON', async () => {
    await rm(path.join(site.registry, 'routing.json'));
    expect((await courier('routing', 'set', 'immich', '--domains', 'curiios.com', '--vps', '100.68.225.92')).code).toBe(0);
    const created = await text('routing.json');
    expect(created).toMatch(/^\{\n {2}"immich": \{\n {4}"domains": \[\n {6}"curiios\.com"\n {4}\],\n/);
    expect(created.endsWith('}\n')).toBe(true);
  });

  it('writes leave no temporary files behind', async () => {
    expect((await courier('domains', 'add', 'example.org')).code).toBe(0);
    expect((await courier('nodes', 'add', 'laptop', '100.101.92.99', 'new-laptop', 'me')).code).toBe(0);
    expect((await readdir(site.registry)).sort()).toEqual(['cluster-domain', 'domains.json', 'registry.json', 'routing.json', 'services.json']);
  });

  it('a git source is refused: edit the repository instead', async () => {
    await writeFile(site.config, 'source:\n  type: git\n  url: https://git.example.com/registry.git\n');
    const r = await courier('domains', 'add', 'example.org');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('USAGE: the registry source is the git repository https://git.example.com/registry.git');
    expect(r.stderr).toContain('edit the documents in that repository');
  });
});
