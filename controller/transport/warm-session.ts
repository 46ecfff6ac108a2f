/**
 * A warm session: one connection and one long-lived `courier-agent serve` on a node, on which every
 * sync is one round of the protocol (DESIGN.md "Transport", warm). Opening it runs an empty round,
 * which proves the agent answers and absorbs whatever the login shell printed first. Rounds run one
 * at a time; each is bounded by `roundTimeout`, after which the session is cut (a node that stops
 * answering) and the round fails with SSH_TIMEOUT. A session that ended never opens again: the
 * session pool dials a new one.
 */
import { CourierError } from '../errors.js';
import type { Want } from '../plan/plan-sync.js';
import type { Node } from '../registry/model.js';
import type { AgentChannel } from './agent-channel.js';
import { collectTail, createNonce, LineReader, runRound, type DecideOps, type RoundIo } from './agent-round.js';
import { explainEnd, type ExchangeResult } from './agent-session.js';
import { openAgentChannel, type TransportOptions } from './open-agent-channel.js';
import { needsUpgrade, upgradeAfterProtocolError, upgradeAgent, upgradeOrKeep } from './upgrade-agent.js';

/** One open agent session on a node. */
export interface WarmSession {
  /** Run one round (queued behind a round in flight). Rejects retryable when the session died; it is then over. */
  round(wants: readonly Want[], decide: DecideOps, options?: RoundOptions): Promise<ExchangeResult>;
  /** True until the session ended. */
  isOpen(): boolean;
  /** True while a round is in flight or queued. */
  busy(): boolean;
  /** True when the session ended while a round was in flight (that round reports the failure). */
  endedDuringRound(): boolean;
  /** Resolves when the session is over: with why, or undefined after close(). */
  ended: Promise<CourierError | undefined>;
  /** Say goodbye and wait (at most `graceMs`) for the agent to exit; then cut the connection. */
  close(graceMs?: number): Promise<void>;
}

/** Per-round choices: `cached` lets the agent answer haves from its serve cache (registry changes, not drift checks). */
export interface RoundOptions {
  cached?: boolean;
}

/** How a warm session is opened: the transport, the agent's options, the bound on one round. */
export interface WarmSessionOptions {
  transport: TransportOptions;
  removeLegacy: boolean;
  /** ms one round may take before the session is cut (ssh.sessionTimeout); 0 = unbounded. */
  roundTimeout: number;
}

type ExitOutcome = { ok: true; e: { code: number | null; signal?: string } } | { ok: false; err: unknown };

/** Dial `node`, start `courier-agent serve` and run the opening round. Rejects like a cold connect (HOST_KEY_*, NODE_UNREACHABLE, ...). */
export async function openWarmSession(node: Node, agentScript: string, options: WarmSessionOptions): Promise<WarmSession> {
  const args = ['serve', ...(node.root ? ['--root', node.root] : []), ...(options.removeLegacy ? ['--remove-legacy'] : [])];
  const open = async () => {
    // The session lives as long as the connection; only a round is bounded.
    const channel = await openAgentChannel(node, agentScript, args, { ...options.transport, sessionTimeout: undefined });
    const session = createWarmSession(node, channel, options.roundTimeout);
    try {
      return { session, opening: await session.round([], () => []) };
    } catch (err) {
      await session.close(0);
      await upgradeAfterProtocolError(node, err, agentScript, options.transport);
      throw err;
    }
  };
  const first = await open();
  // a restricted node serves with its installed agent: upgrade it, then serve with the new one
  if (!needsUpgrade(node, first.opening.agentVersion, agentScript)) return first.session;
  // an unsigned release is not offered (upgradeAgent warns once): serve with the old agent
  if (!options.transport.agentSignature) return (await upgradeAgent(node, agentScript, options.transport), first.session);
  await first.session.close();
  // a node that refuses the release (joined without --agent-signer, another signer pinned) still
  // speaks the protocol with its old agent: serve with that one
  await upgradeOrKeep(node, agentScript, options.transport);
  return (await open()).session;
}

