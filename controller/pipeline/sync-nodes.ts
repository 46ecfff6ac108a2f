/**
 * Orchestration for many nodes: a bounded number at once (ssh.concurrency); one node's failure
 * never blocks the others; each outcome is recorded in the status file as soon as it is known.
 */
import pLimit from 'p-limit';
import type { Node } from '../registry/model.js';
import { readKnownHosts } from '../transport/known-hosts.js';
import type { TransportOptions } from '../transport/open-agent-channel.js';
import { coldExchange, type NodeExchange } from '../transport/node-exchange.js';
import { StatusRecorder } from '../status/status-recorder.js';
import { readDesiredState, reportToOutcome, syncNode, type DesiredState, type NodeSyncReport, type SyncMode } from './sync-node.js';
import type { Site } from './open-site.js';

/** Sync the given nodes to `revision` (desired state read from the store unless given); reports come back in node order. */
export async function syncNodes(
  site: Site,
  nodes: readonly Node[],
  revision: string,
  mode: SyncMode,
  options: { onReport?: (report: NodeSyncReport) => void; status?: StatusRecorder; desired?: (node: Node) => DesiredState | undefined; exchange?: NodeExchange; retries?: number } = {},
): Promise<NodeSyncReport[]> {
  const { config, logger } = site;
  const exchange = options.exchange ?? coldExchange(site.agentScript, await transportOptions(site), { removeLegacy: config.hosts.removeLegacy });
  const status = options.status ?? (await StatusRecorder.open(config.state.statusFile, { errorAfter: config.reconcile.errorAfter }));
  const limit = pLimit(config.ssh.concurrency);
  const reports = await Promise.all(
    nodes.map(async (node) => {
      // the slot covers the session only: the status write below must not hold up the next node
      const report = await limit(() => {
        const desired = options.desired?.(node) ?? (() => readDesiredState(site, revision, node.name, mode === 'push'));
        return syncNode(site, node, desired, mode, exchange, { revision, retries: options.retries ?? (mode === 'push' ? config.reconcile.retries : 0), retryDelay: config.reconcile.retryDelay });
      });
      // dry-run leaves no trace; push and verify record what the node proved
      if (mode !== 'dry-run') await status.record({ name: node.name, role: node.role }, reportToOutcome(report));
      const log = logger.child({ node: node.name, revision: revision.slice(0, 12), stage: 'sync' });
      const fields = { mode, status: report.status, changed: report.changed, bytesSent: report.bytesSent, durationMs: report.durationMs, attempts: report.attempts };
      if (report.error) log.warn({ ...fields, code: report.error.code, reason: report.error.message }, 'node not converged');
      else log.info(fields, 'node converged');
      options.onReport?.(report);
      return report;
    }),
  );
  if (mode !== 'dry-run') await status.flush(revision);
  return reports;
}

/** The SSH settings of a site (known_hosts read once for the whole run). */
export async function transportOptions(site: Site): Promise<TransportOptions> {
  const { config } = site;
  return {
    identity: config.ssh.identity,
    agentSocket: process.env.SSH_AUTH_SOCK,
    knownHostsFile: config.ssh.knownHosts,
    knownHosts: await readKnownHosts(config.ssh.knownHosts),
    connectTimeout: config.ssh.connectTimeout,
    sessionTimeout: config.ssh.sessionTimeout,
    keepAliveInterval: config.ssh.keepAlive,
    agentSignature: site.agentSignature,
    warn: (data, message) => site.logger.warn(data, message),
  };
}
