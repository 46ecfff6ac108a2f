/**
 * `courier rollback`, `suspend` and `resume`, and the push of a suspended site. Each runs here
 * holding the state lock, or, when a daemon holds the state, through the daemon's HTTP API.
 */
import { loadConfig } from '../config/load-config.js';
import { openSite, type Site } from '../pipeline/open-site.js';
import { loadRevisionRegistry } from '../pipeline/load-revision-registry.js';
import { commandRequester, resumeSite, rollbackSite, suspendSite } from '../pipeline/suspend-site.js';
import { syncNodes } from '../pipeline/sync-nodes.js';
import { readNodeState, type DesiredState, type NodeSyncReport } from '../pipeline/sync-node.js';
import type { Node } from '../registry/model.js';
import type { NodeChange } from '../store/model.js';
import type { Suspension } from '../store/suspension.js';
import { postToDaemon, runLocallyOrThroughDaemon } from './ask-daemon.js';
import type { CommandContext } from './run-command.js';
import { formatTable } from './format-table.js';

/** One node's outcome as these commands print it (a push report locally, a status row through the daemon). */
interface NodeOutcome {
  node: string;
  status: string;
  revision: string | null;
  error?: { code: string; message: string } | null;
}

/** Sync `nodes` to `revision` as stored (a node the revision lacks gets its artifacts removed). */
export async function pushStoredRevision(site: Site, nodes: readonly Node[], revision: string, mode: 'push' | 'dry-run' = 'push'): Promise<NodeSyncReport[]> {
  const states = new Map<string, DesiredState>();
  for (const node of nodes) states.set(node.name, await readNodeState(site, revision, node.name, true));
  return syncNodes(site, nodes, revision, mode, { desired: (node) => states.get(node.name) });
}

/** `courier push` while suspended: push main (the pinned revision) with its own node list, and say so. */
export async function pushPinned(ctx: CommandContext, site: Site, suspension: Suspension, select: (nodes: readonly Node[]) => Node[], revision: string, mode: 'push' | 'dry-run' = 'push'): Promise<NodeSyncReport[]> {
  const nodes = select((await loadRevisionRegistry(site, revision)).nodes);
  const verb = mode === 'push' ? 'pushing' : 'dry run against';
  process.stderr.write(`courier: the site is suspended since ${suspension.since}${suspension.reason ? ` (${suspension.reason})` : ''}: ${verb} main at ${revision.slice(0, 12)}; registry changes wait for \`courier resume\`\n`);
  ctx.logger.info({ stage: 'suspension', revision: revision.slice(0, 12), mode }, 'suspended: syncing the pinned revision');
  return pushStoredRevision(site, nodes, revision, mode);
}

function printChanges(ctx: CommandContext, changes: NodeChange[]): void {
  for (const c of changes) ctx.out(`  ${c.node} (${c.status}): ${c.artifacts.map((a) => `${a.name} ${a.change}`).join(', ')}`);
}

function printNodes(ctx: CommandContext, nodes: NodeOutcome[]): number {
  if (nodes.length > 0) ctx.out(formatTable(['NODE', 'RESULT', 'REVISION', 'ERROR'], nodes.map((n) => [n.node, n.status, n.revision ? n.revision.slice(0, 12) : '-', n.error ? `${n.error.code}: ${n.error.message}` : ''])));
  return nodes.every((n) => n.status === 'converged' || n.status === 'active') ? 0 : 1;
}

function fromReports(reports: NodeSyncReport[]): NodeOutcome[] {
  return reports.map((r) => ({ node: r.node, status: r.status, revision: r.revision || null, error: r.error ?? null }));
}

/** Through the daemon, node rows are status rows: converged means active at the desired revision. */
function fromDaemon(nodes: { node: string; status: string; revision: string | null; current: boolean; last_error: NodeOutcome['error'] }[]): NodeOutcome[] {
  return nodes.map((n) => ({ node: n.node, status: n.status === 'active' && n.current ? 'converged' : n.status, revision: n.revision, error: n.last_error }));
}

