import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { isCourierError, type CourierError } from '../errors.js';
import { startKubeApiServer, type KubeApiServer } from '../../test/support/kube-api-server.js';
import { createKubernetesSource, type KubernetesSourceOptions } from './kubernetes-source.js';
import type { SourceWatcher } from './source-watcher.js';

const NS = 'kube-system';
const POLL = { timeout: 15_000, interval: 20 };

let server: KubeApiServer;
let sources: SourceWatcher[];

beforeEach(async () => {
  server = await startKubeApiServer();
  sources = [];
});

afterEach(async () => {
  await Promise.all(sources.map((s) => s.close()));
  await server.stop();
});

function kubeConfigFor(s: KubeApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(s.kubeconfig());
  return kc;
}

function makeSource(options: Partial<KubernetesSourceOptions> = {}): SourceWatcher {
  const source = createKubernetesSource({ namespace: NS, watchdogMs: 60_000, kubeConfig: kubeConfigFor(server), backoffMs: 20, ...options });
  sources.push(source);
  return source;
}

/** Start watching and record every onChange trigger and onError. */
async function startRecording(source: SourceWatcher): Promise<{ triggers: string[]; errors: CourierError[] }> {
  const triggers: string[] = [];
  const errors: CourierError[] = [];
  await source.start(
    (t) => triggers.push(t),
    (e) => errors.push(e),
  );
  return { triggers, errors };
}

function seedRegistry(): void {
  server.setConfigMap(NS, 'service-registry', { 'services.json': '{"immich":{"subdomain":"photos","ip":"100.64.0.10","port":80,"public":true}}' });
  server.setConfigMap(NS, 'domain-registry', { 'domains.json': '{"domains":{},"vps_nodes":[]}', 'routing.json': '{}', notes: 'unrelated key' });
  server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' });
}

const watchRequests = () => server.requests.filter((r) => r.path.endsWith('/configmaps') && r.query.watch === 'true').length;
const listRequests = () => server.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/configmaps') && r.query.watch === undefined).length;

