/**
 * Shared helpers of the benchmarks: statistics, peak-RSS probes, child processes, tables, the
 * machine description and the results directory. Benchmarks print figures and write JSON; they
 * never run under `npm test`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of the bench scripts. */
export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
/** The project root (bench/..). */
export const PROJECT_DIR = path.dirname(BENCH_DIR);

/** Median of the samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** min / median / max of the samples, rounded to 0.1. */
export function summarize(samples: readonly number[]): { median: number; min: number; max: number; samples: number[] } {
  const r = (v: number) => Math.round(v * 10) / 10;
  return { median: r(median(samples)), min: r(Math.min(...samples)), max: r(Math.max(...samples)), samples: samples.map(r) };
}

/** Milliseconds since `start` (performance.now()). */
export function since(start: number): number {
  return performance.now() - start;
}

/** Time an async function: wall and CPU (user + system) milliseconds of this process. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const value = await fn();
  const ms = since(start);
  const used = process.cpuUsage(cpu);
  return { value, ms, cpuMs: (used.user + used.system) / 1000 };
}

/** Reset this process's peak RSS (VmHWM) so the next `peakRssMB()` covers only what follows; false where Linux refuses. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Peak RSS of this process in MB: VmHWM (reset by resetPeakRss), else resourceUsage().maxRSS. */
export function peakRssMB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.round(Number(m[1]) / 102.4) / 10;
  } catch {
    // not Linux
  }
  return Math.round(process.resourceUsage().maxRSS / 102.4) / 10;
}

/** Current RSS in MB. */
export function rssMB(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 102.4) / 10;
}

/** Where benchmark temp dirs go: $COURIER_BENCH_TMP, else the OS temp dir. */
export function benchTmpBase(): string {
  return process.env.COURIER_BENCH_TMP || os.tmpdir();
}

/** A fresh temp dir under the bench temp base. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(benchTmpBase(), prefix));
}

/** The filesystem type holding `dir` (e.g. ext4, tmpfs, overlay). */
export function fsType(dir: string): string {
  try {
    return execFileSync('stat', ['-f', '-c', '%T', dir], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** What the figures were measured on. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  let nproc = String(cpus.length);
  try {
    nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  } catch {
    // keep os.cpus()
  }
  return {
    date: new Date().toISOString(),
    nproc: Number(nproc),
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    tmpDir: benchTmpBase(),
    tmpFs: fsType(benchTmpBase()),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** The running children, so SIGINT can stop them by PID. */
const children = new Set<ChildProcess>();

/** Kill every child this module started (by PID). */
export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  }
}

/**
 * Run `node [nodeArgs] --import tsx <script> [args]` from the project root and parse the last
 * stdout line as JSON. stderr is passed through; a non-zero exit rejects.
 */
export async function runNodeChild<T>(script: string, args: string[], options: { nodeArgs?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<T> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', script, ...args], {
    cwd: PROJECT_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...options.env },
  });
  children.add(child);
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => (out += chunk));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 128 : null)));
  }).finally(() => children.delete(child));
  const lines = out.trim().split('\n');
  if (code !== 0) throw new Error(`${path.basename(script)} ${args.join(' ')} exited ${code}:\n${out.slice(-2000)}`);
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** Run a command, wall time in ms, rejecting on a non-zero exit. */
export async function timeCommand(command: string, args: string[], options: { cwd?: string } = {}): Promise<{ ms: number; stdout: string }> {
  const start = performance.now();
  const child = spawn(command, args, { cwd: options.cwd ?? PROJECT_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  }).finally(() => children.delete(child));
  const ms = since(start);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`);
  return { ms, stdout };
}

/** Format a table with a header row; numbers right-aligned. */
export function formatTable(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], isHeader: boolean) =>
    r.map((c, i) => (!isHeader && /^[\d.,×x%+-]+( ?(ms|MB|B|s))?$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header, true), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map((r) => line(r, false))].join('\n');
}

/** Round to one decimal. */
export function r1(v: number): number {
  return Math.round(v * 10) / 10;
}

/** Write `bench/results/<name>` (pretty JSON) and return its path. */
export async function writeResults(name: string, data: unknown): Promise<string> {
  const dir = path.join(BENCH_DIR, 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, name);
  await writeFile(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** Run `cleanup` once on SIGINT/SIGTERM (then exit 130/143) as well as when `body` ends. */
export async function withCleanup<T>(cleanup: () => Promise<void>, body: () => Promise<T>): Promise<T> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    killChildren();
    await cleanup();
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping benchmark processes…`);
    void once().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    await once();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** CPU ms (own + reaped children, USER_HZ 100) of one process from /proc/<pid>/stat; 0 once it is gone. */
export function processTreeCpuMs(pid: number): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime stime cutime cstime are fields 14-17, at 11-14 after "pid (comm) "
    return ([11, 12, 13, 14].reduce((n, i) => n + Number(f[i]), 0) * 1000) / 100;
  } catch {
    return 0;
  }
}

/**
 * CPU ms used so far by everything the given sshd listeners run: the listeners (with the sessions
 * they reaped) plus every live descendant (warm sessions and their agents, with what they reaped).
 */
export function nodeSideCpuMs(sshdPids: readonly number[]): number {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // gone
    }
  }
  let total = 0;
  const queue = [...new Set(sshdPids)].filter((p) => p > 0);
  while (queue.length > 0) {
    const pid = queue.shift()!;
    total += processTreeCpuMs(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}
