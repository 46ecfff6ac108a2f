/**
 * The daemon's HTTP surface on node:http: `/healthz`, `/readyz`, `/metrics`, the status API, the
 * server-sent event stream and the dashboard page. It binds exactly the configured host (loopback
 * by default) and only ever serves what the daemon hands it: status, revisions and metrics, never
 * file contents, keys or registry documents.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CourierError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CourierMetrics } from './create-metrics.js';
import { createStatusStream } from './create-status-stream.js';
import { createRequestGuard, type Denial } from './guard-request.js';
import { DASHBOARD_CONTENT_SECURITY_POLICY, DASHBOARD_HTML } from './dashboard-page.js';
import { createHistoryRoutes } from './history-routes.js';
import { describeError, isLoopback, isSameOrigin, readBody, sendJson, sendText, type Route } from './http-io.js';
import type { StatusView } from '../status/build-status-view.js';

/** One commit of the store as `/api/revisions` serves it. */
export interface RevisionView {
  revision: string;
  /** Commit time (ISO). */
  time: string;
  /** What made the revision (`watch`, `cli`, `rollback`, ...). */
  trigger: string;
  /** Nodes whose artifacts changed in this revision. */
  nodes: string[];
}

/** A one-off command delegated to the daemon: `courier push` / `verify` / `plan --live` while the daemon holds the state. */
export interface SyncRequest {
  mode: 'push' | 'verify' | 'dry-run';
  /** Node names (all nodes when absent or empty). */
  nodes?: string[];
  role?: string;
}

/** Largest request body `POST /api/sync` reads. */
const MAX_SYNC_BODY = 64 * 1024;

/** What the server needs from the daemon. */
export interface HttpServerOptions {
  /** `host:port` (`[::1]:9470` for IPv6); port 0 picks a free port. */
  listen: string;
  metrics: CourierMetrics;
  getStatus: () => Promise<StatusView>;
  /** The newest `limit` revisions, newest first. */
  getRevisions: (limit: number) => Promise<RevisionView[]>;
  /** Readiness: a loaded registry and status, and (with leader election) a decided role. */
  isReady: () => { ready: boolean; reason?: string };
  /** Run push / verify / dry-run over the daemon's sessions for a local CLI; without it `POST /api/sync` is 404. */
  onSync?: (request: SyncRequest) => Promise<{ status: number; body: unknown }>;
  /** Ask for a reconcile now; without it `POST /api/reconcile` is 404. */
  onReconcile?: () => Promise<{ accepted: boolean; reason?: string }>;
  /** `GET /api/revisions/<rev>`: one revision with its per-file diffs (REVISION_NOT_FOUND → 404). */
  getRevision?: (spec: string) => Promise<unknown>;
  /** `GET /api/nodes/<node>`: the node's artifacts, oids, drift, errors and verified revisions; undefined → 404. */
  getNode?: (name: string) => Promise<unknown>;
  /** `POST /api/suspend`, `/api/resume`, `/api/rollback` (same-origin only); a CourierError's code picks the status. */
  onSuspension?: (action: SuspensionAction, body: Record<string, unknown>, client: string) => Promise<{ status: number; body: unknown }>;
  /** Register a listener called whenever the status changes; returns the unsubscribe call. */
  subscribe?: (listener: () => void) => () => void;
  /** Interval of the event stream's keep-alive comment (default 15 s). */
  keepAliveMs?: number;
  /** Where failures of getStatus, getRevisions and onReconcile are logged. */
  logger?: Logger;
  /** Bearer token every path but the probes (and, unless protectMetrics, /metrics) needs; unset = open. */
  token?: string;
  /** Require the token for /metrics too. */
  protectMetrics?: boolean;
  /** Server timeouts in ms (defaults: SERVER_TIMEOUTS); tests shorten them. */
  timeouts?: Partial<ServerTimeouts>;
}

/** Bounds that keep slow or idle clients (slowloris) from holding connections: Node's http.Server settings. */
export interface ServerTimeouts {
  /** Receive the request headers within this. */
  headersTimeout: number;
  /** Receive the whole request within this (a response, such as the event stream, may last longer). */
  requestTimeout: number;
  /** Close an idle keep-alive connection after this. */
  keepAliveTimeout: number;
  /** How often the server checks headersTimeout and requestTimeout. */
  checkInterval: number;
}

