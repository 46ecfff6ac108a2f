import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiException, CoordinationV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, V1MicroTime, Watch } from '@kubernetes/client-node';
import { startKubeApiServer, type KubeApiServer } from './kube-api-server.js';

const NS = 'kube-system';

let server: KubeApiServer;
let kc: KubeConfig;
let core: CoreV1Api;

beforeEach(async () => {
  server = await startKubeApiServer();
  kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  core = kc.makeApiClient(CoreV1Api);
});

afterEach(async () => {
  await server.stop();
});

/** The HTTP status of a rejected client-node call. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/** Collect watch events until `count` arrived. */
function collectWatch(path: string, query: Record<string, string>, count: number): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const events: { type: string; object: Record<string, unknown> }[] = [];
  return new Promise((resolve, reject) => {
    let controller: AbortController | undefined;
    void new Watch(kc)
      .watch(
        path,
        query,
        (type, object: Record<string, unknown>) => {
          events.push({ type, object });
          if (events.length === count) {
            controller?.abort();
            resolve(events);
          }
        },
        (err: unknown) => (events.length < count ? (err ? reject(err as Error) : resolve(events)) : undefined),
      )
      .then((c) => (controller = c));
  });
}

describe('kube api test server', () => {
  it('lists, reads and reports a missing ConfigMap as a NotFound Status', async () => {
    server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
    const list = await core.listNamespacedConfigMap({ namespace: NS });
    expect(list.items.map((i) => i.metadata?.name)).toEqual(['cluster-info']);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThan(0);
    const one = await core.readNamespacedConfigMap({ name: 'cluster-info', namespace: NS });
    expect(one.data).toEqual({ 'cluster-domain': 'mycloud' });
    const filtered = await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: 'metadata.name=other' });
    expect(filtered.items).toEqual([]);
    let error: unknown;
    await core.readNamespacedConfigMap({ name: 'nope', namespace: NS }).catch((err: unknown) => (error = err));
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(404);
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404, message: 'configmaps "nope" not found' });
  });

  it('rejects a replace with a stale resourceVersion and a duplicate create with 409', async () => {
    const first = server.setConfigMap(NS, 'x', { a: '1' });
    server.setConfigMap(NS, 'x', { a: '2' });
    const stale = { metadata: { name: 'x', namespace: NS, resourceVersion: String(first.metadata?.resourceVersion) }, data: { a: '3' } };
    expect(await statusOf(core.replaceNamespacedConfigMap({ name: 'x', namespace: NS, body: stale }))).toBe(409);
    expect(await statusOf(core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'x' } } }))).toBe(409);
    const current = await core.readNamespacedConfigMap({ name: 'x', namespace: NS });
    const replaced = await core.replaceNamespacedConfigMap({ name: 'x', namespace: NS, body: { ...current, data: { a: '3' } } });
    expect(replaced.data).toEqual({ a: '3' });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(current.metadata?.resourceVersion));
  });

  it('keeps the resourceVersion of a no-op replace', async () => {
    const obj = server.setConfigMap(NS, 'x', { a: '1' });
    const again = server.setConfigMap(NS, 'x', { a: '1' });
    expect(again.metadata?.resourceVersion).toBe(obj.metadata?.resourceVersion);
  });

  it('applies JSON patch (client-node default) and merge patch with a resourceVersion precondition', async () => {
    const obj = server.setConfigMap(NS, 'x', { a: '1' });
    const patched = await core.patchNamespacedConfigMap({ name: 'x', namespace: NS, body: [{ op: 'add', path: '/data/b', value: '2' }] });
    expect(patched.data).toEqual({ a: '1', b: '2' });
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const merged = await core.patchNamespacedConfigMap({ name: 'x', namespace: NS, body: { data: { a: null, c: '3' } } }, merge);
    expect(merged.data).toEqual({ b: '2', c: '3' });
    const stale = { metadata: { resourceVersion: String(obj.metadata?.resourceVersion) }, data: { d: '4' } };
    expect(await statusOf(core.patchNamespacedConfigMap({ name: 'x', namespace: NS, body: stale }, merge))).toBe(409);
  });

  it('streams ADDED, MODIFIED and DELETED after the given resourceVersion', async () => {
    const rv = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    const events = collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: rv }, 3);
    await expect.poll(() => server.openWatches()).toBe(1);
    server.setConfigMap(NS, 'x', { a: '1' });
    server.setConfigMap(NS, 'x', { a: '2' });
    server.deleteConfigMap(NS, 'x');
    expect((await events).map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  it('filters a watch by a metadata.name field selector', async () => {
    const rv = (await core.listNamespacedConfigMap({ namespace: NS })).metadata?.resourceVersion ?? '';
    const events = collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: rv, fieldSelector: 'metadata.name=wanted' }, 1);
    await expect.poll(() => server.openWatches()).toBe(1);
    server.setConfigMap(NS, 'other', { a: '1' });
    server.setConfigMap(NS, 'wanted', { a: '1' });
    expect((await events).map((e) => (e.object.metadata as { name: string }).name)).toEqual(['wanted']);
  });

  it('answers a watch from expired history with one 410 Expired ERROR event', async () => {
    const old = server.setConfigMap(NS, 'x', { a: '1' }).metadata?.resourceVersion;
    server.expireHistory();
    const events = await collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: String(old) }, 1);
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
  });

  it('sends bookmarks only to watches that asked for them', async () => {
    const rv = server.setConfigMap(NS, 'x', { a: '1' }).metadata?.resourceVersion;
    const events = collectWatch(`/api/v1/namespaces/${NS}/configmaps`, { resourceVersion: String(rv), allowWatchBookmarks: 'true' }, 1);
    await expect.poll(() => server.openWatches()).toBe(1);
    server.sendBookmarks();
    expect(await events).toEqual([{ type: 'BOOKMARK', object: expect.objectContaining({ metadata: expect.objectContaining({ resourceVersion: String(rv) }) }) }]);
  });

  it('fails the next matching request once with the injected status', async () => {
    server.failNext('GET', /\/configmaps$/, 500);
    expect(await statusOf(core.listNamespacedConfigMap({ namespace: NS }))).toBe(500);
    await expect(core.listNamespacedConfigMap({ namespace: NS })).resolves.toBeDefined();
    expect(server.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/configmaps'))).toHaveLength(2);
  });

  it('rejects a Lease replace with a stale resourceVersion and deletes with a Success Status', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const created = await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a' } } });
    await leases.replaceNamespacedLease({ name: 'l', namespace: NS, body: { ...created, spec: { holderIdentity: 'b' } } });
    expect(await statusOf(leases.replaceNamespacedLease({ name: 'l', namespace: NS, body: { ...created, spec: { holderIdentity: 'c' } } }))).toBe(409);
    expect(server.getLease(NS, 'l')?.spec).toEqual({ holderIdentity: 'b' });
    const deleted = await core.deleteNamespacedConfigMap({ name: server.setConfigMap(NS, 'x', {}).metadata?.name as string, namespace: NS });
    expect(deleted).toMatchObject({ kind: 'Status', status: 'Success' });
    expect(server.getConfigMap(NS, 'x')).toBeUndefined();
  });

  it('accepts Lease times as V1MicroTime and rejects a plain Date (three fractional digits) with 400', async () => {
    const leases = kc.makeApiClient(CoordinationV1Api);
    const now = new Date('2026-01-02T03:04:05.678Z');
    const created = await leases.createNamespacedLease({
      namespace: NS,
      body: { metadata: { name: 'ok' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 1, renewTime: new V1MicroTime(now.getTime()), acquireTime: new V1MicroTime(now.getTime()) } },
    });
    expect(created.spec?.renewTime as unknown).toBe('2026-01-02T03:04:05.678000Z');
    const bad = leases.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'bad' }, spec: { holderIdentity: 'a', renewTime: now } } });
    let error: unknown;
    await bad.catch((err: unknown) => (error = err));
    expect((error as ApiException<string>).code).toBe(400);
    expect(JSON.parse((error as ApiException<string>).body)).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    expect(server.getLease(NS, 'bad')).toBeUndefined();
  });
});
