/**
 * One round of the sync protocol (DESIGN.md "Node agent and the sync protocol") over an agent's
 * stdin/stdout, shared by cold exchanges (one round per exec) and warm sessions (many rounds on one
 * `courier-agent serve`). A round pipelines the greeting, all wants and `?` in one write, reads the
 * haves, asks the caller which operations to send (the plan stage decides), streams puts and dels,
 * sends `end`, and collects the per-artifact results. Unchanged nodes receive no artifact bytes.
 *
 * The first greeting of a session carries a nonce the agent echoes: whatever a login shell printed
 * before the agent started (a banner in `.bashrc`) is discarded, up to GREETING_NOISE_MAX bytes.
 */
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { CourierError } from '../errors.js';
import type { ArtifactKind } from '../render/model.js';
import type { Have, SyncOp, Want } from '../plan/plan-sync.js';

/** The protocol version this controller speaks. */
export const PROTOCOL_VERSION = '1';

/** Bytes of login-shell output tolerated before the agent's greeting. */
export const GREETING_NOISE_MAX = 64 * 1024;

/** The agent's answer to one put or del. */
export type OpResult = { path: string; ok: true; oid: string } | { path: string; ok: false; code: string; message: string };

/** What one round established. */
export interface RoundResult {
  agentVersion: string;
  hostname: string;
  haves: Have[];
  ops: SyncOp[];
  results: OpResult[];
  /** Artifact bytes sent (put payloads only). */
  bytesSent: number;
}

/** Maps the haves to the operations to send; return [] for a read-only round. */
export type DecideOps = (haves: Have[]) => SyncOp[];

/** The agent's streams as a round sees them; `explainEnd` turns an early end of stdout into an error. */
export interface RoundIo {
  stdin: Writable;
  lines: LineReader;
  /** Why stdout ended before `expected` (connection lost, agent killed, agent's own error). */
  explainEnd: (expected: string, agentError: string | undefined) => Promise<unknown>;
  /** Called once the agent's greeting arrived: earlier stderr was the login shell's, not the agent's. */
  onGreeting?: () => void;
}

/** A fresh per-session nonce: 16 hex digits, never a word a banner would print by chance. */
export function createNonce(): string {
  return randomBytes(8).toString('hex');
}

/**
 * Run one round. `nonce` is the session's; `noise` allows login-shell output before the greeting
 * (the first round of a session only: later rounds expect the greeting at once).
 */
