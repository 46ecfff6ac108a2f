/**
 * Where a warm round's node-side CPU goes: attach strace to one node's `courier-agent serve`
 * process for one edit (untimed; strace slows it) and count the processes the agent forked and the
 * programs it executed in that round. Needs strace and ptrace rights; returns undefined without them.
 */
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** What one traced round ran on the node. */
export interface AgentTrace {
  pid: number;
  forks: number;
  execs: number;
  /** Executed program basename -> count, most frequent first. */
  programs: Record<string, number>;
}

/** The agent's `serve` shell under the given sshd listener: the deepest descendant whose command line says courier-agent serve. */
export function findAgentServe(sshdPid: number): number | undefined {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone
    }
  }
  let best: number | undefined;
  let queue = [sshdPid];
  while (queue.length > 0) {
    const next: number[] = [];
    for (const pid of queue) {
      let cmd: string;
      try {
        cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      } catch {
        continue;
      }
      if (cmd.includes('courier-agent') && /\bserve\b/.test(cmd)) best = pid;
      next.push(...(children.get(pid) ?? []));
    }
    queue = next;
  }
  return best;
}

/** Trace `pid` (and what it forks) while `during` runs. */
export async function traceAgent(pid: number, during: () => Promise<unknown>): Promise<AgentTrace | undefined> {
  const out = path.join(os.tmpdir(), `courier-bench-strace-${process.pid}-${pid}`);
  const strace = spawn('strace', ['-f', '-qq', '-e', 'trace=execve,clone,clone3,fork,vfork', '-o', out, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  strace.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => strace.once('exit', () => resolve()));
  strace.once('error', () => undefined);
  await new Promise((r) => setTimeout(r, 700));
  if (strace.exitCode !== null) {
    console.error(`  strace could not attach: ${err.trim().slice(0, 200)}`);
    return undefined;
  }
  await during();
  await new Promise((r) => setTimeout(r, 300));
  strace.kill('SIGINT');
  await exited;
  const text = await readFile(out, 'utf8').catch(() => '');
  await rm(out, { force: true });
  const lines = text.split('\n').filter((l) => l && !l.includes('resumed>'));
  const programs: Record<string, number> = {};
  let forks = 0;
  let execs = 0;
  for (const line of lines) {
    if (/\s(clone3?|v?fork)\(/.test(line)) forks++;
    const m = /\sexecve\("([^"]+)"/.exec(line);
    if (m && !/= -1 /.test(line)) {
      execs++;
      const name = path.basename(m[1]!);
      programs[name] = (programs[name] ?? 0) + 1;
    }
  }
  const sorted = Object.fromEntries(Object.entries(programs).sort((a, b) => b[1] - a[1]));
  return { pid, forks, execs, programs: sorted };
}
