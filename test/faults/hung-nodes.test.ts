/**
 * Nodes that hang, over real SSH: one that accepts TCP and never sends the SSH banner (a plain
 * TCP server on a loopback address) costs ssh.connectTimeout and nothing more, and the other nodes
 * converge meanwhile; one that stops answering in the middle of a round (its session processes
 * SIGSTOPped while a large put streams) is cut off at ssh.sessionTimeout with nothing
 * half-written, and converges once it answers again.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createSite, defaultServices, HOSTS_PATH, TRAEFIK_PATH, waitFor, type ServiceDoc, type TestSite } from '../integration/create-site.js';
import { CLI_TEST_TIMEOUT } from '../integration/run-courier.js';
import { descendantProcesses, isRunning, signalAll } from '../integration/node-processes.js';

let fleet: SshdFleet;

beforeAll(async () => {
  fleet = await startSshdFleet(3);
});

afterAll(async () => {
  await fleet?.stopAll();
});

/** Replace one `ssh:` setting of the site's courier.yaml (createSite writes `connectTimeout: 10s`, `sessionTimeout: 60s`). */
async function setSsh(site: TestSite, key: 'connectTimeout' | 'sessionTimeout', value: string): Promise<void> {
  const text = await readFile(site.configFile, 'utf8');
  await writeFile(site.configFile, text.replace(new RegExp(`^  ${key}: .*$`, 'm'), `  ${key}: ${value}`));
}

describe('a node that accepts TCP and never sends the SSH banner', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('fails with SSH_TIMEOUT after ssh.connectTimeout while the other nodes converge without waiting for it', async () => {
    // the "node": a plain TCP server on the third fleet address that accepts and stays silent
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket.on('error', () => undefined)));
    await new Promise<void>((resolve) => silent.listen(0, fleet.nodes[2]!.address, resolve));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const site = await createSite(fleet, [
        { name: 'edge-a', role: 'vps', fleet: 0 },
        { name: 'laptop-a', role: 'laptop', fleet: 1 },
        { name: 'hung', role: 'worker', fleet: 2, port },
      ]);
      await setSsh(site, 'connectTimeout', '4s');
      const push = await site.courier('push', '--json');
      expect(push.code).toBe(1);
      const reports = site.reports(push);
      const hung = reports.hung!;
      expect(hung).toMatchObject({ status: 'unreachable', error: { code: 'SSH_TIMEOUT', retryable: true } });
      expect(hung.error!.message).toContain('ssh.connectTimeout');
      // it cost the timeout (it did wait for a banner) and gave up then, not at some later bound
      expect(hung.durationMs).toBeGreaterThanOrEqual(4_000);
      expect(hung.durationMs).toBeLessThan(4_000 + 10_000);
      expect(sockets.length).toBeGreaterThan(0);
      for (const name of ['edge-a', 'laptop-a']) {
        expect(reports[name]!.status, name).toBe('converged');
        // in parallel, not behind the hung node: each finished before the hung node's timeout
        expect(reports[name]!.durationMs).toBeLessThan(hung.durationMs);
      }
      expect(await site.read('laptop-a', HOSTS_PATH)).toBeDefined();
      const status = await site.status();
      expect(status.hung).toMatchObject({ status: 'pending_sync', last_error: { code: 'SSH_TIMEOUT' } });
      expect(status['edge-a']!.status).toBe('active');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('a node that stops answering in the middle of a round', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('is cut off at ssh.sessionTimeout with nothing half-written, and converges once it answers again', async () => {
    const site = await createSite(fleet, [{ name: 'edge-a', role: 'vps', fleet: 0 }]);
    const first = await site.courier('push', '--json');
    expect(first.code, first.stderr).toBe(0);
    const old = (await site.read('edge-a', TRAEFIK_PATH))!;

    // ~0.9 MB of routes: the put streams long enough to freeze the node while it is staged
    const services: Record<string, ServiceDoc> = defaultServices();
    for (let i = 0; i < 1500; i++) services[`svc-${i}`] = { subdomain: `svc-${i}`, ip: `100.65.${Math.floor(i / 250)}.${(i % 250) + 1}`, port: 8000 + (i % 1000), public: true };
    site.registry.services = services;
    await site.save();
    await setSsh(site, 'sessionTimeout', '5s');

    const dir = path.dirname(site.file('edge-a', TRAEFIK_PATH));
    let watcher: FSWatcher | undefined;
    const staged = new Promise<void>((resolve) => {
      watcher = watch(dir, (_event, name) => name?.startsWith('.routes.yml.courier-') && resolve());
    });
    const pushing = site.courier('push', '--json');
    let frozen: number[] | undefined;
    try {
      await Promise.race([staged, pushing.then((r) => Promise.reject(new Error(`push ended before the put started: ${r.stdout} ${r.stderr}`)))]);
      // the node freezes: its session sshd and the agent stop (the listening sshd stays up)
      frozen = descendantProcesses(fleet.nodes[0]!.pid).map((p) => p.pid);
      signalAll(frozen, 'SIGSTOP');
    } finally {
      watcher?.close();
    }
    try {
      const push = await pushing;
      expect(push.code).toBe(1);
      const report = site.reports(push)['edge-a']!;
      expect(report).toMatchObject({ status: 'unreachable', error: { code: 'SSH_TIMEOUT', retryable: true } });
      expect(report.error!.message).toContain('ssh.sessionTimeout');
      // nothing half-written: the target is the old file byte for byte (the frozen agent holds its staging file)
      expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(old);
      expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toHaveLength(1);
      expect((await site.status())['edge-a']).toMatchObject({ status: 'pending_sync', last_error: { code: 'SSH_TIMEOUT' } });
    } finally {
      signalAll(frozen ?? [], 'SIGCONT');
    }
    // woken, the agent finds its connection gone, writes nothing and removes its staging file; wait
    // for the frozen processes themselves (an orphaned agent is no longer under the node's sshd)
    await waitFor('the woken session processes to exit', () => (frozen ?? []).every((pid) => !isRunning(pid)), { timeout: 30_000 });
    expect(await site.tempFiles('edge-a', TRAEFIK_PATH)).toEqual([]);
    expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(old);

    await setSsh(site, 'sessionTimeout', '60s');
    const again = await site.courier('push', '--json');
    expect(again.code, again.stdout).toBe(0);
    expect(site.reports(again)['edge-a']).toMatchObject({ status: 'converged', changed: ['traefik.yml'] });
  });
});
