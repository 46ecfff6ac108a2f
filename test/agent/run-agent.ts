/**
 * Test kit for the node agent: runs the real `node-agent/courier-agent` inline (`sh -c '<script>'
 * courier-agent ...`, as the controller does) under dash, bash --posix and busybox sh, builds
 * protocol frames and computes expected oids with node's crypto.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'vitest';

/** Path of the agent script under test. */
export const AGENT_PATH = fileURLToPath(new URL('../../node-agent/courier-agent', import.meta.url));
/** The agent's text, as the controller sends it inline. */
export const AGENT_SCRIPT = readFileSync(AGENT_PATH, 'utf8');

/** A POSIX shell to run the agent under. */
export interface Shell {
  name: string;
  command: string;
  args: string[];
  /** Run with only busybox's applets on PATH (head, dd, tee, sha1sum... all busybox's). */
  appletsOnly: boolean;
}

/** The shells the agent must work under. busybox runs with its own applets only, as on Alpine. */
export const SHELLS: Shell[] = [
  { name: 'dash', command: 'dash', args: [], appletsOnly: false },
  { name: 'bash --posix', command: 'bash', args: ['--posix'], appletsOnly: false },
  { name: 'busybox sh', command: '/usr/bin/busybox', args: ['sh'], appletsOnly: true },
];

let appletDir: string | undefined;

/** A directory of symlinks to every busybox applet, made once per worker and removed at exit. */
export function busyboxAppletDir(): string {
  if (appletDir) return appletDir;
  const dir = mkdtempSync(join(tmpdir(), 'courier-busybox-'));
  const applets = execFileSync('/usr/bin/busybox', ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) symlinkSync('/usr/bin/busybox', join(dir, applet));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  appletDir = dir;
  return dir;
}

/** What one agent run produced. */
export interface AgentRun {
  code: number | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Options for one run: extra environment, or a PATH override. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Run as this user and group (the tests run as root, which may write anywhere). */
  uid?: number;
  gid?: number;
}

/** Environment for a shell: the caller's, busybox applets only on PATH where asked. */
export function shellEnv(shell: Shell, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  if (shell.appletsOnly && !extra.PATH) env.PATH = busyboxAppletDir();
  return env;
}

/** Start the agent inline under `shell` with `args`; the caller drives stdin. */
export function startAgent(shell: Shell, args: string[], options: RunOptions = {}) {
  const child = spawn(shell.command, [...shell.args, '-c', AGENT_SCRIPT, 'courier-agent', ...args], {
    env: shellEnv(shell, options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  // The agent may stop reading early (a protocol error): a late write must not crash the test.
  child.stdin.on('error', () => undefined);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const done = new Promise<AgentRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), lines: stdout.split('\n').filter((l) => l !== '') });
    });
  });
  return { child, done, stdout: () => Buffer.concat(out).toString('utf8') };
}

/** Run one whole exchange: write `input` (all of it, pipelined), close stdin, collect the output. */
export function runAgent(shell: Shell, args: string[], input: Buffer | string, options: RunOptions = {}): Promise<AgentRun> {
  const agent = startAgent(shell, args, options);
  agent.child.stdin.end(input);
  return agent.done;
}

/** Git blob id: SHA-1 of `blob <size>\0<content>`. */
export function blobOid(content: Buffer | string): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** An artifact kind on the wire. */
export type Kind = 'file' | 'block';

/** One operation after the haves. */
export type Op =
  | { put: string; kind: Kind; content: Buffer | string; oid?: string; size?: number }
  | { del: string; kind: Kind };

