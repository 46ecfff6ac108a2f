/**
 * A running daemon and the suspension, against a real sshd fleet: `courier rollback` goes through
 * the daemon's API (no LOCKED), the daemon holds the nodes on the pinned revision, ignores registry
 * edits but lists them as waiting, heals drift back to the pinned revision, keeps the suspension
 * across a restart, and `courier resume` converges every node on the current registry. Also the
 * revision and node API documents.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { runCourier } from '../integration/run-courier.js';
import { createDaemonSite, startDaemonProcess, type DaemonProcess, type DaemonSite } from './daemon-site.js';

const POLL = { timeout: 60_000, interval: 100 };
const ROLES = ['vps', 'laptop', 'worker'] as const;

describe('daemon while suspended', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;
  let daemon: DaemonProcess;
  let good: string;
  let pinned: string;

  const suspendedMetric = async (d: DaemonProcess) => Number(/^courier_suspended (\d)/m.exec(await d.metrics())?.[1] ?? -1);
  const converged = async (d: DaemonProcess, revision: string) => {
    const s = await d.status();
    return s.revision === revision && s.nodes.every((n) => n.status === 'active' && n.current);
  };
  const edge = () => readFileSync(site.nodeFile(0, 'traefik'), 'utf8');

  beforeAll(async () => {
    fleet = await startSshdFleet(3);
    site = createDaemonSite(fleet, ROLES);
    daemon = await startDaemonProcess(site.config);
    for (let i = 0; i < 600 && (await fetch(`${daemon.url}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    good = (await daemon.status()).revision!;
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('courier rollback goes through the running daemon, which pushes the old revision and suspends', async () => {
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 9999 } });
    await expect.poll(() => edge().includes('http://100.64.0.10:9999'), POLL).toBe(true);
    expect(await suspendedMetric(daemon)).toBe(0);

    const run = await runCourier(site.config, ['rollback', 'main~1', '--reason', 'app down', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = run.json as { revision: string; target: string; suspension: { by: string; reason: string }; nodes: { node: string; status: string }[] };
    expect(result).toMatchObject({ target: good, suspension: { by: 'command', reason: 'app down' } });
    expect(result.nodes.map((n) => n.status)).toEqual(['converged', 'converged', 'converged']);
    pinned = result.revision;
    expect(edge()).toContain('http://100.64.0.10:8080');
    expect(await suspendedMetric(daemon)).toBe(1);
    const status = await daemon.status();
    expect(status.suspension).toMatchObject({ revision: pinned, reason: 'app down', by: 'command' });
    expect(status.waiting).toEqual({ valid: true, documents: [] });
  });

  it('ignores registry edits but lists them as waiting, with whether they validate', async () => {
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 8181 } });
    await expect.poll(async () => (await daemon.status()).waiting?.documents.map((d) => `${d.document} ${d.change} ${d.valid}`), POLL).toEqual(['services.json modified true']);
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 70000 } });
    await expect.poll(async () => (await daemon.status()).waiting?.documents.map((d) => `${d.document} ${d.valid}`), POLL).toEqual(['services.json false']);
    expect((await daemon.status()).waiting?.error).toContain('70000 is not a port');
    // nothing was rendered or committed, nothing pushed
    expect((await daemon.status()).revision).toBe(pinned);
    const log = (await (await fetch(`${daemon.url}/api/revisions?limit=1`)).json()) as { revision: string }[];
    expect(log[0]?.revision).toBe(pinned);
    expect(edge()).toContain('http://100.64.0.10:8080');
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 8181 } });
    await expect.poll(async () => (await daemon.status()).waiting?.valid, POLL).toBe(true);
  });

  it('heals drift back to the pinned revision on reconcile', async () => {
    writeFileSync(site.nodeFile(0, 'traefik'), 'hand edit\n');
    expect((await fetch(`${daemon.url}/api/reconcile`, { method: 'POST' })).status).toBe(202);
    await expect.poll(() => edge().includes('http://100.64.0.10:8080'), POLL).toBe(true);
    expect(edge()).not.toContain('8181');
  });

  it('serves the revision and node documents', async () => {
    const detail = (await (await fetch(`${daemon.url}/api/revisions/${pinned.slice(0, 10)}`)).json()) as { revision: string; trigger: string; files: { path: string; patch: string }[] };
    expect(detail.revision).toBe(pinned);
    expect(detail.trigger).toBe(`rollback to ${good.slice(0, 12)}`);
    expect(detail.files.map((f) => f.path)).toEqual(['nodes/node-0/traefik.yml']);
    expect(detail.files[0]!.patch).toContain('-          - url: "http://100.64.0.10:9999"');
    expect((await fetch(`${daemon.url}/api/revisions/${encodeURIComponent('main~99')}`)).status).toBe(404);
    const node = (await (await fetch(`${daemon.url}/api/nodes/node-0`)).json()) as { revision: string; verifiedRevision: string; artifacts: { name: string; desired: string; reported: string; drift: boolean }[]; verifiedAt: { revision: string }[] };
    expect(node.revision).toBe(pinned);
    expect(node.verifiedRevision).toBe(pinned);
    expect(node.artifacts).toEqual([expect.objectContaining({ name: 'traefik.yml', drift: false })]);
    expect(node.artifacts[0]!.reported).toBe(node.artifacts[0]!.desired);
    expect(node.verifiedAt[0]?.revision).toBe(pinned);
    expect((await fetch(`${daemon.url}/api/nodes/nobody`)).status).toBe(404);
  });

  it('stays suspended across a restart', async () => {
    await daemon.stop('SIGTERM');
    daemon = await startDaemonProcess(site.config);
    await expect.poll(async () => (await daemon.status()).suspension?.revision, POLL).toBe(pinned);
    await expect.poll(() => converged(daemon, pinned), POLL).toBe(true);
    expect(await suspendedMetric(daemon)).toBe(1);
    expect(edge()).toContain('http://100.64.0.10:8080');
  });

  it('courier resume (through the daemon) renders the current registry and converges every node', async () => {
    const run = await runCourier(site.config, ['resume', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = run.json as { revision: string; committed: boolean; resumed: { revision: string } };
    expect(result).toMatchObject({ committed: true, resumed: { revision: pinned } });
    await expect.poll(() => converged(daemon, result.revision), POLL).toBe(true);
    expect(edge()).toContain('http://100.64.0.10:8181');
    expect(await suspendedMetric(daemon)).toBe(0);
    expect((await daemon.status()).suspension).toBeNull();
    // and edits apply again
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 8282 } });
    await expect.poll(() => edge().includes('http://100.64.0.10:8282'), POLL).toBe(true);
  });
});
