/**
 * What the daemon shows of a node beyond its status: its page (`GET /api/nodes/<node>`: artifacts
 * with desired and reported oids, drift, errors, and the revisions it was verified at) and the log
 * line of each sync report.
 */
import type { Logger } from '../logger.js';
import type { Node } from '../registry/model.js';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import type { NodeStatus } from '../status/next-node-status.js';
import { buildNodeView, type NodeView } from '../status/build-node-view.js';
import { listRevisions } from '../store/list-revisions.js';
import { nodeRefName, readNodeRef } from '../store/node-refs.js';
import { readManifest } from '../store/read-revision.js';
import type { Store } from '../store/open-store.js';

/** How many revisions the node page lists under "verified at". */
const VERIFIED_HISTORY = 10;

/** Node `node`'s page at the desired `revision`, with its recorded status. */
export async function readNodePage(store: Store, node: Node, revision: string, status: NodeStatus | undefined): Promise<NodeView> {
  const verified = await readNodeRef(store, node.name);
  const history = verified ? await listRevisions(store, { ref: nodeRefName(node.name), node: node.name, limit: VERIFIED_HISTORY }) : [];
  return buildNodeView({
    node,
    revision,
    manifest: (await readManifest(store, revision, node.name))?.artifacts ?? [],
    status,
    verifiedRevision: verified,
    verifiedAt: history.map((r) => ({ revision: r.revision, time: r.time, trigger: r.trigger })),
  });
}

/** One sync report as log lines: drift found or healed (warn), not converged (warn), converged (info). */
export function logSyncReport(log: Logger, report: NodeSyncReport, reason: string, drift: 'heal' | 'warn'): void {
  const l = log.child({ node: report.node, revision: report.revision.slice(0, 12), stage: 'sync' });
  const fields = { reason, status: report.status, changed: report.changed, bytesSent: report.bytesSent, durationMs: report.durationMs };
  if (report.handEdits?.length) l.warn({ ...fields, artifacts: report.handEdits.map((d) => d.name), policy: drift }, drift === 'heal' ? 'drift healed' : 'drift found, left in place');
  if (report.error) l.warn({ ...fields, code: report.error.code, error: report.error.message }, 'node not converged');
  else l.info(fields, 'node converged');
}
