/**
 * `<state.dir>/daemon.json`: the running daemon's API address (pid, host, url), so a command on the
 * same site can ask it to act (rollback, suspend, resume) even when `http.listen` has port 0.
 * Written atomically, removed on a graceful stop; a stale file (dead pid) is ignored by readers.
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

/** Record this process's API URL; `remove` deletes the file if it is still this process's. */
export async function writeDaemonEndpoint(stateDir: string, url: string): Promise<{ remove(): Promise<void> }> {
  const file = daemonEndpointFile(stateDir);
  const mine: DaemonEndpoint = { pid: process.pid, host: os.hostname(), url };
  await writeFileAtomic(file, JSON.stringify(mine) + '\n');
  return {
    async remove() {
      const current = await readDaemonEndpoint(stateDir);
      if (current?.pid === mine.pid && current.host === mine.host) await rm(file, { force: true });
    },
  };
}

/** The recorded endpoint, or undefined when there is none or it is unreadable. */
export async function readDaemonEndpoint(stateDir: string): Promise<DaemonEndpoint | undefined> {
  try {
    const value = JSON.parse(await readFile(daemonEndpointFile(stateDir), 'utf8')) as Partial<DaemonEndpoint>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.url === 'string' ? (value as DaemonEndpoint) : undefined;
  } catch {
    return undefined;
  }
}
