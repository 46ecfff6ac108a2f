/**
 * The suspension survives a change of leader, on the Kubernetes test server: two replicas share the
 * state volume (as the shipped Deployment's replicas share its PersistentVolumeClaim) and elect a
 * writer with the Lease. The leader is suspended through its API and killed; the replica that takes
 * the Lease over comes up suspended on the pinned revision, lists a ConfigMap edit as waiting
 * instead of rendering it, and resumes on request. No revision ever names courier's own status
 * write-back as its trigger.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { startDaemonProcess, type DaemonProcess } from './daemon-site.js';

const POLL = { timeout: 30_000, interval: 100 };
const NS = 'kube-system';

describe('suspension across a Lease takeover', () => {
  let server: KubeApiServer;
  let dir: string;
  const daemons: DaemonProcess[] = [];
  const hosts = () => readFileSync(path.join(dir, 'nodes', 'laptop-1', 'etc/hosts'), 'utf8');
  const services = (ip: string) => JSON.stringify({ wiki: { subdomain: 'wiki', ip, port: 80, public: false } });
  const metric = async (d: DaemonProcess, name: string) => Number(new RegExp(`^${name} (\\d)`, 'm').exec(await d.metrics())?.[1] ?? -1);

  function writeConfig(replica: string): string {
    const kubeconfig = path.join(dir, `${replica}.kubeconfig`);
    writeFileSync(kubeconfig, server.kubeconfig({ token: replica }));
    const file = path.join(dir, `${replica}.yaml`);
    writeFileSync(
      file,
      `source:\n  type: kubernetes\n  namespace: ${NS}\n  kubeconfig: ${kubeconfig}\nstate:\n  dir: state\n` +
        `hosts:\n  path: /etc/hosts\ntraefik:\n  path: /srv/traefik.yml\nhttp:\n  listen: 127.0.0.1:0\nreconcile:\n  retries: 0\n` +
        `leaderElection:\n  enabled: true\n  leaseDuration: 3s\n  renewDeadline: 2s\n  retryPeriod: 200ms\n`,
    );
    return file;
  }

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'courier-k8s-suspend-'));
    server = await startKubeApiServer();
    server.setConfigMap(NS, 'service-registry', { 'services.json': services('100.64.0.2') });
    server.setConfigMap(NS, 'sync-controller-registry', {
      'registry.json': JSON.stringify({ management_laptops: [{ name: 'laptop-1', ip: '127.0.0.3', ssh_user: 'ops', transport: 'local', root: path.join(dir, 'nodes', 'laptop-1') }], vps_nodes: [], worker_nodes: [] }),
    });
    server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
    daemons.push(await startDaemonProcess(writeConfig('replica-a')));
    for (let i = 0; i < 300 && (await metric(daemons[0]!, 'courier_leader')) !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    daemons.push(await startDaemonProcess(writeConfig('replica-b')));
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop('SIGKILL');
    await server?.stop();
  });

  it('the leader suspends on request; a follower refuses', async () => {
    const [a, b] = daemons as [DaemonProcess, DaemonProcess];
    await expect.poll(() => hosts().includes('100.64.0.2\twiki.mycloud.local'), POLL).toBe(true);
    const refused = await fetch(`${b.url}/api/suspend`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('LOCKED');
    const res = await fetch(`${a.url}/api/suspend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'change freeze' }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ already: false, suspension: { reason: 'change freeze', by: 'dashboard' } });
    expect((await a.status()).suspension).toMatchObject({ reason: 'change freeze' });
    expect(await metric(a, 'courier_suspended')).toBe(1);
  });

  it('the replica that takes over the Lease is suspended on the pinned revision and only lists a ConfigMap edit as waiting', async () => {
    const [a, b] = daemons as [DaemonProcess, DaemonProcess];
    const pinned = (await a.status()).suspension!.revision;
    await a.stop('SIGKILL');
    await expect.poll(() => metric(b, 'courier_leader'), { timeout: 15_000, interval: 100 }).toBe(1);
    await expect.poll(async () => (await b.status()).suspension?.revision, POLL).toBe(pinned);
    expect(await metric(b, 'courier_suspended')).toBe(1);
    server.setConfigMap(NS, 'service-registry', { 'services.json': services('100.64.0.9') });
    await expect.poll(async () => (await b.status()).waiting?.documents.map((d) => `${d.document} ${d.change} ${d.valid}`), POLL).toEqual(['services.json modified true']);
    expect((await b.status()).revision).toBe(pinned);
    expect(hosts()).toContain('100.64.0.2\twiki.mycloud.local');
  });

  it('resumes on the new leader: the edit goes out, named by its ConfigMap; no revision names the status write-back', async () => {
    const b = daemons[1]!;
    const res = await fetch(`${b.url}/api/resume`, { method: 'POST', body: '{}' });
    expect(res.status, await res.clone().text()).toBe(200);
    await expect.poll(() => hosts().includes('100.64.0.9\twiki.mycloud.local'), POLL).toBe(true);
    expect((await b.status()).suspension).toBeNull();
    const revisions = (await (await fetch(`${b.url}/api/revisions?limit=50`)).json()) as { trigger: string }[];
    const rv = (server.getConfigMap(NS, 'service-registry') as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    expect(revisions[0]!.trigger).toBe(`resume: configmap service-registry resourceVersion ${rv}`);
    // startup (every ConfigMap's document added) and resume: the write-backs in between made no revision
    expect(revisions).toHaveLength(2);
    expect(revisions[1]!.trigger).toMatch(/^configmap cluster-info resourceVersion \d+, configmap sync-controller-registry resourceVersion \d+, configmap service-registry resourceVersion \d+$/);
    expect(revisions[0]!.trigger).not.toContain('sync-controller-registry');
  });
});