/** The frames of one exchange: greeting, wants, `?`, operations and (unless `end` is false) `end`. */
export function frames(wants: Array<[string, Kind, string]>, ops: Op[] = [], end = true): Buffer {
  const parts: Buffer[] = [Buffer.from('courier 1\n')];
  for (const [path, kind, oid] of wants) parts.push(Buffer.from(`want ${path} ${kind} ${oid}\n`));
  parts.push(Buffer.from('?\n'));
  for (const op of ops) {
    if ('put' in op) {
      const bytes = typeof op.content === 'string' ? Buffer.from(op.content, 'utf8') : op.content;
      parts.push(Buffer.from(`put ${op.put} ${op.kind} ${op.oid ?? blobOid(bytes)} ${op.size ?? bytes.length}\n`), bytes);
    } else {
      parts.push(Buffer.from(`del ${op.del} ${op.kind}\n`));
    }
  }
  if (end) parts.push(Buffer.from('end\n'));
  return Buffer.concat(parts);
}

/** A put of `content` at `path`; oid computed unless given. */
export function put(path: string, kind: Kind, content: Buffer | string, oid?: string): Op {
  return { put: path, kind, content, oid };
}

/** A fresh node root under the system temp dir. */
export function makeRoot(): string {
  return mkdtempSync(join(tmpdir(), 'courier-agent-test-'));
}

/** Every entry under `dir`, recursively, relative to it (to prove nothing else was written). */
export function listTree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

/** The `have` lines of a run, as [path, kind, oid]. */
export function haves(run: AgentRun): string[][] {
  return run.lines.filter((l) => l.startsWith('have ')).map((l) => l.split(' ').slice(1));
}

/** The result lines (ok/fail) of a run. */
export function results(run: AgentRun): string[] {
  return run.lines.filter((l) => l.startsWith('ok ') || l.startsWith('fail '));
}

const mounted: string[] = [];

/** Mount for this test (tmpfs, bind), or skip the test saying why where mounting is not permitted. */
export function mountOrSkip(ctx: TestContext, args: string[], target: string): void {
  try {
    execFileSync('mount', [...args, target], { stdio: 'pipe' });
  } catch (err) {
    const note = `mount ${args.join(' ')} is not permitted here (needs root with CAP_SYS_ADMIN): ${String(err).split('\n')[0]}`;
    console.warn(`[courier-agent tests] skipping: ${note}`);
    ctx.skip(note);
  }
  mounted.push(target);
}

/** Undo every mountOrSkip, newest first (call before removing the test's root). */
export function unmountAll(): void {
  for (const target of mounted.splice(0).reverse()) execFileSync('umount', [target]);
}

/** The pids a staging-file sweep must judge: a running agent, and a dead agent not yet reaped. */
export interface AgentLookalikes {
  /** A running process whose command line names courier-agent, as every agent's does. */
  live: number;
  /** A zombie whose command line named courier-agent: exited, its parent (sleep) never waits. */
  zombie: number;
  stop(): void;
}

/**
 * Start a live agent and make a zombie one. The zombie's parent is a shell that execs sleep; the
 * child exits only once its parent has become sleep, so no shell gets to reap it.
 */
export async function startAgentLookalikes(): Promise<AgentLookalikes> {
  const live = spawn('sh', ['-c', 'sleep 60; :', 'courier-agent'], { stdio: 'ignore' });
  const child = 'until read c </proc/$PPID/comm && [ "$c" = sleep ]; do sleep 0.01; done';
  const parent = spawn('sh', ['-c', `sh -c '${child}' courier-agent & echo $!; exec sleep 60`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const stop = () => {
    live.kill('SIGKILL');
    parent.kill('SIGKILL');
  };
  try {
    const zombie = Number(await new Promise<string>((resolve, reject) => {
      parent.stdout!.once('data', (data: Buffer) => resolve(data.toString().trim()));
      parent.once('error', reject);
    }));
    const state = () => {
      try {
        const stat = readFileSync(`/proc/${zombie}/stat`, 'utf8');
        return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      } catch {
        return 'gone';
      }
    };
    const deadline = Date.now() + 20_000;
    while (state() !== 'Z') {
      if (Date.now() > deadline) throw new Error(`pid ${zombie} did not become a zombie (state ${state()})`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return { live: live.pid!, zombie, stop };
  } catch (error) {
    stop();
    throw error;
  }
}
