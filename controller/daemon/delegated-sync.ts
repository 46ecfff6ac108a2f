/**
 * `POST /api/sync`: `courier push` / `verify` / `plan --live` asked of the running daemon. The same
 * exchange the command would run, over the daemon's own (warm) sessions, with the daemon's desired
 * state; push and verify record what the nodes proved, a dry run leaves no trace.
 */
import pLimit from 'p-limit';
import type { SyncRequest } from '../http/start-http-server.js';
import type { Site } from '../pipeline/open-site.js';
import { syncNode, type NodeSyncReport } from '../pipeline/sync-node.js';
import type { Node } from '../registry/model.js';
import type { Artifact } from '../render/model.js';
import type { NodeExchange } from '../transport/node-exchange.js';

/** What the daemon lends a delegated sync. */
export interface DelegatedSyncContext {
  site: Site;
  exchange: NodeExchange;
  /** False while not leading or stopping: the request is refused (409). */
  canAct: () => boolean;
  /** Render from the source, as `courier push` does first. */
  refresh: (trigger: string) => Promise<unknown>;
  desired: () => { revision: string; nodes: ReadonlyMap<string, Node>; artifacts: ReadonlyMap<string, Artifact[]> } | undefined;
  registryError: () => string | undefined;
  /** Record one report (status, metrics, log). */
  record: (report: NodeSyncReport, mode: 'push' | 'verify') => Promise<void>;
  /** After the recorded reports: write-back and dashboard. */
  recorded: () => void;
}

/** Run a delegated sync; the HTTP status and body the CLI turns back into its own output and exit code. */
export async function runDelegatedSync(ctx: DelegatedSyncContext, request: SyncRequest): Promise<{ status: number; body: unknown }> {
  const { config } = ctx.site;
  if (!ctx.canAct()) return { status: 409, body: { error: { code: 'LOCKED', message: 'this daemon is not leading (or is stopping); try again' } } };
  // a push renders first, as `courier push` does; a dry run reads what the daemon already pushes
  if (request.mode === 'push') await ctx.refresh('manual push (via the daemon)');
  const current = ctx.desired();
  if (!current) return { status: 409, body: { error: { code: 'REVISION_NOT_FOUND', message: 'the daemon has no revision yet' } } };
  const invalid = ctx.registryError();
  if (request.mode === 'push' && invalid !== undefined) return { status: 422, body: { error: { code: 'REGISTRY_INVALID', message: invalid } } };
  const names = request.nodes ?? [];
  const unknown = names.find((n) => !current.nodes.has(n));
  if (unknown) return { status: 404, body: { error: { code: 'NODE_NOT_FOUND', message: `node ${unknown} is not in the node registry (see \`courier nodes list\`)` } } };
  const nodes = [...current.nodes.values()].filter((n) => (names.length === 0 || names.includes(n.name)) && (!request.role || n.role === request.role));
  const mode = request.mode;
  const limit = pLimit(config.ssh.concurrency);
  const reports = await Promise.all(
    nodes.map((node) =>
      limit(async () => {
        const artifacts = current.artifacts.get(node.name) ?? [];
        const report = await syncNode(ctx.site, node, { revision: current.revision, artifacts }, mode, ctx.exchange, {
          retries: mode === 'push' ? config.reconcile.retries : 0,
          retryDelay: config.reconcile.retryDelay,
          drift: config.reconcile.drift,
        });
        if (mode !== 'dry-run') await ctx.record(report, mode);
        return report;
      }),
    ),
  );
  if (mode !== 'dry-run') ctx.recorded();
  return { status: 200, body: { revision: current.revision, reports } };
}

