/**
 * Nodes registered under the names `hostname` prints (a macOS laptop, an underscore, a dotted FQDN)
 * over real sshd nodes, through the courier CLI: dry-run, push, verify, status, log, diff and the
 * node refs work with the names as written, and the store and refs use their lowercase keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { blockBody, createSite, git, HOSTS_PATH, TRAEFIK_PATH, type SiteNode } from './create-site.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';

const NODES: SiteNode[] = [
  { name: 'Vinays-MacBook-Pro', role: 'laptop', fleet: 0 },
  { name: 'worker_01', role: 'worker', fleet: 1 },
  { name: 'VPS.Example.Net', role: 'vps', fleet: 2 },
];

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(3);
});

afterAll(async () => {
  await fleet?.stopAll();
});

describe('nodes named as hostname prints them', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('dry-run, push, verify, status, log and diff work with the names as written', async () => {
    const site = await createSite(
      fleet,
      NODES.map((n) => ({ ...n })),
    );

    const dry = await site.courier('push', '--dry-run', '--json');
    expect(dry.code, dry.stdout + dry.stderr).toBe(0);
    for (const n of NODES) expect(site.reports(dry)[n.name]).toMatchObject({ node: n.name, status: 'pending', bytesSent: 0 });
    expect(await site.read('Vinays-MacBook-Pro', HOSTS_PATH)).toBeUndefined();

    const push = await site.courier('push', '--json');
    expect(push.code, push.stdout + push.stderr).toBe(0);
    for (const n of NODES) expect(site.reports(push)[n.name]).toMatchObject({ node: n.name, role: n.role, status: 'converged', error: null });
    expect(blockBody((await site.read('Vinays-MacBook-Pro', HOSTS_PATH))!.toString('utf8'))).toContain('.mycloud.local');
    expect((await site.read('VPS.Example.Net', TRAEFIK_PATH))!.toString('utf8')).toContain('routers:');

    // --node matches by store key: any spelling of the name selects the node, reported as written
    const verify = await site.courier('verify', '--node', 'vinays-macbook-pro', '--json');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(Object.keys(site.reports(verify))).toEqual(['Vinays-MacBook-Pro']);

    // nodes trust finds the node by any spelling and names it as written (the site already trusts it)
    const trust = await site.courier('nodes', 'trust', 'vps.example.net', '--yes');
    expect(trust.code, trust.stderr).toBe(0);
    expect(trust.stdout).toMatch(/^VPS\.Example\.Net \(.*\) is already trusted: ssh-ed25519 SHA256:/);

    const status = await site.status();
    expect(Object.keys(status).sort()).toEqual(NODES.map((n) => n.name).sort());
    for (const n of NODES) expect(status[n.name]).toMatchObject({ status: 'active', current: true });

    // the store: one folder and one ref per node, under the lowercase key; stock git reads them
    const main = (await git(site, 'rev-parse', 'main')).trim();
    expect((await git(site, 'ls-tree', '--name-only', 'main', 'nodes/')).trim().split('\n')).toEqual(['nodes/vinays-macbook-pro', 'nodes/vps.example.net', 'nodes/worker_01']);
    expect((await git(site, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/nodes')).trim().split('\n')).toEqual([
      `refs/nodes/vinays-macbook-pro ${main}`,
      `refs/nodes/vps.example.net ${main}`,
      `refs/nodes/worker_01 ${main}`,
    ]);

    // a change: log and diff find the laptop by its name
    site.registry.services.grafana!.ip = '100.64.0.77';
    await site.save();
    expect((await site.courier('push', '--node', 'Vinays-MacBook-Pro')).code).toBe(0);
    const log = await site.courier('log', '--node', 'Vinays-MacBook-Pro', '--json');
    expect(log.code, log.stderr).toBe(0);
    expect((log.json as { nodes: string[] }[]).every((r) => r.nodes.includes('Vinays-MacBook-Pro'))).toBe(true);
    const diff = await site.courier('diff', 'refs/nodes/worker_01', 'refs/nodes/Vinays-MacBook-Pro', '--node', 'Vinays-MacBook-Pro');
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain('nodes/vinays-macbook-pro/hosts');
    expect(diff.stdout).toContain('+100.64.0.77\tgrafana.mycloud.local');
  });
});