/** The daemon's server timeouts: its clients are probes, Prometheus, the CLI and one dashboard, all quick. */
export const SERVER_TIMEOUTS: ServerTimeouts = { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, checkInterval: 1_000 };

/** A running HTTP server. */
export interface HttpServer {
  /** Base URL, e.g. `http://127.0.0.1:9470`. */
  url: string;
  port: number;
  /** Stop listening, end the event streams and close every connection. */
  close(): Promise<void>;
}

/** The suspension actions the API offers. */
export type SuspensionAction = 'suspend' | 'resume' | 'rollback';

/** Largest `limit` `/api/revisions` accepts; the default when none is given. */
const MAX_REVISIONS = 200;
const DEFAULT_REVISIONS = 20;

/** Start the server and resolve once it listens. */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { host, port } = parseListen(options.listen);
  const logError = (err: unknown, route: string): void => options.logger?.error({ err, route }, 'http request failed');
  const stream = createStatusStream({
    getStatus: options.getStatus,
    subscribe: options.subscribe,
    keepAliveMs: options.keepAliveMs ?? 15_000,
    onError: (err) => logError(err, '/api/events'),
  });
  const routes = createRoutes(options, stream.add);
  const guard = createRequestGuard({ listenHost: host, token: options.token, protectMetrics: options.protectMetrics });
  const timeouts = { ...SERVER_TIMEOUTS, ...options.timeouts };

  const server = createServer({ connectionsCheckingInterval: timeouts.checkInterval, requestTimeout: timeouts.requestTimeout, headersTimeout: timeouts.headersTimeout, keepAliveTimeout: timeouts.keepAliveTimeout }, (req, res) => {
    void handleRequest(routes, guard, req, res).catch((err: unknown) => {
      logError(err, req.url ?? '');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, { error: describeError(err) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new CourierError('CONFIG_INVALID', `http.listen ${options.listen}: cannot listen: ${err.code ?? err.message}; choose another address or port`, { listen: options.listen }, { cause: err }));
    });
    server.listen({ host, port, exclusive: true }, () => resolve());
  }).catch((err: unknown) => {
    stream.close();
    throw err;
  });

  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stream.close();
        server.close((err) => (err ? reject(err) : resolve()));
        // idle keep-alive sockets would otherwise hold close() open for the client's timeout
        server.closeAllConnections();
      }),
  };
}