/** `courier rollback REV [--node N]... [--reason TEXT]`. */
export async function rollbackCommand(ctx: CommandContext, target: string, opts: { node?: string[]; reason?: string }): Promise<number> {
  const config = await loadConfig(ctx.options.config);
  const who = commandRequester();
  type Result = { revision: string; target: string; committed: boolean; trigger: string; changes: NodeChange[]; suspension: Suspension; nodes: NodeOutcome[]; via: 'command' | 'daemon' };
  const result = await runLocallyOrThroughDaemon<Result>(
    config,
    'courier rollback',
    async () => {
      const site = await openSite(ctx.options.config, ctx.logger);
      const { rollback, suspension } = await rollbackSite(site, { ...who, target, nodes: opts.node, reason: opts.reason });
      // every node of the registry at the rollback: one without a subtree in it gets its artifacts removed
      const nodes = (await loadRevisionRegistry(site, rollback.revision)).nodes;
      const reports = await pushStoredRevision(site, nodes, rollback.revision);
      return { ...rollback, suspension, nodes: fromReports(reports), via: 'command' };
    },
    async (url) => {
      const reply = (await postToDaemon(url, '/api/rollback', { revision: target, nodes: opts.node, reason: opts.reason, by: 'command', actor: who.actor }, config)) as (Omit<Result, 'nodes' | 'via'> & { nodes: Parameters<typeof fromDaemon>[0] }) | undefined;
      return reply && { ...reply, nodes: fromDaemon(reply.nodes), via: 'daemon' };
    },
  );
  if (ctx.options.json) {
    ctx.out(JSON.stringify(result, null, 2));
    return result.nodes.every((n) => n.status === 'converged') ? 0 : 1;
  }
  ctx.out(result.committed ? `rolled back to ${result.target.slice(0, 12)}: revision ${result.revision.slice(0, 12)}, ${result.changes.length} node(s) changed` : `main already holds the node trees of ${result.target.slice(0, 12)}: nothing committed`);
  printChanges(ctx, result.changes);
  ctx.out(`site suspended at ${result.suspension.revision.slice(0, 12)}: registry changes wait for \`courier resume\`${result.via === 'daemon' ? ' (done by the running daemon)' : ''}`);
  return printNodes(ctx, result.nodes);
}

/** `courier suspend [--reason TEXT]`. */
export async function suspendCommand(ctx: CommandContext, opts: { reason?: string }): Promise<number> {
  const config = await loadConfig(ctx.options.config);
  const who = commandRequester();
  const result = await runLocallyOrThroughDaemon(
    config,
    'courier suspend',
    async () => suspendSite(await openSite(ctx.options.config, ctx.logger), { ...who, reason: opts.reason }),
    async (url) => (await postToDaemon(url, '/api/suspend', { reason: opts.reason, by: 'command', actor: who.actor }, config)) as { suspension: Suspension; already: boolean } | undefined,
  );
  if (ctx.options.json) ctx.out(JSON.stringify(result, null, 2));
  else if (result.already) ctx.out(`already suspended since ${result.suspension.since} at ${result.suspension.revision.slice(0, 12)}${result.suspension.reason ? ` (${result.suspension.reason})` : ''}`);
  else ctx.out(`site suspended at ${result.suspension.revision.slice(0, 12)}: nodes stay on it; registry changes wait for \`courier resume\``);
  return 0;
}

/** `courier resume`: render the current registry, commit if it differs, push, clear the suspension. */
export async function resumeCommand(ctx: CommandContext): Promise<number> {
  const config = await loadConfig(ctx.options.config);
  const who = commandRequester();
  type Result = { revision: string; committed: boolean; changes: NodeChange[]; resumed: Suspension | null; nodes: NodeOutcome[] };
  const result = await runLocallyOrThroughDaemon<Result>(
    config,
    'courier resume',
    async () => {
      const site = await openSite(ctx.options.config, ctx.logger);
      const { outcome, was } = await resumeSite(site, who);
      const byNode = new Map(outcome.rendered.nodes.map((r) => [r.node.name, r.artifacts]));
      const reports = await syncNodes(site, outcome.registry.nodes, outcome.commit.revision, 'push', { desired: (node) => ({ revision: outcome.commit.revision, artifacts: byNode.get(node.name) ?? [] }) });
      const { revision, committed, changes } = outcome.commit;
      return { revision, committed, changes, resumed: was ?? null, nodes: fromReports(reports) };
    },
    async (url) => {
      const reply = (await postToDaemon(url, '/api/resume', { by: 'command', actor: who.actor }, config)) as (Omit<Result, 'nodes'> & { nodes: Parameters<typeof fromDaemon>[0] }) | undefined;
      return reply && { ...reply, nodes: fromDaemon(reply.nodes) };
    },
  );
  if (ctx.options.json) {
    ctx.out(JSON.stringify(result, null, 2));
    return result.nodes.every((n) => n.status === 'converged') ? 0 : 1;
  }
  ctx.out(result.resumed ? `resumed (suspended since ${result.resumed.since})` : 'the site was not suspended');
  ctx.out(result.committed ? `revision ${result.revision.slice(0, 12)}: ${result.changes.length} node(s) changed` : `revision ${result.revision.slice(0, 12)}: unchanged`);
  printChanges(ctx, result.changes);
  return printNodes(ctx, result.nodes);
}
