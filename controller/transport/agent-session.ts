/**
 * The controller's side of the sync protocol (DESIGN.md "Node agent and the sync protocol"): one
 * exchange over one agent channel. It pipelines the greeting, all wants and `?` in one write, reads
 * the haves, asks the caller which operations to send (the plan stage decides), streams puts and
 * dels, sends `end`, and collects the per-artifact results. Unchanged nodes receive no artifact bytes.
 */
import type { Readable } from 'node:stream';
import { CourierError } from '../errors.js';
import type { ArtifactKind } from '../render/model.js';
import type { Have, SyncOp, Want } from '../plan/plan-sync.js';
import type { AgentChannel } from './agent-channel.js';

/** The protocol version this controller speaks. */
export const PROTOCOL_VERSION = '1';

/** The agent's answer to one put or del. */
export type OpResult = { path: string; ok: true; oid: string } | { path: string; ok: false; code: string; message: string };

/** What one exchange established. */
export interface ExchangeResult {
  agentVersion: string;
  hostname: string;
  haves: Have[];
  ops: SyncOp[];
  results: OpResult[];
  /** Artifact bytes sent (put payloads only). */
  bytesSent: number;
  exitCode: number | null;
}

/** Run one exchange. `decide` maps the haves to the operations to send; return [] for a read-only exchange. */
export async function runAgentExchange(
  channel: AgentChannel,
  wants: readonly Want[],
  decide: (haves: Have[]) => SyncOp[],
): Promise<ExchangeResult> {
  const lines = new LineReader(channel.stdout);
  const stderr = collectTail(channel.stderr);
  // The exit promise may reject (connection lost) before we read; keep it observed.
  const exit = channel.exit.then(
    (e) => ({ ok: true as const, e }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  try {
    const head = [`courier ${PROTOCOL_VERSION}`, ...wants.map((w) => `want ${w.path} ${w.kind} ${w.oid}`), '?'].join('\n') + '\n';
    await write(channel, head);

    const greeting = await lines.next();
    const greet = greeting?.split(' ') ?? [];
    if (greet[0] !== 'courier' || greet.length < 4) {
      throw await protocolError(greeting, 'greeting', exit, stderr);
    }
    if (greet[1] !== PROTOCOL_VERSION) {
      throw new CourierError('AGENT_PROTOCOL', `agent speaks protocol ${greet[1]}, this controller speaks ${PROTOCOL_VERSION}; use the agent that ships with this courier`, {
        agentProtocol: greet[1],
      });
    }
    const agentVersion = greet[2]!;
    const hostname = greet.slice(3).join(' ');

    const haves: Have[] = [];
    for (;;) {
      const line = await lines.next();
      if (line === '?') break;
      const parts = line?.split(' ') ?? [];
      const want = wants[haves.length];
      if (parts[0] !== 'have' || parts.length !== 4 || !want || parts[1] !== want.path || parts[2] !== want.kind || !isOid(parts[3]!)) {
        throw await protocolError(line, `have for want ${haves.length + 1}`, exit, stderr);
      }
      haves.push({ path: parts[1]!, kind: parts[2] as ArtifactKind, oid: parts[3]! });
    }
    if (haves.length !== wants.length) throw await protocolError('?', `${wants.length} haves`, exit, stderr);

    const ops = decide(haves);
    let bytesSent = 0;
    for (const op of ops) {
      if (op.op === 'put') {
        const body = Buffer.from(op.artifact.content, 'utf8');
        await write(channel, `put ${op.want.path} ${op.want.kind} ${op.want.oid} ${body.length}\n`);
        await write(channel, body);
        bytesSent += body.length;
      } else {
        await write(channel, `del ${op.want.path} ${op.want.kind}\n`);
      }
    }
    await write(channel, 'end\n');
    channel.stdin.end();

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
        throw await protocolError(line, `result for operation ${results.length + 1}`, exit, stderr);
      }
    }
    if (results.length !== ops.length) throw await protocolError('done', `${ops.length} results`, exit, stderr);

    const ended = await exit;
    if (!ended.ok) throw ended.err;
    return { agentVersion, hostname, haves, ops, results, bytesSent, exitCode: ended.e.code };
  } catch (err) {
    // A connection that dropped by itself explains a short read better than the protocol error it
    // caused; look before closing the channel, or our own close would read as the drop.
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([exit, new Promise<undefined>((r) => (timer = setTimeout(r, 50, undefined)))]);
    clearTimeout(timer);
    channel.close();
    if (ended && !ended.ok && err instanceof CourierError && err.code === 'AGENT_PROTOCOL') throw ended.err;
    throw err;
  }
}

/** Build the AGENT_PROTOCOL error for an unexpected line, including the agent's own error line or stderr. */
async function protocolError(
  line: string | undefined,
  expected: string,
  exit: Promise<{ ok: true; e: { code: number | null } } | { ok: false; err: unknown }>,
  stderr: () => string,
): Promise<unknown> {
  if (line === undefined) {
    const ended = await exit;
    if (!ended.ok) return ended.err;
    if (ended.e.code === null || ended.e.code > 128) {
      // killed on the node (a signal: OOM killer, shutdown, an operator; a shell in between reports
      // it as 128+n): the session was cut, a retry can help
      const signal = (ended.e as { signal?: string }).signal ?? (ended.e.code === null ? undefined : `signal ${ended.e.code - 128}`);
      return new CourierError('CONNECTION_LOST', `the agent was killed${signal ? ` by ${signal}` : ''} on the node before the ${expected}; nothing half-written stays`, { expected, signal }, { retryable: true });
    }
    const tail = stderr().trim();
    return new CourierError(
      'AGENT_PROTOCOL',
      `agent closed the session before the ${expected} (exit ${ended.e.code})${tail ? `: ${oneLine(tail)}` : ''}`,
      { expected, exitCode: ended.e.code },
      { retryable: false },
    );
  }
  if (line.startsWith('error ')) {
    const [, code, ...rest] = line.split(' ');
    return new CourierError('AGENT_PROTOCOL', `agent refused the exchange: ${code}: ${rest.join(' ')}`, { agentCode: code });
  }
  return new CourierError('AGENT_PROTOCOL', `unexpected line from agent where the ${expected} was due: ${JSON.stringify(line.slice(0, 80))}`, { expected });
}

/** A git blob id or the absent marker. */
function isOid(s: string): boolean {
  return s === '-' || /^[0-9a-f]{40}$/.test(s);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 300);
}

/** Write respecting backpressure; a closed stream surfaces as the exit promise's error. */
function write(channel: AgentChannel, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const ok = channel.stdin.write(data, (err) => {
      if (err) reject(new CourierError('CONNECTION_LOST', `session closed while sending: ${err.message}`, {}, { cause: err }));
    });
    if (ok) resolve();
    else channel.stdin.once('drain', resolve);
  });
}

/** Keep the last 4 KiB of stderr for error messages (the agent writes only one-line messages there). */
function collectTail(stream: Readable): () => string {
  let tail = '';
  stream.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  });
  return () => tail;
}

/** Reads LF-terminated lines from a stream; `next()` resolves undefined at end of stream. */
class LineReader {
  private buffer = '';
  private ended = false;
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      this.buffer += chunk;
      if (this.buffer.length > 1 << 20 && !this.buffer.includes('\n')) this.failure = new CourierError('AGENT_PROTOCOL', 'agent sent a line longer than 1 MiB');
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('close', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  async next(): Promise<string | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const nl = this.buffer.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffer.slice(0, nl).replace(/\r$/, '');
        this.buffer = this.buffer.slice(nl + 1);
        return line;
      }
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
}
