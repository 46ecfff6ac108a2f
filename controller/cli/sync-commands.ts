/** Delivery commands: push, verify, plan, status. */
import { createTwoFilesPatch } from 'diff';
import { CourierError } from '../errors.js';
import { openSite, type Site } from '../pipeline/open-site.js';
import { renderRevision } from '../pipeline/render-revision.js';
import { syncNodes } from '../pipeline/sync-nodes.js';
import type { NodeSyncReport } from '../pipeline/sync-node.js';
import { readSource } from '../sources/read-source.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { nodeKey } from '../registry/node-key.js';
import { loadTemplates } from '../render/load-templates.js';
import { renderRegistry } from '../render/render-registry.js';
import type { Node, NodeRole } from '../registry/model.js';
import { readStatusFile } from '../status/status-file.js';
import { buildStatusView } from '../status/build-status-view.js';
import { readArtifact, readManifest } from '../store/read-revision.js';
import { readNodeRef } from '../store/node-refs.js';
import { resolveRevision } from '../store/resolve-revision.js';
import { planWants, ABSENT } from '../plan/plan-sync.js';
import { withStateLock } from '../status/state-lock.js';
import type { CommandContext } from './run-command.js';
import { formatAge, formatTable } from './format-table.js';
import { createProgress } from './progress.js';

/** Node selection flags shared by push, verify and plan. */
export interface SelectOptions {
  node?: string[];
  role?: string;
}

/**
 * Pick the nodes named by --node / --role (all when neither); unknown names are usage errors. Names
 * match by store key, so `--node vinays-macbook-pro` finds `Vinays-MacBook-Pro` (the registry
 * refuses names equal but for case, so this never picks two nodes).
 */
export function selectNodes(nodes: readonly Node[], opts: SelectOptions): Node[] {
  const roles: NodeRole[] = ['laptop', 'vps', 'worker'];
  if (opts.role && !roles.includes(opts.role as NodeRole)) throw new CourierError('USAGE', `--role ${opts.role}: expected one of ${roles.join(', ')}`);
  const keys = new Set((opts.node ?? []).map(nodeKey));
  for (const name of opts.node ?? []) {
    if (!nodes.some((n) => nodeKey(n.name) === nodeKey(name))) throw new CourierError('NODE_NOT_FOUND', `node ${name} is not in the node registry (see \`courier nodes list\`)`, { node: name });
  }
  return nodes.filter((n) => (keys.size === 0 || keys.has(nodeKey(n.name))) && (!opts.role || n.role === opts.role));
}

/** `courier push`: render, then sync the selected nodes; exit 0 only when every one converged. */
export async function pushCommand(ctx: CommandContext, opts: SelectOptions & { dryRun?: boolean }): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  return withStateLock(site.config.state.lockFile, 'courier push', async () => {
    const { registry, rendered, commit } = await renderRevision(site, { trigger: opts.dryRun ? 'manual push (dry run)' : 'manual push' });
    const nodes = selectNodes(registry.nodes, opts);
    const byNode = new Map(rendered.nodes.map((r) => [r.node.name, r.artifacts]));
    const progress = createProgress(nodes.length, !ctx.options.json);
    const reports = await syncNodes(site, nodes, commit.revision, opts.dryRun ? 'dry-run' : 'push', {
      desired: (node) => ({ revision: commit.revision, artifacts: byNode.get(node.name) ?? [] }),
      onReport: (r) => progress.tick(r.node),
    });
    progress.done();
    printReports(ctx, reports, opts.dryRun ? 'would change' : 'changed');
    // a dry run succeeds when every node answered; a push when every node converged
    return reports.every((r) => r.status === 'converged' || (opts.dryRun && r.status === 'pending')) ? 0 : 1;
  });
}

/** `courier verify`: the read-only exchange against `main`; exit 0 only if every node converged. */
export async function verifyCommand(ctx: CommandContext, opts: SelectOptions): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const revision = await currentRevision(site);
  const registry = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  const nodes = selectNodes(registry.nodes, opts);
  const progress = createProgress(nodes.length, !ctx.options.json);
  const reports = await withStateLock(site.config.state.lockFile, 'courier verify', () => syncNodes(site, nodes, revision, 'verify', { onReport: (r) => progress.tick(r.node) }));
  progress.done();
  printReports(ctx, reports, 'drifted');
  return reports.every((r) => r.status === 'converged') ? 0 : 1;
}

