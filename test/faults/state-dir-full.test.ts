/**
 * The control plane's state directory full (a small tmpfs mounted by the test; tests run as root):
 * a render that cannot write fails with STORE_ERROR, nothing is pushed, the store still passes
 * `git fsck`, and the next push converges once space returns.
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createSite, defaultServices, git, HOSTS_PATH, TRAEFIK_PATH, type ServiceDoc } from '../integration/create-site.js';
import { CLI_TEST_TIMEOUT } from '../integration/run-courier.js';

const run = promisify(execFile);
let fleet: SshdFleet;
let mounted: string | undefined;

beforeAll(async () => {
  fleet = await startSshdFleet(2);
});

afterAll(async () => {
  if (mounted) await run('umount', [mounted]).catch(() => run('umount', ['-l', mounted!]));
  await fleet?.stopAll();
});

/** Fill the file system holding `dir` up to `leave` free bytes; returns the filler file. */
async function fill(dir: string, leave: number): Promise<string> {
  const filler = path.join(dir, 'filler');
  const { bavail, bsize } = await statfs(dir);
  await run('fallocate', ['-l', String(Number(bavail) * Number(bsize) - leave), filler]);
  return filler;
}

describe('the state directory full', { timeout: CLI_TEST_TIMEOUT }, () => {
  it('fails with STORE_ERROR, pushes nothing, keeps the store fsck-clean, and recovers once space returns', async () => {
    const site = await createSite(fleet, [
      { name: 'edge-a', role: 'vps', fleet: 0 },
      { name: 'laptop-a', role: 'laptop', fleet: 1 },
    ]);
    // the state directory on a 2 MiB tmpfs of its own
    await mkdir(site.stateDir, { recursive: true });
    await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', site.stateDir]);
    mounted = site.stateDir;
    try {
      const first = await site.courier('push', '--json');
      expect(first.code, first.stderr).toBe(0);
      const main = (await git(site, 'rev-parse', 'main')).trim();
      const oldRoutes = await site.read('edge-a', TRAEFIK_PATH);
      const oldHosts = await site.read('laptop-a', HOSTS_PATH);

      // a registry change that needs new objects, with no room for them
      const services: Record<string, ServiceDoc> = defaultServices();
      for (let i = 0; i < 200; i++) services[`svc-${i}`] = { subdomain: `svc-${i}`, ip: `100.65.0.${(i % 250) + 1}`, port: 8000 + i, public: i % 2 === 0 };
      site.registry.services = services;
      await site.save();
      // room for the lock file and a few objects, not for the whole commit: the commit itself fails
      const filler = await fill(site.stateDir, 12 * 1024);
      for (const command of ['push', 'render', 'push']) {
        const full = await site.courier(command, '--json');
        expect(full.code, `${command}: ${full.stdout}`).toBe(1);
        const error = (full.json as { error: { code: string; message: string; data: { operation?: string } } }).error;
        expect(error.code).toBe('STORE_ERROR');
        expect(error.message).toMatch(/ENOSPC|no space left/i);
        expect(error.data.operation).toBe('commit');
      }
      // then no room at all: even the lock cannot be written
      const more = path.join(site.stateDir, 'more');
      await run('fallocate', ['-l', String(Number((await statfs(site.stateDir)).bavail) * 4096), more]).catch(() => undefined);
      const locked = await site.courier('push', '--json');
      expect((locked.json as { error: { code: string } }).error.code).toBe('STORE_ERROR');
      await rm(more, { force: true });
      await writeFile(path.join(site.stateDir, '.probe'), '');
      await rm(path.join(site.stateDir, '.probe'));
      // nothing was pushed: the nodes hold what they held
      expect(await site.read('edge-a', TRAEFIK_PATH)).toEqual(oldRoutes);
      expect(await site.read('laptop-a', HOSTS_PATH)).toEqual(oldHosts);
      // the store is intact: main unmoved, and stock git finds no corrupt or missing object
      expect((await git(site, 'rev-parse', 'main')).trim()).toBe(main);
      await git(site, 'fsck', '--strict', '--no-dangling');

      // space returns: the next push renders, commits and converges both nodes
      await rm(filler);
      const again = await site.courier('push', '--json');
      expect(again.code, again.stdout).toBe(0);
      expect(Object.values(site.reports(again)).map((r) => r.status)).toEqual(['converged', 'converged']);
      expect((await git(site, 'rev-parse', 'main~1')).trim()).toBe(main);
      await git(site, 'fsck', '--strict', '--no-dangling');
      expect((await site.status())['edge-a']).toMatchObject({ status: 'active', current: true });
    } finally {
      await run('umount', [site.stateDir]);
      mounted = undefined;
    }
  });
});