/** Split `host:port` (IPv6 in brackets); a malformed value is a config error. */
function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(listen);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) {
    throw new CourierError('CONFIG_INVALID', `http.listen: "${listen}" is not host:port (e.g. 127.0.0.1:9470, [::1]:9470, port 0 for any free port)`, { listen });
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

/** The route table. */
function createRoutes(options: HttpServerOptions, addStream: (res: ServerResponse) => void): Map<string, Route> {
  return new Map<string, Route>([
    ['/healthz', { GET: (_req, res) => sendText(res, 200, 'ok\n') }],
    [
      '/readyz',
      {
        GET: (_req, res) => {
          const state = options.isReady();
          if (state.ready) sendText(res, 200, 'ready\n');
          else sendText(res, 503, `not ready: ${state.reason ?? 'starting'}\n`);
        },
      },
    ],
    [
      '/metrics',
      {
        GET: async (_req, res) => {
          const text = await options.metrics.render();
          res.writeHead(200, { 'content-type': options.metrics.registry.contentType, 'cache-control': 'no-store' }).end(text);
        },
      },
    ],
    ['/api/status', { GET: async (_req, res) => sendJson(res, 200, await options.getStatus()) }],
    [
      '/api/revisions',
      {
        GET: async (_req, res, url) => {
          const limit = parseLimit(url.searchParams.get('limit'));
          if (limit === undefined) {
            sendJson(res, 400, { error: { code: 'USAGE', message: `limit must be an integer from 1 to ${MAX_REVISIONS}` } });
            return;
          }
          sendJson(res, 200, await options.getRevisions(limit));
        },
      },
    ],
    [
      '/api/reconcile',
      {
        POST: async (req, res) => {
          if (!options.onReconcile) {
            sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'reconcile is not available on this server' } });
            return;
          }
          // A page on another origin can POST to loopback without a preflight; only same-origin
          // pages (the dashboard) and non-browser clients (no Origin header) may start a reconcile.
          if (!isSameOrigin(req)) {
            sendJson(res, 403, { error: { code: 'FORBIDDEN', message: 'cross-origin requests cannot start a reconcile' } });
            return;
          }
          req.resume();
          const outcome = await options.onReconcile();
          if (outcome.accepted) sendJson(res, 202, { accepted: true });
          else sendJson(res, 409, { accepted: false, reason: outcome.reason ?? 'not accepted' });
        },
      },
    ],
    [
      '/api/sync',
      {
        POST: async (req, res) => {
          if (!options.onSync) {
            sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'delegated sync is not available on this server' } });
            return;
          }
          // Only a CLI on this machine delegates its command: never a browser, never another host.
          if (req.headers.origin !== undefined || !isLoopback(req.socket.remoteAddress)) {
            sendJson(res, 403, { error: { code: 'FORBIDDEN', message: 'delegated sync is for a courier CLI on the daemon host only' } });
            return;
          }
          const request = parseSyncRequest(await readBody(req, MAX_SYNC_BODY));
          if (!request) {
            sendJson(res, 400, { error: { code: 'USAGE', message: 'expected {"mode": "push"|"verify"|"dry-run", "nodes"?: [names], "role"?: role}' } });
            return;
          }
          const outcome = await options.onSync(request);
          sendJson(res, outcome.status, outcome.body);
        },
      },
    ],
    ['/api/events', { GET: (_req, res) => addStream(res) }],
    ...createHistoryRoutes(options),
    [
      '/',
      {
        GET: (_req, res) => {
          res
            .writeHead(200, {
              'content-type': 'text/html; charset=utf-8',
              'cache-control': 'no-store',
              'content-security-policy': DASHBOARD_CONTENT_SECURITY_POLICY,
              'x-content-type-options': 'nosniff',
              'referrer-policy': 'no-referrer',
            })
            .end(DASHBOARD_HTML);
        },
      },
    ],
  ]);
}

/** Dispatch one request: the guard first (403 / 401), then 404 for an unknown path, 405 (with Allow) for a wrong method; HEAD is GET without a body. */
async function handleRequest(routes: Map<string, Route>, guard: (req: IncomingMessage, pathname: string) => Denial | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://courier.invalid');
  const denial = guard(req, url.pathname);
  if (denial) {
    for (const [name, value] of Object.entries(denial.headers)) res.setHeader(name, value);
    sendJson(res, denial.status, { error: { code: denial.code, message: denial.message } });
    return;
  }
  // `/api/revisions/<rev>` and `/api/nodes/<node>`: a key ending in `/` serves every path below it
  const parent = url.pathname.slice(0, url.pathname.lastIndexOf('/') + 1);
  const route = routes.get(url.pathname) ?? (parent === '/' ? undefined : routes.get(parent));
  if (!route) {
    sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}` } });
    return;
  }
  const method = req.method === 'HEAD' && url.pathname !== '/api/events' ? 'GET' : req.method;
  const handler = method === 'GET' || method === 'POST' ? route[method] : undefined;
  if (!handler) {
    const allow = Object.keys(route).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
    res.setHeader('allow', allow.join(', '));
    sendJson(res, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method ?? '?'} ${url.pathname}: allowed ${allow.join(', ')}` } });
    return;
  }
  await handler(req, res, url);
}

/** `limit` from the query: default when absent, undefined when not an integer in range. */
function parseLimit(value: string | null): number | undefined {
  if (value === null || value === '') return DEFAULT_REVISIONS;
  if (!/^\d+$/.test(value)) return undefined;
  const limit = Number(value);
  return limit >= 1 && limit <= MAX_REVISIONS ? limit : undefined;
}

/** A valid SyncRequest from JSON text, or undefined. */
function parseSyncRequest(text: string): SyncRequest | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { mode, nodes, role } = value as Record<string, unknown>;
  if (mode !== 'push' && mode !== 'verify' && mode !== 'dry-run') return undefined;
  if (nodes !== undefined && !(Array.isArray(nodes) && nodes.every((n) => typeof n === 'string'))) return undefined;
  if (role !== undefined && typeof role !== 'string') return undefined;
  return { mode, ...(nodes ? { nodes: nodes as string[] } : {}), ...(role ? { role } : {}) };
}
