/**
 * Stopping the daemon in the middle of pushes: SIGTERM lets in-flight sessions finish and exits 0;
 * SIGKILL at any moment leaves every node file either the old or the new revision (never a mix),
 * a readable status file, and a stale lock the next daemon takes over.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blobOid } from '../../controller/render/blob-oid.js';
import { readStatusFile } from '../../controller/status/status-file.js';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createDaemonSite, startDaemonProcess, type DaemonSite } from './daemon-site.js';

const POLL = { timeout: 60_000, interval: 50 };
const ROLES = ['vps', 'vps', 'vps', 'laptop'] as const;

/** Many public services so the Traefik file is large and a push takes a while. */
function manyServices(port: number): Record<string, Record<string, unknown>> {
  const services: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < 1200; i++) services[`svc-${i}`] = { subdomain: `svc-${i}`, ip: `100.64.${Math.floor(i / 250)}.${(i % 250) + 1}`, port, public: true };
  return services;
}

/** The traefik.yml blob id of every revision in the store, newest first. */
function traefikOids(site: DaemonSite, node: string): string[] {
  const store = path.join(site.dir, '.courier', 'store');
  const revs = execFileSync('git', [`--git-dir=${store}`, 'rev-list', 'main'], { encoding: 'utf8' }).trim().split('\n');
  return revs.map((r) => {
    try {
      return execFileSync('git', [`--git-dir=${store}`, 'rev-parse', `${r}:nodes/${node}/traefik.yml`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  });
}

describe('daemon shutdown during pushes', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;

  beforeAll(async () => {
    fleet = await startSshdFleet(ROLES.length);
    site = createDaemonSite(fleet, ROLES);
    site.writeServices(manyServices(8000));
  });

  afterAll(async () => {
    await fleet?.stopAll();
  });

  it('SIGTERM during a push lets the sessions finish, exits 0, and leaves consistent nodes and status', async () => {
    const daemon = await startDaemonProcess(site.config);
    try {
      await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, POLL).toBe(200);
      const inFlight = async () => Number(/^courier_sync_sessions_in_flight (\d+)/m.exec(await daemon.metrics())?.[1] ?? 0);
      site.writeServices(manyServices(8001));
      // stop while node sessions are running
      await expect.poll(inFlight, { timeout: 60_000, interval: 10 }).toBeGreaterThan(0);
      const e = await daemon.stop('SIGTERM');
      expect(e.code).toBe(0);
    } finally {
      await daemon.stop('SIGKILL');
    }
    const doc = await readStatusFile(path.join(site.dir, '.courier', 'status.json'));
    for (let i = 0; i < 3; i++) {
      const node = `node-${i}`;
      const onDisk = blobOid(readFileSync(site.nodeFile(i, 'traefik')));
      const known = traefikOids(site, node);
      expect(known).toContain(onDisk);
      // a node recorded active holds exactly what its recorded revision says
      const s = doc.nodes[node]!;
      if (s.status === 'active') expect(s.oids['file /srv/traefik/routes.yml']).toBe(onDisk);
    }
  });

  it('SIGKILL at any moment leaves whole files, a readable status file, and a lock the next daemon takes over', async () => {
    for (const delayMs of [0, 150, 400]) {
      const daemon = await startDaemonProcess(site.config);
      await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, POLL).toBe(200);
      site.writeServices(manyServices(9000 + delayMs));
      await new Promise((r) => setTimeout(r, 100 + delayMs));
      const e = await daemon.stop('SIGKILL');
      expect(e.signal).toBe('SIGKILL');
      // the status file parses (atomic writes), and every node file is a whole revision
      await readStatusFile(path.join(site.dir, '.courier', 'status.json'));
      for (let i = 0; i < 3; i++) expect(traefikOids(site, `node-${i}`)).toContain(blobOid(readFileSync(site.nodeFile(i, 'traefik'))));
    }
    // the dead daemon's lock is stale: a new daemon starts, warns, and converges every node
    const daemon = await startDaemonProcess(site.config);
    try {
      await expect.poll(async () => (await daemon.status()).nodes.every((n) => n.status === 'active' && n.current), POLL).toBe(true);
      expect(daemon.stderr()).toContain('stale lock');
    } finally {
      await daemon.stop('SIGTERM');
    }
  });
});