/** `courier plan`: what a push would change per node, as unified diffs from each node's verified revision; `--live` asks the nodes. */
export async function planCommand(ctx: CommandContext, opts: SelectOptions & { live?: boolean }): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const registry = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  const rendered = renderRegistry(registry, site.settings, await loadTemplates());
  const nodes = selectNodes(registry.nodes, opts);
  const byNode = new Map(rendered.nodes.map((r) => [r.node.name, r.artifacts]));
  const live = opts.live
    ? new Map(
        (
          await syncNodes(site, nodes, '', 'dry-run', { desired: (node) => ({ artifacts: byNode.get(node.name) ?? [] }) })
        ).map((r) => [r.node, r]),
      )
    : undefined;

  const plans = [];
  for (const node of nodes) {
    const desired = byNode.get(node.name) ?? [];
    const verifiedAt = await readNodeRef(site.store, node.name);
    const previous = verifiedAt ? await readManifest(site.store, verifiedAt, node.name) : undefined;
    const wants = planWants(desired, previous?.artifacts);
    const report = live?.get(node.name);
    const changes = [];
    for (const want of wants) {
      const before = previous?.artifacts.find((a) => a.path === want.path && a.kind === want.kind);
      const assumed = report ? (report.oids?.[`${want.kind} ${want.path}`] ?? ABSENT) : (before?.oid ?? ABSENT);
      if (assumed === want.oid) continue;
      const oldText = before && before.oid === assumed && verifiedAt ? ((await readArtifact(site.store, verifiedAt, node.name, before.name)) ?? '') : '';
      const newText = desired.find((a) => a.path === want.path && a.kind === want.kind)?.content ?? '';
      const label = `${node.name}:${want.path}`;
      // the old text is known only when the node holds nothing or what it was verified at
      const known = assumed === ABSENT || (before !== undefined && before.oid === assumed);
      changes.push({
        artifact: want.name,
        path: want.path,
        action: want.oid === ABSENT ? 'delete' : assumed === ABSENT ? 'create' : 'update',
        from: assumed,
        to: want.oid,
        patch: known ? createTwoFilesPatch(`a/${label}`, `b/${label}`, oldText, newText) : `node holds unknown content ${assumed.slice(0, 12)} at ${want.path}; a push replaces it\n`,
      });
    }
    plans.push({ node: node.name, role: node.role, verifiedRevision: verifiedAt ?? null, reachable: report ? report.status !== 'unreachable' && report.status !== 'failed' : null, error: report?.error ?? null, changes });
  }
  if (ctx.options.json) {
    ctx.out(JSON.stringify(plans, null, 2));
    return 0;
  }
  for (const p of plans) {
    const head = `${p.node} (${p.role})`;
    if (p.error) ctx.out(`${head}: cannot ask the node: ${p.error.code}: ${p.error.message}`);
    else if (p.changes.length === 0) ctx.out(`${head}: no changes`);
    else ctx.out(`${head}: ${p.changes.map((c) => `${c.artifact} (${c.action})`).join(', ')}`);
    for (const c of p.changes) ctx.out(c.patch);
  }
  return 0;
}

/** `courier status` (alias `health`): nodes by role with status, last sync and its age, revision, failures, last error. */
export async function statusCommand(ctx: CommandContext): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const doc = await readStatusFile(site.config.state.statusFile);
  const registry = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  const main = await resolveRevision(site.store, 'main').catch(() => undefined);
  const view = buildStatusView(registry.nodes, doc, main);
  const nodes = view.nodes;
  if (ctx.options.json) {
    ctx.out(JSON.stringify(view, null, 2));
    return 0;
  }
  const now = new Date();
  const titles: Record<NodeRole, string> = { laptop: 'Management Laptops', vps: 'VPS Edge Nodes', worker: 'Worker Nodes' };
  ctx.out(`desired revision: ${main ? main.slice(0, 12) : 'none (run courier render)'}`);
  for (const role of ['laptop', 'vps', 'worker'] as NodeRole[]) {
    const group = nodes.filter((n) => n.role === role);
    if (group.length === 0) continue;
    ctx.out(`\n${titles[role]}:`);
    ctx.out(
      formatTable(
        ['  NODE', 'STATUS', 'LAST SYNC', 'AGE', 'REVISION', 'FAILURES', 'LAST ERROR'],
        group.map((n) => [
          `  ${n.node}`,
          n.status,
          n.last_sync ?? 'never',
          formatAge(n.last_sync ?? undefined, now),
          n.revision ? n.revision.slice(0, 12) + (n.current ? '' : ' (behind)') : '-',
          String(n.failures),
          n.last_error ? `${n.last_error.code}: ${n.last_error.message}` : '',
        ]),
      ),
    );
  }
  return 0;
}

/** The revision `main` points at; an empty store is a usage error. */
async function currentRevision(site: Site): Promise<string> {
  try {
    return await resolveRevision(site.store, 'main');
  } catch (err) {
    throw new CourierError('REVISION_NOT_FOUND', 'the store has no revision yet: run `courier render` or `courier push` first', {}, { cause: err });
  }
}

/** Print sync reports as a table or JSON. */
function printReports(ctx: CommandContext, reports: NodeSyncReport[], changedTitle: string): void {
  if (ctx.options.json) {
    ctx.out(
      JSON.stringify(
        reports.map((r) => ({ node: r.node, role: r.role, status: r.status, revision: r.revision, changed: r.changed, bytesSent: r.bytesSent, durationMs: r.durationMs, attempts: r.attempts, drift: r.drift ?? [], oids: r.oids ?? {}, error: r.error ?? null })),
        null,
        2,
      ),
    );
    return;
  }
  ctx.out(
    formatTable(
      ['NODE', 'ROLE', 'RESULT', changedTitle.toUpperCase(), 'BYTES SENT', 'TIME'],
      reports.map((r) => [
        r.node,
        r.role,
        r.status,
        r.status === 'drifted' ? (r.drift ?? []).map((d) => d.name).join(', ') : r.changed.join(', ') || '-',
        String(r.bytesSent),
        `${(r.durationMs / 1000).toFixed(2)}s`,
      ]),
    ),
  );
  for (const r of reports) {
    if (r.error) ctx.out(`${r.node}: ${r.error.code}: ${r.error.message}`);
    for (const d of r.drift ?? []) if (r.status === 'drifted') ctx.out(`${r.node}: ${d.name} ${d.path}: expected ${d.expected.slice(0, 12)}, found ${d.found === ABSENT ? 'nothing' : d.found.slice(0, 12)}`);
  }
}
