/**
 * The daemon as an operator runs it: `node dist/courier/main.js daemon` in its own process
 * (so its RSS and CPU are its own), with its HTTP API on a free loopback port. The bench reads the
 * open warm sessions from its /metrics, RSS and CPU from /proc, and stops it with SIGTERM by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { CLI, MEMORY_PROBE } from './time-process.js';
import { PROJECT_DIR, processTreeCpuMs } from './lib.js';

/** A daemon child process. */
export interface DaemonProcess {
  pid: number;
  url: string;
  /** Warm sessions open now (courier_agent_sessions_open). */
  sessionsOpen(): Promise<number>;
  /** Send a signal to the daemon process. */
  signal(signal: NodeJS.Signals): void;
  /** RSS of the daemon process now, MB (VmRSS). */
  rssMB(): number;
  /** CPU ms used so far by the daemon process. */
  cpuMs(): number;
  /** The daemon's memory after a full GC (bench/memory-probe.ts), MB: rss, heapTotal, heapUsed, external, arrayBuffers. */
  memoryMB(): Promise<Record<string, number> | undefined>;
  /** SIGTERM, wait for exit (SIGKILL after 60 s); resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Start `courier daemon -c <config>` (config with http.listen 127.0.0.1:0) and wait until it serves its API. */
export async function startDaemonProcess(config: string, stateDir: string, timeoutMs = 120_000, options: { nodeArgs?: string[]; cwd?: string } = {}): Promise<DaemonProcess> {
  const memoryFile = path.join(stateDir, '..', 'daemon-memory.json');
  const child: ChildProcess = spawn(process.execPath, ['--expose-gc', ...(options.nodeArgs ?? []), '--import', MEMORY_PROBE, CLI, '-c', config, 'daemon'], {
    cwd: options.cwd ?? PROJECT_DIR,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, COURIER_BENCH_MEMORY_FILE: memoryFile },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8000)));
  let exited: number | null | undefined;
  const exit = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve((exited = c))));
  const pid = child.pid!;
  const deadline = performance.now() + timeoutMs;
  let url = '';
  while (!url) {
    if (exited !== undefined) throw new Error(`daemon exited ${exited} before serving: ${stderr.slice(-2000)}`);
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`daemon did not write daemon.json within ${timeoutMs} ms: ${stderr.slice(-2000)}`);
    }
    try {
      const ep = JSON.parse(await readFile(path.join(stateDir, 'daemon.json'), 'utf8')) as { pid: number; url: string };
      if (ep.pid === pid) url = ep.url;
    } catch {
      // not yet
    }
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid,
    url,
    async sessionsOpen() {
      const text = await (await fetch(`${url}/metrics`)).text();
      const m = /^courier_agent_sessions_open(?:\{[^}]*\})? (\d+)/m.exec(text);
      return m ? Number(m[1]) : 0;
    },
    rssMB() {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
    },
    cpuMs: () => processTreeCpuMs(pid),
    signal: (sig) => void child.kill(sig),
    async memoryMB() {
      await rm(memoryFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const text = await readFile(memoryFile, 'utf8').catch(() => '');
        if (!text) continue;
        try {
          const m = JSON.parse(text) as Record<string, number>;
          return Object.fromEntries(Object.entries(m).filter(([, v]) => typeof v === 'number').map(([k, v]) => [k, Math.round(v / 104857.6) / 10]));
        } catch {
          // half written
        }
      }
      return undefined;
    },
    async stop() {
      if (exited !== undefined) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}