export async function runRound(
  io: RoundIo,
  wants: readonly Want[],
  decide: DecideOps,
  options: { nonce: string; noise: boolean; afterEnd?: () => void; cached?: boolean },
): Promise<RoundResult> {
  const { lines } = io;
  // `cached`: a serve agent may answer haves from what it hashed or wrote itself (see the agent)
  const head = [`courier ${PROTOCOL_VERSION} ${options.nonce}${options.cached ? ' cached' : ''}`, ...wants.map((w) => `want ${w.path} ${w.kind} ${w.oid}`), '?'].join('\n') + '\n';
  await write(io.stdin, head);

  const greeting = await readGreeting(io, options.nonce, options.noise);
  io.onGreeting?.();
  const { agentVersion, hostname } = greeting;

  const haves: Have[] = [];
  for (;;) {
    const line = await lines.next();
    if (line === '?') break;
    const parts = line?.split(' ') ?? [];
    const want = wants[haves.length];
    if (parts[0] !== 'have' || parts.length !== 4 || !want || parts[1] !== want.path || parts[2] !== want.kind || !isOid(parts[3]!)) {
      throw await unexpected(io, line, `have for want ${haves.length + 1}`);
    }
    haves.push({ path: parts[1]!, kind: parts[2] as ArtifactKind, oid: parts[3]! });
  }
  if (haves.length !== wants.length) throw await unexpected(io, '?', `${wants.length} haves`);

  const ops = decide(haves);
  let bytesSent = 0;
  // One write per frame header and payload would be many small SSH packets: batch small frames.
  let pending: (string | Buffer)[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const chunk = Buffer.concat(pending.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    pending = [];
    pendingBytes = 0;
    await write(io.stdin, chunk);
  };
  const queue = async (data: string | Buffer) => {
    pending.push(data);
    pendingBytes += data.length;
    if (pendingBytes >= 64 * 1024) await flush();
  };
  for (const op of ops) {
    if (op.op === 'put') {
      const body = Buffer.from(op.artifact.content, 'utf8');
      await queue(`put ${op.want.path} ${op.want.kind} ${op.want.oid} ${body.length}\n`);
      await queue(body);
      bytesSent += body.length;
    } else {
      await queue(`del ${op.want.path} ${op.want.kind}\n`);
    }
  }
  await queue('end\n');
  await flush();
  options.afterEnd?.();

  const results: OpResult[] = [];
  for (;;) {
    const line = await lines.next();
    const parts = line?.split(' ') ?? [];
    if (parts[0] === 'done' && parts.length === 3) break;
    const op = ops[results.length];
    if (parts[0] === 'ok' && parts.length === 3 && op && parts[1] === op.want.path && isOid(parts[2]!)) {
      results.push({ path: parts[1]!, ok: true, oid: parts[2]! });
    } else if (parts[0] === 'fail' && parts.length >= 3 && op && parts[1] === op.want.path) {
      results.push({ path: parts[1]!, ok: false, code: parts[2]!, message: parts.slice(3).join(' ') });
    } else {
      throw await unexpected(io, line, `result for operation ${results.length + 1}`);
    }
  }
  if (results.length !== ops.length) throw await unexpected(io, 'done', `${ops.length} results`);
  return { agentVersion, hostname, haves, ops, results, bytesSent };
}

/**
 * Read up to the agent's greeting `courier <protocol> <version> <nonce> <hostname>`. With `noise`,
 * lines (and a line's start: a banner without a newline) before it are discarded, at most
 * GREETING_NOISE_MAX bytes, then AGENT_PROTOCOL quoting the first line seen.
 */
async function readGreeting(io: RoundIo, nonce: string, noise: boolean): Promise<{ agentVersion: string; hostname: string }> {
  let discarded = 0;
  let firstLine: string | undefined;
  let agentError: string | undefined;
  for (;;) {
    const budget = noise ? Math.max(0, GREETING_NOISE_MAX - discarded) : 1 << 20;
    let line: string | undefined;
    try {
      line = await io.lines.next(budget + 512);
    } catch (err) {
      if (err instanceof CourierError && err.code === 'AGENT_PROTOCOL' && noise) throw noiseError(firstLine ?? io.lines.peek());
      throw err;
    }
    if (line === undefined) throw await io.explainEnd('greeting', agentError);
    const found = findGreeting(line, nonce);
    if (found) {
      if (found.protocol !== PROTOCOL_VERSION) {
        throw new CourierError('AGENT_PROTOCOL', `agent speaks protocol ${found.protocol}, this controller speaks ${PROTOCOL_VERSION}; use the agent that ships with this courier`, {
          agentProtocol: found.protocol,
        });
      }
      return found;
    }
    if (line.startsWith('error ')) agentError = line;
    if (!noise) throw await unexpected(io, line, 'greeting');
    firstLine ??= line;
    discarded += line.length + 1;
    if (discarded > GREETING_NOISE_MAX) throw noiseError(firstLine);
  }
}

function noiseError(firstLine: string): CourierError {
  return new CourierError(
    'AGENT_PROTOCOL',
    `no agent greeting within the first ${GREETING_NOISE_MAX / 1024} KiB the node sent; the login shell printed ${JSON.stringify(oneLine(firstLine).slice(0, 80))} first (is the login shell POSIX, and does an rc file read stdin or never end?)`,
    { expected: 'greeting', firstLine: oneLine(firstLine).slice(0, 80) },
  );
}

/** The greeting inside `line` that carries our nonce (a banner without newline may precede it). */
function findGreeting(line: string, nonce: string): { protocol: string; agentVersion: string; hostname: string } | undefined {
  for (let i = line.indexOf('courier '); i >= 0; i = line.indexOf('courier ', i + 1)) {
    const parts = line.slice(i).split(' ');
    if (parts.length >= 5 && parts[3] === nonce) return { protocol: parts[1]!, agentVersion: parts[2]!, hostname: parts.slice(4).join(' ') };
  }
  return undefined;
}

/** The AGENT_PROTOCOL error for an unexpected line, or the explanation of an early end. */
async function unexpected(io: RoundIo, line: string | undefined, expected: string): Promise<unknown> {
  if (line === undefined) return io.explainEnd(expected, undefined);
  if (line.startsWith('error ')) return agentRefusal(line);
  return new CourierError('AGENT_PROTOCOL', `unexpected line from agent where the ${expected} was due: ${JSON.stringify(line.slice(0, 80))}`, { expected });
}

/** The agent's own `error <CODE> <message>` line as an error. */
export function agentRefusal(line: string): CourierError {
  const [, code, ...rest] = line.split(' ');
  return new CourierError('AGENT_PROTOCOL', `agent refused the exchange: ${code}: ${rest.join(' ')}`, { agentCode: code });
}

/** A git blob id or the absent marker. */
function isOid(s: string): boolean {
  return s === '-' || /^[0-9a-f]{40}$/.test(s);
}

/** Whitespace folded, for quoting node output in one-line messages. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 300);
}

/** Write respecting backpressure; a closed stream surfaces as the session's end, not here. */
function write(stdin: Writable, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = stdin.write(data, (err) => {
      if (err) reject(new CourierError('CONNECTION_LOST', `session closed while sending: ${err.message}`, {}, { cause: err, retryable: true }));
    });
    if (ok) resolve();
    else stdin.once('drain', resolve);
  });
}

/** Keeps the last 4 KiB of a stream (the agent's stderr: one-line messages); `reset` forgets it. */
export function collectTail(stream: Readable): { tail: () => string; reset: () => void } {
  let tail = '';
  stream.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  });
  return { tail: () => tail, reset: () => (tail = '') };
}

/** Reads LF-terminated lines from a stream; `next()` resolves undefined at end of stream. */
export class LineReader {
  private buffer = '';
  private ended = false;
  private waiting: (() => void) | undefined;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    for (const event of ['end', 'close', 'error']) {
      stream.on(event, () => {
        this.ended = true;
        this.wake();
      });
    }
  }

  /** The next line (a CR before the LF dropped); AGENT_PROTOCOL once `maxLine` bytes arrive without an LF. */
  async next(maxLine = 1 << 20): Promise<string | undefined> {
    for (;;) {
      const nl = this.buffer.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffer.slice(0, nl).replace(/\r$/, '');
        this.buffer = this.buffer.slice(nl + 1);
        return line;
      }
      if (this.buffer.length > maxLine) throw new CourierError('AGENT_PROTOCOL', `agent sent a line longer than ${maxLine} bytes`, { maxLine });
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** What is buffered without an LF yet (for messages). */
  peek(): string {
    return this.buffer;
  }

  /** True when nothing is buffered: between rounds a warm session expects silence. */
  idle(): boolean {
    return this.buffer.length === 0;
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
}
