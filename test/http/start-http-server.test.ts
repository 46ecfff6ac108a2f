import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CourierError } from '../../controller/errors.js';
import { startHttpServer, type HttpServer } from '../../controller/http/start-http-server.js';
import { createFakeDaemon, DESIRED_REVISION, type FakeDaemon } from './create-fake-daemon.js';
import { openEventStream, type EventFrame, type EventStream } from './open-event-stream.js';

const servers: HttpServer[] = [];
const streams: EventStream[] = [];

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Start a server on a free loopback port over a fresh fake daemon. */
async function start(configure: (daemon: FakeDaemon) => Parameters<typeof startHttpServer>[0] = (d) => d.options()): Promise<{ daemon: FakeDaemon; server: HttpServer }> {
  const daemon = createFakeDaemon();
  const server = await startHttpServer(configure(daemon));
  servers.push(server);
  return { daemon, server };
}

/** A raw request (node:http, so any header can be set), bounded. */
function request(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no response within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

const isStatusEvent = (frame: EventFrame): frame is Extract<EventFrame, { type: 'event' }> => frame.type === 'event' && frame.event === 'status';

describe('startHttpServer', () => {
  it('answers /healthz with ok', async () => {
    const { server } = await start();
    const res = await request(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.body.trim()).toBe('ok');
  });

  it('answers /readyz with ready, or 503 and the reason while not ready', async () => {
    const { daemon, server } = await start();
    expect(await request(`${server.url}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });
    daemon.ready = { ready: false, reason: 'first reconcile not finished' };
    const res = await request(`${server.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.body).toContain('first reconcile not finished');
  });

  it('serves every courier metric with its labels in the Prometheus text format', async () => {
    const { daemon, server } = await start();
    const m = daemon.metrics;
    m.recordSync({ node: 'edge-1', role: 'vps', status: 'drifted', revision: DESIRED_REVISION, changed: ['traefik'], bytesSent: 512, durationMs: 300, attempts: 1 }, 'push');
    m.setNodeStatus({ node: 'edge-1', role: 'vps', status: 'active', last_sync: new Date().toISOString(), failures: 0, oids: {}, drift: [] });
    m.setRegistryValid(false);
    m.setRevision(DESIRED_REVISION);
    m.recordWatchEvent('kubernetes');
    m.recordReconcile('api');
    m.setLeader(true);

    const res = await request(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(m.registry.contentType);
    const lines = res.body.split('\n').filter((l) => !l.startsWith('#'));
    const expected = [
      'courier_node_status{node="edge-1",role="vps",status="active"} 1',
      'courier_node_status{node="edge-1",role="vps",status="pending_sync"} 0',
      'courier_node_status{node="edge-1",role="vps",status="error"} 0',
      'courier_sync_duration_seconds_count{mode="push",result="drifted"} 1',
      'courier_syncs_total{node="edge-1",mode="push",result="drifted"} 1',
      'courier_artifact_bytes_sent_total{node="edge-1"} 512',
      'courier_drift_events_total{node="edge-1"} 1',
      'courier_registry_valid 0',
      `courier_revision_info{revision="${DESIRED_REVISION}"} 1`,
      'courier_watch_events_total{source="kubernetes"} 1',
      'courier_reconciles_total{trigger="api"} 1',
      'courier_leader 1',
    ];
    for (const line of expected) expect(lines).toContain(line);
    expect(lines.some((l) => /^courier_node_last_sync_timestamp_seconds\{node="edge-1",role="vps"\} \d+(\.\d+)?$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('process_resident_memory_bytes '))).toBe(true);
  });

  it('serves the status view as JSON', async () => {
    const { daemon, server } = await start();
    const res = await request(`${server.url}/api/status`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(res.body)).toEqual(daemon.status);
  });

  it('serves the newest revisions up to the limit, 20 by default', async () => {
    const { daemon, server } = await start();
    const res = await request(`${server.url}/api/revisions?limit=2`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual(daemon.revisions.slice(0, 2));
    await request(`${server.url}/api/revisions`);
    expect(daemon.revisionLimits).toEqual([2, 20]);
  });

  it('refuses a limit that is not an integer from 1 to 200', async () => {
    const { daemon, server } = await start();
    for (const limit of ['0', 'abc', '-1', '201', '1.5']) {
      expect((await request(`${server.url}/api/revisions?limit=${limit}`)).status).toBe(400);
    }
    expect(daemon.revisionLimits).toEqual([]);
  });

  it('asks the daemon for a reconcile on POST /api/reconcile and answers 202', async () => {
    const { daemon, server } = await start();
    const res = await request(`${server.url}/api/reconcile`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(JSON.parse(res.body)).toEqual({ accepted: true });
    expect(daemon.reconcileCalls).toBe(1);
  });

  it('answers 409 with the reason when the daemon declines a reconcile', async () => {
    const { daemon, server } = await start();
    daemon.reconcileAnswer = { accepted: false, reason: 'not the leader' };
    const res = await request(`${server.url}/api/reconcile`, { method: 'POST' });
    expect(res.status).toBe(409);
    expect(JSON.parse(res.body)).toEqual({ accepted: false, reason: 'not the leader' });
  });

  it('answers 404 on POST /api/reconcile when the daemon offers no reconcile', async () => {
    const { server } = await start((d) => d.options({ onReconcile: undefined }));
    expect((await request(`${server.url}/api/reconcile`, { method: 'POST' })).status).toBe(404);
  });

  it('refuses a reconcile requested by a page on another origin', async () => {
    const { daemon, server } = await start();
    const res = await request(`${server.url}/api/reconcile`, { method: 'POST', headers: { origin: 'http://evil.example' } });
    expect(res.status).toBe(403);
    expect(daemon.reconcileCalls).toBe(0);
    const same = await request(`${server.url}/api/reconcile`, { method: 'POST', headers: { origin: server.url } });
    expect(same.status).toBe(202);
  });

  it('answers 404 for an unknown path and 405 with Allow for a wrong method', async () => {
    const { server } = await start();
    expect((await request(`${server.url}/nope`)).status).toBe(404);
    const post = await request(`${server.url}/healthz`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    const get = await request(`${server.url}/api/reconcile`);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('answers HEAD like GET without a body', async () => {
    const { server } = await start();
    const res = await request(`${server.url}/healthz`, { method: 'HEAD' });
    expect(res).toMatchObject({ status: 200, body: '' });
  });

  it('answers 500 with the code of a CourierError and hides any other error', async () => {
    let failure: Error = new CourierError('STORE_ERROR', 'store: cannot read main');
    const { server } = await start((d) => d.options({ getStatus: async () => Promise.reject(failure) }));
    const courier = await request(`${server.url}/api/status`);
    expect(courier.status).toBe(500);
    expect(JSON.parse(courier.body).error.code).toBe('STORE_ERROR');
    failure = new Error('EACCES: /var/lib/courier/secret.key');
    const other = await request(`${server.url}/api/status`);
    expect(other.status).toBe(500);
    expect(other.body).not.toContain('secret.key');
  });

  it('streams the status once on connect and again when the daemon signals a change', async () => {
    const { daemon, server } = await start();
    const stream = await openEventStream(`${server.url}/api/events`);
    streams.push(stream);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const first = await stream.next(isStatusEvent);
    expect(first.type === 'event' && JSON.parse(first.data)).toEqual(daemon.status);

    daemon.updateNode('edge-1', { status: 'active', failures: 0, last_error: null });
    const update = await stream.next(isStatusEvent);
    const view = update.type === 'event' ? JSON.parse(update.data) : undefined;
    expect(view.nodes.find((n: { node: string }) => n.node === 'edge-1')).toMatchObject({ node: 'edge-1', status: 'active' });
  });

  it('sends a keep-alive comment on an idle event stream', async () => {
    const { server } = await start((d) => d.options({ keepAliveMs: 50 }));
    const stream = await openEventStream(`${server.url}/api/events`);
    streams.push(stream);
    expect(await stream.next((f) => f.type === 'comment')).toEqual({ type: 'comment', text: 'keep-alive' });
  });

  it('ends open event streams and unsubscribes on close', async () => {
    const daemon = createFakeDaemon();
    const server = await startHttpServer(daemon.options());
    const stream = await openEventStream(`${server.url}/api/events`);
    streams.push(stream);
    await stream.next(isStatusEvent);
    expect(daemon.listeners.size).toBe(1);
    await server.close();
    expect(daemon.listeners.size).toBe(0);
    await expect(fetchWithin(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('binds exactly the given host', async () => {
    const { server } = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    await expect(fetchWithin(`http://127.0.0.2:${server.port}/healthz`)).rejects.toThrow();
  });

  it('refuses a malformed listen address and a port in use with CONFIG_INVALID', async () => {
    const daemon = createFakeDaemon();
    await expect(startHttpServer(daemon.options({ listen: 'localhost' }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(startHttpServer(daemon.options({ listen: '127.0.0.1:70000' }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    const { server } = await start();
    await expect(startHttpServer(daemon.options({ listen: `127.0.0.1:${server.port}` }))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(daemon.listeners.size).toBe(0);
  });

  it('serves the dashboard as one self-contained page under a strict Content-Security-Policy', async () => {
    const { server } = await start();
    const res = await request(`${server.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'/);
    expect(res.body).toContain('<title>courier</title>');
    expect(res.body).not.toMatch(/\b(src|href)=/);
    expect(res.body).not.toContain('innerHTML');
  });
});

/** A GET that must fail (refused or closed) within 3 s; resolves only if something answered. */
async function fetchWithin(url: string): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  return res.status;
}