describe('kubernetes source: read', () => {
  it('reads the documents that exist and leaves missing ConfigMaps and keys absent', async () => {
    const rv = (object: unknown) => (object as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const services = rv(server.setConfigMap(NS, 'service-registry', { 'services.json': '{}' }));
    const domains = rv(server.setConfigMap(NS, 'domain-registry', { 'routing.json': '{"a":1}' }));
    const cluster = rv(server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' }));
    server.setConfigMap('other', 'sync-controller-registry', { 'registry.json': '{}' });
    const snapshot = await makeSource().read();
    // each document carries the resourceVersion of its ConfigMap in the very list it was read from (for commit triggers)
    expect(snapshot.documents).toEqual({
      'services.json': { name: 'services.json', origin: 'configmap/service-registry/services.json', format: 'json', text: '{}', version: `configmap service-registry resourceVersion ${services}` },
      'routing.json': { name: 'routing.json', origin: 'configmap/domain-registry/routing.json', format: 'json', text: '{"a":1}', version: `configmap domain-registry resourceVersion ${domains}` },
      'cluster-domain': { name: 'cluster-domain', origin: 'configmap/cluster-info/cluster-domain', format: 'text', text: 'mycloud', version: `configmap cluster-info resourceVersion ${cluster}` },
    });
    expect(snapshot.trigger).toMatch(/^configmaps in kube-system at resourceVersion \d+$/);
  });

  it('reads an empty namespace as a registry with no documents', async () => {
    expect((await makeSource().read()).documents).toEqual({});
  });

  it('reports an unreachable API server as retryable SOURCE_UNAVAILABLE', async () => {
    const gone = await startKubeApiServer();
    const kubeConfig = kubeConfigFor(gone);
    await gone.stop();
    const error = await makeSource({ kubeConfig })
      .read()
      .catch((err: unknown) => err);
    expect(isCourierError(error, 'SOURCE_UNAVAILABLE')).toBe(true);
    expect((error as CourierError).retryable).toBe(true);
  });

  it('reports a kubeconfig that cannot be loaded as CONFIG_INVALID, not as an unavailable source', async () => {
    const source = createKubernetesSource({ namespace: NS, watchdogMs: 60_000, kubeconfig: '/nonexistent/kubeconfig' });
    const error = await source.read().catch((err: unknown) => err);
    expect(isCourierError(error, 'CONFIG_INVALID')).toBe(true);
    await expect(source.start(() => undefined)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('reports a Forbidden list as SOURCE_UNAVAILABLE that a retry cannot fix', async () => {
    server.failNext('GET', /\/configmaps$/, 403);
    const error = (await makeSource()
      .read()
      .catch((err: unknown) => err)) as CourierError;
    expect(error.code).toBe('SOURCE_UNAVAILABLE');
    expect(error.retryable).toBe(false);
    expect(error.data.status).toBe(403);
  });
});

describe('kubernetes source: watch', () => {
  it('fires onChange once, naming the ConfigMap and its resourceVersion, and the next read carries that trigger', async () => {
    seedRegistry();
    const source = makeSource();
    await source.read();
    const { triggers } = await startRecording(source);
    const rv = server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'othercloud' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap cluster-info resourceVersion ${rv}`]);
    const snapshot = await source.read();
    expect(snapshot.trigger).toBe(`configmap cluster-info resourceVersion ${rv}`);
    expect(snapshot.documents['cluster-domain']?.text).toBe('othercloud');
    expect((await source.read()).trigger).toMatch(/^configmaps in kube-system/);
  });

  it('does not fire for a MODIFIED with identical registry data, an unrelated key or an unrelated ConfigMap', async () => {
    seedRegistry();
    const { triggers } = await startRecording(makeSource());
    server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'mycloud' }, { labels: { touched: 'yes' } });
    server.setConfigMap(NS, 'domain-registry', { 'domains.json': '{"domains":{},"vps_nodes":[]}', 'routing.json': '{}', notes: 'edited' });
    server.setConfigMap(NS, 'coredns', { Corefile: '.:53 {}' });
    // Events arrive in order on one stream: when this change is seen, the ones before it were too.
    const rv = server.setConfigMap(NS, 'service-registry', { 'services.json': '{}' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toContain(`configmap service-registry resourceVersion ${rv}`);
    expect(triggers).toEqual([`configmap service-registry resourceVersion ${rv}`]);
  });

  it('fires when a registry ConfigMap is created or deleted', async () => {
    const { triggers } = await startRecording(makeSource());
    const created = server.setConfigMap(NS, 'sync-controller-registry', { 'registry.json': '{"vps_nodes":[]}' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap sync-controller-registry resourceVersion ${created}`]);
    server.deleteConfigMap(NS, 'sync-controller-registry');
    await expect.poll(() => triggers.length, POLL).toBe(2);
    expect(triggers[1]).toMatch(/^configmap sync-controller-registry deleted at resourceVersion \d+$/);
  });

  it('reports a change made between read() and start()', async () => {
    seedRegistry();
    const source = makeSource();
    await source.read();
    const rv = server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'moved' }).metadata?.resourceVersion;
    const { triggers } = await startRecording(source);
    expect(triggers).toEqual([`configmap cluster-info resourceVersion ${rv}`]);
  });

  it('recovers when the server closes the watch streams, and a later change still fires', async () => {
    seedRegistry();
    const { triggers, errors } = await startRecording(makeSource());
    expect(watchRequests()).toBe(1);
    server.closeWatches();
    await expect.poll(watchRequests, POLL).toBe(2);
    await expect.poll(() => server.openWatches(), POLL).toBe(1);
    const rv = server.setConfigMap(NS, 'service-registry', { 'services.json': '{"x":{}}' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap service-registry resourceVersion ${rv}`]);
    expect(errors).toEqual([]);
  });

  it('re-lists after 410 Expired and reports the change it missed', async () => {
    seedRegistry();
    const { triggers, errors } = await startRecording(makeSource());
    expect(listRequests()).toBe(1);
    // The change happens while the watch is deaf, then history is compacted: only a re-list can see it.
    server.stallWatches();
    const rv = server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'missed' }).metadata?.resourceVersion;
    server.expireHistory();
    server.closeWatches();
    await expect.poll(() => triggers, POLL).toEqual([`configmap cluster-info resourceVersion ${rv}`]);
    // client-node handled the 410 itself (ERROR event, then a re-list): no error and no restart.
    expect(listRequests()).toBe(2);
    expect(errors).toEqual([]);
    const later = server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'later' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap cluster-info resourceVersion ${rv}`, `configmap cluster-info resourceVersion ${later}`]);
  });

  it('reports a failed list through onError and recovers with backoff', async () => {
    seedRegistry();
    server.failNext('GET', /\/configmaps$/, 500);
    const source = makeSource();
    const { triggers, errors } = await startRecording(source);
    expect(errors.map((e) => [e.code, e.retryable, e.data.status])).toEqual([['SOURCE_UNAVAILABLE', true, 500]]);
    await expect.poll(() => server.openWatches(), POLL).toBe(1);
    const rv = server.setConfigMap(NS, 'service-registry', { 'services.json': '{"after":{}}' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap service-registry resourceVersion ${rv}`]);
  });

  it('keeps retrying repeated failures, with the backoff capped by maxBackoffMs', async () => {
    seedRegistry();
    for (let i = 0; i < 3; i++) server.failNext('GET', /\/configmaps$/, 500);
    // A first delay of a minute would outlast the test; the cap keeps every delay at 50 ms.
    const { triggers, errors } = await startRecording(makeSource({ backoffMs: 60_000, maxBackoffMs: 50 }));
    await expect.poll(() => server.openWatches(), POLL).toBe(1);
    expect(errors.map((e) => e.data.status)).toEqual([500, 500, 500]);
    const rv = server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'y' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap cluster-info resourceVersion ${rv}`]);
  });

  it('reports a failed watch through onError and recovers with backoff', async () => {
    seedRegistry();
    const { triggers, errors } = await startRecording(makeSource());
    server.failNext('GET', /\/configmaps\?watch=true/, 503);
    server.closeWatches();
    await expect.poll(() => errors.map((e) => e.data.status), POLL).toEqual([503]);
    await expect.poll(() => server.openWatches(), POLL).toBe(1);
    const rv = server.setConfigMap(NS, 'cluster-info', { 'cluster-domain': 'x' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap cluster-info resourceVersion ${rv}`]);
  });

  it('restarts a watch that went silent (watchdog) and picks up the change it swallowed', async () => {
    seedRegistry();
    const { triggers, errors } = await startRecording(makeSource({ watchdogMs: 300 }));
    // A half-open connection: the stream stays open but nothing arrives.
    server.stallWatches();
    const rv = server.setConfigMap(NS, 'service-registry', { 'services.json': '{"swallowed":{}}' }).metadata?.resourceVersion;
    await expect.poll(() => triggers, POLL).toEqual([`configmap service-registry resourceVersion ${rv}`]);
    expect(listRequests()).toBeGreaterThanOrEqual(2);
    expect(errors).toEqual([]);
  });

  it('asks for bookmarks, which count as activity for the watchdog', async () => {
    seedRegistry();
    await startRecording(makeSource());
    expect(server.requests.find((r) => r.query.watch === 'true')?.query.allowWatchBookmarks).toBe('true');
  });

  it('closes its watch on close()', async () => {
    seedRegistry();
    const source = makeSource();
    await startRecording(source);
    expect(server.openWatches()).toBe(1);
    await source.close();
    await expect.poll(() => server.openWatches(), POLL).toBe(0);
    await source.close();
  });
});
