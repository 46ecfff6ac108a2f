/**
 * The status model (DESIGN.md "Status"): per node `active` | `pending_sync` | `error`, with the
 * last verified convergence, the last attempt, consecutive failures, the last error and the oids the
 * node reported. Pure: the clock is passed in.
 */
import type { NodeRole } from '../registry/model.js';
import type { Drift } from '../plan/plan-sync.js';

/** A node's sync status, as kept in `<state>/status.json`. */
export interface NodeStatus {
  node: string;
  role: NodeRole;
  status: 'active' | 'pending_sync' | 'error';
  /** Last verified convergence (ISO time). */
  last_sync?: string;
  last_attempt?: string;
  /** Commit the node converged at. */
  revision?: string;
  /** Consecutive failed attempts. */
  failures: number;
  last_error?: { code: string; message: string };
  /** What the node reported, by `<kind> <path>`. */
  oids: Record<string, string>;
  /** Artifacts that differed at the last verify (empty when converged). */
  drift: Drift[];
  agent?: { version: string; hostname: string };
}

/** The outcome of one sync or verify attempt for one node. */
export type SyncOutcome =
  | { ok: true; revision: string; oids: Record<string, string>; agent?: NodeStatus['agent'] }
  | { ok: false; error: { code: string; message: string }; oids?: Record<string, string>; drift?: Drift[]; agent?: NodeStatus['agent'] };

/** The status after an attempt: success → active; failure → pending_sync, or error once failures reach `errorAfter`. */
export function nextNodeStatus(
  previous: NodeStatus | undefined,
  base: { node: string; role: NodeRole },
  outcome: SyncOutcome,
  options: { now: Date; errorAfter: number },
): NodeStatus {
  const at = options.now.toISOString();
  const prev: NodeStatus = previous ?? { ...base, status: 'pending_sync', failures: 0, oids: {}, drift: [] };
  if (outcome.ok) {
    return {
      ...prev,
      ...base,
      status: 'active',
      last_sync: at,
      last_attempt: at,
      revision: outcome.revision,
      failures: 0,
      last_error: undefined,
      oids: outcome.oids,
      drift: [],
      agent: outcome.agent ?? prev.agent,
    };
  }
  const failures = prev.failures + 1;
  return {
    ...prev,
    ...base,
    status: failures >= options.errorAfter ? 'error' : 'pending_sync',
    last_attempt: at,
    failures,
    last_error: outcome.error,
    oids: outcome.oids ?? prev.oids,
    drift: outcome.drift ?? prev.drift,
    agent: outcome.agent ?? prev.agent,
  };
}
