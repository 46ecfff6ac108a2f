/** One node's page (`GET /api/nodes/<node>` and the dashboard's node view). Pure. */
import type { ManifestEntry } from '../render/model.js';
import type { Drift } from '../plan/plan-sync.js';
import type { NodeStatus } from './next-node-status.js';

/** A node with its artifacts (desired and reported oids), drift, errors and verified history. */
export interface NodeView {
  node: string;
  role: string;
  address: string;
  status: NodeStatus['status'] | 'pending_sync';
  /** The desired revision the artifacts come from. */
  revision: string | null;
  /** The revision `refs/nodes/<node>` points at (last verified), or null. */
  verifiedRevision: string | null;
  artifacts: { name: string; path: string; kind: string; desired: string; reported: string | null; drift: boolean }[];
  drift: Drift[];
  failures: number;
  last_error: { code: string; message: string } | null;
  last_sync: string | null;
  last_attempt: string | null;
  /** Revisions up to the verified one that changed this node, newest first: what it held over time. */
  verifiedAt: { revision: string; time: string; trigger: string }[];
}

/** Join the desired manifest, the recorded status and the verified history of one node. */
export function buildNodeView(input: {
  node: { name: string; role: string; ip: string };
  revision: string | undefined;
  manifest: ManifestEntry[];
  status: NodeStatus | undefined;
  verifiedRevision: string | undefined;
  verifiedAt: { revision: string; time: string; trigger: string }[];
}): NodeView {
  const { status } = input;
  const reported = status?.oids ?? {};
  return {
    node: input.node.name,
    role: input.node.role,
    address: input.node.ip,
    status: status?.status ?? 'pending_sync',
    revision: input.revision ?? null,
    verifiedRevision: input.verifiedRevision ?? null,
    artifacts: input.manifest.map((a) => {
      const found = reported[`${a.kind} ${a.path}`];
      return { name: a.name, path: a.path, kind: a.kind, desired: a.oid, reported: found ?? null, drift: found !== undefined && found !== a.oid };
    }),
    drift: status?.drift ?? [],
    failures: status?.failures ?? 0,
    last_error: status?.last_error ?? null,
    last_sync: status?.last_sync ?? null,
    last_attempt: status?.last_attempt ?? null,
    verifiedAt: input.verifiedAt,
  };
}
