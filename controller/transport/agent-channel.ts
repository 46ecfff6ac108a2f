/**
 * AgentChannel: what both transports (ssh, local) hand to the agent session: the agent's stdin,
 * stdout and stderr, how it ended, and byte counts. The channel does not know the protocol.
 */
import { Transform, Writable, type Readable } from 'node:stream';

/** How the agent process ended: its exit status, or the signal that killed it (`SIGTERM`, `SIGKILL`, ...). */
export interface AgentExit {
  code: number | null;
  signal?: string;
}

/**
 * A running agent.
 *
 * - `stdout` and `stderr` end when the agent's streams end or the channel is lost. Read both (or
 *   `resume()` the one you ignore): an unread stream stalls the agent through flow control.
 * - Writes to `stdin` after the channel has ended are dropped; `exit` says why it ended.
 * - `exit` resolves once the agent has exited and its streams are closed. It rejects with a
 *   CourierError when no exit status arrived: CONNECTION_LOST (the connection broke or `close()`
 *   was called first) or SSH_TIMEOUT (the session outlived its sessionTimeout). It never rejects
 *   unhandled: a rejection nobody awaits is swallowed.
 */
export interface AgentChannel {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  exit: Promise<AgentExit>;
  /** End the session now (the agent gets EOF / SIGTERM); idempotent. */
  close(): void;
  /** Bytes written to the agent's stdin so far. */
  bytesWritten(): number;
  /** Bytes read from the agent's stdout so far. */
  bytesRead(): number;
}

/** `TERM` → `SIGTERM`: ssh reports signal names without the prefix, Node with it. */
export function normalizeSignal(signal: string): string {
  return signal.startsWith('SIG') ? signal : `SIG${signal}`;
}

/**
 * A Writable in front of `target` that counts bytes, keeps target's backpressure, ends target on
 * end, and drops writes once `isOpen()` is false (the peer is gone; `exit` reports why) so a late
 * write never throws EPIPE at the caller.
 */
export function countingWritable(target: Writable, isOpen: () => boolean): { stream: Writable; count: () => number } {
  let written = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!isOpen()) {
        callback();
        return;
      }
      written += chunk.length;
      if (target.write(chunk)) {
        callback();
        return;
      }
      // Resume the writer on drain, or when the target goes away while we wait.
      const done = () => {
        target.off('drain', done);
        target.off('close', done);
        callback();
      };
      target.on('drain', done);
      target.on('close', done);
    },
    final(callback) {
      if (isOpen()) target.end();
      callback();
    },
  });
  return { stream, count: () => written };
}

/** A pass-through that counts bytes; `source.pipe()` into it keeps backpressure. */
export function countingReadable(): { stream: Transform; count: () => number } {
  let read = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      read += chunk.length;
      callback(null, chunk);
    },
  });
  return { stream, count: () => read };
}

/** Keep a promise's rejection from being reported as unhandled while still handing it out. */
export function quietly<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
