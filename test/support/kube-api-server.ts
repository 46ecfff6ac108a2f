/**
 * A wire-faithful Kubernetes API test server on 127.0.0.1 (plain HTTP) for the real
 * `@kubernetes/client-node`: ConfigMaps (core/v1) and Leases (coordination.k8s.io/v1) with list,
 * get, create, replace, patch, delete and chunked JSON-lines watches, Status objects for errors, a
 * global resourceVersion, 410 Expired for a watch from compacted history, and MicroTime checks on
 * Lease times. Test controls inject failures, close or stall watches, expire history and partition
 * a client (by bearer token) to simulate a dead leader.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KUBE_RESOURCES, KubeApiError, KubeApiStore, parseNameSelector, type KubeObject, type KubeResource, type KubeWatchEvent } from './kube-api-store.js';

/** One request the server received. */
export interface KubeApiRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The bearer token sent, which tells clients (kubeconfig({ token })) apart. */
  token?: string;
}

/** The running server and its test controls. */
export interface KubeApiServer {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** Every request received, in order. */
  requests: KubeApiRequest[];
  /** A kubeconfig (YAML) pointing at this server; `token` sets the bearer token the client sends. */
  kubeconfig(options?: { token?: string; namespace?: string }): string;
  /** Create or replace a ConfigMap's data (optionally labels/annotations); an identical object is a no-op, as in the real API. */
  setConfigMap(namespace: string, name: string, data: Record<string, string>, metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }): KubeObject;
  /** Delete a ConfigMap if it exists. */
  deleteConfigMap(namespace: string, name: string): void;
  /** The stored ConfigMap, or undefined. */
  getConfigMap(namespace: string, name: string): KubeObject | undefined;
  /** The stored Lease, or undefined. */
  getLease(namespace: string, name: string): KubeObject | undefined;
  /** End every open watch stream cleanly (as the API server does at its watch timeout). */
  closeWatches(): void;
  /** Open watch streams stop receiving anything, without closing (a half-open connection); new watches work. */
  stallWatches(): void;
  /** Send a BOOKMARK on every open watch that asked for bookmarks. */
  sendBookmarks(): void;
  /** Drop the event history: a watch from any resourceVersion handed out so far gets 410 Expired. */
  expireHistory(): void;
  /** The next request with this method whose `path?query` matches `pathRegex` gets `status` (a Status object). */
  failNext(method: string, pathRegex: RegExp, status: number): void;
  /** Requests carrying this bearer token hang until `heal` (a network partition of that client). */
  partition(token: string): void;
  /** End a partition. */
  heal(token: string): void;
  /** Number of open watch streams. */
  openWatches(): number;
  /** Close every connection and the server. */
  stop(): Promise<void>;
}

interface OpenWatch {
  res: ServerResponse;
  bookmarks: boolean;
  stalled: boolean;
  resource: KubeResource;
  remove: () => void;
}

const ROUTE = /^\/(?:api\/v1|apis\/coordination\.k8s\.io\/v1)\/namespaces\/([^/]+)\/(configmaps|leases)(?:\/([^/]+))?$/;

