/**
 * The HTTP server's history and suspension routes over the real server: `/api/revisions/<rev>`,
 * `/api/nodes/<node>`, and the POSTs that change state, which a page on another origin may never
 * reach. They go through the server's one route table, like every other route.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CourierError } from '../../controller/errors.js';
import { startHttpServer, type HttpServer, type SuspensionAction } from '../../controller/http/start-http-server.js';
import { createFakeDaemon } from './create-fake-daemon.js';

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(calls: { action: SuspensionAction; body: Record<string, unknown> }[] = []): Promise<HttpServer> {
  const daemon = createFakeDaemon();
  const server = await startHttpServer(
    daemon.options({
      getRevision: async (spec) => {
        if (spec !== 'main~1' && spec !== 'refs/nodes/edge-1') throw new CourierError('REVISION_NOT_FOUND', `revision "${spec}" not found`, { spec });
        return { revision: spec, files: [] };
      },
      getNode: async (name) => (name === 'edge-1' ? { node: 'edge-1', artifacts: [] } : undefined),
      onSuspension: async (action, body) => {
        calls.push({ action, body });
        if (body.revision === 'nope') throw new CourierError('REVISION_NOT_FOUND', 'revision "nope" not found', {});
        if (body.registry === 'invalid') throw new CourierError('REGISTRY_INVALID', 'registry is invalid', {});
        return { status: 200, body: { ok: action } };
      },
    }),
  );
  servers.push(server);
  return server;
}

describe('history and suspension routes', () => {
  it('serves a revision by any spec (URL-encoded) and 404s an unknown one', async () => {
    const server = await start();
    expect(await (await fetch(`${server.url}/api/revisions/main~1`)).json()).toEqual({ revision: 'main~1', files: [] });
    expect(await (await fetch(`${server.url}/api/revisions/${encodeURIComponent('refs/nodes/edge-1')}`)).json()).toMatchObject({ revision: 'refs/nodes/edge-1' });
    const missing = await fetch(`${server.url}/api/revisions/abcdef12`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'REVISION_NOT_FOUND' } });
    // the list route is unchanged
    expect(Array.isArray(await (await fetch(`${server.url}/api/revisions?limit=2`)).json())).toBe(true);
  });

  it('serves a node page and 404s an unknown node; other unknown paths stay 404, not the dashboard', async () => {
    const server = await start();
    expect(await (await fetch(`${server.url}/api/nodes/edge-1`)).json()).toEqual({ node: 'edge-1', artifacts: [] });
    expect((await fetch(`${server.url}/api/nodes/edge-9`)).status).toBe(404);
    expect((await fetch(`${server.url}/favicon.ico`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/nodes/edge-1/extra`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/nodes/edge-1`, { method: 'POST' })).status).toBe(405);
  });

  it('accepts suspend, resume and rollback from the page origin and from non-browser clients, never from another origin', async () => {
    const calls: { action: SuspensionAction; body: Record<string, unknown> }[] = [];
    const server = await start(calls);
    const host = new URL(server.url).host;
    for (const action of ['suspend', 'resume', 'rollback'] as const) {
      const foreign = await fetch(`${server.url}/api/${action}`, { method: 'POST', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '{}' });
      expect(foreign.status).toBe(403);
      const same = await fetch(`${server.url}/api/${action}`, { method: 'POST', headers: { origin: `http://${host}` }, body: JSON.stringify({ revision: 'main~1' }) });
      expect(same.status).toBe(200);
      expect(await same.json()).toEqual({ ok: action });
      expect((await fetch(`${server.url}/api/${action}`, { method: 'POST' })).status).toBe(200);
      expect((await fetch(`${server.url}/api/${action}`)).status).toBe(405);
    }
    expect(calls.map((c) => c.action)).toEqual(['suspend', 'suspend', 'resume', 'resume', 'rollback', 'rollback']);
  });

  it('maps errors to statuses and refuses a body that is not a JSON object', async () => {
    const server = await start();
    const post = (path: string, body: string) => fetch(`${server.url}${path}`, { method: 'POST', body });
    expect((await post('/api/rollback', JSON.stringify({ revision: 'nope' }))).status).toBe(404);
    const invalid = await post('/api/resume', JSON.stringify({ registry: 'invalid' }));
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { code: 'REGISTRY_INVALID' } });
    expect((await post('/api/suspend', '[1,2]')).status).toBe(400);
    expect((await post('/api/suspend', '{"reason": ')).status).toBe(400);
    expect((await post('/api/suspend', 'x'.repeat(70_000))).status).toBe(400);
  });
});
