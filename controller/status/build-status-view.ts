/** The status document shown by `courier status --json`, `/api/status` and the dashboard. Pure. */
import type { Node, NodeRole } from '../registry/model.js';
import type { Drift } from '../plan/plan-sync.js';
import type { StatusDocument } from './status-file.js';
import type { Suspension } from '../store/suspension.js';
import type { WaitingChanges } from '../registry/find-waiting-changes.js';

/** One node's row. */
export interface NodeStatusView {
  node: string;
  role: NodeRole;
  address: string;
  status: 'active' | 'pending_sync' | 'error';
  last_sync: string | null;
  last_attempt: string | null;
  revision: string | null;
  /** Whether the node converged at the desired revision. */
  current: boolean;
  failures: number;
  last_error: { code: string; message: string } | null;
  oids: Record<string, string>;
  drift: Drift[];
}

/** The whole view. */
export interface StatusView {
  revision: string | null;
  updated: string | null;
  registryValid: boolean;
  registryError?: string;
  /** The suspension in force (rollback or suspend), or null. */
  suspension?: Suspension | null;
  /** While suspended: the registry changes waiting since the pinned revision, and whether they validate. */
  waiting?: WaitingChanges | null;
  nodes: NodeStatusView[];
}

/** Join the registry's nodes with their recorded status; a node never synced is pending_sync. */
export function buildStatusView(
  nodes: readonly Node[],
  doc: StatusDocument,
  revision: string | undefined,
  registry: { valid: boolean; error?: string } = { valid: true },
): StatusView {
  return {
    revision: revision ?? null,
    updated: doc.updated ?? null,
    registryValid: registry.valid,
    ...(registry.error ? { registryError: registry.error } : {}),
    nodes: nodes.map((n) => {
      const s = doc.nodes[n.name];
      return {
        node: n.name,
        role: n.role,
        address: n.ip,
        status: s?.status ?? 'pending_sync',
        last_sync: s?.last_sync ?? null,
        last_attempt: s?.last_attempt ?? null,
        revision: s?.revision ?? null,
        current: revision !== undefined && s?.revision === revision,
        failures: s?.failures ?? 0,
        last_error: s?.last_error ?? null,
        oids: s?.oids ?? {},
        drift: s?.drift ?? [],
      };
    }),
  };
}
