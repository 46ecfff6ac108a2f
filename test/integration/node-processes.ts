/**
 * Process control for fault-injection tests on an sshd fleet node: find the processes under a
 * node's listening sshd (the per-connection sshd processes and the agent shell with its children)
 * from /proc, freeze the agent, and drop the connection without killing the agent.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** One process under a node's sshd. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  /** Start time (clock ticks after boot): with the pid, the process's identity (pids are reused). */
  start: number;
}

/** Every live descendant of `pid`, parents before children. */
export function descendantProcesses(pid: number): ProcessInfo[] {
  const all = readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map((e) => stat(Number(e)))
    .filter((p): p is ProcessInfo => p !== undefined && p.state !== 'Z');
  const found: ProcessInfo[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const child of all.filter((p) => p.ppid === parent)) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** The agent side of every session of the node: the shell and its children (everything but sshd itself). */
export function agentProcesses(sshdPid: number): ProcessInfo[] {
  return descendantProcesses(sshdPid).filter((p) => !p.comm.startsWith('sshd'));
}

/** The per-connection sshd processes (killing them drops the connection; the agent sees EOF). */
export function connectionProcesses(sshdPid: number): ProcessInfo[] {
  return descendantProcesses(sshdPid).filter((p) => p.comm.startsWith('sshd'));
}

/** True while `pid` exists and is not a zombie (and, given `start`, is still the process that started then). */
export function isRunning(pid: number, start?: number): boolean {
  const info = stat(pid);
  return info !== undefined && info.state !== 'Z' && (start === undefined || info.start === start);
}

/** Send `signal` to each pid, ignoring processes that are already gone. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function stat(pid: number): ProcessInfo | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...; comm may hold spaces and parentheses: cut at the last ')'.
    const comm = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(rest[1]), comm, state: rest[0]!, start: Number(rest[19]) };
  } catch {
    return undefined;
  }
}
