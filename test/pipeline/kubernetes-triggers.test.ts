/**
 * Triggers that are true, on the Kubernetes test server: a revision's trigger names every
 * ConfigMap whose document changed the revision (at the resourceVersion that was read) and none that
 * did not, whatever else arrived in the same window: courier's own status write-back to
 * sync-controller-registry (written by the real writer) never appears as a cause, in either order.
 * The daemon's coalesced window trigger is passed as the fallback, as the daemon does.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../controller/logger.js';
import { openSite, type Site } from '../../controller/pipeline/open-site.js';
import { renderRevision } from '../../controller/pipeline/render-revision.js';
import { createKubernetesSource } from '../../controller/sources/kubernetes-source.js';
import { loadKubernetesConfig } from '../../controller/sources/kubernetes-config.js';
import type { SourceWatcher } from '../../controller/sources/source-watcher.js';
import { writeStatusToConfigMap } from '../../controller/status/kubernetes-status-writer.js';
import { listRevisions } from '../../controller/store/list-revisions.js';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';

const NS = 'kube-system';

describe('commit triggers from the kubernetes source', () => {
  let server: KubeApiServer;
  let site: Site;
  let source: SourceWatcher;
  let kubeconfig: string;
  let port = 80;
  const events: string[] = [];

  const services = () => JSON.stringify({ app: { subdomain: 'app', ip: '100.64.0.1', port: port, public: false } });
  const editServices = () => {
    port += 1;
    return rv(server.setConfigMap(NS, 'service-registry', { 'services.json': services() }));
  };
  const rv = (object: unknown) => (object as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  /** courier's own write-back: status fields of laptop-1 only. */
  const writeBack = async (status: 'active' | 'pending_sync') => {
    await writeStatusToConfigMap(loadKubernetesConfig(kubeconfig), NS, [{ node: 'laptop-1', role: 'laptop', status, failures: 0, oids: {}, drift: [], last_sync: new Date().toISOString() }], {
      updatedBy: 'courier@test',
      now: new Date(),
    });
    return rv(server.getConfigMap(NS, 'sync-controller-registry'));
  };
  /** One daemon render: the window's triggers as its fallback, the source read after the window. */
  const render = async (windowTriggers: string[]) => {
    const outcome = await renderRevision(site, { snapshot: await source.read(), trigger: windowTriggers.join('; '), nameReason: 'fallback' });
    return { committed: outcome.commit.committed, trigger: (await listRevisions(site.store, { limit: 1 }))[0]!.trigger };
  };

  beforeAll(async () => {
    server = await startKubeApiServer();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'courier-k8s-triggers-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfig());
    writeFileSync(path.join(dir, 'courier.yaml'), `source:\n  type: kubernetes\n  namespace: ${NS}\n  kubeconfig: ${kubeconfig}\nstate:\n  dir: state\ntraefik:\n  path: /srv/traefik.yml\n  publicDomain: example.com\n`);
    server.setConfigMap(NS, 'service-registry', { 'services.json': services() });
    server.setConfigMap(NS, 'domain-registry', { 'domains.json': JSON.stringify({ domains: { 'example.com': {} }, vps_nodes: [] }), 'routing.json': '{}' });
    server.setConfigMap(NS, 'sync-controller-registry', {
      'registry.json': JSON.stringify({ management_laptops: [{ name: 'laptop-1', ip: '127.0.0.3', ssh_user: 'ops', transport: 'local', root: path.join(dir, 'n') }], vps_nodes: [], worker_nodes: [] }),
    });
    server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
    site = await openSite(path.join(dir, 'courier.yaml'), silentLogger());
    source = createKubernetesSource({ namespace: NS, kubeconfig, watchdogMs: 60_000 });
    await source.start((trigger) => events.push(trigger));
    await render(['startup']);
  });

  afterAll(async () => {
    await source?.close();
    await server?.stop();
  });

  it('a status write-back then a service-registry edit in one window: the edit is the trigger', async () => {
    const statusRv = await writeBack('active');
    const editRv = editServices();
    // the daemon's window began with the write-back event (the bug named it and only it)
    const result = await render([`configmap sync-controller-registry resourceVersion ${statusRv}`]);
    expect(result).toEqual({ committed: true, trigger: `configmap service-registry resourceVersion ${editRv}` });
  });

  it('an edit then a status write-back in one window: the edit is the trigger', async () => {
    const editRv = editServices();
    const statusRv = await writeBack('pending_sync');
    const result = await render([`configmap service-registry resourceVersion ${editRv}`, `configmap sync-controller-registry resourceVersion ${statusRv}`]);
    expect(result).toEqual({ committed: true, trigger: `configmap service-registry resourceVersion ${editRv}` });
  });

  it('several edits in one window: each changed ConfigMap once, at the version read, and no write-back', async () => {
    editServices();
    const domainsRv = rv(server.setConfigMap(NS, 'domain-registry', { 'domains.json': JSON.stringify({ domains: { 'example.com': {}, 'example.org': {} }, vps_nodes: [] }), 'routing.json': '{}' }));
    const statusRv = await writeBack('active');
    const lastEditRv = editServices();
    const result = await render([`configmap service-registry resourceVersion x`, `configmap sync-controller-registry resourceVersion ${statusRv}`]);
    expect(result).toEqual({ committed: true, trigger: `configmap domain-registry resourceVersion ${domainsRv}, configmap service-registry resourceVersion ${lastEditRv}` });
  });

  it('a real node edit in sync-controller-registry is named; a window of write-backs alone commits nothing', async () => {
    const statusRv = await writeBack('pending_sync');
    expect(await render([`configmap sync-controller-registry resourceVersion ${statusRv}`])).toMatchObject({ committed: false });
    const cm = server.getConfigMap(NS, 'sync-controller-registry') as { data: Record<string, string> };
    const registry = JSON.parse(cm.data['registry.json']!) as { worker_nodes: unknown[] };
    registry.worker_nodes.push({ name: 'worker-1', ip: '127.0.0.4', ssh_user: 'ops', transport: 'local', root: '/tmp/courier-never-used' });
    const nodeRv = rv(server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(registry) }));
    const result = await render([`configmap sync-controller-registry resourceVersion ${nodeRv}`]);
    expect(result).toEqual({ committed: true, trigger: `configmap sync-controller-registry resourceVersion ${nodeRv}` });
  });
});
