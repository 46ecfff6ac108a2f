/**
 * One-off commands while a daemon holds the state: `courier push`, `verify` and `plan --live` ask
 * the running daemon (its local API, `<state>/daemon.json`) to run the exchange over its warm
 * sessions, and print its reports exactly as they would their own. A lock held by anything else
 * stays LOCKED.
 */
import { CourierError, isCourierError } from '../errors.js';
import type { Config } from '../config/load-config.js';
import { readDaemonEndpoint } from '../daemon/daemon-endpoint.js';
import type { SyncRequest } from '../http/start-http-server.js';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import { readHttpToken } from '../http/read-http-token.js';
import { withStateLock } from '../status/state-lock.js';

/** What the daemon answered. */
export interface DelegatedSync {
  revision: string;
  reports: NodeSyncReport[];
}

/** Run `own` under the state lock; when a running daemon holds it, ask the daemon with `request` instead. */
export async function withLockOrDaemon<T>(
  config: Config,
  command: string,
  own: () => Promise<T>,
  delegated: (ask: () => Promise<DelegatedSync>) => Promise<T>,
  request: SyncRequest,
): Promise<T> {
  try {
    return await withStateLock(config.state.lockFile, command, own);
  } catch (err) {
    if (!isCourierError(err, 'LOCKED')) throw err;
    const holder = (err.data as { holder?: { pid?: number; command?: string } }).holder;
    const endpoint = await readDaemonEndpoint(config.state.dir);
    if (!holder || holder.command !== 'courier daemon' || !endpoint || endpoint.pid !== holder.pid) throw err;
    return delegated(() => askDaemon(endpoint.url, request, config));
  }
}

/** POST the request to the daemon's `/api/sync`; its error answers become the same CourierErrors (and exit codes) a local run gives. */
export async function askDaemon(url: string, request: SyncRequest, config: Config): Promise<DelegatedSync> {
  let response: Response;
  try {
    response = await fetch(new URL('/api/sync', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(await authorization(config)) },
      body: JSON.stringify(request),
    });
  } catch (err) {
    throw new CourierError('LOCKED', `a daemon holds ${config.state.dir} but its API at ${url} did not answer (${(err as Error).message}); wait for it or stop it`, { url }, { cause: err });
  }
  const body = (await response.json().catch(() => ({}))) as Partial<DelegatedSync> & { error?: { code?: string; message?: string } };
  if (!response.ok || !Array.isArray(body.reports)) {
    const code = body.error?.code && body.error.code in CODES ? (body.error.code as keyof typeof CODES) : 'LOCKED';
    throw new CourierError(code, `the running daemon (${url}) answered: ${body.error?.message ?? `HTTP ${response.status}`}`, { url, status: response.status });
  }
  return { revision: body.revision ?? '', reports: body.reports };
}

const CODES = { LOCKED: 1, NODE_NOT_FOUND: 1, REGISTRY_INVALID: 1, REVISION_NOT_FOUND: 1, USAGE: 1 } as const;

/** The bearer token header when the config names one (http.tokenFile). */
async function authorization(config: Config): Promise<Record<string, string>> {
  const token = await readHttpToken(config.http);
  return token ? { authorization: `Bearer ${token}` } : {};
}
