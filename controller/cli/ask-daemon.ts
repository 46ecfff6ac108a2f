/**
 * Asking the running daemon to act. A command that finds the state lock held by `courier daemon`
 * (or, with leader election, a daemon answering on this host) sends its request to the daemon's
 * local HTTP API (found through `<state.dir>/daemon.json`, with the bearer token from
 * `http.tokenFile`) instead of failing with LOCKED: `push`, `verify` and `plan --live` run over the
 * daemon's warm sessions and print its reports as they would their own; `rollback`, `suspend` and
 * `resume` act on the state it holds. A lock held by anything else stays LOCKED.
 */
import type { Config } from '../config/load-config.js';
import { CourierError, ERROR_CODES, isCourierError, type ErrorCode } from '../errors.js';
import { readDaemonEndpoint } from '../daemon/daemon-endpoint.js';
import type { SyncRequest } from '../http/start-http-server.js';
import { readHttpToken } from '../http/read-http-token.js';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import { acquireStateLock, withStateLock, type StateLock } from '../status/state-lock.js';

/** The daemon's base URL: `http.listen` when it names a port, else the address the daemon recorded. */
export async function daemonUrl(config: Config): Promise<string | undefined> {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(config.http.listen);
  if (match && match[3] !== '0') {
    const host = match[1] ?? match[2]!;
    // a wildcard bind answers on loopback
    const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${target.includes(':') ? `[${target}]` : target}:${match[3]}`;
  }
  // a live daemon on this host (readDaemonEndpoint checks both)
  return (await readDaemonEndpoint(config.state.dir))?.url;
}

/** POST a JSON body to the daemon; undefined when no daemon answers; a daemon's error body is rethrown as its CourierError. */
export async function postToDaemon(url: string, path: string, body: Record<string, unknown>, config?: Config): Promise<unknown> {
  let res: Response;
  try {
    const auth = config ? await authorization(config) : {};
    res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify(body) });
  } catch {
    return undefined;
  }
  const reply = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string; data?: Record<string, unknown> } };
  if (res.ok) return reply;
  const code = reply.error?.code;
  const known = code !== undefined && code in ERROR_CODES;
  throw new CourierError(known ? (code as ErrorCode) : 'USAGE', `daemon at ${url}: ${reply.error?.message ?? `HTTP ${res.status}`}`, { url, status: res.status, ...(reply.error?.data ?? {}) });
}

/**
 * Run `local` holding the state lock, or, when a daemon holds the state, `remote` against its API.
 * With leader election (no lock), a daemon answering on this host is asked first.
 */
export async function runLocallyOrThroughDaemon<T>(config: Config, command: string, local: (lock: StateLock) => Promise<T>, remote: (url: string) => Promise<T | undefined>): Promise<T> {
  if (config.leaderElection.enabled) {
    const url = await daemonUrl(config);
    const answer = url === undefined ? undefined : await remote(url);
    if (answer !== undefined) return answer;
  }
  let lock: StateLock;
  try {
    lock = await acquireStateLock(config.state.lockFile, command);
  } catch (caught) {
    const err = caught as CourierError;
    const holder = isCourierError(err, 'LOCKED') ? (err.data.holder as { command?: string } | undefined) : undefined;
    if (holder?.command !== 'courier daemon') throw err;
    const url = await daemonUrl(config);
    const answer = url === undefined ? undefined : await remote(url);
    if (answer === undefined) throw new CourierError('LOCKED', `${err.message}; and its HTTP API does not answer (http.enabled, http.listen ${config.http.listen})`, err.data, { cause: err });
    return answer;
  }
  try {
    return await local(lock);
  } finally {
    await lock.release();
  }
}

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
