/**
 * End-to-end delivery to a fleet of five real OpenSSH sshd nodes of every role, through the real
 * `courier` CLI: first push, unchanged push, change propagation, node selection, plan and dry-run,
 * and an artifact removed by a role change.
 */
import { readFile, stat } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { blockBody, blobOid, createSite, git, HOSTS_PATH, TRAEFIK_PATH, type SiteNode, type TestSite } from './create-site.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';

const NODES: SiteNode[] = [
  { name: 'edge-a', role: 'vps', fleet: 0 },
  { name: 'edge-b', role: 'vps', fleet: 1 },
  { name: 'laptop-a', role: 'laptop', fleet: 2 },
  { name: 'laptop-b', role: 'laptop', fleet: 3 },
  { name: 'worker-a', role: 'worker', fleet: 4 },
];
const PRIVATE_ROLES = new Set(['laptop', 'worker']);
const SEEDED_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n';

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(5);
});

afterAll(async () => {
  await fleet?.stopAll();
});

/** A fresh site over all five nodes with pre-existing hosts files on the laptops and workers. */
async function freshSite(): Promise<TestSite> {
  const site = await createSite(
    fleet,
    NODES.map((n) => ({ ...n })),
  );
  for (const n of NODES) if (PRIVATE_ROLES.has(n.role)) await site.write(n.name, HOSTS_PATH, SEEDED_HOSTS);
  return site;
}

