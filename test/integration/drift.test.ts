/**
 * End-to-end drift: hand edits on real sshd nodes are found by `courier verify` (read-only, by
 * hash) and healed by `courier push`.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { blockBody, createSite, git, gitHashObject, HOSTS_PATH, TRAEFIK_PATH, type SiteNode } from './create-site.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';

const NODES: SiteNode[] = [
  { name: 'edge-a', role: 'vps', fleet: 0 },
  { name: 'laptop-a', role: 'laptop', fleet: 1 },
];
const SEEDED_HOSTS = '127.0.0.1\tlocalhost\n::1\tlocalhost\n';

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(2);
});

afterAll(async () => {
  await fleet?.stopAll();
});

describe('drift on real nodes', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('a hand-edited hosts block is reported by verify with both oids and healed by push', async () => {
    const site = await createSite(
      fleet,
      NODES.map((n) => ({ ...n })),
    );
    await site.write('laptop-a', HOSTS_PATH, SEEDED_HOSTS);
    expect((await site.courier('push', '--json')).code).toBe(0);
    const verified = await site.courier('verify', '--json');
    expect(verified.code, verified.stdout).toBe(0);
    const pushed = (await site.read('laptop-a', HOSTS_PATH))!.toString('utf8');
    const expectedOid = site.reports(verified)['laptop-a']!.oids[`block ${HOSTS_PATH}`]!;

    // edit one line inside the block, as an operator with vi would
    const edited = pushed.replace('100.64.0.14\tgrafana.mycloud.local', '100.64.0.15\tgrafana.mycloud.local');
    expect(edited).not.toBe(pushed);
    await site.write('laptop-a', HOSTS_PATH, edited);
    const bodyFile = path.join(site.dir, 'edited-body');
    await writeFile(bodyFile, blockBody(edited)!);
    const foundOid = await gitHashObject(bodyFile);

    const verify = await site.courier('verify', '--json');
    expect(verify.code).toBe(1);
    const reports = site.reports(verify);
    expect(reports['laptop-a']).toMatchObject({
      status: 'drifted',
      // what a push would send
      changed: ['hosts'],
      bytesSent: 0,
      drift: [{ name: 'hosts', path: HOSTS_PATH, kind: 'block', expected: expectedOid, found: foundOid }],
      error: { code: 'DRIFTED' },
    });
    expect(reports['edge-a']!.status).toBe('converged');
    // verify is read-only: the edit is still there, and status records the drift
    expect((await site.read('laptop-a', HOSTS_PATH))!.toString('utf8')).toBe(edited);
    const status = await site.status();
    expect(status['laptop-a']).toMatchObject({ status: 'pending_sync', last_error: { code: 'DRIFTED' } });

    const human = await site.courier('verify');
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(`laptop-a: hosts ${HOSTS_PATH}: expected ${expectedOid.slice(0, 12)}, found ${foundOid.slice(0, 12)}`);

    const heal = await site.courier('push', '--json');
    expect(heal.code, heal.stdout).toBe(0);
    expect(site.reports(heal)['laptop-a']).toMatchObject({ status: 'converged', changed: ['hosts'] });
    expect((await site.read('laptop-a', HOSTS_PATH))!.toString('utf8')).toBe(pushed);
    expect((await site.courier('verify', '--json')).code).toBe(0);
    expect((await site.status())['laptop-a']!.status).toBe('active');
  });

  it('a deleted or edited Traefik file is drift (found "-" or the new oid) and push restores it', async () => {
    const site = await createSite(
      fleet,
      NODES.map((n) => ({ ...n })),
    );
    expect((await site.courier('push', '--json')).code).toBe(0);
    const routes = (await site.read('edge-a', TRAEFIK_PATH))!;

    await writeFile(site.file('edge-a', TRAEFIK_PATH), routes.toString('utf8') + '# local tweak\n');
    const edited = site.reports(await site.courier('verify', '--json'))['edge-a']!;
    expect(edited.status).toBe('drifted');
    expect(edited.drift[0]!.found).toBe(await gitHashObject(site.file('edge-a', TRAEFIK_PATH)));
    expect(edited.drift[0]!.expected).toBe((await git(site, 'rev-parse', `main:nodes/edge-a/traefik.yml`)).trim());

    await rm(site.file('edge-a', TRAEFIK_PATH));
    const deleted = site.reports(await site.courier('verify', '--json'))['edge-a']!;
    expect(deleted).toMatchObject({ status: 'drifted', drift: [{ found: '-' }] });

    const heal = await site.courier('push', '--json');
    expect(heal.code).toBe(0);
    expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(routes);
  });

  it('plan --live shows a file courier never wrote as unknown content, not as a diff from nothing', async () => {
    const site = await createSite(
      fleet,
      NODES.map((n) => ({ ...n })),
    );
    const foreign = 'http:\n  routers: {}  # written by hand before courier\n';
    await site.write('edge-a', TRAEFIK_PATH, foreign);
    const plan = await site.courier('plan', '--live', '--node', 'edge-a', '--json');
    expect(plan.code, plan.stderr).toBe(0);
    const [edge] = plan.json as { reachable: boolean; changes: { action: string; from: string; patch: string }[] }[];
    expect(edge!.reachable).toBe(true);
    expect(edge!.changes).toHaveLength(1);
    expect(edge!.changes[0]).toMatchObject({ action: 'update', from: await gitHashObject(site.file('edge-a', TRAEFIK_PATH)) });
    expect(edge!.changes[0]!.patch).toContain('node holds unknown content');
  });
});
