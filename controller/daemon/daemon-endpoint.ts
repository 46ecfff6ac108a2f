/**
 * `<state>/daemon.json`: where a running daemon serves its local API (pid, host, url), so one-off
 * commands on the same state (`courier push`, `verify`, `plan --live`) can ask it to do the work
 * over its warm sessions instead of failing with LOCKED. Written atomically once the HTTP server
 * listens, removed on stop; a file naming a dead process is ignored.
 */
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../status/status-file.js';

/** A daemon's local API endpoint. */
export interface DaemonEndpoint {
  pid: number;
  host: string;
  url: string;
  started: string;
}

/** The endpoint file of a state directory. */
export function daemonEndpointFile(stateDir: string): string {
  return path.join(stateDir, 'daemon.json');
}

/** Record this process's endpoint. */
export async function writeDaemonEndpoint(stateDir: string, url: string): Promise<void> {
  const endpoint: DaemonEndpoint = { pid: process.pid, host: os.hostname(), url, started: new Date().toISOString() };
  await writeFileAtomic(daemonEndpointFile(stateDir), JSON.stringify(endpoint) + '\n', 0o600);
}

/** Remove the endpoint file if it is this process's. */
export async function removeDaemonEndpoint(stateDir: string): Promise<void> {
  const current = await readDaemonEndpoint(stateDir);
  if (current?.pid === process.pid) await rm(daemonEndpointFile(stateDir), { force: true });
}

/** The endpoint of a live daemon on this host, or undefined. */
export async function readDaemonEndpoint(stateDir: string): Promise<DaemonEndpoint | undefined> {
  let parsed: DaemonEndpoint;
  try {
    parsed = JSON.parse(await readFile(daemonEndpointFile(stateDir), 'utf8')) as DaemonEndpoint;
  } catch {
    return undefined;
  }
  if (typeof parsed.pid !== 'number' || typeof parsed.url !== 'string' || parsed.host !== os.hostname()) return undefined;
  try {
    process.kill(parsed.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return parsed;
}
