/**
 * Run a whole process the way a user runs `courier push`: wall ms from spawn to exit as seen by the
 * parent, and its CPU (user + system, children included) from /usr/bin/time. Used for the CLI and
 * for the compiled floor programs alike, so both sides of a ratio are measured the same way.
 */
import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_DIR } from './lib.js';

/** The bundled CLI as `bin.courier` ships it, and the floors (built by bench/run.ts before it measures). */
export const CLI = path.join(PROJECT_DIR, 'dist/courier/main.js');
export const COLD_FLOOR = path.join(PROJECT_DIR, 'dist/bench/floor-cold.js');
export const WARM_FLOOR = path.join(PROJECT_DIR, 'dist/bench/floor-warm.js');
export const MEMORY_PROBE = path.join(PROJECT_DIR, 'dist/bench/memory-probe.js');

/** One timed process: wall and CPU ms, exit code and its stdout. */
export interface TimedProcess {
  ms: number;
  cpuMs: number;
  code: number;
  stdout: string;
  stderr: string;
}

let seq = 0;

/** Run `node <args>` under /usr/bin/time; rejects when it exits with a code not in `okCodes` (default 0). */
export async function timeNode(args: string[], options: { okCodes?: number[]; cwd?: string } = {}): Promise<TimedProcess> {
  const timeFile = path.join(os.tmpdir(), `courier-bench-time-${process.pid}-${++seq}`);
  const start = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, process.execPath, ...args], { cwd: options.cwd ?? PROJECT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
  const code = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
  });
  const ms = performance.now() - start;
  const times = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? '';
  await rm(timeFile, { force: true });
  const [user, sys] = times.split(/\s+/).map(Number);
  if (!(options.okCodes ?? [0]).includes(code)) throw new Error(`node ${args.map((a) => path.basename(a)).join(' ')} exited ${code}: ${stderr.slice(-2000)}${stdout.slice(-1000)}`);
  return { ms, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000, code, stdout, stderr };
}
