/**
 * `<state.dir>/daemon.json`: where the running (leading) daemon serves its local API (pid, host,
 * url), so one-off commands on the same state (`courier push`, `verify`, `plan --live`, `rollback`,
 * `suspend`, `resume`) ask it to act over its warm sessions instead of failing with LOCKED, even
 * when `http.listen` has port 0. Written atomically, removed on a graceful stop; a file naming a
 * dead process or another host is ignored by readers.
 */
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../status/status-file.js';

/** What the file holds. */
export interface DaemonEndpoint {
  pid: number;
  host: string;
  url: string;
}

/** The file's path in a state directory. */
export function daemonEndpointFile(stateDir: string): string {
  return path.join(stateDir, 'daemon.json');
}

/** Record this process's API URL (a wildcard listener as its loopback address); `remove` deletes the file if it is still this process's. */
export async function writeDaemonEndpoint(stateDir: string, url: string): Promise<{ remove(): Promise<void> }> {
  const file = daemonEndpointFile(stateDir);
  const mine: DaemonEndpoint = { pid: process.pid, host: os.hostname(), url: loopbackUrl(url) };
  await writeFileAtomic(file, JSON.stringify(mine) + '\n', 0o600);
  return {
    async remove() {
      const current = await readDaemonEndpoint(stateDir);
      if (current?.pid === mine.pid && current.host === mine.host) await rm(file, { force: true });
    },
  };
}

/** The endpoint of a live daemon on this host, or undefined (none, unreadable, dead, elsewhere). */
export async function readDaemonEndpoint(stateDir: string): Promise<DaemonEndpoint | undefined> {
  let value: Partial<DaemonEndpoint>;
  try {
    value = JSON.parse(await readFile(daemonEndpointFile(stateDir), 'utf8')) as Partial<DaemonEndpoint>;
  } catch {
    return undefined;
  }
  if (typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.url !== 'string' || value.host !== os.hostname()) return undefined;
  try {
    process.kill(value.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return value as DaemonEndpoint;
}

/** The API base URL a local client uses: a wildcard listener (0.0.0.0, ::) is reached on loopback. */
function loopbackUrl(url: string): string {
  return url.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:');
}
