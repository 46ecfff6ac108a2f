/**
 * The local transport: runs the agent command through `sh -c` on the control plane itself (the
 * control plane needs hosts entries too, and the demo runs every "node" this way).
 */
import { spawn } from 'node:child_process';
import { CourierError } from '../errors.js';
import { countingReadable, countingWritable, normalizeSignal, quietly, type AgentChannel, type AgentExit } from './agent-channel.js';

/** Options for a local channel. */
export interface LocalChannelOptions {
  /** Kill the agent (SIGKILL) when it runs longer than this many ms; `exit` then rejects with SSH_TIMEOUT. */
  sessionTimeout?: number;
  /** A name for messages (the node's name); defaults to `local`. */
  name?: string;
}

/** Spawn `sh -c <command>` here and return its AgentChannel. */
export function openLocalChannel(command: string, options: LocalChannelOptions = {}): AgentChannel {
  const name = options.name ?? 'local';
  const child = spawn('sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
  let running = true;
  let closedByUs = false;
  let timedOut = false;

  // EPIPE when the agent exits before reading all its input is reported through `exit`, not here.
  child.stdin.on('error', () => undefined);
  const stdin = countingWritable(child.stdin, () => running && !child.stdin.destroyed);
  const stdout = countingReadable();
  const stderr = countingReadable();
  child.stdout.pipe(stdout.stream);
  child.stderr.pipe(stderr.stream);

  const timer =
    options.sessionTimeout !== undefined && options.sessionTimeout > 0
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.sessionTimeout)
      : undefined;
  timer?.unref();

  const exit = quietly(
    new Promise<AgentExit>((resolve, reject) => {
      child.once('error', (err) => {
        running = false;
        if (timer) clearTimeout(timer);
        stdout.stream.end();
        stderr.stream.end();
        reject(new CourierError('CONNECTION_LOST', `${name}: could not run the agent locally with sh: ${err.message}`, { node: name }, { cause: err }));
      });
      // 'close' comes after the process exited and its stdio streams closed.
      child.once('close', (code, signal) => {
        running = false;
        if (timer) clearTimeout(timer);
        if (timedOut) {
          reject(
            new CourierError('SSH_TIMEOUT', `${name}: the local agent ran longer than ssh.sessionTimeout (${options.sessionTimeout} ms) and was killed; raise ssh.sessionTimeout if the node is just slow`, {
              node: name,
              phase: 'session',
              timeout: options.sessionTimeout,
            }),
          );
          return;
        }
        if (closedByUs && code === null) {
          reject(new CourierError('CONNECTION_LOST', `${name}: the local agent session was closed before the agent finished`, { node: name, closedBy: 'controller' }));
          return;
        }
        resolve(signal ? { code, signal: normalizeSignal(signal) } : { code });
      });
    }),
  );

  return {
    stdin: stdin.stream,
    stdout: stdout.stream,
    stderr: stderr.stream,
    exit,
    close() {
      if (!running || closedByUs) return;
      closedByUs = true;
      child.kill('SIGTERM');
    },
    bytesWritten: stdin.count,
    bytesRead: stdout.count,
  };
}