describe('push to a fleet of real sshd nodes', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('first push converges five nodes of every role, records status and the node refs', async () => {
    const site = await freshSite();
    const push = await site.courier('push', '--json');
    expect(push.code, push.stderr).toBe(0);
    const reports = site.reports(push);
    const main = (await git(site, 'rev-parse', 'main')).trim();
    expect(Object.keys(reports).sort()).toEqual(NODES.map((n) => n.name).sort());
    for (const n of NODES) {
      const r = reports[n.name]!;
      expect(r).toMatchObject({ node: n.name, role: n.role, status: 'converged', revision: main, error: null });
      expect(r.changed).toEqual([PRIVATE_ROLES.has(n.role) ? 'hosts' : 'traefik.yml']);
      expect(r.bytesSent).toBeGreaterThan(0);
      expect(r.durationMs).toBeGreaterThanOrEqual(0);
    }

    // hosts: the seeded lines survive before the block; the block holds every service with an ip
    for (const n of NODES.filter((x) => PRIVATE_ROLES.has(x.role))) {
      const hosts = (await site.read(n.name, HOSTS_PATH))!.toString('utf8');
      expect(hosts.startsWith(SEEDED_HOSTS + '# BEGIN courier\n')).toBe(true);
      const body = blockBody(hosts)!;
      expect(body.split('\n')).toEqual(expect.arrayContaining(['100.64.0.10\tdashboard.mycloud.local', '100.64.0.14\tgrafana.mycloud.local', '100.64.0.11\tphotos.mycloud.local']));
      expect(hosts.endsWith('# END courier\n')).toBe(true);
      // the node reported the oid of the block body, which is what the store holds
      expect(reports[n.name]!.oids[`block ${HOSTS_PATH}`]).toBe(blobOid(body));
      expect(await site.read(n.name, TRAEFIK_PATH)).toBeUndefined();
    }

    // Traefik: valid YAML; immich only on edge-a, open-webui only on edge-b, the website on both
    const routes = async (node: string) => parseYaml((await site.read(node, TRAEFIK_PATH))!.toString('utf8')) as { http: { routers: Record<string, { rule: string; service: string }>; services: Record<string, { loadBalancer: { servers: { url: string }[] } }> } };
    const a = await routes('edge-a');
    const b = await routes('edge-b');
    const rules = (doc: typeof a) => Object.values(doc.http.routers).map((r) => r.rule);
    expect(rules(a)).toEqual(expect.arrayContaining(['Host(`photos.example.com`)', 'Host(`example.com`)']));
    expect(rules(a)).not.toContain('Host(`chat.example.com`)');
    expect(rules(b)).toEqual(expect.arrayContaining(['Host(`chat.example.com`)', 'Host(`example.com`)']));
    expect(rules(b)).not.toContain('Host(`photos.example.com`)');
    expect(Object.values(a.http.services).flatMap((s) => s.loadBalancer.servers.map((x) => x.url))).toContain('http://100.64.0.11:2283');
    for (const n of ['edge-a', 'edge-b']) {
      expect(reports[n]!.oids[`file ${TRAEFIK_PATH}`]).toBe(blobOid((await site.read(n, TRAEFIK_PATH))!));
      expect(await site.read(n, HOSTS_PATH)).toBeUndefined();
      expect(await site.tempFiles(n, TRAEFIK_PATH)).toEqual([]);
    }

    // status: every node active at the revision, with a last_sync
    const status = await site.status();
    for (const n of NODES) {
      expect(status[n.name]).toMatchObject({ status: 'active', revision: main, current: true, failures: 0, last_error: null });
      expect(Number.isNaN(Date.parse(status[n.name]!.last_sync ?? ''))).toBe(false);
    }

    // stock git reads the store and each node's ref points at the revision it was verified at
    for (const n of NODES) {
      expect((await git(site, 'log', '--format=%H', `refs/nodes/${n.name}`)).split('\n')[0]).toBe(main);
    }
    await git(site, 'fsck', '--strict');
  });

  it('a second push sends zero artifact bytes', async () => {
    const site = await freshSite();
    expect((await site.courier('push', '--json')).code).toBe(0);
    const before = await Promise.all(NODES.map(async (n) => (await site.read(n.name, PRIVATE_ROLES.has(n.role) ? HOSTS_PATH : TRAEFIK_PATH))!));
    const again = await site.courier('push', '--json');
    expect(again.code, again.stderr).toBe(0);
    for (const r of Object.values(site.reports(again))) expect(r).toMatchObject({ status: 'converged', changed: [], bytesSent: 0, error: null });
    const after = await Promise.all(NODES.map(async (n) => (await site.read(n.name, PRIVATE_ROLES.has(n.role) ? HOSTS_PATH : TRAEFIK_PATH))!));
    expect(after).toEqual(before);
  });

  it('one service change reaches only the nodes it affects', async () => {
    const site = await freshSite();
    expect((await site.courier('push', '--json')).code).toBe(0);

    // a private service's ip: the hosts block of laptops and workers, nothing for the VPS
    site.registry.services.grafana!.ip = '100.64.0.99';
    await site.save();
    const privateChange = site.reports(await site.courier('push', '--json'));
    for (const n of NODES) {
      const r = privateChange[n.name]!;
      expect(r.status).toBe('converged');
      if (PRIVATE_ROLES.has(n.role)) {
        expect(r.changed).toEqual(['hosts']);
        expect(r.bytesSent).toBeGreaterThan(0);
        expect(blockBody((await site.read(n.name, HOSTS_PATH))!.toString('utf8'))).toContain('100.64.0.99\tgrafana.mycloud.local\n');
      } else {
        expect([r.changed, r.bytesSent]).toEqual([[], 0]);
      }
    }

    // a public routed service's port: only the VPS that serves it (immich → edge-a)
    site.registry.services.immich!.port = 2284;
    await site.save();
    const routedChange = site.reports(await site.courier('push', '--json'));
    for (const n of NODES) {
      const r = routedChange[n.name]!;
      expect(r.status).toBe('converged');
      if (n.name === 'edge-a') {
        expect(r.changed).toEqual(['traefik.yml']);
        expect(r.bytesSent).toBe((await site.read('edge-a', TRAEFIK_PATH))!.length);
        expect((await site.read('edge-a', TRAEFIK_PATH))!.toString('utf8')).toContain('http://100.64.0.11:2284');
      } else {
        expect([n.name, r.changed, r.bytesSent]).toEqual([n.name, [], 0]);
      }
    }
  });

  it('--node and --role select nodes; an unknown node is a usage error (exit 2, NODE_NOT_FOUND)', async () => {
    const site = await freshSite();
    const one = await site.courier('push', '--node', 'edge-b', '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(Object.keys(site.reports(one))).toEqual(['edge-b']);
    expect(await site.read('edge-a', TRAEFIK_PATH)).toBeUndefined();
    expect(await site.read('edge-b', TRAEFIK_PATH)).toBeDefined();

    const two = await site.courier('push', '--node', 'edge-a', '--node', 'worker-a', '--json');
    expect(Object.keys(site.reports(two)).sort()).toEqual(['edge-a', 'worker-a']);

    const laptops = await site.courier('push', '--role', 'laptop', '--json');
    expect(laptops.code).toBe(0);
    expect(Object.keys(site.reports(laptops)).sort()).toEqual(['laptop-a', 'laptop-b']);
    expect(Object.values(site.reports(laptops)).map((r) => r.changed)).toEqual([['hosts'], ['hosts']]);

    const status = await site.status();
    expect(Object.values(status).every((s) => s.status === 'active')).toBe(true);

    const unknown = await site.courier('push', '--node', 'no-such-node', '--json');
    expect(unknown.code).toBe(2);
    expect((unknown.json as { error: { code: string } }).error.code).toBe('NODE_NOT_FOUND');
    const badRole = await site.courier('push', '--role', 'router', '--json');
    expect(badRole.code).toBe(2);
  });

  it('plan shows a unified diff without connecting; --live reports what the node holds; --dry-run writes nothing', async () => {
    const site = await freshSite();
    expect((await site.courier('push', '--json')).code).toBe(0);
    site.registry.services.grafana!.ip = '100.64.0.77';
    await site.save();

    // plan: no connection at all, so it works with every node stopped
    await fleet.stop(2);
    try {
      const plan = await site.courier('plan', '--node', 'laptop-a', '--node', 'edge-a');
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('laptop-a (laptop): hosts (update)');
      expect(plan.stdout).toContain(`--- a/laptop-a:${HOSTS_PATH}`);
      expect(plan.stdout).toContain('-100.64.0.14\tgrafana.mycloud.local');
      expect(plan.stdout).toContain('+100.64.0.77\tgrafana.mycloud.local');
      expect(plan.stdout).toContain('edge-a (vps): no changes');
    } finally {
      await fleet.start(2);
    }

    // --live after a hand edit on laptop-b: the node's real content, not the verified revision's
    const hosts = (await site.read('laptop-b', HOSTS_PATH))!.toString('utf8');
    const edited = hosts.replace('100.64.0.10\tdashboard.mycloud.local', '100.64.0.66\tdashboard.mycloud.local');
    await site.write('laptop-b', HOSTS_PATH, edited);
    const offline = (await site.courier('plan', '--node', 'laptop-b', '--json')).json as { changes: { from: string; to: string; patch: string }[] }[];
    const live = (await site.courier('plan', '--live', '--node', 'laptop-b', '--json')).json as { reachable: boolean; changes: { from: string; to: string; patch: string }[] }[];
    expect(offline[0]!.changes[0]!.from).not.toBe(blobOid(blockBody(edited)!));
    expect(live[0]!.reachable).toBe(true);
    expect(live[0]!.changes[0]!.from).toBe(blobOid(blockBody(edited)!));
    expect(live[0]!.changes[0]!.patch).toContain('node holds unknown content');

    // --dry-run: reports what would change on each node, and no node's file changes
    const files = async () => Promise.all(NODES.map((n) => site.read(n.name, PRIVATE_ROLES.has(n.role) ? HOSTS_PATH : TRAEFIK_PATH)));
    const before = await files();
    const refsBefore = await git(site, 'for-each-ref', 'refs/nodes');
    const dry = await site.courier('push', '--dry-run', '--json');
    const reports = site.reports(dry);
    // a dry run that reached every node succeeds; nodes with changes to make are `pending`, not drifted
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    for (const n of NODES) {
      expect(reports[n.name]!.changed).toEqual(PRIVATE_ROLES.has(n.role) ? ['hosts'] : []);
      expect(reports[n.name]!.status).toBe(PRIVATE_ROLES.has(n.role) ? 'pending' : 'converged');
      expect(reports[n.name]!.error).toBeNull();
      expect(reports[n.name]!.bytesSent).toBe(0);
    }
    expect(await files()).toEqual(before);
    expect(await git(site, 'for-each-ref', 'refs/nodes')).toBe(refsBefore);
  });

  it('a node moved from vps to laptop gets its Traefik file deleted and a hosts block written', async () => {
    const site = await freshSite();
    expect((await site.courier('push', '--json')).code).toBe(0);
    expect(await site.read('edge-b', TRAEFIK_PATH)).toBeDefined();

    site.registry.nodes.find((n) => n.name === 'edge-b')!.role = 'laptop';
    await site.save();
    const push = await site.courier('push', '--json');
    expect(push.code, push.stdout + push.stderr).toBe(0);
    const r = site.reports(push)['edge-b']!;
    expect(r).toMatchObject({ role: 'laptop', status: 'converged' });
    expect([...r.changed].sort()).toEqual(['hosts', 'traefik.yml']);
    expect(r.oids[`file ${TRAEFIK_PATH}`]).toBe('-');
    expect(await site.read('edge-b', TRAEFIK_PATH)).toBeUndefined();
    expect(blockBody((await site.read('edge-b', HOSTS_PATH))!.toString('utf8'))).toContain('dashboard.mycloud.local');

    // the removal is done: the next push has nothing to send or delete
    const again = site.reports(await site.courier('push', '--json'))['edge-b']!;
    expect([again.status, again.changed, again.bytesSent]).toEqual(['converged', [], 0]);
    // open-webui's routing entry named only edge-b, so it was dropped: a public service without a
    // routing entry is served on every VPS, now edge-a
    expect((await readFile(site.file('edge-a', TRAEFIK_PATH), 'utf8')).includes('chat.example.com')).toBe(true);
  });

  // the fleet logs in as root, so this proves the `sudo -n sh -c '<agent>'` command and stdin passing, not privilege elevation
  it('a node with sudo: true gets its files through sudo -n', async () => {
    const site = await createSite(fleet, [
      { name: 'laptop-a', role: 'laptop', fleet: 2, sudo: true },
      { name: 'edge-a', role: 'vps', fleet: 0, sudo: true },
    ]);
    const push = await site.courier('push', '--json');
    expect(push.code, push.stdout + push.stderr).toBe(0);
    for (const r of Object.values(site.reports(push))) expect(r.status).toBe('converged');
    expect((await stat(site.file('edge-a', TRAEFIK_PATH))).uid).toBe(0);
    expect(blockBody((await site.read('laptop-a', HOSTS_PATH))!.toString('utf8'))).toContain('dashboard.mycloud.local');
    expect((await site.courier('verify', '--json')).code).toBe(0);
  });
});
