/**
 * The daemon's history and suspension routes: `GET /api/revisions/<rev>` (a revision with its
 * per-file diffs), `GET /api/nodes/<node>` (its page), and `POST /api/suspend`, `/api/resume`,
 * `/api/rollback` (same-origin only; the token guard runs before any route).
 */
import { isCourierError } from '../errors.js';
import { describeError, isSameOrigin, readJsonBody, sendJson, type Route } from './http-io.js';
import type { HttpServerOptions } from './start-http-server.js';

/** Routes of history and suspension: revision and node pages, suspend / resume / rollback. */
export function createHistoryRoutes(options: HttpServerOptions): [string, Route][] {
  const routes: [string, Route][] = [];
  const lastSegment = (url: URL) => decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1));
  if (options.getRevision) {
    const getRevision = options.getRevision;
    routes.push([
      '/api/revisions/',
      {
        GET: async (_req, res, url) => {
          try {
            sendJson(res, 200, await getRevision(lastSegment(url)));
          } catch (err) {
            if (!isCourierError(err, 'REVISION_NOT_FOUND')) throw err;
            sendJson(res, 404, { error: describeError(err) });
          }
        },
      },
    ]);
  }
  if (options.getNode) {
    const getNode = options.getNode;
    routes.push([
      '/api/nodes/',
      {
        GET: async (_req, res, url) => {
          const name = lastSegment(url);
          const view = await getNode(name);
          if (view === undefined) sendJson(res, 404, { error: { code: 'NODE_NOT_FOUND', message: `no node ${name} in the desired revision` } });
          else sendJson(res, 200, view);
        },
      },
    ]);
  }
  if (options.onSuspension) {
    const act = options.onSuspension;
    for (const action of ['suspend', 'resume', 'rollback'] as const) {
      routes.push([
        `/api/${action}`,
        {
          POST: async (req, res) => {
            // as for reconcile: a page on another origin may POST to loopback without a preflight
            if (!isSameOrigin(req)) {
              sendJson(res, 403, { error: { code: 'FORBIDDEN', message: `cross-origin requests cannot ${action}` } });
              return;
            }
            const body = await readJsonBody(req);
            if (body === undefined) {
              sendJson(res, 400, { error: { code: 'USAGE', message: 'the request body must be a JSON object (at most 64 KiB)' } });
              return;
            }
            try {
              const outcome = await act(action, body, req.socket.remoteAddress ?? 'unknown');
              sendJson(res, outcome.status, outcome.body);
            } catch (err) {
              if (!isCourierError(err)) throw err;
              sendJson(res, err.exitCode === 2 ? (err.code === 'REVISION_NOT_FOUND' || err.code === 'NODE_NOT_FOUND' ? 404 : 400) : 409, { error: describeError(err) });
            }
          },
        },
      ]);
    }
  }
  return routes;
}
