/**
 * The daemon against a real sshd fleet: edits converge without a manual push, offline nodes catch
 * up, an invalid registry pushes nothing, one writer per state directory, graceful SIGTERM, and the
 * Prometheus metrics it exposes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { packagePath } from '../../controller/package-root.js';
import { readStatusFile } from '../../controller/status/status-file.js';
import { createDaemonSite, FIVE_ROLES, startDaemonProcess, type DaemonProcess, type DaemonSite } from './daemon-site.js';

const POLL = { timeout: 30_000, interval: 100 };

describe('courier daemon', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    fleet = await startSshdFleet(5);
    site = createDaemonSite(fleet, FIVE_ROLES);
    daemon = await startDaemonProcess(site.config);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('converges every node at startup and becomes ready', async () => {
    await expect.poll(async () => (await fetch(`${daemon.url}/readyz`)).status, POLL).toBe(200);
    const status = await daemon.status();
    expect(status.nodes.map((n) => n.status)).toEqual(['active', 'active', 'active', 'active', 'active']);
    expect(readFileSync(site.nodeFile(2, 'hosts'), 'utf8')).toContain('100.64.0.11\tgrafana.mycloud.local');
    expect(readFileSync(site.nodeFile(0, 'traefik'), 'utf8')).toContain('Host(`app.example.com`)');
  });

  it('converges all 5 nodes after an edit, without a manual push', async () => {
    const before = (await daemon.status()).revision;
    site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: '100.64.0.77' }, app: { ...site.services.app, port: 9090 } });
    await expect.poll(async () => {
      const s = await daemon.status();
      return s.revision !== before && s.nodes.every((n) => n.status === 'active' && n.current);
    }, POLL).toBe(true);
    expect(readFileSync(site.nodeFile(3, 'hosts'), 'utf8')).toContain('100.64.0.77\tgrafana.mycloud.local');
    expect(readFileSync(site.nodeFile(1, 'traefik'), 'utf8')).toContain('http://100.64.0.10:9090');
  });

  it('pushes only to the nodes whose artifacts changed', async () => {
    const metricsBefore = await daemon.metrics();
    const vpsSyncs = (m: string) => Number(/courier_syncs_total\{node="node-0",mode="push",result="converged"\} (\d+)/.exec(m)?.[1] ?? 0);
    const laptopSyncs = (m: string) => Number(/courier_syncs_total\{node="node-2",mode="push",result="converged"\} (\d+)/.exec(m)?.[1] ?? 0);
    site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: '100.64.0.78' }, app: { ...site.services.app, port: 9090 } });
    await expect.poll(() => readFileSync(site.nodeFile(2, 'hosts'), 'utf8').includes('100.64.0.78'), POLL).toBe(true);
    await expect.poll(async () => laptopSyncs(await daemon.metrics()), POLL).toBe(laptopSyncs(metricsBefore) + 1);
    expect(vpsSyncs(await daemon.metrics())).toBe(vpsSyncs(metricsBefore));
  });

  it('an invalid edit pushes nothing and keeps the last good revision; its fix does', async () => {
    const good = await daemon.status();
    writeFileSync(path.join(site.registry, 'services.json'), JSON.stringify({ ...site.services, grafana: { ...site.services.grafana, port: 70000 } }));
    await expect.poll(async () => (await daemon.status()).registryValid, POLL).toBe(false);
    const bad = await daemon.status();
    expect(bad.revision).toBe(good.revision);
    expect(bad.registryError).toContain('$.grafana.port: 70000 is not a port');
    expect(await daemon.metrics()).toMatch(/^courier_registry_valid 0$/m);
    expect((await fetch(`${daemon.url}/readyz`)).status).toBe(503);
    expect(readFileSync(site.nodeFile(2, 'hosts'), 'utf8')).toContain('100.64.0.78');

    site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: '100.64.0.79' } });
    await expect.poll(() => readFileSync(site.nodeFile(2, 'hosts'), 'utf8').includes('100.64.0.79'), POLL).toBe(true);
    await expect.poll(async () => (await daemon.status()).registryValid, POLL).toBe(true);
    expect(await daemon.metrics()).toMatch(/^courier_registry_valid 1$/m);
  });

  it('an offline node goes pending_sync and catches up by itself when it returns', async () => {
    await fleet.stop(4);
    site.writeServices({ ...site.services, grafana: { ...site.services.grafana, ip: '100.64.0.80' } });
    await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'node-4')?.status, POLL).toBe('pending_sync');
    // a session cut by the stop reports CONNECTION_LOST; the backoff retries then find the port closed
    await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'node-4')?.last_error?.code, POLL).toBe('NODE_UNREACHABLE');
    await expect.poll(() => readFileSync(site.nodeFile(2, 'hosts'), 'utf8').includes('100.64.0.80'), POLL).toBe(true);

    await fleet.start(4);
    await expect.poll(async () => (await daemon.status()).nodes.find((n) => n.node === 'node-4')?.status, POLL).toBe('active');
    expect(readFileSync(site.nodeFile(4, 'hosts'), 'utf8')).toContain('100.64.0.80\tgrafana.mycloud.local');
  });

  it('exposes the metrics with their names and labels', async () => {
    const m = await daemon.metrics();
    for (const line of [
      /^courier_node_status\{node="node-0",role="vps",status="active"\} 1$/m,
      /^courier_node_status\{node="node-2",role="laptop",status="pending_sync"\} 0$/m,
      /^courier_node_last_sync_timestamp_seconds\{node="node-4",role="worker"\} \d+/m,
      /^courier_sync_duration_seconds_bucket\{le="[\d.+Inf]+",mode="push",result="converged"\} \d+$/m,
      /^courier_syncs_total\{node="node-4",mode="push",result="unreachable"\} \d+$/m,
      /^courier_artifact_bytes_sent_total\{node="node-1"\} \d+$/m,
      /^courier_registry_valid 1$/m,
      /^courier_revision_info\{revision="[0-9a-f]{40}"\} 1$/m,
      /^courier_watch_events_total\{source="files"\} \d+$/m,
      /^courier_reconciles_total\{trigger="startup"\} 1$/m,
      /^process_resident_memory_bytes \d+/m,
    ]) {
      expect(m).toMatch(line);
    }
  });

  it('a second daemon, or a render on the same state, is refused with LOCKED (exit 3)', () => {
    const bin = packagePath('dist', 'courier', 'main.js');
    for (const args of [['daemon'], ['render']]) {
      const r = spawnSync(process.execPath, [bin, ...args, '--config', site.config], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(3);
      expect(r.stderr).toContain('LOCKED');
      expect(r.stderr).toContain(`pid ${daemon.child.pid}`);
    }
  });

  it('hand edits are healed at the reconcile `courier reconcile` asks for', async () => {
    const file = site.nodeFile(3, 'hosts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('grafana.mycloud.local', 'evil.mycloud.local'));
    const r = spawnSync(process.execPath, [packagePath('dist', 'courier', 'main.js'), 'reconcile', '--config', site.config, '--url', daemon.url], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('reconcile started');
    await expect.poll(() => readFileSync(file, 'utf8').includes('grafana.mycloud.local'), POLL).toBe(true);
    await expect.poll(async () => /courier_drift_events_total\{node="node-3"\} [1-9]/.test(await daemon.metrics()), POLL).toBe(true);
  });

  it('SIGTERM exits 0, releases the lock and leaves a readable status file', async () => {
    const e = await daemon.stop('SIGTERM');
    expect(e.code).toBe(0);
    const doc = await readStatusFile(path.join(site.dir, '.courier', 'status.json'));
    expect(Object.keys(doc.nodes).sort()).toEqual(['node-0', 'node-1', 'node-2', 'node-3', 'node-4']);
    const r = spawnSync(process.execPath, [packagePath('dist', 'courier', 'main.js'), 'status', '--config', site.config, '--json'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
  });
});
