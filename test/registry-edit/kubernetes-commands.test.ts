/**
 * The registry editing commands on a kubernetes source, through the courier binary against the
 * wire-faithful test API server: the edited key of MyNodeOne's ConfigMap is replaced with the read
 * resourceVersion, everything else in the ConfigMap is kept, a 409 Conflict is retried from a fresh
 * read, a missing ConfigMap is created, and an invalid edit writes nothing.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeApiServer, type KubeApiServer } from '../support/kube-api-server.js';
import { createSite, realisticText, runCourier } from './run-courier.js';

const NS = 'kube-system';

type Json = Record<string, unknown>;

let server: KubeApiServer;
let site: { dir: string; config: string };

beforeEach(async () => {
  server = await startKubeApiServer();
  site = await createSite('source:\n  type: kubernetes\n  kubeconfig: kubeconfig.yaml\ntraefik:\n  publicDomain: curiios.com\n');
  await writeFile(path.join(site.dir, 'kubeconfig.yaml'), server.kubeconfig());
  // MyNodeOne's ConfigMaps as its scripts leave them, plus keys courier does not own.
  server.setConfigMap(NS, 'service-registry', { 'services.json': await realisticText('services.json') });
  server.setConfigMap(NS, 'domain-registry', { 'domains.json': await realisticText('domains.json'), 'routing.json': await realisticText('routing.json') });
  server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': await realisticText('registry.json'), 'notes.txt': 'kept as is' }, { labels: { app: 'mynodeone' } });
  server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
});

afterEach(async () => {
  await server.stop();
});

const courier = (...args: string[]) => runCourier(site.config, ...args);
const configMap = (name: string) => server.getConfigMap(NS, name) as { metadata: { resourceVersion: string; labels?: Json }; data: Record<string, string> };
const puts = (name: string) => server.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/configmaps/${name}`)).length;

describe('registry edits on the kubernetes source', () => {
  it('nodes add replaces registry.json keeping other entries, metadata, status fields and other keys', async () => {
    const before = JSON.parse(configMap('sync-controller-registry').data['registry.json']!) as Json;
    const r = await courier('nodes', 'add', 'vps', '100.64.1.3', 'edge-3', 'root', '--sudo');
    expect(r).toMatchObject({ code: 0, stdout: 'added node edge-3 (vps 100.64.1.3)\n' });
    expect(puts('sync-controller-registry')).toBe(1);
    const stored = configMap('sync-controller-registry');
    expect(stored.data['notes.txt']).toBe('kept as is');
    expect(stored.metadata.labels).toEqual({ app: 'mynodeone' });
    const after = JSON.parse(stored.data['registry.json']!) as { management_laptops: Json[]; vps_nodes: Json[]; worker_nodes: Json[]; metadata: Json };
    expect(after.management_laptops).toEqual(before.management_laptops);
    expect(after.worker_nodes).toEqual(before.worker_nodes);
    expect(after.vps_nodes.slice(0, 2)).toEqual(before.vps_nodes);
    // MyNodeOne's own fields of the existing nodes (status, last_sync, webhook_port) are all still there.
    expect(after.vps_nodes[1]).toMatchObject({ status: 'active', last_sync: '2025-10-28T09:25:04+00:00', webhook_port: 8080 });
    expect(after.vps_nodes[2]).toMatchObject({ name: 'edge-3', ip: '100.64.1.3', ssh_user: 'root', sudo: true, status: 'active', last_sync: null });
    expect(after.metadata).toMatchObject({ version: '1.0' });
    expect(after.metadata.last_updated).not.toBe('2025-10-28T09:25:04+00:00');
    // Same two-space layout as the document MyNodeOne wrote.
    expect(stored.data['registry.json']).toBe(`${JSON.stringify(after, null, 2)}\n`);
  });

  it('a 409 Conflict on the replace is retried from a fresh read and succeeds', async () => {
    server.failNext('PUT', /configmaps\/sync-controller-registry/, 409);
    const r = await courier('nodes', 'add', 'worker', '100.88.12.9', 'node-09', 'ops', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ document: 'registry.json', action: 'added', key: 'node-09' });
    expect(puts('sync-controller-registry')).toBe(2);
    const after = JSON.parse(configMap('sync-controller-registry').data['registry.json']!) as Record<string, Json[]>;
    expect(after.worker_nodes!.map((n) => n.name)).toEqual(['node-02', 'node-03', 'node-09']);
  });

  it('a write that keeps conflicting gives up after five retries with exit 1 and writes nothing', async () => {
    const before = configMap('sync-controller-registry');
    for (let i = 0; i < 6; i++) server.failNext('PUT', /configmaps\/sync-controller-registry/, 409);
    const r = await courier('nodes', 'remove', 'node-03');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SOURCE_UNAVAILABLE: registry.json: still changing under this edit after 5 retries');
    expect(puts('sync-controller-registry')).toBe(6);
    expect(configMap('sync-controller-registry').metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  it("domains add edits domains.json and leaves domain-registry's routing.json untouched", async () => {
    const routing = configMap('domain-registry').data['routing.json'];
    expect(await courier('domains', 'add', 'example.org', 'Lab')).toMatchObject({ code: 0, stdout: 'added domain example.org\n' });
    const stored = configMap('domain-registry');
    expect(stored.data['routing.json']).toBe(routing);
    expect((JSON.parse(stored.data['domains.json']!) as { domains: Json }).domains['example.org']).toMatchObject({ description: 'Lab', status: 'active' });
  });

  it('routing set edits routing.json and leaves domains.json untouched', async () => {
    const domains = configMap('domain-registry').data['domains.json'];
    expect((await courier('routing', 'set', 'website', '--strategy', 'round-robin')).code).toBe(0);
    expect(configMap('domain-registry').data['domains.json']).toBe(domains);
    expect((JSON.parse(configMap('domain-registry').data['routing.json']!) as Record<string, Json>).website).toMatchObject({ strategy: 'round-robin', vps_nodes: ['100.70.123.45', '100.68.225.92'] });
  });

  it('an invalid edit leaves the ConfigMap unchanged (same resourceVersion, no write)', async () => {
    const before = configMap('domain-registry');
    const r = await courier('domains', 'remove', 'curiios.com');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('configmap/domain-registry/routing.json: $.immich.domains[0]: "curiios.com" is not registered in domains.json');
    expect(puts('domain-registry')).toBe(0);
    expect(configMap('domain-registry').metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(configMap('domain-registry').data).toEqual(before.data);
  });

  it('a missing ConfigMap is created with the document', async () => {
    for (const name of ['service-registry', 'domain-registry', 'sync-controller-registry', 'cluster-info']) server.deleteConfigMap(NS, name);
    expect(await courier('domains', 'add', 'example.org')).toMatchObject({ code: 0, stdout: 'added domain example.org\n' });
    const created = configMap('domain-registry');
    expect(Object.keys(created.data)).toEqual(['domains.json']);
    expect(JSON.parse(created.data['domains.json']!)).toMatchObject({ domains: { 'example.org': { description: '', status: 'active' } }, vps_nodes: [] });
    expect(server.requests.some((r) => r.method === 'POST' && r.path === `/api/v1/namespaces/${NS}/configmaps`)).toBe(true);
  });
});
