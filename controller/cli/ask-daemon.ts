/**
 * Asking the running daemon to act, for the commands that write the state it holds (rollback,
 * suspend, resume): a command that finds the state lock held by `courier daemon` (or, with leader
 * election, a daemon answering on this host) sends the request to the daemon's local HTTP API
 * instead of failing with LOCKED. Small on purpose, to be folded into one shared client.
 */
import os from 'node:os';
import type { Config } from '../config/load-config.js';
import { CourierError, ERROR_CODES, isCourierError, type ErrorCode } from '../errors.js';
import { readDaemonEndpoint } from '../daemon/daemon-endpoint.js';
import { acquireStateLock, type StateLock } from '../status/state-lock.js';

/** The daemon's base URL: `http.listen` when it names a port, else the address the daemon recorded. */
export async function daemonUrl(config: Config): Promise<string | undefined> {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(config.http.listen);
  if (match && match[3] !== '0') {
    const host = match[1] ?? match[2]!;
    // a wildcard bind answers on loopback
    const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${target.includes(':') ? `[${target}]` : target}:${match[3]}`;
  }
  const endpoint = await readDaemonEndpoint(config.state.dir);
  if (!endpoint || endpoint.host !== os.hostname() || !isAlive(endpoint.pid)) return undefined;
  return endpoint.url;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** POST a JSON body to the daemon; undefined when no daemon answers; a daemon's error body is rethrown as its CourierError. */
export async function postToDaemon(url: string, path: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
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
