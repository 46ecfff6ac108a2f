/**
 * The daemon on MyNodeOne's ConfigMaps, against the wire-faithful Kubernetes API test server driven
 * by the real @kubernetes/client-node: it renders from the ConfigMaps, pushes on a ConfigMap change
 * (trigger names the ConfigMap and resourceVersion), writes node status back into
 * sync-controller-registry, and with two replicas exactly one (the Lease holder) pushes; when it is
 * killed the other takes over within the lease duration.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { startDaemonProcess, type DaemonProcess } from './daemon-site.js';

const POLL = { timeout: 30_000, interval: 100 };
const NS = 'kube-system';

describe('daemon with the kubernetes source and leader election', () => {
  let server: KubeApiServer;
  let dir: string;
  const daemons: DaemonProcess[] = [];
  const nodeRoot = (name: string) => path.join(dir, 'nodes', name);
  const services = (wikiIp: string) =>
    JSON.stringify({ app: { subdomain: 'app', ip: '100.64.0.1', port: 80, public: true }, wiki: { subdomain: 'wiki', ip: wikiIp, port: 80, public: false, updated: '2025-11-06T18:30:00Z' } });

  /** A replica: its own state directory, the same API server, its own client token. */
  function writeConfig(replica: string): string {
    const kubeconfig = path.join(dir, `${replica}.kubeconfig`);
    writeFileSync(kubeconfig, server.kubeconfig({ token: replica }));
    const file = path.join(dir, `${replica}.yaml`);
    writeFileSync(
      file,
      `source:\n  type: kubernetes\n  namespace: ${NS}\n  kubeconfig: ${kubeconfig}\nstate:\n  dir: state-${replica}\n` +
        `hosts:\n  path: /etc/hosts\ntraefik:\n  path: /srv/traefik.yml\nhttp:\n  listen: 127.0.0.1:0\nreconcile:\n  retries: 0\n` +
        `leaderElection:\n  enabled: true\n  leaseDuration: 3s\n  renewDeadline: 2s\n  retryPeriod: 200ms\n`,
    );
    return file;
  }

  const metric = async (d: DaemonProcess, re: RegExp) => Number(re.exec(await d.metrics())?.[1] ?? 0);
  const leader = (d: DaemonProcess) => metric(d, /^courier_leader (\d)/m);
  const pushes = (d: DaemonProcess) =>
    d.metrics().then((m) => [...m.matchAll(/^courier_syncs_total\{node="[^"]+",mode="push",result="converged"\} (\d+)/gm)].reduce((n, x) => n + Number(x[1]), 0));

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'courier-k8s-daemon-'));
    server = await startKubeApiServer();
    const node = (name: string, ip: string) => ({ name, ip, ssh_user: 'ops', transport: 'local', root: nodeRoot(name), status: 'pending_sync', registered: '2025-11-01T10:00:00Z' });
    server.setConfigMap(NS, 'service-registry', { 'services.json': services('100.64.0.2') });
    server.setConfigMap(NS, 'domain-registry', {
      'domains.json': JSON.stringify({ domains: { 'example.com': { description: 'main' } }, vps_nodes: [{ tailscale_ip: '127.0.0.2', public_ip: '203.0.113.1' }] }),
      'routing.json': '{}',
    });
    server.setConfigMap(NS, 'sync-controller-registry', {
      'registry.json': JSON.stringify(
        { management_laptops: [node('laptop-1', '127.0.0.3')], vps_nodes: [node('edge-1', '127.0.0.2')], worker_nodes: [], metadata: { version: '1.0', last_updated: 'x', updated_by: 'root@cp' } },
        null,
        2,
      ),
    });
    server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
    daemons.push(await startDaemonProcess(writeConfig('replica-a')));
    // replica-a wins the empty Lease before replica-b starts, so the roles are known
    for (let i = 0; i < 300 && (await leader(daemons[0]!)) !== 1; i++) await new Promise((r) => setTimeout(r, 100));
    daemons.push(await startDaemonProcess(writeConfig('replica-b')));
  });

  afterAll(async () => {
    for (const d of daemons) await d.stop('SIGKILL');
    await server?.stop();
  });

  it('the leader renders from the ConfigMaps and converges the nodes; the follower pushes nothing and is not ready', async () => {
    const [a, b] = daemons as [DaemonProcess, DaemonProcess];
    expect(await leader(a)).toBe(1);
    await expect.poll(async () => (await a.status()).nodes.map((n) => n.status), POLL).toEqual(['active', 'active']);
    expect(readFileSync(path.join(nodeRoot('laptop-1'), 'etc/hosts'), 'utf8')).toContain('100.64.0.2\twiki.mycloud.local');
    expect(await leader(b)).toBe(0);
    expect(await pushes(b)).toBe(0);
    expect((await fetch(`${a.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${b.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    const lease = server.getLease(NS, 'courier-controller') as { spec: { holderIdentity: string; renewTime: string } };
    expect(lease.spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('writes MyNodeOne status fields back into sync-controller-registry, keeping the rest', async () => {
    await expect.poll(() => {
      const cm = server.getConfigMap(NS, 'sync-controller-registry') as { data: Record<string, string> };
      const reg = JSON.parse(cm.data['registry.json']!) as { management_laptops: { status: string; last_sync?: string }[] };
      return reg.management_laptops[0]?.status;
    }, POLL).toBe('active');
    const cm = server.getConfigMap(NS, 'sync-controller-registry') as { data: Record<string, string> };
    const reg = JSON.parse(cm.data['registry.json']!) as { management_laptops: Record<string, unknown>[]; metadata: Record<string, unknown> };
    expect(reg.management_laptops[0]).toMatchObject({ name: 'laptop-1', registered: '2025-11-01T10:00:00Z', status: 'active' });
    expect(reg.management_laptops[0]!.last_sync).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(reg.metadata).toMatchObject({ version: '1.0' });
    expect(reg.metadata.updated_by).toMatch(/^courier@/);
    // the write-back is a ConfigMap change the leader watches, but status is output, not input: no new revision
    await new Promise((r) => setTimeout(r, 1000));
    const revisions = (await (await fetch(`${daemons[0]!.url}/api/revisions?limit=50`)).json()) as unknown[];
    expect(revisions).toHaveLength(1);
  });

  it('a ConfigMap change is pushed by the leader with the ConfigMap and resourceVersion as trigger', async () => {
    const a = daemons[0]!;
    const updated = server.setConfigMap(NS, 'service-registry', { 'services.json': services('100.64.0.9') }) as { metadata: { resourceVersion: string } };
    await expect.poll(() => readFileSync(path.join(nodeRoot('laptop-1'), 'etc/hosts'), 'utf8').includes('100.64.0.9\twiki.mycloud.local'), POLL).toBe(true);
    const revisions = (await (await fetch(`${a.url}/api/revisions?limit=1`)).json()) as { trigger: string; nodes: string[] }[];
    expect(revisions[0]?.trigger).toContain(`configmap service-registry resourceVersion ${updated.metadata.resourceVersion}`);
    expect(revisions[0]?.nodes).toEqual(['laptop-1']);
    expect(await pushes(daemons[1]!)).toBe(0);
  });

  it('when the leader is killed, the other replica takes over within the lease duration and pushes', async () => {
    const [a, b] = daemons as [DaemonProcess, DaemonProcess];
    await a.stop('SIGKILL');
    await expect.poll(() => leader(b), { timeout: 15_000, interval: 100 }).toBe(1);
    await expect.poll(async () => (await fetch(`${b.url}/readyz`)).status, POLL).toBe(200);
    server.setConfigMap(NS, 'service-registry', { 'services.json': services('100.64.0.10') });
    await expect.poll(() => readFileSync(path.join(nodeRoot('laptop-1'), 'etc/hosts'), 'utf8').includes('100.64.0.10\twiki.mycloud.local'), POLL).toBe(true);
    expect(await pushes(b)).toBeGreaterThan(0);
  });
});