/** A WarmSession over an open `serve` channel (exported for tests with the local transport). */
export function createWarmSession(node: Node, channel: AgentChannel, roundTimeout: number): WarmSession {
  const nonce = createNonce();
  const stderr = collectTail(channel.stderr);
  const exit: Promise<ExitOutcome> = channel.exit.then(
    (e) => ({ ok: true as const, e }),
    (err: unknown) => ({ ok: false as const, err }),
  );
  let open = true;
  let closing = false;
  let rounds = 0;
  let queued = 0;
  let active = false;
  let diedInRound = false;
  let cutReason: CourierError | undefined;
  const io: RoundIo = {
    stdin: channel.stdin,
    lines: new LineReader(channel.stdout),
    explainEnd: async (expected, agentError) => {
      if (cutReason) return cutReason;
      const why = await explainEnd(exit, expected, agentError, stderr.tail);
      // an agent that exited cleanly in the middle of a round is still a lost session
      if (why instanceof CourierError && why.code === 'AGENT_PROTOCOL' && why.data.exitCode === 0) {
        return new CourierError('CONNECTION_LOST', `${node.name}: the agent session ended before the ${expected}`, { node: node.name, expected }, { retryable: true });
      }
      return why;
    },
    onGreeting: stderr.reset,
  };

  const ended: Promise<CourierError | undefined> = exit.then((outcome) => {
    open = false;
    // read now: this callback runs before the round in flight learns of the end
    diedInRound = active;
    if (closing && !cutReason) return undefined;
    if (cutReason) return cutReason;
    if (!outcome.ok) return outcome.err instanceof CourierError ? outcome.err : new CourierError('CONNECTION_LOST', `${node.name}: ${String(outcome.err)}`, { node: node.name }, { retryable: true });
    return new CourierError('CONNECTION_LOST', `${node.name}: the agent session ended (exit ${outcome.e.code ?? outcome.e.signal})${stderr.tail().trim() ? `: ${stderr.tail().trim().slice(0, 200)}` : ''}`, { node: node.name, exitCode: outcome.e.code }, { retryable: true });
  });

  let chain: Promise<unknown> = Promise.resolve();

  async function runOne(wants: readonly Want[], decide: DecideOps, options: RoundOptions): Promise<ExchangeResult> {
    if (!open) throw (await ended) ?? new CourierError('CONNECTION_LOST', `${node.name}: the agent session is closed`, { node: node.name }, { retryable: true });
    const first = rounds++ === 0;
    active = true;
    let timer: NodeJS.Timeout | undefined;
    const round = runRound(io, wants, decide, { nonce, noise: first, cached: options.cached === true });
    const bounded =
      roundTimeout > 0
        ? Promise.race([
            round,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                cutReason = new CourierError(
                  'SSH_TIMEOUT',
                  `${node.name}: a round took longer than ssh.sessionTimeout (${roundTimeout} ms); the session was cut and is dialed again`,
                  { node: node.name, phase: 'round', timeout: roundTimeout },
                  { retryable: true },
                );
                channel.close();
                reject(cutReason);
              }, roundTimeout);
            }),
          ])
        : round;
    round.catch(() => undefined);
    try {
      const result = await bounded;
      return { ...result, exitCode: null };
    } catch (err) {
      // a failed round leaves the stream out of step: the session is over
      channel.close();
      throw err;
    } finally {
      active = false;
      clearTimeout(timer);
    }
  }

  return {
    round(wants, decide, options = {}) {
      queued++;
      const next = chain.then(() => runOne(wants, decide, options));
      chain = next.catch(() => undefined).finally(() => queued--);
      return next;
    },
    isOpen: () => open,
    busy: () => queued > 0,
    endedDuringRound: () => diedInRound,
    ended,
    async close(graceMs = 2000) {
      if (!open) return;
      closing = true;
      // goodbye after the round in flight (if any); the agent exits 0 and the channel closes
      await Promise.race([chain, new Promise((r) => setTimeout(r, graceMs).unref())]);
      channel.stdin.end('bye\n');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exit, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      channel.close();
      await ended;
    },
  };
}
