/**
 * End-to-end: nodes that cannot be reached or cannot be trusted, against real sshd nodes through
 * the `courier` CLI. One failing node never blocks the others; host keys are never accepted
 * silently; status records every outcome.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createSite, HOSTS_PATH, TRAEFIK_PATH, type SiteNode, type TestSite } from './create-site.js';
import { CLI_TEST_TIMEOUT } from './run-courier.js';

const run = promisify(execFile);

const NODES: SiteNode[] = [
  { name: 'edge-a', role: 'vps', fleet: 0 },
  { name: 'laptop-a', role: 'laptop', fleet: 1 },
  { name: 'worker-a', role: 'worker', fleet: 2 },
];

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(3);
});

afterAll(async () => {
  await fleet?.stopAll();
});

function site(options: Parameters<typeof createSite>[2] = {}): Promise<TestSite> {
  return createSite(
    fleet,
    NODES.map((n) => ({ ...n })),
    options,
  );
}

describe('unreachable and untrusted nodes', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('a stopped node goes pending_sync while the others converge, and converges once it is back', async () => {
    const s = await site();
    await fleet.stop(1);
    let push;
    try {
      push = await s.courier('push', '--json');
    } finally {
      await fleet.start(1);
    }
    expect(push.code).toBe(1);
    const reports = s.reports(push);
    expect(reports['laptop-a']).toMatchObject({ status: 'unreachable', changed: [], bytesSent: 0, error: { code: 'NODE_UNREACHABLE', retryable: true } });
    expect(reports['edge-a']!.status).toBe('converged');
    expect(reports['worker-a']!.status).toBe('converged');
    const down = await s.status();
    expect(down['laptop-a']).toMatchObject({ status: 'pending_sync', failures: 1, last_sync: null, last_error: { code: 'NODE_UNREACHABLE' } });
    expect(down['edge-a']!.status).toBe('active');
    expect(await s.read('laptop-a', HOSTS_PATH)).toBeUndefined();

    const again = await s.courier('push', '--json');
    expect(again.code, again.stderr).toBe(0);
    const back = s.reports(again);
    expect(back['laptop-a']).toMatchObject({ status: 'converged', changed: ['hosts'], error: null });
    expect([back['edge-a']!.bytesSent, back['worker-a']!.bytesSent]).toEqual([0, 0]);
    const up = await s.status();
    expect(up['laptop-a']).toMatchObject({ status: 'active', failures: 0, last_error: null, current: true });
    expect(await s.read('laptop-a', HOSTS_PATH)).toBeDefined();
  });

  it('a node that fails errorAfter pushes in a row turns error, and a retried push reports its attempts', async () => {
    const s = await site({ reconcile: '  retries: 2\n  retryDelay: 50ms\n  errorAfter: 2' });
    await fleet.stop(2);
    try {
      const first = await s.courier('push', '--json');
      expect(first.code).toBe(1);
      // retryable: one attempt plus two retries
      expect(s.reports(first)['worker-a']).toMatchObject({ status: 'unreachable', attempts: 3, error: { code: 'NODE_UNREACHABLE' } });
      expect((await s.status())['worker-a']).toMatchObject({ status: 'pending_sync', failures: 1 });
      const second = await s.courier('push', '--json');
      expect(second.code).toBe(1);
      expect((await s.status())['worker-a']).toMatchObject({ status: 'error', failures: 2, last_error: { code: 'NODE_UNREACHABLE' } });
    } finally {
      await fleet.start(2);
    }
    const third = await s.courier('push', '--json');
    expect(third.code).toBe(0);
    expect((await s.status())['worker-a']).toMatchObject({ status: 'active', failures: 0 });
  });

  it('a changed host key is refused (HOST_KEY_MISMATCH, not retried) and the node is left untouched', async () => {
    const s = await site({ reconcile: '  retries: 3\n  retryDelay: 50ms' });
    expect((await s.courier('push', '--json')).code).toBe(0);
    const before = (await s.read('edge-a', TRAEFIK_PATH))!;

    // a change edge-a would receive, then a new host key on it
    s.registry.services.immich!.port = 9999;
    s.registry.services.grafana!.ip = '100.64.0.98';
    await s.save();
    await fleet.rotateHostKey(0);
    const push = await s.courier('push', '--json');
    expect(push.code).toBe(1);
    const reports = s.reports(push);
    expect(reports['edge-a']).toMatchObject({ status: 'failed', attempts: 1, bytesSent: 0, error: { code: 'HOST_KEY_MISMATCH', retryable: false } });
    expect(reports['edge-a']!.error!.message).toContain('courier nodes trust edge-a');
    expect(reports['laptop-a']).toMatchObject({ status: 'converged', changed: ['hosts'] });
    expect(reports['worker-a']).toMatchObject({ status: 'converged', changed: ['hosts'] });
    expect(await s.read('edge-a', TRAEFIK_PATH)).toEqual(before);
    expect((await s.status())['edge-a']).toMatchObject({ status: 'pending_sync', last_error: { code: 'HOST_KEY_MISMATCH' } });

    // trust refuses to replace a known key: the operator must remove the old line first
    const trust = await s.courier('nodes', 'trust', 'edge-a', '--yes');
    expect(trust.code).not.toBe(0);
    expect(trust.stderr).toContain('HOST_KEY_MISMATCH');
  });

  it('an unknown host key is refused with its fingerprint until `courier nodes trust` records it', async () => {
    // known_hosts lacks worker-a (fleet node 2)
    const s = await site({ trusted: [0, 1] });
    const push = await s.courier('push', '--json');
    expect(push.code).toBe(1);
    const reports = s.reports(push);
    const { stdout } = await run('ssh-keygen', ['-lf', `${fleet.nodes[2]!.hostKeyPath}.pub`]);
    const fingerprint = stdout.split(' ')[1]!;
    expect(fingerprint).toMatch(/^SHA256:/);
    expect(reports['worker-a']).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'HOST_KEY_UNKNOWN' } });
    expect(reports['worker-a']!.error!.message).toContain(fingerprint);
    expect(reports['worker-a']!.error!.message).toContain('courier nodes trust worker-a');
    expect(reports['edge-a']!.status).toBe('converged');
    expect(await s.read('worker-a', HOSTS_PATH)).toBeUndefined();

    // without --yes and without a terminal: refuse, write nothing
    const knownBefore = await readFile(s.knownHostsFile, 'utf8');
    const refused = await s.courier('nodes', 'trust', 'worker-a');
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).toContain(fingerprint);
    expect(await readFile(s.knownHostsFile, 'utf8')).toBe(knownBefore);

    const trusted = await s.courier('nodes', 'trust', 'worker-a', '--yes');
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).toContain(fingerprint);
    // stock OpenSSH finds the recorded key for [address]:port
    const { stdout: found } = await run('ssh-keygen', ['-F', `[${fleet.nodes[2]!.address}]:${fleet.nodes[2]!.port}`, '-f', s.knownHostsFile]);
    expect(found).toContain('ssh-ed25519');

    const again = await s.courier('push', '--json');
    expect(again.code, again.stdout).toBe(0);
    expect(s.reports(again)['worker-a']).toMatchObject({ status: 'converged', changed: ['hosts'] });
    const already = await s.courier('nodes', 'trust', 'worker-a', '--yes');
    expect([already.code, already.stdout.includes('already trusted')]).toEqual([0, true]);
  });
});
