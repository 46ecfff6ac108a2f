/**
 * The single-writer lock `<state>/lock`: one courier process at a time writes a state directory
 * (store, status, node refs). The file names its holder (pid, host, start time, command); a lock
 * left by a dead process on this host is taken over.
 */
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CourierError } from '../errors.js';

/** Who holds the lock. */
export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

/** A held lock; `release` removes it if it is still ours. */
export interface StateLock {
  holder: LockHolder;
  /** Set when a stale lock was taken over: the dead holder. */
  tookOverFrom?: LockHolder;
  release(): Promise<void>;
}

/** Take the lock or throw LOCKED naming the holder. */
export async function acquireStateLock(file: string, command: string): Promise<StateLock> {
  await mkdir(path.dirname(file), { recursive: true });
  const holder: LockHolder = { pid: process.pid, host: os.hostname(), started: new Date().toISOString(), command };
  let tookOverFrom: LockHolder | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, 'wx', 0o644);
      await handle.writeFile(JSON.stringify(holder) + '\n');
      await handle.sync();
      await handle.close();
      return {
        holder,
        tookOverFrom,
        release: async () => {
          const current = await readHolder(file);
          if (current && current.pid === holder.pid && current.host === holder.host) await rm(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CourierError('STORE_ERROR', `${file}: cannot create lock: ${(err as Error).message}`, { file }, { cause: err });
    }
    const current = await readHolder(file);
    if (current && !(current.host === holder.host && !isAlive(current.pid))) {
      throw new CourierError(
        'LOCKED',
        `${file} is held by ${current.command} (pid ${current.pid} on ${current.host}, since ${current.started}); wait for it to finish or stop it`,
        { file, holder: current },
      );
    }
    // dead holder on this host, or an unreadable half-written lock: take it over
    tookOverFrom = current;
    await rm(file, { force: true });
  }
  throw new CourierError('LOCKED', `${file}: could not take the lock (contended)`, { file });
}

/** Run `fn` holding the lock. */
export async function withStateLock<T>(file: string, command: string, fn: (lock: StateLock) => Promise<T>): Promise<T> {
  const lock = await acquireStateLock(file, command);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}

async function readHolder(file: string): Promise<LockHolder | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a pid on this host is alive (EPERM means alive but not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
