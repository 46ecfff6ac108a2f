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
import { readDaemonEndpoint } from '../daemon/daemon-endpoint.js';
import type { SyncRequest } from '../http/start-http-server.js';
import { askDaemon, withLockOrDaemon, type DelegatedSync } from './ask-daemon.js';
import type { CommandContext } from './run-command.js';
import { readSuspension } from '../store/suspension.js';
import { readRegistryDocuments } from '../store/read-revision.js';
import { findWaitingChanges, type WaitingChanges } from '../registry/find-waiting-changes.js';
import { loadRevisionRegistry } from '../pipeline/load-revision-registry.js';
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
  const judge = (reports: NodeSyncReport[]) => (reports.every((r) => r.status === 'converged' || (opts.dryRun && r.status === 'pending')) ? 0 : 1);
  // a running daemon does the push over its warm sessions
  const delegated = async (ask: () => Promise<DelegatedSync>) => {
    const { reports } = await ask();
    printReports(ctx, reports, opts.dryRun ? 'would change' : 'changed');
    return judge(reports);
  };
  return withLockOrDaemon(site.config, 'courier push', async () => {
    // suspended: main (the pinned revision) is pushed as it is, nothing is rendered
    const suspension = await readSuspension(site.store);
    if (suspension) {
      const { pushPinned } = await import('./suspension-commands.js');
      const reports = await pushPinned(ctx, site, suspension, (nodes) => selectNodes(nodes, opts), await currentRevision(site), opts.dryRun ? 'dry-run' : 'push');
      printReports(ctx, reports, opts.dryRun ? 'would change' : 'changed');
      return reports.every((r) => r.status === 'converged' || (opts.dryRun && r.status === 'pending')) ? 0 : 1;
    }
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
    return judge(reports);
  }, delegated, syncRequest(opts.dryRun ? 'dry-run' : 'push', opts));
}

/** The delegated form of a command's node selection (the role checked here, as selectNodes would). */
function syncRequest(mode: SyncRequest['mode'], opts: SelectOptions): SyncRequest {
  selectNodes([], { role: opts.role });
  return { mode, ...(opts.node?.length ? { nodes: opts.node } : {}), ...(opts.role ? { role: opts.role } : {}) };
}

/** `courier verify`: the read-only exchange against `main`; exit 0 only if every node converged. */
export async function verifyCommand(ctx: CommandContext, opts: SelectOptions): Promise<number> {
  const site = await openSite(ctx.options.config, ctx.logger);
  const revision = await currentRevision(site);
  // suspended: the pinned revision's own node list (the live registry may not even validate)
  const registry = (await readSuspension(site.store)) ? await loadRevisionRegistry(site, revision) : parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain });
  const nodes = selectNodes(registry.nodes, opts);
  const progress = createProgress(nodes.length, !ctx.options.json);
  const reports = await withLockOrDaemon(
    site.config,
    'courier verify',
    () => syncNodes(site, nodes, revision, 'verify', { onReport: (r) => progress.tick(r.node) }),
    async (ask) => (await ask()).reports,
    syncRequest('verify', opts),
  );
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
  // --live asks the nodes what they hold: through a running daemon's sessions when there is one
  const daemon = opts.live ? await readDaemonEndpoint(site.config.state.dir) : undefined;
  const live = opts.live
    ? new Map(
        (daemon
          ? (await askDaemon(daemon.url, syncRequest('dry-run', opts), site.config)).reports
          : await syncNodes(site, nodes, '', 'dry-run', { desired: (node) => ({ artifacts: byNode.get(node.name) ?? [] }) })
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
  const main = await resolveRevision(site.store, 'main').catch(() => undefined);
  // suspended: the pinned revision's own node list, and the live registry only as changes waiting
  const suspension = (await readSuspension(site.store)) ?? null;
  let waiting: WaitingChanges | null = null;
  let nodeList: Node[];
  if (suspension && main) {
    const snapshot = await readSource(site.config).catch((err: unknown) => err as Error);
    waiting = snapshot instanceof Error ? { valid: false, error: snapshot.message, documents: [] } : findWaitingChanges(snapshot, await readRegistryDocuments(site.store, main), { publicDomain: site.config.traefik.publicDomain });
    nodeList = (await loadRevisionRegistry(site, main)).nodes;
  } else {
    nodeList = parseRegistry(await readSource(site.config), { publicDomain: site.config.traefik.publicDomain }).nodes;
  }
  const view = { ...buildStatusView(nodeList, doc, main), suspension, waiting };
  const nodes = view.nodes;
  if (ctx.options.json) {
    ctx.out(JSON.stringify(view, null, 2));
    return 0;
  }
  const now = new Date();
  const titles: Record<NodeRole, string> = { laptop: 'Management Laptops', vps: 'VPS Edge Nodes', worker: 'Worker Nodes' };
  if (suspension) printSuspension(ctx, suspension, waiting);
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
  const open = nodeList.filter((n) => n.transport === 'ssh' && !n.restricted).map((n) => n.name);
  if (open.length > 0) ctx.out(`\nwarning: the control-plane key has a full shell on ${open.join(', ')}; \`courier nodes restrict NAME\` limits it to the agent`);
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

/** The suspension banner at the top of `courier status`, with the registry changes waiting. */
function printSuspension(ctx: CommandContext, suspension: { since: string; reason: string; revision: string; by: string; actor: string }, waiting: WaitingChanges | null): void {
  ctx.out(`SUSPENDED since ${suspension.since} by ${suspension.by} (${suspension.actor}), pinned at ${suspension.revision.slice(0, 12)}${suspension.reason ? `: ${suspension.reason}` : ''}`);
  ctx.out('  nothing is rendered from the registry until `courier resume`; nodes are kept on the pinned revision');
  if (!waiting || waiting.documents.length === 0) ctx.out('  registry changes waiting: none');
  else {
    ctx.out(`  registry changes waiting (${waiting.valid ? 'the registry validates: `courier resume` applies them' : 'the registry does NOT validate: fix it before `courier resume`'}):`);
    for (const d of waiting.documents) ctx.out(`    ${d.document} ${d.change}${d.valid ? '' : ` (invalid: ${d.problems.join('; ')})`}`);
  }
  if (waiting && !waiting.valid && waiting.documents.every((d) => d.valid)) ctx.out(`  ${waiting.error ?? ''}`);
  ctx.out('');
}