/** Start the server on 127.0.0.1 with an ephemeral port. */
export async function startKubeApiServer(options: { historyLimit?: number } = {}): Promise<KubeApiServer> {
  const store = new KubeApiStore(options.historyLimit);
  const requests: KubeApiRequest[] = [];
  const failures: { method: string; pathRegex: RegExp; status: number }[] = [];
  const watches = new Set<OpenWatch>();
  const partitioned = new Set<string>();
  const parked: { token: string; release: () => void }[] = [];

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      const apiErr = err instanceof KubeApiError ? err : new KubeApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
      if (!res.headersSent) sendJson(res, apiErr.code, apiErr.toStatus());
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const method = req.method ?? 'GET';
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    requests.push({ method, path: url.pathname, query, token });
    const body = await readBody(req);

    if (token !== undefined && partitioned.has(token)) {
      // A partition: the request never gets an answer until healed; then the connection just drops.
      await new Promise<void>((release) => parked.push({ token, release }));
      res.destroy();
      return;
    }

    const target = `${url.pathname}${url.search}`;
    const failure = failures.findIndex((f) => f.method === method && f.pathRegex.test(target));
    if (failure !== -1) {
      const { status } = failures.splice(failure, 1)[0]!;
      throw new KubeApiError(status, reasonFor(status), `injected failure ${status} for ${method} ${target}`);
    }

    const m = ROUTE.exec(url.pathname);
    const resource = m ? KUBE_RESOURCES[m[2] as KubeResource['plural']] : undefined;
    if (!m || !resource || (resource.group === '' ? !url.pathname.startsWith('/api/v1/') : !url.pathname.startsWith(`/apis/${resource.apiVersion}/`))) {
      throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const namespace = decodeURIComponent(m[1]!);
    const name = m[3] === undefined ? undefined : decodeURIComponent(m[3]);

    if (name === undefined && method === 'GET' && (query.watch === 'true' || query.watch === '1')) {
      openWatch(res, resource, namespace, query);
      return;
    }
    if (name === undefined && method === 'GET') {
      const items = store.list(resource, namespace, query.fieldSelector).map(({ kind: _k, apiVersion: _a, ...item }) => item);
      sendJson(res, 200, { kind: `${resource.kind}List`, apiVersion: resource.apiVersion, metadata: { resourceVersion: store.currentResourceVersion() }, items });
      return;
    }
    if (name === undefined && method === 'POST') {
      sendJson(res, 201, store.create(resource, namespace, parseJson(body) as KubeObject));
      return;
    }
    if (name === undefined) throw new KubeApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    switch (method) {
      case 'GET': {
        const obj = store.get(resource, namespace, name);
        if (obj === undefined) {
          const group = resource.group ? `.${resource.group}` : '';
          throw new KubeApiError(404, 'NotFound', `${resource.plural}${group} "${name}" not found`, { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural });
        }
        sendJson(res, 200, obj);
        return;
      }
      case 'PUT':
        sendJson(res, 200, store.replace(resource, namespace, name, parseJson(body) as KubeObject));
        return;
      case 'PATCH':
        sendJson(res, 200, store.patch(resource, namespace, name, req.headers['content-type'] ?? '', parseJson(body)));
        return;
      case 'DELETE': {
        const gone = store.delete(resource, namespace, name);
        sendJson(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, ...(resource.group ? { group: resource.group } : {}), kind: resource.plural, uid: gone.metadata?.uid },
        });
        return;
      }
      default:
        throw new KubeApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
  }

  function openWatch(res: ServerResponse, resource: KubeResource, namespace: string, query: Record<string, string>): void {
    const onlyName = parseNameSelector(query.fieldSelector);
    let backlog: KubeWatchEvent[];
    try {
      backlog = store.eventsSince(resource, namespace, query.resourceVersion);
    } catch (err) {
      if (!(err instanceof KubeApiError) || err.code !== 410) throw err;
      // The real API server answers 200 and reports the expiry as an ERROR event, then ends the stream.
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: err.toStatus() })}\n`);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const watch: OpenWatch = {
      res,
      resource,
      bookmarks: query.allowWatchBookmarks === 'true' || query.allowWatchBookmarks === '1',
      stalled: false,
      remove: () => undefined,
    };
    const send = (event: KubeWatchEvent) => {
      if (onlyName !== undefined && event.object.metadata?.name !== onlyName) return;
      if (!watch.stalled && !res.writableEnded) res.write(`${JSON.stringify(event)}\n`);
    };
    for (const event of backlog) send(event);
    const removeWatcher = store.addWatcher({ resource, namespace, send });
    const timeout = query.timeoutSeconds ? setTimeout(() => res.end(), Number(query.timeoutSeconds) * 1000) : undefined;
    watch.remove = () => {
      removeWatcher();
      if (timeout) clearTimeout(timeout);
      watches.delete(watch);
    };
    watches.add(watch);
    res.on('close', () => watch.remove());
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const cm = KUBE_RESOURCES.configmaps;

  return {
    url,
    requests,
    kubeconfig: ({ token = 'courier-test', namespace = 'kube-system' } = {}) =>
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: courier-test',
        '    cluster:',
        `      server: ${url}`,
        // client-node refuses http:// unless TLS verification is explicitly skipped.
        '      insecure-skip-tls-verify: true',
        'users:',
        '  - name: courier-test',
        '    user:',
        `      token: ${JSON.stringify(token)}`,
        'contexts:',
        '  - name: courier-test',
        '    context:',
        '      cluster: courier-test',
        '      user: courier-test',
        `      namespace: ${namespace}`,
        'current-context: courier-test',
        '',
      ].join('\n'),
    setConfigMap: (namespace, name, data, metadata = {}) => {
      const existing = store.get(cm, namespace, name);
      const body: KubeObject = { metadata: { name, ...(metadata.labels ? { labels: metadata.labels } : {}), ...(metadata.annotations ? { annotations: metadata.annotations } : {}) }, data };
      if (existing === undefined) return store.create(cm, namespace, body);
      return store.replace(cm, namespace, name, { ...existing, ...body, metadata: { ...existing.metadata, ...body.metadata } });
    },
    deleteConfigMap: (namespace, name) => {
      if (store.get(cm, namespace, name) !== undefined) store.delete(cm, namespace, name);
    },
    getConfigMap: (namespace, name) => store.get(cm, namespace, name),
    getLease: (namespace, name) => store.get(KUBE_RESOURCES.leases, namespace, name),
    closeWatches: () => {
      for (const w of [...watches]) {
        w.remove();
        w.res.end();
      }
    },
    stallWatches: () => {
      for (const w of watches) w.stalled = true;
    },
    sendBookmarks: () => {
      for (const w of watches) {
        if (!w.bookmarks || w.stalled) continue;
        const object = { kind: w.resource.kind, apiVersion: w.resource.apiVersion, metadata: { resourceVersion: store.currentResourceVersion(), creationTimestamp: null } };
        w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object })}\n`);
      }
    },
    expireHistory: () => store.expireHistory(),
    failNext: (method, pathRegex, status) => {
      failures.push({ method: method.toUpperCase(), pathRegex, status });
    },
    partition: (token) => {
      partitioned.add(token);
    },
    heal: (token) => {
      partitioned.delete(token);
      for (const p of parked.filter((x) => x.token === token)) {
        parked.splice(parked.indexOf(p), 1);
        p.release();
      }
    },
    openWatches: () => watches.size,
    stop: async () => {
      for (const p of parked.splice(0)) p.release();
      for (const w of [...watches]) {
        w.remove();
        w.res.destroy();
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reasonFor(status: number): string {
  const reasons: Record<number, string> = {
    400: 'BadRequest',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'NotFound',
    409: 'Conflict',
    410: 'Expired',
    422: 'Invalid',
    429: 'TooManyRequests',
    500: 'InternalError',
    503: 'ServiceUnavailable',
    504: 'Timeout',
  };
  return reasons[status] ?? 'Unknown';
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new KubeApiError(400, 'BadRequest', `the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
