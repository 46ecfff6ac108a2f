/**
 * A cold exchange: one round of the sync protocol on a fresh agent channel (one exec running
 * `courier-agent sync|verify`), then the agent's exit status. The round itself is agent-round.ts,
 * shared with warm sessions.
 */
import { CourierError } from '../errors.js';
import type { Want } from '../plan/plan-sync.js';
import type { AgentChannel } from './agent-channel.js';
import { agentRefusal, collectTail, createNonce, LineReader, oneLine, runRound, type DecideOps, type RoundResult } from './agent-round.js';

export { PROTOCOL_VERSION, type OpResult } from './agent-round.js';

/** What one exchange established. */
export interface ExchangeResult extends RoundResult {
  /** The agent's exit status (null for a warm round: the session goes on). */
  exitCode: number | null;
}

type ExitOutcome = { ok: true; e: { code: number | null; signal?: string } } | { ok: false; err: unknown };

/** Run one exchange on `channel` and close it. `decide` maps the haves to the operations to send; return [] for a read-only exchange. */
export async function runAgentExchange(channel: AgentChannel, wants: readonly Want[], decide: DecideOps): Promise<ExchangeResult> {
  const stderr = collectTail(channel.stderr);
  // The exit promise may reject (connection lost) before we read; keep it observed.
  const exit: Promise<ExitOutcome> = channel.exit.then(
    (e) => ({ ok: true as const, e }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  const io = {
    stdin: channel.stdin,
    lines: new LineReader(channel.stdout),
    explainEnd: (expected: string, agentError: string | undefined) => explainEnd(exit, expected, agentError, stderr.tail),
    onGreeting: stderr.reset,
  };
  try {
    const round = await runRound(io, wants, decide, { nonce: createNonce(), noise: true, afterEnd: () => channel.stdin.end() });
    const ended = await exit;
    if (!ended.ok) throw ended.err;
    return { ...round, exitCode: ended.e.code };
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

/**
 * Why the agent's stdout ended before `expected`: the connection's own error, the agent killed on
 * the node (retryable), the agent's `error` line, or its exit status with the stderr tail.
 */
export async function explainEnd(exit: Promise<ExitOutcome>, expected: string, agentError: string | undefined, stderr: () => string): Promise<unknown> {
  const ended = await exit;
  if (!ended.ok) return ended.err;
  if (ended.e.code === null || ended.e.code > 128) {
    // killed on the node (a signal: OOM killer, shutdown, an operator; a shell in between reports
    // it as 128+n): the session was cut, a retry can help
    const signal = ended.e.signal ?? (ended.e.code === null ? undefined : `signal ${ended.e.code - 128}`);
    return new CourierError('CONNECTION_LOST', `the agent was killed${signal ? ` by ${signal}` : ''} on the node before the ${expected}; nothing half-written stays`, { expected, signal }, { retryable: true });
  }
  if (agentError) return agentRefusal(agentError);
  const tail = stderr().trim();
  return new CourierError('AGENT_PROTOCOL', `agent closed the session before the ${expected} (exit ${ended.e.code})${tail ? `: ${oneLine(tail)}` : ''}`, { expected, exitCode: ended.e.code }, { retryable: false });
}
