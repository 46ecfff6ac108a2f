import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { CourierError } from '../errors.js';
import { startKubeApiServer, type KubeApiServer } from '../../test/support/kube-api-server.js';
import type { NodeStatus } from './next-node-status.js';
import { writeStatusToConfigMap } from './kubernetes-status-writer.js';

const NS = 'kube-system';
const NOW = new Date('2026-03-04T05:06:07.890Z');
const OPTIONS = { updatedBy: 'courier@control', now: NOW };

let server: KubeApiServer;
let kc: KubeConfig;

beforeEach(async () => {
  server = await startKubeApiServer();
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
});

afterEach(async () => {
  await server.stop();
});

/** A registry.json the way node-registry-manager.sh leaves it (jq, two spaces), with fields courier does not know. */
const REGISTRY = {
  management_laptops: [
    { ip: '100.64.0.2', name: 'laptop', ssh_user: 'me', webhook_port: 8080, repo_path: '', registered: '2026-01-01T00:00:00+00:00', last_sync: null, status: 'active' },
  ],
  vps_nodes: [
    { ip: '100.64.0.3', name: 'vps-1', ssh_user: 'root', status: 'failed', last_error: '2026-02-01T00:00:00Z' },
    { ip: '100.64.0.4', name: 'vps-2', ssh_user: 'root', status: 'active', custom: { nested: [1, 2] } },
  ],
  worker_nodes: [],
  metadata: { version: '1.0', last_updated: '2026-01-01T00:00:00+00:00', updated_by: 'admin@control' },
  x_site_notes: 'kept',
};

function status(node: string, fields: Partial<NodeStatus>): NodeStatus {
  return { node, role: 'vps', status: 'active', failures: 0, oids: {}, drift: [], ...fields };
}

function storedRegistry(): string {
  return String((server.getConfigMap(NS, 'sync-controller-registry')?.data as Record<string, string>)['registry.json']);
}

const puts = () => server.requests.filter((r) => r.method === 'PUT').length;

