/**
 * How the pipeline runs one exchange with a node, whatever the transport does underneath: cold (a
 * new connection and exec of `courier-agent sync|verify`) or warm (one round on the node's open
 * `serve` session from the session pool). Both speak the same round (agent-round.ts).
 */
import type { Want } from '../plan/plan-sync.js';
import type { Node } from '../registry/model.js';
import type { DecideOps } from './agent-round.js';
import { runAgentExchange, type ExchangeResult } from './agent-session.js';
import { openAgentChannel, type TransportOptions } from './open-agent-channel.js';
import type { SessionPool } from './session-pool.js';
import { upgradeAfterProtocolError, upgradeIfBehind } from './upgrade-agent.js';

/**
 * One exchange: `verify` never writes (cold: the agent runs read-only; warm: no puts are sent).
 * `cached` lets a warm agent answer haves from its serve cache (cold agents have none).
 */
export type NodeExchange = (node: Node, mode: 'sync' | 'verify', wants: readonly Want[], decide: DecideOps, options?: { cached?: boolean }) => Promise<ExchangeResult>;

/** Cold exchanges: one connection and one exec per call. */
export function coldExchange(agentScript: string, transport: TransportOptions, options: { removeLegacy: boolean }): NodeExchange {
  return async (node, mode, wants, decide) => {
    const args = [mode, ...(node.root ? ['--root', node.root] : []), ...(options.removeLegacy ? ['--remove-legacy'] : [])];
    const channel = await openAgentChannel(node, agentScript, args, transport);
    let result: ExchangeResult;
    try {
      result = await runAgentExchange(channel, wants, decide);
    } catch (err) {
      await upgradeAfterProtocolError(node, err, agentScript, transport);
      throw err;
    }
    // a restricted node runs its installed agent: bring it to this controller's version
    await upgradeIfBehind(node, result.agentVersion, agentScript, transport);
    return result;
  };
}

/** Warm exchanges: a round on the node's session in `pool`. */
export function warmExchange(pool: SessionPool): NodeExchange {
  // a verify round still asks the plan what it would send (the report names it), then sends nothing
  return (node, mode, wants, decide, options = {}) =>
    pool.round(node.name, wants, mode === 'verify' ? (haves) => (decide(haves), []) : decide, { cached: mode !== 'verify' && options.cached === true });
}