describe('writeStatusToConfigMap', () => {
  it("sets MyNodeOne's status fields and keeps every other entry, field and key order", async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(REGISTRY, null, 2), other: 'untouched' });
    await writeStatusToConfigMap(kc, NS, [
      status('laptop', { role: 'laptop', status: 'active', last_sync: '2026-03-04T05:00:00.123Z', last_attempt: '2026-03-04T05:00:00.123Z' }),
      status('vps-1', { status: 'pending_sync', last_attempt: '2026-03-04T05:01:00.000Z', failures: 1 }),
      status('not-in-registry', { status: 'error' }),
    ], OPTIONS);
    const expected = structuredClone(REGISTRY) as typeof REGISTRY & { vps_nodes: Record<string, unknown>[] };
    Object.assign(expected.management_laptops[0]!, { last_sync: '2026-03-04T05:00:00Z', status: 'active', last_attempt: '2026-03-04T05:00:00Z' });
    Object.assign(expected.vps_nodes[0]!, { status: 'pending_sync', last_attempt: '2026-03-04T05:01:00Z' });
    Object.assign(expected.metadata, { last_updated: '2026-03-04T05:06:07Z', updated_by: 'courier@control' });
    expect(storedRegistry()).toBe(JSON.stringify(expected, null, 2));
    expect(Object.keys(JSON.parse(storedRegistry()).management_laptops[0])).toEqual(['ip', 'name', 'ssh_user', 'webhook_port', 'repo_path', 'registered', 'last_sync', 'status', 'last_attempt']);
    expect(server.getConfigMap(NS, 'sync-controller-registry')?.data).toMatchObject({ other: 'untouched' });
  });

  it('keeps compact JSON compact and a trailing newline', async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': `${JSON.stringify({ vps_nodes: [{ name: 'vps-1', ip: '100.64.0.3' }] })}\n` });
    await writeStatusToConfigMap(kc, NS, [status('vps-1', { status: 'error', last_attempt: NOW.toISOString() })], OPTIONS);
    expect(storedRegistry()).toBe(
      `${JSON.stringify({ vps_nodes: [{ name: 'vps-1', ip: '100.64.0.3', status: 'error', last_attempt: '2026-03-04T05:06:07Z' }], metadata: { last_updated: '2026-03-04T05:06:07Z', updated_by: 'courier@control' } })}\n`,
    );
  });

  it('does not write when no node field would change', async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(REGISTRY, null, 2) });
    const statuses = [status('vps-2', { status: 'active' })];
    await writeStatusToConfigMap(kc, NS, statuses, OPTIONS);
    expect(puts()).toBe(0);
    await writeStatusToConfigMap(kc, NS, [status('vps-2', { status: 'pending_sync' })], OPTIONS);
    expect(puts()).toBe(1);
    await writeStatusToConfigMap(kc, NS, [status('vps-2', { status: 'pending_sync' })], { ...OPTIONS, now: new Date() });
    expect(puts()).toBe(1);
  });

  it('does nothing when the ConfigMap or its registry.json key is missing', async () => {
    await writeStatusToConfigMap(kc, NS, [status('vps-1', {})], OPTIONS);
    server.setConfigMap(NS, 'sync-controller-registry', { other: 'x' });
    await writeStatusToConfigMap(kc, NS, [status('vps-1', {})], OPTIONS);
    expect(puts()).toBe(0);
  });

  it('re-reads and re-applies after an injected 409 Conflict', async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(REGISTRY, null, 2) });
    server.failNext('PUT', /configmaps\/sync-controller-registry$/, 409);
    await writeStatusToConfigMap(kc, NS, [status('vps-2', { status: 'error' })], OPTIONS);
    expect(puts()).toBe(2);
    expect(JSON.parse(storedRegistry()).vps_nodes[1].status).toBe('error');
  });

  it('keeps a node that someone else added between our read and our write (a real resourceVersion conflict)', async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(REGISTRY, null, 2) });
    const core = kc.makeApiClient(CoreV1Api);
    let reads = 0;
    // A concurrent MyNodeOne `register`: it lands right after our first read.
    const racing = new Proxy(core, {
      get(target, prop, receiver) {
        if (prop !== 'readNamespacedConfigMap') return Reflect.get(target, prop, receiver) as unknown;
        return async (param: { name: string; namespace: string }) => {
          const result = await target.readNamespacedConfigMap(param);
          if (reads++ === 0) {
            const edited = { ...REGISTRY, worker_nodes: [{ ip: '100.64.0.9', name: 'worker-new', ssh_user: 'me', status: 'active' }] };
            server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(edited, null, 2) });
          }
          return result;
        };
      },
    });
    await writeStatusToConfigMap(racing, NS, [status('vps-1', { status: 'active', last_sync: NOW.toISOString() })], OPTIONS);
    const stored = JSON.parse(storedRegistry());
    expect(stored.worker_nodes).toEqual([{ ip: '100.64.0.9', name: 'worker-new', ssh_user: 'me', status: 'active' }]);
    expect(stored.vps_nodes[0]).toMatchObject({ status: 'active', last_sync: '2026-03-04T05:06:07Z' });
    expect(server.requests.filter((r) => r.method === 'PUT')).toHaveLength(2);
  });

  it('gives up with retryable SOURCE_UNAVAILABLE after maxRetries conflicts', async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': JSON.stringify(REGISTRY, null, 2) });
    for (let i = 0; i < 3; i++) server.failNext('PUT', /sync-controller-registry/, 409);
    const error = (await writeStatusToConfigMap(kc, NS, [status('vps-2', { status: 'error' })], { ...OPTIONS, maxRetries: 2 }).catch((err: unknown) => err)) as CourierError;
    expect([error.code, error.retryable, error.data.retries]).toEqual(['SOURCE_UNAVAILABLE', true, 2]);
    expect(puts()).toBe(3);
  });

  it('reports a registry.json that is not JSON as REGISTRY_INVALID without writing', async () => {
    server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': '{ not json' });
    const error = (await writeStatusToConfigMap(kc, NS, [status('vps-2', {})], OPTIONS).catch((err: unknown) => err)) as CourierError;
    expect(error.code).toBe('REGISTRY_INVALID');
    expect(puts()).toBe(0);
  });
});
